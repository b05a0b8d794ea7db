//! Regression losses: mean squared error, mean absolute error, Huber.
//!
//! Keras 3 (`keras/src/losses/losses.py`): each is an element-wise error averaged over the
//! sample's width (`axis=-1`), then over the batch.
//!
//! They take [`Targets::Values`] only: a class index has no meaning as a regression
//! target, so [`Targets::Classes`] makes the loss `NaN` and `check_targets` explains.

use super::{batch_size, check_values, fail, Loss, TargetError, Targets};
use crate::Activation;

/// Mean squared error, Keras' `MeanSquaredError`: `mean((y - t)^2)`.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut g = [0.0; 2];
/// let l = MeanSquaredError.loss_and_grad(&[1.0, 2.0], 2, Targets::Values(&[0.0, 0.0]), &mut g, false);
/// assert_eq!(l, 2.5);
/// assert_eq!(g, [1.0, 2.0]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanSquaredError;

/// Mean absolute error, Keras' `MeanAbsoluteError`: `mean(|y - t|)`. Its gradient at
/// `y == t` is 0, like TensorFlow's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MeanAbsoluteError;

/// Huber loss, Keras' `Huber` (default `delta = 1.0`): `0.5 e^2` where `|e| <= delta`,
/// else `delta * |e| - 0.5 delta^2`, with `e = y - t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear.
    pub delta: f32,
}

impl MeanSquaredError {
    /// The loss (it has no parameter).
    pub const fn new() -> Self {
        MeanSquaredError
    }
}

impl MeanAbsoluteError {
    /// The loss (it has no parameter).
    pub const fn new() -> Self {
        MeanAbsoluteError
    }
}

impl Huber {
    /// Keras' default, `delta = 1.0`.
    pub const fn new() -> Self {
        Huber { delta: 1.0 }
    }

    /// Sets where the loss turns from quadratic to linear.
    pub const fn delta(mut self, delta: f32) -> Self {
        self.delta = delta;
        self
    }
}

impl Default for Huber {
    fn default() -> Self {
        Huber::new()
    }
}

/// An element-wise loss: value and derivative with respect to the output, from the error `y - t`.
trait Elementwise {
    const NAME: &'static str;
    fn value_and_slope(&self, e: f32) -> (f32, f32);
}

impl Elementwise for MeanSquaredError {
    const NAME: &'static str = "mean_squared_error";
    fn value_and_slope(&self, e: f32) -> (f32, f32) {
        (e * e, 2.0 * e)
    }
}

impl Elementwise for MeanAbsoluteError {
    const NAME: &'static str = "mean_absolute_error";
    fn value_and_slope(&self, e: f32) -> (f32, f32) {
        let slope = if e > 0.0 {
            1.0
        } else if e < 0.0 {
            -1.0
        } else {
            0.0
        };
        (e.abs(), slope)
    }
}

impl Elementwise for Huber {
    const NAME: &'static str = "huber_loss";
    fn value_and_slope(&self, e: f32) -> (f32, f32) {
        let d = self.delta;
        if e.abs() <= d {
            (0.5 * e * e, e)
        } else {
            (d * e.abs() - 0.5 * d * d, d * e.signum())
        }
    }
}

fn mean_and_grad<L: Elementwise>(
    l: &L,
    output: &[f32],
    width: usize,
    targets: Targets<'_>,
    grad: &mut [f32],
    fused: bool,
) -> f32 {
    // A regression loss never fuses: there is no activation derivative it could replace.
    let Targets::Values(t) = targets else { return fail(grad) };
    if fused
        || batch_size(output, width).is_none_or(|b| b == 0)
        || t.len() != output.len()
        || grad.len() != output.len()
    {
        return fail(grad);
    }
    let scale = 1.0 / output.len() as f32;
    let mut total = 0.0f64;
    for ((g, &y), &t) in grad.iter_mut().zip(output).zip(t) {
        let (v, s) = l.value_and_slope(y - t);
        total += v as f64;
        *g = scale * s;
    }
    (total / output.len() as f64) as f32
}

fn sum<L: Elementwise>(l: &L, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
    let Targets::Values(t) = targets else { return f64::NAN };
    if batch_size(output, width).is_none() || t.len() != output.len() {
        return f64::NAN;
    }
    let total: f64 = output.iter().zip(t).map(|(&y, &t)| l.value_and_slope(y - t).0 as f64).sum();
    total / width as f64
}

fn check<L: Elementwise>(targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
    match targets {
        Targets::Values(v) => check_values(L::NAME, v, width),
        Targets::Classes(_) => Err(TargetError::new(format!(
            "{}: targets are class indices, but a regression loss needs float values ({width} per sample); \
             use sparse_categorical_crossentropy for classes",
            L::NAME
        ))),
    }
}

macro_rules! impl_loss {
    ($($t:ty),*) => {$(
        impl Loss for $t {
            fn name(&self) -> &'static str {
                <$t as Elementwise>::NAME
            }
            fn fuses_with(&self, _act: Option<Activation>) -> bool {
                false
            }
            fn loss_and_grad(&self, output: &[f32], width: usize, targets: Targets<'_>, grad: &mut [f32], fused: bool) -> f32 {
                mean_and_grad(self, output, width, targets, grad, fused)
            }
            fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
                sum(self, output, width, targets)
            }
            fn check_targets(&self, targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
                check::<$t>(targets, width)
            }
        }
    )*};
}

impl_loss!(MeanSquaredError, MeanAbsoluteError, Huber);
