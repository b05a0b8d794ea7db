use mlp::prelude::*;

network! { pub Empty< > }

network! { pub OnlyInput< input(784) > }

fn main() {}
