//! Categorical cross-entropies: `SparseCategoricalCrossentropy` (class indices) and
//! `CategoricalCrossentropy` (one distribution per sample).
//!
//! Keras 3 (`keras/src/backend/*/nn.py`), per sample, on probabilities:
//! `p = output / sum(output)`, `p = clip(p, 1e-7, 1 - 1e-7)`, `loss = -sum(target * log(p))`;
//! on logits: `loss = -sum(target * log_softmax(output))`. The batch loss is the mean.

use super::{
    batch_size, check_classes, check_smoothing, check_values, fail, Loss, TargetError, Targets, EPSILON,
};
use crate::Activation;

/// Cross-entropy between integer class labels and the network's class scores, Keras'
/// `SparseCategoricalCrossentropy` (default `from_logits = false`).
///
/// Targets: [`Targets::Classes`], or [`Targets::Values`] with one float per sample holding
/// an integral class index (Keras casts float labels to integers). An index outside
/// `0..width` makes the loss `NaN` (Keras would silently count it as zero loss).
///
/// Behind a softmax output layer it fuses with the softmax: the gradient with respect to
/// the logits is `(p - onehot) / batch`, exact and finite however large the logits.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let loss = SparseCategoricalCrossentropy::from_logits();
/// let l = loss.loss_sum(&[0.0, 0.0], 2, Targets::Classes(&[1]));
/// assert!((l - 2f64.ln()).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SparseCategoricalCrossentropy {
    /// The output holds unnormalized scores (no softmax layer); a stable log-softmax is applied.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]` (see [`SparseCategoricalCrossentropy::label_smoothing`]).
    pub label_smoothing: f32,
}

/// Cross-entropy between target distributions (usually one-hot rows) and the network's
/// class scores, Keras' `CategoricalCrossentropy` (default `from_logits = false`).
///
/// Targets: [`Targets::Values`], `width` floats per sample; [`Targets::Classes`] are
/// treated as one-hot rows.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let loss = CategoricalCrossentropy::new();
/// let l = loss.loss_sum(&[0.25, 0.75], 2, Targets::Values(&[0.0, 1.0]));
/// assert!((l + 0.75f64.ln()).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CategoricalCrossentropy {
    /// The output holds unnormalized scores (no softmax layer); a stable log-softmax is applied.
    pub from_logits: bool,
    /// Label smoothing in `[0, 1]` (see [`CategoricalCrossentropy::label_smoothing`]).
    pub label_smoothing: f32,
}

impl SparseCategoricalCrossentropy {
    /// On probabilities (Keras' default): the network ends in softmax.
    pub const fn new() -> Self {
        SparseCategoricalCrossentropy { from_logits: false, label_smoothing: 0.0 }
    }

    /// On logits: the network ends in a linear layer.
    pub const fn from_logits() -> Self {
        SparseCategoricalCrossentropy { from_logits: true, label_smoothing: 0.0 }
    }

    /// Label smoothing `s` in `[0, 1]`, defined as for the one-hot row of each label:
    /// the target becomes `(1 - s) * onehot + s / classes`. Keras 3's
    /// `SparseCategoricalCrossentropy` has no `label_smoothing`; this is what its
    /// `CategoricalCrossentropy(label_smoothing=s)` does with the one-hot rows.
    #[must_use]
    pub const fn label_smoothing(mut self, s: f32) -> Self {
        self.label_smoothing = s;
        self
    }
}

impl CategoricalCrossentropy {
    /// On probabilities (Keras' default): the network ends in softmax.
    pub const fn new() -> Self {
        CategoricalCrossentropy { from_logits: false, label_smoothing: 0.0 }
    }

    /// On logits: the network ends in a linear layer.
    pub const fn from_logits() -> Self {
        CategoricalCrossentropy { from_logits: true, label_smoothing: 0.0 }
    }

    /// Keras' `label_smoothing = s` in `[0, 1]`: each target row `t` becomes
    /// `(1 - s) * t + s / classes`.
    #[must_use]
    pub const fn label_smoothing(mut self, s: f32) -> Self {
        self.label_smoothing = s;
        self
    }
}

impl Loss for SparseCategoricalCrossentropy {
    fn name(&self) -> &'static str {
        "sparse_categorical_crossentropy"
    }

    fn fuses_with(&self, act: Option<Activation>) -> bool {
        !self.from_logits && act == Some(Activation::Softmax)
    }

    fn check_output(&self, _act: Option<Activation>, _width: usize) -> Result<(), TargetError> {
        check_smoothing(self.name(), self.label_smoothing)
    }

    fn loss_and_grad(
        &self,
        output: &[f32],
        width: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
        fused: bool,
    ) -> f32 {
        mean_and_grad(true, self.from_logits, self.label_smoothing, output, width, targets, grad, fused)
    }

    fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
        sum(true, self.from_logits, self.label_smoothing, output, width, targets)
    }

    fn check_targets(&self, targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
        let name = self.name();
        match targets {
            Targets::Classes(c) => check_classes(name, c, width),
            Targets::Values(v) => {
                check_values(name, v, 1)?;
                match v.iter().position(|&x| class_of(x, width).is_none()) {
                    None => Ok(()),
                    Some(i) => Err(TargetError::new(format!(
                        "{name}: target {i} is {}, not a class index in 0..{width}; \
                         pass class indices, or use categorical_crossentropy for one-hot rows",
                        v[i]
                    ))),
                }
            }
        }
    }
}

impl Loss for CategoricalCrossentropy {
    fn name(&self) -> &'static str {
        "categorical_crossentropy"
    }

    fn fuses_with(&self, act: Option<Activation>) -> bool {
        !self.from_logits && act == Some(Activation::Softmax)
    }

    fn check_output(&self, _act: Option<Activation>, _width: usize) -> Result<(), TargetError> {
        check_smoothing(self.name(), self.label_smoothing)
    }

    fn loss_and_grad(
        &self,
        output: &[f32],
        width: usize,
        targets: Targets<'_>,
        grad: &mut [f32],
        fused: bool,
    ) -> f32 {
        mean_and_grad(false, self.from_logits, self.label_smoothing, output, width, targets, grad, fused)
    }

    fn loss_sum(&self, output: &[f32], width: usize, targets: Targets<'_>) -> f64 {
        sum(false, self.from_logits, self.label_smoothing, output, width, targets)
    }

    fn check_targets(&self, targets: Targets<'_>, width: usize) -> Result<(), TargetError> {
        match targets {
            Targets::Classes(c) => check_classes(self.name(), c, width),
            Targets::Values(v) => check_values(self.name(), v, width),
        }
    }
}

/// The class a float label names, if it is an integer in `0..width`.
fn class_of(x: f32, width: usize) -> Option<usize> {
    if x >= 0.0 && x.fract() == 0.0 && (x as usize) < width {
        Some(x as usize)
    } else {
        None
    }
}

/// One sample's target, smoothed: `keep * raw + add` (`keep` 1 and `add` 0 unsmoothed,
/// which gives `raw` back exactly).
#[derive(Clone, Copy)]
struct Target<'a> {
    raw: Raw<'a>,
    keep: f32,
    add: f32,
    width: usize,
}

/// A target as the data gives it.
#[derive(Clone, Copy)]
enum Raw<'a> {
    Class(usize),
    Dist(&'a [f32]),
}

impl Target<'_> {
    /// The class of an unsmoothed class label: the loss then reads one output only.
    fn class(&self) -> Option<usize> {
        match self.raw {
            Raw::Class(k) if self.add == 0.0 => Some(k),
            _ => None,
        }
    }

    fn at(&self, j: usize) -> f32 {
        let raw = match self.raw {
            Raw::Class(k) => (j == k) as u8 as f32,
            Raw::Dist(t) => t[j],
        };
        self.keep * raw + self.add
    }

    fn sum(&self) -> f32 {
        match self.raw {
            Raw::Class(_) if self.add == 0.0 => 1.0,
            _ => (0..self.width).map(|j| self.at(j)).sum(),
        }
    }
}

/// Sample `i`'s target, or `None` when the targets do not fit the batch.
fn target<'a>(
    sparse: bool,
    smoothing: f32,
    targets: Targets<'a>,
    i: usize,
    width: usize,
) -> Option<Target<'a>> {
    let raw = match targets {
        Targets::Classes(c) => {
            let k = c[i] as usize;
            (k < width).then_some(Raw::Class(k))?
        }
        Targets::Values(v) if sparse => class_of(v[i], width).map(Raw::Class)?,
        Targets::Values(v) => Raw::Dist(&v[i * width..(i + 1) * width]),
    };
    // Keras: y_true * (1 - label_smoothing) + label_smoothing / num_classes.
    Some(Target { raw, keep: 1.0 - smoothing, add: smoothing / width as f32, width })
}

/// True when the targets hold exactly one entry (or row) per sample.
fn targets_fit(sparse: bool, targets: Targets<'_>, batch: usize, width: usize) -> bool {
    match targets {
        Targets::Classes(c) => c.len() == batch,
        Targets::Values(v) if sparse => v.len() == batch,
        Targets::Values(v) => v.len() == batch * width,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Output is probabilities; gradient with respect to them.
    Probs,
    /// Output is a softmax's; gradient with respect to the softmax input.
    Fused,
    /// Output is logits.
    Logits,
}

#[allow(clippy::too_many_arguments)]
fn mean_and_grad(
    sparse: bool,
    from_logits: bool,
    smoothing: f32,
    output: &[f32],
    width: usize,
    targets: Targets<'_>,
    grad: &mut [f32],
    fused: bool,
) -> f32 {
    let mode = match (from_logits, fused) {
        (true, true) => return fail(grad), // a loss on logits has no activation to fuse with
        (true, false) => Mode::Logits,
        (false, true) => Mode::Fused,
        (false, false) => Mode::Probs,
    };
    let Some(batch) = batch_size(output, width) else { return fail(grad) };
    if batch == 0 || grad.len() != output.len() || !targets_fit(sparse, targets, batch, width) {
        return fail(grad);
    }
    let scale = 1.0 / batch as f32;
    let mut total = 0.0;
    for (i, (o, g)) in output.chunks_exact(width).zip(grad.chunks_exact_mut(width)).enumerate() {
        let Some(t) = target(sparse, smoothing, targets, i, width) else { return fail(grad) };
        total += sample(o, t, mode, Some(g), scale);
    }
    (total / batch as f64) as f32
}

fn sum(
    sparse: bool,
    from_logits: bool,
    smoothing: f32,
    output: &[f32],
    width: usize,
    targets: Targets<'_>,
) -> f64 {
    let mode = if from_logits { Mode::Logits } else { Mode::Probs };
    let Some(batch) = batch_size(output, width) else { return f64::NAN };
    if !targets_fit(sparse, targets, batch, width) {
        return f64::NAN;
    }
    let mut total = 0.0;
    for (i, o) in output.chunks_exact(width).enumerate() {
        let Some(t) = target(sparse, smoothing, targets, i, width) else { return f64::NAN };
        total += sample(o, t, mode, None, 0.0);
    }
    total
}

/// The loss of one sample; with `g`, also writes `scale` times its gradient.
fn sample(o: &[f32], t: Target<'_>, mode: Mode, g: Option<&mut [f32]>, scale: f32) -> f64 {
    match mode {
        Mode::Logits => {
            // log_softmax(o)_j = o_j - lse, with the maximum shifted out so exp never overflows.
            let max = o.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum_exp: f32 = o.iter().map(|&x| (x - max).exp()).sum();
            let lse = max + sum_exp.ln();
            let mut loss = 0.0f64;
            match t.class() {
                Some(k) => loss = (lse - o[k]) as f64,
                None => {
                    for (j, &x) in o.iter().enumerate() {
                        let tj = t.at(j);
                        if tj != 0.0 {
                            loss += (tj * (lse - x)) as f64;
                        }
                    }
                }
            }
            if let Some(g) = g {
                // d/do_j of -sum_i t_i (o_i - lse) = sum(t) softmax_j - t_j.
                let st = t.sum();
                for (j, (gj, &x)) in g.iter_mut().zip(o).enumerate() {
                    *gj = scale * (st * (x - lse).exp() - t.at(j));
                }
            }
            loss
        }
        Mode::Probs | Mode::Fused => {
            // Keras renormalizes, then clips, so the log never sees 0.
            let s: f32 = o.iter().sum();
            let inv = 1.0 / s;
            let clipped = |x: f32| (x * inv).clamp(EPSILON, 1.0 - EPSILON);
            let loss = match t.class() {
                Some(k) => -(clipped(o[k]).ln() as f64),
                None => o
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| (t.at(j), x))
                    .filter(|&(tj, _)| tj != 0.0)
                    .map(|(tj, x)| -((tj * clipped(x).ln()) as f64))
                    .sum(),
            };
            let Some(g) = g else { return loss };
            if mode == Mode::Fused {
                // Through the softmax: d/dz_j of -sum_i t_i log(p_i) = sum(t) p_j - t_j
                // (the clip is ignored, as when Keras' TensorFlow backend reads the logits).
                let st = t.sum();
                for (j, (gj, &p)) in g.iter_mut().zip(o).enumerate() {
                    *gj = scale * (st * p - t.at(j));
                }
            } else {
                // Gradient of the clipped, renormalized loss: with p = o / s and a_i = 1 where
                // the clip is inactive, dL/do_j = (sum_i t_i a_i - t_j a_j / p_j) / s.
                let active = |x: f32| {
                    let p = x * inv;
                    p > EPSILON && p < 1.0 - EPSILON
                };
                let ta: f32 = match t.class() {
                    Some(k) => active(o[k]) as u8 as f32,
                    None => o.iter().enumerate().filter(|&(_, &x)| active(x)).map(|(j, _)| t.at(j)).sum(),
                };
                for (j, (gj, &x)) in g.iter_mut().zip(o).enumerate() {
                    let tj = t.at(j);
                    let own = if tj != 0.0 && active(x) { tj / (x * inv) } else { 0.0 };
                    *gj = scale * inv * (ta - own);
                }
            }
            loss
        }
    }
}
