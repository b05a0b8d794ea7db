//! Keras' `LearningRateScheduler`: the rate as a function of the epoch.

use super::{Callback, Control};
use crate::train::TrainError;

/// Sets the learning rate before each epoch from `f(epoch, current_lr)` (epoch 0-based, as in Keras).
///
/// ```
/// use mlp::prelude::*;
/// // Géron's exponential decay: lr0 * 0.1^(epoch / 20)
/// let sched = LearningRateScheduler::new(|epoch, _lr| 0.01 * 0.1f32.powf(epoch as f32 / 20.0));
/// # let _ = sched;
/// ```
pub struct LearningRateScheduler<F> {
    f: F,
}

impl<F> std::fmt::Debug for LearningRateScheduler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LearningRateScheduler").finish_non_exhaustive()
    }
}

impl<F: FnMut(usize, f32) -> f32> LearningRateScheduler<F> {
    /// A scheduler calling `f(epoch, lr)`.
    pub fn new(f: F) -> Self {
        LearningRateScheduler { f }
    }
}

impl<N, F: FnMut(usize, f32) -> f32> Callback<N> for LearningRateScheduler<F> {
    fn name(&self) -> &'static str {
        "LearningRateScheduler"
    }

    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        let lr = (self.f)(epoch - 1, ctl.optimizer.learning_rate());
        if !lr.is_finite() || lr < 0.0 {
            return Err(TrainError::Callback {
                callback: "LearningRateScheduler",
                reason: format!("the schedule gave learning rate {lr} for epoch {}", epoch - 1),
            });
        }
        ctl.optimizer.set_learning_rate(lr);
        Ok(())
    }
}
