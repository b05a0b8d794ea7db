use mlp::prelude::*;

// 2^32 × 2^32 is one more than the largest usize.
network! { pub Huge< flatten(4294967296, 4294967296); dense(10) > }

fn main() {}
