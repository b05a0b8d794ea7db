//! The update after a backward pass: penalty gradients, the finiteness check, clipping,
//! weight decay and the optimizer step, as two visits over the network's tensors.

use super::StepError;
use crate::layer::{Layer, Param, Visitor};
use crate::optim::clip::{clip_norm, clip_value, global_norm_scale, scale, sum_sq};
use crate::optim::weight_decay::KeyPath;
use crate::optim::{Clip, Optimizer};

/// Keras' regularization loss: `sum(l1 * |w| + l2 * w^2)` over penalized kernels.
pub(super) fn penalty<N: Layer + ?Sized>(net: &mut N) -> f64 {
    let mut total = 0.0f64;
    crate::tensors::collect(net, |p| {
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for w in p.value.iter() {
                total += (p.l1 * w.abs()) as f64 + (p.l2 * w * w) as f64;
            }
        }
    });
    total
}

/// Adds penalty gradients, clips, decays and updates every trainable tensor and zeroes
/// all gradients. Returns the penalty of the weights before the update.
///
/// Every gradient is checked before any tensor changes: if one holds a NaN or an
/// infinity, nothing is updated, all gradients are zeroed and the error names the
/// tensor, so the weights trained so far survive.
pub(crate) fn apply_update<N: Layer + ?Sized, O: Optimizer + ?Sized>(
    net: &mut N,
    optimizer: &mut O,
) -> Result<f64, StepError> {
    let clip = optimizer.clip().effective();
    // Pass 1: the finiteness check, penalty gradients (they are part of the loss, so
    // they are clipped with the rest) and, when asked for, the global norm.
    let mut pre =
        Prepare { penalty: 0.0, sum_sq: 0.0, global: clip.global_norm.is_some(), slot: 0, bad: None };
    net.visit(&mut pre);
    if let Some(bad) = pre.bad {
        crate::tensors::zero_grads(net);
        return Err(StepError::NonFiniteGradient { tensor: crate::tensors::param_name(net, bad) });
    }
    let global_scale = match clip.global_norm {
        Some(max) => global_norm_scale(pre.sum_sq, max),
        None => 1.0,
    };
    optimizer.begin_step();
    net.visit(&mut Update { optimizer, clip, global_scale, slot: 0, path: KeyPath::default() });
    Ok(pre.penalty)
}

struct Prepare {
    penalty: f64,
    sum_sq: f64,
    global: bool,
    /// Slot numbering as in [`Update`], and the first slot whose gradient is not finite.
    slot: usize,
    bad: Option<usize>,
}

impl Visitor for Prepare {
    fn param(&mut self, _: &'static str, p: Param<'_>) {
        let slot = self.slot;
        self.slot += 1;
        if !p.trainable {
            return;
        }
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for (g, w) in p.grad.iter_mut().zip(p.value.iter()) {
                self.penalty += (p.l1 * w.abs() + p.l2 * w * w) as f64;
                *g += 2.0 * p.l2 * w + p.l1 * w.signum() * f32::from(*w != 0.0);
            }
        }
        if self.bad.is_none() && !crate::finite::all_finite(p.grad) {
            self.bad = Some(slot);
        }
        if self.global {
            self.sum_sq += sum_sq(p.grad);
        }
    }
}

struct Update<'a, O: ?Sized> {
    optimizer: &'a mut O,
    clip: Clip,
    global_scale: f32,
    slot: usize,
    /// Where the visit is, for the weight decay's exclusions.
    path: KeyPath,
}

impl<O: Optimizer + ?Sized> Visitor for Update<'_, O> {
    fn enter(&mut self, name: &'static str) {
        self.path.enter(name);
    }

    fn leave(&mut self) {
        self.path.leave();
    }

    fn param(&mut self, name: &'static str, p: Param<'_>) {
        // Slots number every tensor, frozen or not, so freezing a layer never moves
        // another tensor's optimizer state.
        let slot = self.slot;
        self.slot += 1;
        if p.trainable {
            if let Some(max) = self.clip.norm {
                clip_norm(p.grad, max);
            }
            if self.global_scale != 1.0 {
                scale(p.grad, self.global_scale);
            }
            if let Some(v) = self.clip.value {
                clip_value(p.grad, v);
            }
            // Keras decays before the update, at the rate of this step (read after
            // `begin_step`, which is when a schedule sets it).
            if let Some(decay) = self.optimizer.weight_decay_settings() {
                if !self.path.excluded(decay, name) {
                    decay.apply(self.optimizer.learning_rate(), p.value);
                }
            }
            self.optimizer.update(slot, p.value, p.grad);
        }
        p.grad.fill(0.0);
    }
}
