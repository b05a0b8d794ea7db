//! Losses, with Keras 3's definitions and defaults.
//!
//! Every loss reduces like Keras' default `"sum_over_batch_size"`: the per-sample losses
//! (cross-entropies summed over classes; element-wise losses averaged over the sample's
//! width) are averaged over the batch.
//!
//! ```
//! use mlp_runtime::prelude::*;
//! let loss = SparseCategoricalCrossentropy::new();
//! let probs = [0.7_f32, 0.2, 0.1, 0.1, 0.8, 0.1];
//! let mut grad = [0.0; 6];
//! let fused = loss.fuses_with(Some(Activation::Softmax));
//! let l = loss.loss_and_grad(&probs, 3, Targets::Classes(&[0, 1]), &mut grad, fused);
//! assert!((l - (-(0.7_f32.ln() + 0.8_f32.ln()) / 2.0)).abs() < 1e-6);
//! assert!((grad[0] - (0.7 - 1.0) / 2.0).abs() < 1e-6);
//! ```

mod binary;
mod categorical;
mod regression;

pub use binary::BinaryCrossentropy;
pub use categorical::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
pub use regression::{Huber, MeanAbsoluteError, MeanSquaredError};

/// Keras' `backend.epsilon()`: probabilities are clipped to `[EPSILON, 1 - EPSILON]`
/// before a logarithm is taken.
pub const EPSILON: f32 = 1e-7;

/// Why targets (or the network's output) do not suit a loss, from [`Loss::check_targets`]
/// (or [`Loss::check_output`]). The message names the
/// loss and says what to change.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let err = SparseCategoricalCrossentropy::new().check_targets(Targets::Classes(&[3]), 3).unwrap_err();
/// assert!(err.message().contains("outputs only 3 classes"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    message: String,
}

impl TargetError {
    /// An error with `message`: the loss's name, what is wrong and what to change, lowercase.
    pub fn new(message: impl Into<String>) -> Self {
        TargetError { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Targets of one batch, in the same sample order as the network output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Targets<'a> {
    /// One class index per sample.
    Classes(&'a [u32]),
    /// `width` floats per sample, laid out like the output.
    Values(&'a [f32]),
}

impl Targets<'_> {
    /// Number of entries (class indices or floats).
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Values(v) => v.len(),
        }
    }

    /// True when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A loss function: a value to minimize and its gradient with respect to the network output.
///
/// Malformed input (a width of zero, an output whose length is not a multiple of the
/// width, targets of the wrong count or kind, a class index out of range) never panics:
/// the loss returns `NaN`, zeroes `grad`, and the trainer's NaN check reports it.
/// [`Loss::check_targets`] gives the reason as a [`TargetError`], and trainers call it once
/// per data set before training.
pub trait Loss {
    /// Keras' name for the loss (`"sparse_categorical_crossentropy"`, ...).
    fn name(&self) -> &'static str;

    /// True when this loss, given a network whose final activation is `act`, computes the
    /// gradient with respect to that activation's INPUT directly (softmax + categorical
    /// cross-entropy, sigmoid + binary cross-entropy): the network then skips the activation's derivative.
    fn fuses_with(&self, act: Option<crate::Activation>) -> bool;

    /// Mean loss over the batch. Writes d(mean loss)/d(output) into `grad` (same layout as `output`:
    /// `width` floats per sample, samples end to end), or, when `fused` is true, the gradient
    /// with respect to the final activation's input. Must not allocate.
    ///
    /// `fused` must only be true when [`Loss::fuses_with`] said so; otherwise the result is `NaN`.
    fn loss_and_grad(
        &self,
        output: &[f32],
        width: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
        fused: bool,
    ) -> f32;

    /// Sum (not mean) of the per-sample losses, without a gradient (for evaluate; the caller divides). Must not allocate.
    fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64;

    /// Checks, once per data set, that `targets` suit this loss and an output of `width`
    /// floats per sample: the right kind, class indices below `width`, whole samples.
    /// The message says what to change.
    fn check_targets(&self, _targets: Targets<'_>, _width: usize) -> Result<(), TargetError> {
        Ok(())
    }

    /// Checks, once per `fit` or `evaluate`, that this loss suits a network whose output
    /// is `width` floats per sample after the final activation `act`: a loss that would
    /// train quietly to nothing (binary cross-entropy on a wide softmax) says what to use.
    fn check_output(&self, _act: Option<crate::Activation>, _width: usize) -> Result<(), TargetError> {
        Ok(())
    }
}

impl<L: Loss + ?Sized> Loss for Box<L> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn fuses_with(&self, act: Option<crate::Activation>) -> bool {
        (**self).fuses_with(act)
    }
    fn check_output(&self, act: Option<crate::Activation>, width: usize) -> Result<(), TargetError> {
        (**self).check_output(act, width)
    }
    fn loss_and_grad(
        &self,
        output: &[f32],
        width: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
        fused: bool,
    ) -> f32 {
        (**self).loss_and_grad(output, width, targets, grad, fused)
    }
    fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
        (**self).loss_sum(output, width, targets)
    }
    fn check_targets(&self, targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
        (**self).check_targets(targets, width)
    }
}

/// The batch size of `output`, or `None` when the width is zero or does not divide it.
fn batch_size(output: &[f32], width: usize) -> Option<usize> {
    if width == 0 || !output.len().is_multiple_of(width) {
        None
    } else {
        Some(output.len() / width)
    }
}

/// The failure result of `loss_and_grad`: a zero gradient (so nothing stale is applied)
/// and a NaN the trainer reports.
fn fail(grad: &mut [f32]) -> f32 {
    grad.iter_mut().for_each(|g| *g = 0.0);
    f32::NAN
}

/// Common shape checks for `check_targets`.
fn check_values(name: &str, values: &[f32], width: usize) -> Result<(), TargetError> {
    if width == 0 {
        return Err(TargetError::new(format!("{name}: the network output has width 0")));
    }
    if !values.len().is_multiple_of(width) {
        return Err(TargetError::new(format!(
            "{name}: {} target values do not split into samples of width {width}; give {width} floats per sample",
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(TargetError::new(format!("{name}: target value {i} is {}", values[i])));
    }
    Ok(())
}

fn check_classes(name: &str, classes: &[u32], width: usize) -> Result<(), TargetError> {
    if width == 0 {
        return Err(TargetError::new(format!("{name}: the network output has width 0")));
    }
    let Some(i) = classes.iter().position(|&c| c as usize >= width) else { return Ok(()) };
    let plural = if width == 1 { "class" } else { "classes" };
    let mut m = format!(
        "{name}: target {i} is class {}, but the network outputs only {width} {plural} (0..{width})",
        classes[i]
    );
    // Labels 1..=width (no 0, the largest the class count): counted from 1, as in R or a
    // CSV with 1-based classes.
    let (min, max) = classes.iter().fold((u32::MAX, 0), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    if min >= 1 && max as usize == width {
        m.push_str(&format!(
            "; class labels start at 0: subtract 1 from labels 1..={width}, or widen the output to {}",
            width + 1
        ));
    }
    if width == 1 && name != "binary_crossentropy" {
        m.push_str("; for a one-unit sigmoid output with labels 0 and 1, use BinaryCrossentropy");
    }
    Err(TargetError::new(m))
}

/// Keras' range for `label_smoothing`: `[0, 1]`.
fn check_smoothing(name: &str, s: f32) -> Result<(), TargetError> {
    if (0.0..=1.0).contains(&s) {
        Ok(())
    } else {
        Err(TargetError::new(format!("{name}: label_smoothing must be in [0, 1], found {s}")))
    }
}

/// Re-exports for `mlp::prelude`.
pub mod prelude {
    pub use super::{
        BinaryCrossentropy, CategoricalCrossentropy, Huber, Loss, MeanAbsoluteError, MeanSquaredError,
        SparseCategoricalCrossentropy, TargetError, Targets,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Activation;

    fn message(loss: &dyn Loss, classes: &[u32], width: usize) -> String {
        loss.check_targets(Targets::Classes(classes), width).unwrap_err().message().to_string()
    }

    #[test]
    fn label_errors_say_labels_start_at_0_and_count_in_the_singular() {
        let sparse = SparseCategoricalCrossentropy::new();
        // 1-based labels 1..=10 for 10 classes.
        let m = message(&sparse, &[1, 10, 3], 10);
        assert_eq!(
            m,
            "sparse_categorical_crossentropy: target 1 is class 10, but the network outputs only 10 classes \
             (0..10); class labels start at 0: subtract 1 from labels 1..=10, or widen the output to 11"
        );
        // A label far out of range is not blamed on counting from 1.
        assert!(!message(&sparse, &[0, 42], 10).contains("start at 0"));
        // One unit: singular, and the loss made for it.
        let m = message(&sparse, &[0, 1], 1);
        assert!(m.contains("outputs only 1 class (0..1)") && !m.contains("start at 0"), "{m}");
        assert!(m.ends_with("use BinaryCrossentropy"), "{m}");
        assert!(BinaryCrossentropy::new().check_targets(Targets::Classes(&[0, 1]), 1).is_ok());
    }

    #[test]
    fn binary_crossentropy_refuses_a_wide_softmax_only() {
        let bce = BinaryCrossentropy::new();
        let m = bce.check_output(Some(Activation::Softmax), 10).unwrap_err().message().to_string();
        assert!(m.contains("10-wide softmax") && m.contains("SparseCategoricalCrossentropy"), "{m}");
        assert!(bce.check_output(Some(Activation::Sigmoid), 10).is_ok(), "multi-label sigmoid");
        assert!(bce.check_output(Some(Activation::Softmax), 1).is_ok());
        assert!(bce.check_output(None, 10).is_ok());
        assert!(SparseCategoricalCrossentropy::new().check_output(Some(Activation::Softmax), 10).is_ok());
    }
}
