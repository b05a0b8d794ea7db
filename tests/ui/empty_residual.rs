use mlp::prelude::*;

network! { pub Hollow< input(10); residual(relu)< >; dense(1) > }

fn main() {}
