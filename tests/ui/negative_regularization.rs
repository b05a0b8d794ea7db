use mlp::prelude::*;

network! { pub Neg< input(10); dense(10, l1 = -0.01, l2 = -1); dense(1) > }

fn main() {}
