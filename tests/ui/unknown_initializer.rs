use mlp::prelude::*;

network! { pub Typo< input(784); dense(300, relu, init = he_normall); dense(10, init = xavier) > }

fn main() {}
