use mlp::prelude::*;

network! { pub Late< input(784); dense(300, relu); flatten(28, 28); dense(10) > }

fn main() {}
