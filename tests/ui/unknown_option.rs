use mlp::prelude::*;

network! { pub Typo< input(784); dense(300, relu, l3 = 0.01); dense(10, shape = 2); dropout(0.2, seed = 1) > }

fn main() {}
