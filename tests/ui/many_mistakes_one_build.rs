use mlp::prelude::*;

// Every mistake in one build, each at its own tokens.
network! {
    pub Sloppy<
        input(784);
        desne(300, relu);
        dense(0);
        dense(100, rleu, init = he_normall);
        dropout(1.5);
        x: dense(50);
        x: dense(50);
        residual< dense(10) >;
        dense(10, softmax)
    >
}

fn main() {}
