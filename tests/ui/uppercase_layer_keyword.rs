use mlp::prelude::*;

// Capitalized words are sub-network types; layer keywords are lowercase.
network! { pub Shouty< input(784); Dense(300, relu); BatchNorm; ReLU; dense(10) > }

fn main() {}
