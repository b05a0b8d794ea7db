//! AdamW: Adam with decoupled weight decay, Keras' `AdamW`.

use super::adam::{adam_settings, AdamRule};
use super::state::{bookkeeping, Core};
use super::{check, OptimError, Optimizer, Range};

/// Adam with decoupled weight decay, Keras 3's `AdamW` (defaults: learning rate 1e-3,
/// weight decay 0.004, and Adam's).
///
/// Keras applies the decay before the Adam update, scaled by the learning rate
/// (`keras/src/optimizers/base_optimizer.py`, `_apply_weight_decay`):
/// `w -= w * weight_decay * lr`, then the [`Adam`](super::Adam) update with the undecayed gradient.
/// Every tensor the trainer passes is decayed (Keras decays biases too unless excluded).
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut opt = AdamW::new(1e-3).weight_decay(0.1);
/// let mut w = [2.0_f32];
/// opt.begin_step();
/// opt.update(0, &mut w, &[0.0]);
/// assert!((w[0] - 2.0 * (1.0 - 0.1 * 1e-3)).abs() < 1e-7);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    weight_decay: f32,
    rule: AdamRule,
    /// Learning rate, steps, and Adam's buffers.
    core: Core<3>,
}

impl AdamW {
    /// AdamW with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        AdamW { weight_decay: 0.004, rule: AdamRule::KERAS, core: AdamRule::core(lr) }
    }

    /// Sets the decoupled weight decay, multiplied by the learning rate at each step.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// The weight decay (set by [`AdamW::weight_decay`]).
    pub fn get_weight_decay(&self) -> f32 {
        self.weight_decay
    }

    adam_settings!();
}

impl Default for AdamW {
    /// Keras' defaults: learning rate 1e-3, weight decay 0.004.
    fn default() -> Self {
        AdamW::new(1e-3)
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "adamw"
    }

    bookkeeping!();

    fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
        self.rule.step(&mut self.core, slot, value, grad, self.weight_decay);
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore(self.rule.used(), iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_lr("adamw")?;
        self.rule.check("adamw")?;
        check("adamw", "weight_decay", self.weight_decay, Range::NonNegative)
    }
}
