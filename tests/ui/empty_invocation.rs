use mlp::prelude::*;

network! {}

fn main() {}
