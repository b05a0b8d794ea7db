use mlp::prelude::*;

// PReLU's slopes are learned tensors: it takes no arguments, and is a layer, not an
// activation a residual block can apply after its sum.
network! {
    pub Parametric<
        input(784);
        dense(300, prelu(0.25));
        prelu(0.25);
        residual(prelu)< dense(300, relu); dense(300) >;
        dense(10, prelo)
    >
}

fn main() {}
