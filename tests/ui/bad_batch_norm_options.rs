use mlp::prelude::*;

network! {
    pub Norms<
        input(10);
        batch_norm(momentum = 2);
        batch_norm(epsilon = 0);
        batch_norm(decay = 0.9);
        batch_norm(0.99);
        dense(1)
    >
}

fn main() {}
