use mlp::prelude::*;

network! {
    pub Opts<
        input(10);
        residual(act = relu)< dense(10) >;
        residual(3)< dense(10) >;
        residual(projection)< dense(10) >;
        dense(1)
    >
}

fn main() {}
