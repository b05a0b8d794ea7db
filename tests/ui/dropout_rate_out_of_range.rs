use mlp::prelude::*;

network! {
    pub Leaky<
        input(10);
        dropout(1.5);
        dropout(-0.1);
        dropout(1);
        dense(1)
    >
}

fn main() {}
