use mlp::prelude::*;

// A layer whose weights alone overflow: 2^32 inputs × 2^32 units.
network! { pub WideLayer< input(4294967296); dense(4294967296) > }

// Layers that each fit (2^62 weights) but overflow together.
network! {
    pub WideNetwork<
        input(2147483648);
        dense(2147483648, bias = false);
        dense(2147483648, bias = false);
        dense(2147483648, bias = false);
        dense(2147483648, bias = false)
    >
}

fn main() {}
