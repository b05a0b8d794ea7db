//! AdamW: Adam with decoupled weight decay, Keras' `AdamW`.

use super::adam::{adam_settings, AdamRule};
use super::state::{bookkeeping, update_via_apply, Core};
use super::weight_decay::weight_decay_builders;
use super::{OptimError, Optimizer};
use crate::kernel::Grad;

/// Adam with decoupled weight decay, Keras 3's `AdamW` (defaults: learning rate 1e-3,
/// weight decay 0.004, and Adam's).
///
/// As in Keras, this is [`Adam`](super::Adam) with a weight decay by default: the decay is
/// the one every optimizer takes ([`WeightDecay`](super::WeightDecay)), applied by the
/// trainer before the Adam update, scaled by the learning rate:
/// `w -= w * weight_decay * lr`, then the Adam update with the undecayed gradient. Every
/// trainable tensor is decayed (biases too) unless excluded with
/// [`AdamW::exclude_from_weight_decay`].
///
/// ```
/// use mlp_runtime::prelude::*;
/// // Keras: opt = AdamW(1e-3, weight_decay=0.1); opt.exclude_from_weight_decay(var_names=["bias"])
/// let opt = AdamW::new(1e-3).weight_decay(0.1).exclude_from_weight_decay(["bias"]);
/// let wd = opt.weight_decay_settings().unwrap();
/// let mut w = [2.0_f32];
/// wd.apply(opt.learning_rate(), &mut w);
/// assert!((w[0] - 2.0 * (1.0 - 0.1 * 1e-3)).abs() < 1e-7);
/// assert!(wd.excludes("dense_1.bias"));
/// ```
#[derive(Clone, Debug)]
pub struct AdamW {
    rule: AdamRule,
    /// Learning rate, weight decay, steps, and Adam's buffers.
    core: Core<3>,
}

impl AdamW {
    /// AdamW with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        AdamW { rule: AdamRule::KERAS, core: AdamRule::core(lr) }.weight_decay(0.004)
    }

    adam_settings!();
    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        self.rule.step(&mut self.core, slot, value, grad);
    }
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

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore(self.rule.used(), iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("adamw")?;
        self.rule.check("adamw")
    }
}
