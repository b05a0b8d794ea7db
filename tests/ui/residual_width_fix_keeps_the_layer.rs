use mlp::prelude::*;

// Issue 13: after a width of 300 the block works at 100. The fix that ends the block at 300
// is its last dense layer as written, `dense(300)`: no activation taken from another layer.
network! {
    pub Bottleneck<
        input(784);
        dense(300, relu);
        residual(relu)< dense(100, tanh); dense(100) >;
        dense(10, softmax)
    >
}

fn main() {}
