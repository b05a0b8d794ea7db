use mlp::prelude::*;

network! { pub Typo< input(784); desne(300, relu); batchnorm; dense(10) > }

fn main() {}
