use mlp::prelude::*;

network! {
    pub WrongTypes<
        input(784);
        dense(300, relu, l2 = relu);
        dense(100, relu, bias = 0.5);
        dense(50, init = 3);
        dense(relu);
        dense(10)
    >
}

fn main() {}
