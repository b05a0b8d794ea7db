use mlp::prelude::*;

network! { Trunk< input(784); dense(300, relu) > }

// A sub-network is configured in its own `network!`, and only `residual` takes a block.
network! { Head< input(784); Trunk(300); dense(10)< relu >; Trunk< dense(3) > > }

fn main() {}
