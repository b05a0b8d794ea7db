use mlp::prelude::*;

network! {
    pub Bare<
        input();
        dense;
        dropout;
        residual;
        dense(10)
    >
}

network! { pub NoDims< flatten; dense(10) > }

fn main() {}
