//! The network and the fixed inputs of the microcontroller example, in one file that both
//! builds compile: the firmware (`mod model;`) and the host program that trains the weights
//! and writes the expected outputs (the root's tests/cortex_m_weights.rs, through `#[path]`).

use mlp::prelude::*;

network! {
    /// The benches' tiny 4-32-16-4 tanh network, ending in softmax to classify: which of
    /// the four inputs is the largest.
    pub Tiny< input(4); dense(32, tanh); dense(16, tanh); dense(4, softmax) >
}

/// What the firmware classifies: clear cases first, then near ties and all-negative inputs.
pub const INPUTS: [[f32; 4]; 8] = [
    [0.9, -0.2, 0.1, 0.3],
    [-0.5, 0.8, 0.2, -0.1],
    [0.1, 0.2, 0.7, -0.6],
    [-0.3, -0.4, -0.2, 0.5],
    [0.4, 0.35, -0.9, 0.0],
    [-0.8, -0.7, -0.75, -0.9],
    [0.05, 0.6, 0.62, 0.1],
    [0.0, -0.1, 0.2, 0.25],
];
