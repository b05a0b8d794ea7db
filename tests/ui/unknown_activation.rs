use mlp::prelude::*;

network! { pub Typo< input(784); dense(300, rleu); dense(100, activation = softplus); dense(10) > }

fn main() {}
