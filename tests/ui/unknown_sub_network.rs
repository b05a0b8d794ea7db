use mlp::prelude::*;

network! { Trunk< input(784); dense(300, relu) > }

network! { Head< input(784); features: Trnuk; dense(10) > }

fn main() {
    let _ = Trunk::seeded(0);
    let _ = Head::seeded(0);
}
