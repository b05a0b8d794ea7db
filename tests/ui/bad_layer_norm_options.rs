use mlp::prelude::*;

network! {
    pub Norms<
        input(10);
        layer_norm(1e-5);
        layer_norm(epsilon = -1e-5);
        layer_norm(momentum = 0.9);
        dense(1)
    >
}

fn main() {}
