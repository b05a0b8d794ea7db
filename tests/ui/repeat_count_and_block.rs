use mlp::prelude::*;

// `repeat(n)` takes a count from 1 to 1000 and a block of layers.
network! {
    pub Deep<
        flatten(28, 28);
        repeat(0)< dense(100, selu) >;
        repeat(1001)< dense(100, selu) >;
        repeat< dense(100, selu) >;
        repeat(20);
        repeat(20)<>;
        dense(10, softmax)
    >
}

fn main() {}
