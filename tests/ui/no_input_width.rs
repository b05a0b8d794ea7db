use mlp::prelude::*;

// The first layer must fix the input width: the macro can't guess what `dense(300)` receives.
network! { pub Classifier< dense(300, relu); dense(10, softmax) > }

fn main() {}
