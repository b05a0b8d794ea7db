use mlp::prelude::*;

network! { pub Gap< input(784); ; dense(10) > }

network! { pub Number< input(784); 300 > }

fn main() {}
