//! AdamW: Adam with decoupled weight decay, Keras' `AdamW`.

use super::{check_range, Adam, Optimizer};

/// Adam with decoupled weight decay, Keras 3's `AdamW` (defaults: learning rate 1e-3,
/// weight decay 0.004, and Adam's).
///
/// Keras applies the decay before the Adam update, scaled by the learning rate
/// (`keras/src/optimizers/base_optimizer.py`, `_apply_weight_decay`):
/// `w -= w * weight_decay * lr`, then the [`Adam`] update with the undecayed gradient.
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
    /// Decoupled weight decay, multiplied by the learning rate at each step.
    pub weight_decay: f32,
    adam: Adam,
}

impl AdamW {
    /// AdamW with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        AdamW { weight_decay: 0.004, adam: Adam::new(lr) }
    }

    /// Sets the weight decay.
    pub fn weight_decay(mut self, weight_decay: f32) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the first-moment decay rate.
    pub fn beta_1(mut self, beta_1: f32) -> Self {
        self.adam.beta_1 = beta_1;
        self
    }

    /// Sets the second-moment decay rate.
    pub fn beta_2(mut self, beta_2: f32) -> Self {
        self.adam.beta_2 = beta_2;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.adam.epsilon = epsilon;
        self
    }

    /// Uses the AMSGrad variant.
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.adam.amsgrad = amsgrad;
        self
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

    fn learning_rate(&self) -> f32 {
        self.adam.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.adam.lr = lr;
    }

    fn begin_step(&mut self) {
        self.adam.begin_step();
    }

    fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
        self.adam.step(slot, value, grad, self.weight_decay);
    }

    fn iterations(&self) -> u64 {
        self.adam.iterations()
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        self.adam.state()
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        self.adam.restore(iterations, state)
    }

    fn validate(&self) -> Result<(), String> {
        self.adam.check("adamw")?;
        check_range("adamw weight_decay", self.weight_decay, 0.0, f32::MAX, true)
    }
}
