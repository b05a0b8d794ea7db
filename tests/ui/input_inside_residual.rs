use mlp::prelude::*;

// A residual block's input width is the width before it.
network! { pub Inner< input(10); residual< input(10); dense(10) >; dense(1) > }

fn main() {}
