use mlp::prelude::*;

// A network with a mistake still declares `Broken`, so the code that uses it reports
// nothing more than the mistake itself: no "cannot find type `Broken`".
network! { pub Broken< input(784); dense(0); dense(10) > }

fn main() {
    let _net = Broken::seeded(0);
    let mut rng = mlp::rng::seeded(1);
    let _other = Broken::new(&mut rng);
}
