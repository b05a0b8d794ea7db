use mlp::prelude::*;

// The block works at 300 but comes right after the 784-wide input: the mismatch is before
// the block, so the fixes are a `dense(300)` in front of it or a projection of its input.
network! {
    pub Unprojected<
        flatten(28, 28);
        residual< dense(300, relu); dense(300) >;
        dense(10, softmax)
    >
}

fn main() {}
