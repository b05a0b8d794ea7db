use mlp::prelude::*;

network! { pub Open< input(784); dense(300, relu); dense(10) }

network! { pub OpenBlock< input(10); residual< dense(10); dense(1) > }

fn main() {}
