use mlp::prelude::*;

network! {
    pub Args<
        input(10);
        relu(3);
        leaky_relu(0.1, 0.2);
        elu(alpha = relu);
        dense(10, softmax(2))
    >
}

fn main() {}
