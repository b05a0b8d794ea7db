//! The models of the speed comparison, shared by the criterion benches, the comparison
//! harness and the allocation test (`#[path]`-included, so one definition serves all).
//!
//! A, B and C are the main job's (`examples/fashion_mnist/models.rs`) `plain`, `batchnorm` and `dropout` with the
//! optimizers `scripts/bench_pytorch.py` gives them; T is the 4-32-16-4 tanh network.

#![allow(dead_code)]

use mlp::prelude::*;
use rand::Rng as _;

// A, B and C: the main job's networks, from the one file that defines them.
#[path = "../examples/fashion_mnist/models.rs"]
mod fashion;
pub use fashion::{BatchNormMlp, DropoutMlp, Plain};

network! {
    /// Model T: the tiny 4-32-16-4 tanh regression network; Adam 1e-3, MSE.
    pub Tiny< input(4); dense(32, tanh); dense(16, tanh); dense(4) >
}

/// Model A compiled as the comparison trains it.
pub fn model_a(seed: u64) -> Model<Plain, Sgd, SparseCategoricalCrossentropy> {
    Model::compile(Plain::seeded(seed), Sgd::new(0.01), SparseCategoricalCrossentropy::new()).seed(seed)
}

/// Model B compiled as the comparison trains it.
pub fn model_b(seed: u64) -> Model<BatchNormMlp, Sgd, SparseCategoricalCrossentropy> {
    Model::compile(BatchNormMlp::seeded(seed), Sgd::new(0.01), SparseCategoricalCrossentropy::new())
        .seed(seed)
}

/// Model C compiled as the comparison trains it (Keras' Adam epsilon, like the PyTorch side).
pub fn model_c(seed: u64) -> Model<DropoutMlp, Adam, SparseCategoricalCrossentropy> {
    Model::compile(DropoutMlp::seeded(seed), Adam::new(1e-3), SparseCategoricalCrossentropy::new()).seed(seed)
}

/// Model T compiled as the comparison trains it: a regression, so no accuracy beside the
/// loss (the PyTorch side computes none either; Keras would not for MSE).
pub fn model_t(seed: u64) -> Model<Tiny, Adam, MeanSquaredError> {
    Model::compile(Tiny::seeded(seed), Adam::new(1e-3), MeanSquaredError).seed(seed).with_metrics(&[])
}

/// Synthetic data shaped like Fashion-MNIST: `n` samples of 784 floats uniform in [0, 1],
/// labels 0-9 (timing does not depend on the values).
pub fn fashion_like(n: usize, seed: u64) -> Dataset {
    let mut rng = mlp::rng::seeded(seed);
    let x: Vec<f32> = (0..n * 784).map(|_| rng.random::<f32>()).collect();
    let y: Vec<u32> = (0..n).map(|_| rng.random_range(0..10)).collect();
    Dataset::classification(x, 784, y).expect("784 floats per sample")
}

/// The tiny network's data: `n` samples of 4 normal-ish floats, target `sin(x)`.
pub fn tiny_data(n: usize, seed: u64) -> Dataset {
    let mut rng = mlp::rng::seeded(seed);
    let x: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    let y: Vec<f32> = x.iter().map(|v| v.sin()).collect();
    Dataset::regression(x, 4, y, 4).expect("4 floats per sample")
}

/// The first `n` samples of `data` as a batch, with their class labels.
pub fn first<const N: usize>(data: &Dataset, n: usize) -> Batch<N> {
    let idx: Vec<usize> = (0..n).collect();
    let mut x = Batch::default();
    data.fill_batch(&idx, &mut x).expect("indices in range");
    x
}
