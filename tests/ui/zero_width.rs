use mlp::prelude::*;

network! { pub ZeroDense< input(784); dense(0, relu); dense(10) > }

network! { pub ZeroDim< flatten(28, 0); dense(10) > }

fn main() {}
