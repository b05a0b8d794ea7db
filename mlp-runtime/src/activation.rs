//! Activation functions: forward in place over a batch buffer, backward from the output
//! (or, for GELU and swish, the pre-activation).

use crate::fastmath;
use crate::kernel::zip_columns;

/// An activation, with Keras' defaults for its parameters.
///
/// ```
/// use mlp::prelude::*;
/// let mut v = [-1.0_f32, 0.5];
/// Activation::Relu.forward(&mut v, 2);
/// assert_eq!(v, [0.0, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// The identity.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, else `alpha * x` (Keras' LeakyReLU layer: alpha 0.3).
    LeakyRelu(f32),
    /// `x` for `x > 0`, else `alpha * (exp(x) - 1)` (alpha 1.0).
    Elu(f32),
    /// Scaled ELU with the self-normalizing constants.
    Selu,
    /// Exact GELU: `x * Phi(x)`, with the error function.
    Gelu,
    /// `x * sigmoid(x)` (also called SiLU).
    Swish,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid.
    Sigmoid,
    /// Softmax over each sample, stable for large logits.
    Softmax,
}

const SELU_ALPHA: f32 = 1.673_263_2;
const SELU_SCALE: f32 = 1.050_701;

/// SELU's (alpha, scale), for the ONNX `Selu` operator's attributes.
pub(crate) fn selu_constants() -> (f32, f32) {
    (SELU_ALPHA, SELU_SCALE)
}

impl Activation {
    /// The DSL keyword of this activation.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Elu(_) => "elu",
            Activation::Selu => "selu",
            Activation::Gelu => "gelu",
            Activation::Swish => "swish",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
            Activation::Softmax => "softmax",
        }
    }

    /// True when the derivative needs the pre-activation, not just the output.
    pub fn needs_input(&self) -> bool {
        matches!(self, Activation::Gelu | Activation::Swish)
    }

    /// Applies the activation in place to `v`, a batch of samples of `width` floats each.
    /// A large batch is shared among the kernel's threads, whole samples to each (the
    /// same operations per element, so the same bits at any thread count).
    pub fn forward(&self, v: &mut [f32], width: usize) {
        // Inlined, so each part runs compiled for the kernel's path (`zip_columns` runs it
        // in `kernel::vectorized`): sixteen lanes on AVX-512. No FMA: Rust never fuses
        // `a * b + c` on its own, so every path gives the same bits (tested below).
        // Measured on the tiny tanh network's step (`--profile T 32`): tanh took 23% of it
        // on AVX2's eight lanes.
        zip_columns(
            width,
            [v],
            [],
            #[inline(always)]
            |[v], []| self.forward_here(v, width),
        )
    }

    #[inline(always)]
    fn forward_here(&self, v: &mut [f32], width: usize) {
        match *self {
            Activation::Linear => {}
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::LeakyRelu(a) => v.iter_mut().for_each(|x| {
                if *x < 0.0 {
                    *x *= a
                }
            }),
            // Both sides computed, then selected: the loops stay branch-free, so they
            // vectorize (`fastmath`). `min(0)` keeps exp_m1 finite; NaN fails `< 0` and
            // passes through.
            Activation::Elu(a) => v.iter_mut().for_each(|x| {
                let neg = a * fastmath::exp_m1(x.min(0.0));
                *x = if *x < 0.0 { neg } else { *x };
            }),
            Activation::Selu => v.iter_mut().for_each(|x| {
                let neg = SELU_SCALE * SELU_ALPHA * fastmath::exp_m1(x.min(0.0));
                *x = if *x > 0.0 {
                    SELU_SCALE * *x
                } else if *x <= 0.0 {
                    neg
                } else {
                    *x
                };
            }),
            Activation::Gelu => v.iter_mut().for_each(|x| *x = gelu(*x)),
            Activation::Swish => v.iter_mut().for_each(|x| *x *= sigmoid(*x)),
            Activation::Tanh => v.iter_mut().for_each(|x| *x = fastmath::tanh(*x)),
            Activation::Sigmoid => v.iter_mut().for_each(|x| *x = sigmoid(*x)),
            Activation::Softmax => v.chunks_exact_mut(width).for_each(softmax_in_place),
        }
    }

    /// Gradient with respect to the pre-activation: `dz = f'(z) * dy` (for softmax, the
    /// Jacobian-vector product). `z` is the pre-activation (needed only when
    /// [`Activation::needs_input`]), `y` the output. Shared among the kernel's threads
    /// like [`Activation::forward`].
    pub fn backward(&self, z: &[f32], y: &[f32], dy: &[f32], dz: &mut [f32], width: usize) {
        if self.needs_input() {
            zip_columns(width, [dz], [z, y, dy], |[dz], [z, y, dy]| self.backward_part(z, y, dy, dz, width))
        } else {
            // `z` may be empty here: it must not bound the work.
            zip_columns(width, [dz], [y, dy], |[dz], [y, dy]| self.backward_part(&[], y, dy, dz, width))
        }
    }

    fn backward_part(&self, z: &[f32], y: &[f32], dy: &[f32], dz: &mut [f32], width: usize) {
        let each = |dz: &mut [f32], f: &dyn Fn(f32, f32) -> f32| {
            for ((d, &yv), &g) in dz.iter_mut().zip(y).zip(dy) {
                *d = f(yv, g)
            }
        };
        match *self {
            Activation::Linear => dz.copy_from_slice(dy),
            Activation::Relu => each(dz, &|y, g| if y > 0.0 { g } else { 0.0 }),
            Activation::LeakyRelu(a) => each(dz, &|y, g| if y > 0.0 { g } else { a * g }),
            Activation::Elu(a) => each(dz, &|y, g| if y > 0.0 { g } else { (y + a) * g }),
            Activation::Selu => {
                each(dz, &|y, g| if y > 0.0 { SELU_SCALE * g } else { (y + SELU_SCALE * SELU_ALPHA) * g })
            }
            Activation::Tanh => each(dz, &|y, g| (1.0 - y * y) * g),
            Activation::Sigmoid => each(dz, &|y, g| y * (1.0 - y) * g),
            Activation::Gelu => {
                for ((d, &x), &g) in dz.iter_mut().zip(z).zip(dy) {
                    let cdf = 0.5 * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2));
                    let pdf = libm::expf(-0.5 * x * x) * 0.398_942_3;
                    *d = (cdf + x * pdf) * g;
                }
            }
            Activation::Swish => {
                for ((d, &x), &g) in dz.iter_mut().zip(z).zip(dy) {
                    let s = sigmoid(x);
                    *d = (s + x * s * (1.0 - s)) * g;
                }
            }
            Activation::Softmax => {
                for ((d, y), g) in
                    dz.chunks_exact_mut(width).zip(y.chunks_exact(width)).zip(dy.chunks_exact(width))
                {
                    let dot: f32 = y.iter().zip(g).map(|(a, b)| a * b).sum();
                    for ((d, &y), &g) in d.iter_mut().zip(y).zip(g) {
                        *d = y * (g - dot);
                    }
                }
            }
        }
    }
}

/// The logistic function, split by sign so `exp` never overflows (also used by the
/// binary cross-entropy from logits).
pub(crate) fn sigmoid(x: f32) -> f32 {
    // Both sides computed, then selected (vectorizes); each side's exp has a non-positive
    // argument, so it never overflows.
    let e = fastmath::exp(-x.abs());
    let pos = 1.0 / (1.0 + e);
    let neg = e / (1.0 + e);
    if x >= 0.0 {
        pos
    } else if x < 0.0 {
        neg
    } else {
        x // NaN
    }
}

fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x * core::f32::consts::FRAC_1_SQRT_2))
}

/// Softmax of one sample, shifted by its maximum so large logits do not overflow.
pub fn softmax_in_place(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = fastmath::exp(*x - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    v.iter_mut().for_each(|x| *x *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{with_isa, Isa};

    #[test]
    fn every_path_gives_the_same_bits() {
        // Both sides of each select, the edges, and lengths that leave partial vectors.
        let mut x: Vec<f32> = (-400..400).map(|i| i as f32 * 0.037).collect();
        x.extend([
            0.0,
            -0.0,
            1e-30,
            -1e-30,
            89.0,
            -90.0,
            1e4,
            -1e4,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ]);
        for act in crate::gradcheck::EVERY_ACTIVATION {
            let width = if act == Activation::Softmax { 3 } else { 1 };
            let len = x.len() / width * width;
            let mut want = x[..len].to_vec();
            act.forward_here(&mut want, width);
            for isa in Isa::supported_all() {
                let mut got = x[..len].to_vec();
                with_isa(isa, || act.forward(&mut got, width));
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{act:?} on {isa}");
            }
        }
    }
}
