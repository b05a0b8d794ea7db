use mlp::prelude::*;

network! {
    pub Muddled<
        input(10);
        dense(10, l2 = 0.01, relu);
        dense(10, l2 = 0.01, l2 = 0.02);
        dense(10, bias = false, init = he_normal, init = zeros)
    >
}

fn main() {}
