use mlp::prelude::*;

network! { Widen< input(100); dense(300, relu) > }

// The block ends at `Widen`'s width 300, but the skip connection adds its input of width 100.
network! { Block< input(100); residual< Widen >; dense(10) > }

// After `Widen` the width is 300, but this block ends at width 10.
network! { After< input(100); Widen; residual< dense(10) > > }

fn main() {
    let _ = Block::seeded(0);
    let _ = After::seeded(0);
}
