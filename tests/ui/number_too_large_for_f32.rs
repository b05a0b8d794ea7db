use mlp::prelude::*;

network! {
    pub Overflowing<
        input(4);
        leaky_relu(1e39);
        dense(4, l2 = 1e39);
        batch_norm(epsilon = 1e999);
        dense(2)
    >
}

fn main() {}
