use mlp::prelude::*;

network! { pub < input(784); dense(10) > }

fn main() {}
