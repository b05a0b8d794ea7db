//! The networks of the main job, as Keras tutorials write them. Defined once: the main job,
//! `examples/keras_parity.rs` and the benches (`benches/models.rs`) include this file.

#![allow(dead_code)] // each includer uses some of them

use mlp::prelude::*;

network! {
    /// Keras: Flatten, Dense(300, relu), Dense(100, relu), Dense(10, softmax).
    pub Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) >
}

network! {
    /// Keras: Flatten, then BatchNormalization before each dense layer.
    pub BatchNormMlp<
        flatten(28, 28);
        batch_norm;
        dense(300, relu);
        batch_norm;
        dense(100, relu);
        batch_norm;
        dense(10, softmax);
    >
}

network! {
    /// Keras: Dropout(0.2) around two ELU layers.
    pub DropoutMlp<
        flatten(28, 28);
        dropout(0.2);
        dense(300, elu);
        dense(100, elu);
        dropout(0.2);
        dense(10, softmax);
    >
}

network! {
    /// Two of Géron's residual units, dense instead of convolutional.
    pub ResidualMlp<
        flatten(28, 28);
        dense(100, relu, init = he_normal);
        residual(relu)< dense(100, relu, init = he_normal); batch_norm; dense(100); batch_norm >;
        residual(relu)< dense(100, relu, init = he_normal); batch_norm; dense(100); batch_norm >;
        dense(10, softmax);
    >
}
