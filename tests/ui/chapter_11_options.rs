use mlp::prelude::*;

// The options chapter 11 adds: batch norm without beta or gamma, alpha dropout, max-norm,
// variance scaling; each mistake at its value.
network! {
    pub Options<
        input(784);
        batch_norm(center = no, scale = 1);
        alpha_dropout(1.0);
        dense(300, selu, max_norm = 0, init = variance_scaling(scale = -2, mode = fan_ave));
        dense(100, init = variance_scaling(2.0, distribution = normal, seed = 42));
        dense(10, softmax, init = he_normal(mode = fan_avg))
    >
}

fn main() {}
