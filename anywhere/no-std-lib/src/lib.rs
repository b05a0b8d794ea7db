//! What a user's `#![no_std]` crate does with `mlp`: declare a network, load its weights
//! from the bytes of a safetensors file, and classify. No std anywhere in the build.

#![no_std]

extern crate alloc;

use mlp::prelude::*;

network! {
    /// The tutorial's batch-norm model (the main job's `--model batchnorm`).
    pub FashionBatchNorm<
        flatten(28, 28);
        batch_norm; dense(300, relu);
        batch_norm; dense(100, relu);
        batch_norm; dense(10, softmax);
    >
}

/// The class of one 28x28 image (pixels scaled to 0..1), by the network's `predict`.
pub fn classify(net: &mut FashionBatchNorm, pixels: &[f32; 784]) -> usize {
    let x = Batch::<784>::from_sample(pixels);
    mlp::batch::argmax(net.predict(&x).sample(0))
}
