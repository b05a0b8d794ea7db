use mlp::prelude::*;

// The first copy is fine; the second starts at 100 wide, where its residual block adds 784.
network! {
    pub Deep<
        flatten(28, 28);
        repeat(3)< residual< dense(784, relu) >; dense(100, relu) >;
        dense(10, softmax)
    >
}

fn main() {}
