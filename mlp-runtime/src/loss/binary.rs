//! Binary cross-entropy.
//!
//! Keras 3 (`keras/src/backend/*/nn.py` and `losses.py`), element-wise, on probabilities:
//! `p = clip(output, 1e-7, 1 - 1e-7)`, `bce = -(t log p + (1 - t) log(1 - p))`; on logits:
//! `bce = -(t log_sigmoid(z) + (1 - t) log_sigmoid(-z))`. A sample's loss is the mean over
//! its width, the batch loss the mean over samples.

use super::{
    batch_size, check_classes, check_smoothing, check_values, fail, Loss, TargetError, Targets, EPSILON,
};
use crate::activation::sigmoid;
use crate::Activation;

/// Binary (or multi-label) cross-entropy, Keras' `BinaryCrossentropy`
/// (default `from_logits = false`).
///
/// Targets: [`Targets::Values`] in `[0, 1]`, laid out like the output. [`Targets::Classes`]
/// are accepted too: with width 1 the class (0 or 1) is the label, with a wider output a
/// class index becomes a one-hot row.
///
/// Behind a sigmoid output layer it fuses with the sigmoid: the gradient with respect to
/// the logits is `(p - t) / (batch * width)`.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let loss = BinaryCrossentropy::new();
/// let l = loss.loss_sum(&[0.8, 0.4], 1, Targets::Values(&[1.0, 0.0]));
/// assert!((l + 0.8f64.ln() + 0.6f64.ln()).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryCrossentropy {
    /// The output holds logits (no sigmoid layer); a stable log-sigmoid is applied.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]` (see [`BinaryCrossentropy::label_smoothing`]).
    pub label_smoothing: f32,
}

impl BinaryCrossentropy {
    /// On probabilities (Keras' default): the network ends in sigmoid.
    pub const fn new() -> Self {
        BinaryCrossentropy { from_logits: false, label_smoothing: 0.0 }
    }

    /// On logits: the network ends in a linear layer.
    pub const fn from_logits() -> Self {
        BinaryCrossentropy { from_logits: true, label_smoothing: 0.0 }
    }

    /// Keras' `label_smoothing = s` in `[0, 1]`: each label `t` becomes
    /// `(1 - s) * t + s / 2`.
    #[must_use]
    pub const fn label_smoothing(mut self, s: f32) -> Self {
        self.label_smoothing = s;
        self
    }

    /// Sample element `n`'s label, smoothed.
    fn label(&self, targets: Targets<'_>, n: usize, width: usize) -> Option<f32> {
        let s = self.label_smoothing;
        label(targets, n, width).map(|t| if s == 0.0 { t } else { t * (1.0 - s) + 0.5 * s })
    }
}

impl Loss for BinaryCrossentropy {
    fn name(&self) -> &'static str {
        "binary_crossentropy"
    }

    fn fuses_with(&self, act: Option<Activation>) -> bool {
        !self.from_logits && act == Some(Activation::Sigmoid)
    }

    fn loss_and_grad(
        &self,
        output: &[f32],
        width: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
        fused: bool,
    ) -> f32 {
        if fused && self.from_logits {
            return fail(grad);
        }
        let Some(batch) = batch_size(output, width) else { return fail(grad) };
        if batch == 0 || grad.len() != output.len() || !fits(targets, batch, width) {
            return fail(grad);
        }
        let scale = 1.0 / output.len() as f32;
        let mut total = 0.0f64;
        for (n, (&y, g)) in output.iter().zip(grad.iter_mut()).enumerate() {
            let Some(t) = self.label(targets, n, width) else { return fail(grad) };
            let (loss, d) = if self.from_logits {
                // Keras: t * softplus(-z) + (1 - t) * softplus(z); derivative sigmoid(z) - t.
                (t * softplus(-y) + (1.0 - t) * softplus(y), sigmoid(y) - t)
            } else {
                let p = y.clamp(EPSILON, 1.0 - EPSILON);
                let loss = -(t * p.ln() + (1.0 - t) * (1.0 - p).ln());
                let d = if fused {
                    // Through the sigmoid: d/dz = p - t, with the unclipped output.
                    y - t
                } else if y > EPSILON && y < 1.0 - EPSILON {
                    (p - t) / (p * (1.0 - p))
                } else {
                    0.0 // the clip is flat here
                };
                (loss, d)
            };
            total += loss as f64;
            *g = scale * d;
        }
        (total / output.len() as f64) as f32
    }

    fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
        let Some(batch) = batch_size(output, width) else { return f64::NAN };
        if !fits(targets, batch, width) {
            return f64::NAN;
        }
        let mut total = 0.0f64;
        for (n, &y) in output.iter().enumerate() {
            let Some(t) = self.label(targets, n, width) else { return f64::NAN };
            let loss = if self.from_logits {
                t * softplus(-y) + (1.0 - t) * softplus(y)
            } else {
                let p = y.clamp(EPSILON, 1.0 - EPSILON);
                -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
            };
            total += loss as f64;
        }
        // Per-sample losses are means over the width.
        total / width as f64
    }

    fn check_targets(&self, targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
        match targets {
            Targets::Values(v) => check_values(self.name(), v, width),
            Targets::Classes(c) if width == 1 => check_classes(self.name(), c, 2),
            Targets::Classes(c) => check_classes(self.name(), c, width),
        }
    }

    fn check_output(&self, act: Option<Activation>, width: usize) -> Result<(), TargetError> {
        check_smoothing(self.name(), self.label_smoothing)?;
        // A softmax's units share one distribution; binary cross-entropy scores each unit
        // as its own yes/no, so it trains without learning (loss falls, accuracy stays at
        // chance). Sigmoid units (multi-label) are independent and fine.
        if act == Some(Activation::Softmax) && width > 1 {
            return Err(TargetError::new(format!(
                "binary_crossentropy: each output unit is scored as its own yes/no, but the output is a \
                 {width}-wide softmax (one distribution over {width} classes); use \
                 SparseCategoricalCrossentropy for class labels or CategoricalCrossentropy for one-hot \
                 rows, or end in `dense({width}, sigmoid)` for multi-label targets"
            )));
        }
        Ok(())
    }
}

fn fits(targets: Targets<'_>, batch: usize, width: usize) -> bool {
    match targets {
        Targets::Classes(c) => c.len() == batch,
        Targets::Values(v) => v.len() == batch * width,
    }
}

/// The label of output element `n`, or `None` for a class index that names no output.
fn label(targets: Targets<'_>, n: usize, width: usize) -> Option<f32> {
    match targets {
        Targets::Values(v) => Some(v[n]),
        Targets::Classes(c) => {
            let k = c[n / width] as usize;
            if width == 1 {
                (k < 2).then_some(k as f32)
            } else {
                (k < width).then_some((n % width == k) as u8 as f32)
            }
        }
    }
}

/// `log(1 + exp(x))` without overflow for large `x` or loss of precision for very negative `x`.
fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}
