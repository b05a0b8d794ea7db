use mlp::prelude::*;

network! {
    pub Crowded<
        input(784);
        dense(300, relu, tanh);
        dropout(0.2, 0.3);
        residual(relu, tanh)< dense(300) >;
        residual(project, project)< dense(10) >
    >
}

fn main() {}
