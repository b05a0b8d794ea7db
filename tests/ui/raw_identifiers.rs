use mlp::prelude::*;

// Raw identifiers are the identifiers they spell (the macro once panicked on
// `r#b: residual<...>`): `r#dense` is `dense`, and the width error is the only error.
network! { pub r#Raw< input(4); r#b: residual< r#dense(3) >; r#type: dense(2) > }

fn main() {}
