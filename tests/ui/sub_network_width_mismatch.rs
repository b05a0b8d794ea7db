use mlp::prelude::*;

network! { Trunk< input(784); dense(300, relu) > }

// `Head` takes batches of width 100, but `Trunk` expects 784.
network! { Head< input(100); features: Trunk; dense(10) > }

fn main() {
    let _ = Head::seeded(0);
}
