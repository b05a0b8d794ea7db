use mlp::prelude::*;

// A million layers once written out: refused before any is made.
network! {
    pub Huge<
        input(4);
        repeat(1000)< repeat(1000)< dense(4, relu) > >
    >
}

fn main() {}
