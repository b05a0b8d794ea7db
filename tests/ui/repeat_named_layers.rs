use mlp::prelude::*;

// Each copy would repeat a name, so layers inside `repeat` (and `repeat` itself) are unnamed.
network! {
    pub Deep<
        flatten(28, 28);
        stack: repeat(20)< hidden: dense(100, selu); alpha_dropout(0.1) >;
        dense(10, softmax)
    >
}

fn main() {}
