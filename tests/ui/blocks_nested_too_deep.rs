use mlp::prelude::*;

// One block more than the limit (32): each level is a recursion in the macro and in rustc.
network! {
    pub Deep< input(8);
        residual<residual<residual<residual<residual<residual<residual<residual<
        residual<residual<residual<residual<residual<residual<residual<residual<
        residual<residual<residual<residual<residual<residual<residual<residual<
        residual<residual<residual<residual<residual<residual<residual<residual<
        residual< dense(8) >
        >>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>
    >
}

fn main() {}
