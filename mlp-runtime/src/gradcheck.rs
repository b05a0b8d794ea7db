//! Finite-difference checks of a layer's backward pass: the input gradient and every
//! parameter gradient against central differences of a random linear loss.

use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Mode};
pub use crate::tensors::{collect, zero_grads};
use rand::Rng as _;

/// How far the analytic and numeric gradients may differ: `|a - n| <= atol + rtol * max(|a|, |n|)`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Absolute tolerance.
    pub atol: f32,
    /// Relative tolerance.
    pub rtol: f32,
    /// Step of the central difference.
    pub eps: f32,
}

impl Default for Tolerance {
    /// Loose enough for f32 central differences, tight enough that a wrong formula fails.
    fn default() -> Self {
        Tolerance { atol: 2e-3, rtol: 2e-2, eps: 1e-2 }
    }
}

/// Checks `layer`'s backward pass at input `x` in `mode`: the loss is `sum(r * y)` for a
/// fixed random `r`; every input element and up to `max_per_tensor` elements of each
/// parameter are perturbed. Dropout masks repeat because every pass gets a context with
/// the same seed. Returns a description of the first mismatch.
pub fn check<L, const I: usize, const O: usize>(
    layer: &mut L,
    x: &Batch<I>,
    mode: Mode,
    tol: Tolerance,
    max_per_tensor: usize,
) -> Result<(), String>
where
    L: Layer<Input = Batch<I>, Output = Batch<O>>,
{
    let ctx = || {
        let mut c = Context::train(7);
        c.mode = mode;
        c
    };
    let mut rng = crate::rng::seeded(99);
    let n = x.len();
    let r: Vec<f32> = (0..n * O).map(|_| rng.random_range(-1.0..1.0)).collect();
    let dy = Batch::<O>::from_samples(&r).ok_or("empty batch")?;
    let loss = |layer: &mut L, x: &Batch<I>| -> f64 {
        layer.forward(x, &mut ctx());
        layer.output().as_slice().iter().zip(&r).map(|(y, r)| (*y as f64) * (*r as f64)).sum()
    };

    zero_grads(layer);
    layer.forward(x, &mut ctx());
    layer.backward(x, &dy, Backward::FULL);
    let dx = layer.input_grad().clone();
    // Frozen tensors get no gradient, so there is nothing to compare.
    let grads = collect(layer, |p| p.trainable.then(|| p.grad.to_vec()));

    let mut xp = x.clone();
    for i in 0..n * I {
        let orig = xp.as_slice()[i];
        xp.as_mut_slice()[i] = orig + tol.eps;
        let up = loss(layer, &xp);
        xp.as_mut_slice()[i] = orig - tol.eps;
        let down = loss(layer, &xp);
        xp.as_mut_slice()[i] = orig;
        let numeric = ((up - down) / (2.0 * tol.eps as f64)) as f32;
        compare(dx.as_slice()[i], numeric, tol).map_err(|e| format!("input element {i}: {e}"))?;
    }
    for (t, g) in grads.iter().enumerate() {
        let Some(g) = g else { continue };
        let stride = (g.len() / max_per_tensor.max(1)).max(1);
        for j in (0..g.len()).step_by(stride) {
            nudge(layer, t, j, tol.eps);
            let up = loss(layer, x);
            nudge(layer, t, j, -2.0 * tol.eps);
            let down = loss(layer, x);
            nudge(layer, t, j, tol.eps);
            let numeric = ((up - down) / (2.0 * tol.eps as f64)) as f32;
            compare(g[j], numeric, tol).map_err(|e| format!("parameter tensor {t}, element {j}: {e}"))?;
        }
    }
    Ok(())
}

fn compare(analytic: f32, numeric: f32, tol: Tolerance) -> Result<(), String> {
    let diff = (analytic - numeric).abs();
    if diff <= tol.atol + tol.rtol * analytic.abs().max(numeric.abs()) {
        Ok(())
    } else {
        Err(format!("backward gives {analytic}, finite differences {numeric}"))
    }
}

fn nudge<L: Layer + ?Sized>(layer: &mut L, tensor: usize, elem: usize, delta: f32) {
    let mut t = 0;
    let _ = collect(layer, |p| {
        if t == tensor {
            p.value[elem] += delta;
        }
        t += 1;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::init::Init;
    use crate::layer::{Visitor, VisitorRef};
    use crate::layers::{ActivationLayer, BatchNorm, Dense, Dropout, LayerNorm};

    fn input<const N: usize>(n: usize, seed: u64) -> Batch<N> {
        let mut rng = crate::rng::seeded(seed);
        let v: Vec<f32> = (0..n * N).map(|_| rng.random_range(-2.0..2.0)).collect();
        Batch::from_samples(&v).unwrap()
    }

    const ALL: [Activation; 10] = [
        Activation::Linear,
        Activation::Relu,
        Activation::LeakyRelu(0.3),
        Activation::Elu(1.0),
        Activation::Selu,
        Activation::Gelu,
        Activation::Swish,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Softmax,
    ];

    #[test]
    fn every_activation_backward_matches_finite_differences() {
        for act in ALL {
            let mut layer = ActivationLayer::<5>::new(act);
            let tol = Tolerance { eps: 1e-3, ..Default::default() };
            check(&mut layer, &input::<5>(4, 1), Mode::Train, tol, 100)
                .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
    }

    #[test]
    fn dense_backward_matches_finite_differences_for_every_activation() {
        for act in ALL {
            let mut rng = crate::rng::seeded(3);
            let mut layer = Dense::<6, 4>::new(act, Init::GlorotUniform, &mut rng);
            let tol = Tolerance { eps: 1e-3, ..Default::default() };
            check(&mut layer, &input::<6>(3, 2), Mode::Train, tol, 100)
                .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
        // Large enough for the matrixmultiply path, without bias.
        let mut rng = crate::rng::seeded(4);
        let mut layer = Dense::<40, 30>::new(Activation::Tanh, Init::HeNormal, &mut rng).without_bias();
        check(&mut layer, &input::<40>(20, 5), Mode::Train, Tolerance::default(), 50).unwrap();
    }

    #[test]
    fn batch_norm_backward_matches_in_both_modes() {
        let mut bn = BatchNorm::<5>::new(0.9, 1e-3);
        // Non-trivial gamma and beta, and running statistics away from 0 and 1.
        let _ = collect(&mut bn, |p| p.value.iter_mut().enumerate().for_each(|(i, v)| *v += 0.1 * i as f32));
        check(&mut bn, &input::<5>(6, 6), Mode::Train, Tolerance::default(), 100).unwrap();
        check(&mut bn, &input::<5>(6, 7), Mode::Infer, Tolerance::default(), 100).unwrap();
        bn.set_trainable(false);
        check(&mut bn, &input::<5>(6, 7), Mode::Train, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn layer_norm_backward_matches() {
        let mut ln = LayerNorm::<5>::new(1e-3);
        let _ = collect(&mut ln, |p| p.value.iter_mut().enumerate().for_each(|(i, v)| *v += 0.2 * i as f32));
        check(&mut ln, &input::<5>(4, 8), Mode::Train, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn dropout_backward_matches_with_a_fixed_mask() {
        let mut d = Dropout::<8>::new(0.4);
        check(&mut d, &input::<8>(5, 9), Mode::Train, Tolerance::default(), 100).unwrap();
        check(&mut d, &input::<8>(5, 9), Mode::Infer, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn a_wrong_gradient_is_caught() {
        // A layer whose backward is off by a factor must fail the check.
        struct Wrong(ActivationLayer<3>, Batch<3>);
        impl Layer for Wrong {
            const IN: usize = 3;
            const OUT: usize = 3;
            type Input = Batch<3>;
            type Output = Batch<3>;
            fn forward(&mut self, x: &Batch<3>, ctx: &mut Context) {
                self.0.forward(x, ctx)
            }
            fn output(&self) -> &Batch<3> {
                self.0.output()
            }
            fn backward(&mut self, x: &Batch<3>, dy: &Batch<3>, how: Backward) {
                self.0.backward(x, dy, how);
                self.1 = self.0.input_grad().clone();
                self.1.as_mut_slice().iter_mut().for_each(|v| *v *= 1.1);
            }
            fn input_grad(&self) -> &Batch<3> {
                &self.1
            }
            fn visit(&mut self, _: &mut dyn Visitor) {}
            fn visit_ref(&self, _: &mut dyn VisitorRef) {}
            fn set_trainable(&mut self, _: bool) {}
        }
        let mut w = Wrong(ActivationLayer::new(Activation::Tanh), Batch::zeros(0));
        assert!(check(&mut w, &input::<3>(2, 1), Mode::Train, Tolerance::default(), 10).is_err());
    }
}
