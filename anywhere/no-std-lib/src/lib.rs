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

/// The network with the weights of a safetensors file's bytes (`include_bytes!` of the
/// main job's `--save` file): the same keys and checks as `net.load(path)` with std.
pub fn from_bytes(bytes: &[u8]) -> Result<FashionBatchNorm, mlp::io::LoadError> {
    let mut net = FashionBatchNorm::seeded(0);
    net.load_from_bytes(bytes, &LoadOptions::new())?;
    Ok(net)
}

/// The class of one 28x28 image (pixels scaled to 0..1), by the network's `predict`.
pub fn classify(net: &mut FashionBatchNorm, pixels: &[f32; 784]) -> usize {
    let x = Batch::<784>::from_sample(pixels);
    mlp::batch::argmax(net.predict(&x).sample(0))
}

network! {
    /// Every layer kind, activation and option, so every item the macro's output names
    /// must exist without std.
    pub Everything<
        flatten(2, 3);
        batch_norm;
        dense(8, relu, init = he_normal, l2 = 0.01);
        leaky_relu(0.2);
        dense(8, elu(0.5));
        selu;
        dense(8, gelu, init = variance_scaling(scale = 2.0, mode = fan_avg));
        swish;
        tanh;
        sigmoid;
        linear;
        dense(8, leaky_relu, bias = false);
        prelu;
        layer_norm(epsilon = 1e-5);
        dropout(0.3);
        repeat(2)< dense(8, selu, init = lecun_normal) >;
        alpha_dropout(0.1);
        batch_norm(center = false, scale = false);
        dense(8, tanh, max_norm = 2.0);
        dense(8, prelu);
        residual(relu)< dense(8, relu); batch_norm; dense(8, swish) >;
        residual(project, tanh)< trunk: Trunk; layer_norm >;
        dense(6, elu);
        dense(4, softmax);
    >
}

network! {
    /// A sub-network, used inside a projected residual above.
    pub Trunk< input(8); dense(5, sigmoid); batch_norm >
}

/// One forward pass of [`Everything`] in inference mode.
pub fn run_everything(net: &mut Everything, x: &[f32; 6]) -> [f32; 4] {
    let y = net.predict(&Batch::from_sample(x));
    let mut out = [0.0; 4];
    out.copy_from_slice(y.sample(0));
    out
}

/// A backward pass, as a training loop on the device would call it: the macro's output
/// includes it in every build.
pub fn gradient_of_everything(net: &mut Everything, x: &[f32; 6], dy: &[f32; 4]) -> usize {
    let x = Batch::from_sample(x);
    let mut ctx = Context::train(1);
    net.forward(&x, &mut ctx);
    net.backward(&x, &Batch::from_sample(dy), Backward::FULL);
    let mut count = 0;
    net.visit_ref(&mut Counter(&mut count));
    count
}

/// Counts trainable values.
struct Counter<'a>(&'a mut usize);

impl VisitorRef for Counter<'_> {
    fn param(&mut self, _name: &'static str, p: ParamRef<'_>) {
        *self.0 += p.value.len();
    }
}
