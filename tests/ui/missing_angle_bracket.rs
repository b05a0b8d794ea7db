use mlp::prelude::*;

network! { pub NoBracket input(784); dense(10) }

fn main() {}
