//! Finite-difference checks of a layer's backward pass: the input gradient and every
//! parameter gradient against central differences of a random linear loss.
//!
//! Behind the `testing` feature: the workspace's own tests switch it on, and so can a crate
//! that checks a hand-written layer:
//!
//! ```
//! use mlp::prelude::*;
//! use mlp::gradcheck::{check, random_batch, Tolerance};
//! let mut layer = Dense::<6, 4>::new(Activation::Tanh, Init::GlorotUniform, &mut mlp::rng::seeded(3));
//! check(&mut layer, &random_batch::<6>(3, 2), Mode::Train, Tolerance::default(), 100).unwrap();
//! ```

use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Mode};
use crate::tensors::{collect, zero_grads};
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

/// Where a gradient disagrees with finite differences.
#[derive(Clone, Debug, PartialEq)]
pub enum Element {
    /// Element `index` of the input batch (row-major: sample, then feature).
    Input(usize),
    /// Element `index` of the parameter tensor `tensor` (its full name, `dense_0.weight`).
    Param {
        /// The tensor's full name.
        tensor: String,
        /// The element, in the tensor's PyTorch layout.
        index: usize,
    },
}

impl std::fmt::Display for Element {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Element::Input(i) => write!(f, "input element {i}"),
            Element::Param { tensor, index } => write!(f, "parameter `{tensor}`, element {index}"),
        }
    }
}

/// Why a gradient check failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GradcheckError {
    /// The input batch has no rows, so there is nothing to check.
    #[error("the input batch is empty: give the check at least one sample")]
    EmptyBatch,
    /// The backward pass disagrees with central differences beyond the tolerance.
    #[error("{at}: backward gives {analytic}, finite differences {numeric} (on the {isa} kernel path)")]
    Mismatch {
        /// The element.
        at: Element,
        /// The kernel path the passes ran on.
        isa: crate::kernel::Isa,
        /// The backward pass's value.
        analytic: f32,
        /// The central difference.
        numeric: f32,
    },
}

/// `rows` samples of width `N`, uniform in `[-2, 2)`, from `seed`: inputs for [`check`].
pub fn random_batch<const N: usize>(rows: usize, seed: u64) -> Batch<N> {
    let mut rng = crate::rng::seeded(seed);
    let v: Vec<f32> = (0..rows * N).map(|_| rng.random_range(-2.0..2.0)).collect();
    Batch::from_samples(&v).unwrap_or_else(|_| Batch::zeros(0))
}

/// Checks `layer`'s backward pass at input `x` in `mode`: the loss is `sum(r * y)` for a
/// fixed random `r`; every input element and up to `max_per_tensor` elements of each
/// parameter are perturbed. Dropout masks repeat because every pass gets a context with
/// the same seed. The whole check runs once on each kernel path this CPU supports
/// ([`Isa::supported_all`](crate::kernel::Isa::supported_all)). Returns the first mismatch.
pub fn check<L, const I: usize, const O: usize>(
    layer: &mut L,
    x: &Batch<I>,
    mode: Mode,
    tol: Tolerance,
    max_per_tensor: usize,
) -> Result<(), GradcheckError>
where
    L: Layer<Input = Batch<I>, Output = Batch<O>>,
{
    for isa in crate::kernel::Isa::supported_all() {
        crate::kernel::with_isa(isa, || check_on(isa, layer, x, mode, tol, max_per_tensor))?;
    }
    Ok(())
}

fn check_on<L, const I: usize, const O: usize>(
    isa: crate::kernel::Isa,
    layer: &mut L,
    x: &Batch<I>,
    mode: Mode,
    tol: Tolerance,
    max_per_tensor: usize,
) -> Result<(), GradcheckError>
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
    if n == 0 {
        // Nothing would be compared: a check that passes without checking is worse than none.
        return Err(GradcheckError::EmptyBatch);
    }
    let r: Vec<f32> = (0..n * O).map(|_| rng.random_range(-1.0..1.0)).collect();
    let dy = Batch::<O>::from_samples(&r).map_err(|_| GradcheckError::EmptyBatch)?; // O == 0
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
        compare(dx.as_slice()[i], numeric, tol).map_err(|(analytic, numeric)| GradcheckError::Mismatch {
            at: Element::Input(i),
            isa,
            analytic,
            numeric,
        })?;
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
            compare(g[j], numeric, tol).map_err(|(analytic, numeric)| GradcheckError::Mismatch {
                at: Element::Param { tensor: crate::tensors::param_name(layer, t), index: j },
                isa,
                analytic,
                numeric,
            })?;
        }
    }
    Ok(())
}

fn compare(analytic: f32, numeric: f32, tol: Tolerance) -> Result<(), (f32, f32)> {
    let diff = (analytic - numeric).abs();
    if diff <= tol.atol + tol.rtol * analytic.abs().max(numeric.abs()) {
        Ok(())
    } else {
        Err((analytic, numeric))
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

/// The activations every layer test runs through, one of each kind with its usual argument.
#[cfg(test)]
pub(crate) const EVERY_ACTIVATION: [crate::activation::Activation; 10] = {
    use crate::activation::Activation;
    [
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
    ]
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::init::Init;
    use crate::layer::{Visitor, VisitorRef};
    use crate::layers::{ActivationLayer, Dense};

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
        let err = check(&mut w, &random_batch::<3>(2, 1), Mode::Train, Tolerance::default(), 10).unwrap_err();
        assert!(matches!(err, GradcheckError::Mismatch { at: Element::Input(0), .. }), "{err}");
    }

    #[test]
    fn a_wrong_parameter_gradient_names_the_tensor() {
        // Right input gradient, bias gradient off by a factor: the error names `bias`.
        struct WrongBias(Dense<3, 2>);
        impl Layer for WrongBias {
            const IN: usize = 3;
            const OUT: usize = 2;
            type Input = Batch<3>;
            type Output = Batch<2>;
            fn forward(&mut self, x: &Batch<3>, ctx: &mut Context) {
                self.0.forward(x, ctx)
            }
            fn output(&self) -> &Batch<2> {
                self.0.output()
            }
            fn backward(&mut self, x: &Batch<3>, dy: &Batch<2>, how: Backward) {
                self.0.backward(x, dy, how);
                let _ = collect(&mut self.0, |p| {
                    if p.shape.len() == 1 {
                        p.grad.iter_mut().for_each(|g| *g *= 1.5);
                    }
                });
            }
            fn input_grad(&self) -> &Batch<3> {
                self.0.input_grad()
            }
            fn visit(&mut self, v: &mut dyn Visitor) {
                self.0.visit(v)
            }
            fn visit_ref(&self, v: &mut dyn VisitorRef) {
                self.0.visit_ref(v)
            }
            fn set_trainable(&mut self, t: bool) {
                self.0.set_trainable(t)
            }
        }
        let mut w =
            WrongBias(Dense::new(Activation::Linear, Init::GlorotUniform, &mut crate::rng::seeded(1)));
        let err = check(&mut w, &random_batch::<3>(4, 2), Mode::Train, Tolerance::default(), 10).unwrap_err();
        match err {
            GradcheckError::Mismatch { at: Element::Param { tensor, .. }, .. } => assert_eq!(tensor, "bias"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn an_empty_batch_is_an_error() {
        let mut layer = ActivationLayer::<3>::new(Activation::Tanh);
        let err = check(&mut layer, &Batch::<3>::zeros(0), Mode::Train, Tolerance::default(), 10);
        assert_eq!(err, Err(GradcheckError::EmptyBatch));
    }
}
