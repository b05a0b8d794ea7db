use mlp::prelude::*;

network! { pub NoSemi< input(784); dense(300, relu) dense(10) > }

fn main() {}
