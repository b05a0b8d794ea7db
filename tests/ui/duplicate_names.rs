use mlp::prelude::*;

network! { pub Twice< input(784); hidden: dense(300, relu); hidden: dense(100, relu); dense(10) > }

fn main() {}
