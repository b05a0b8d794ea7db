use mlp::prelude::*;

// The tutorial's residual unit: the block maps 3 to 20, so `f(x) + x` can't be added.
network! {
    pub ResidualUnit<
        input(3);
        residual< dense(10, relu); batch_norm; dense(20, relu); batch_norm >;
        dense(1)
    >
}

fn main() {}
