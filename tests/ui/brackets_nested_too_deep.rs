use mlp::prelude::*;

network! {
    pub Deep< input(8); dense(8, relu((((((((((((((((((((((((((((((((()))))))))))))))))))))))))))))))))) >
}

fn main() {}
