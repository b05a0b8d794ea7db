//! Adamax, Keras' `Adamax`.

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

/// Adamax, Keras 3's `Adamax` (defaults: learning rate 1e-3, `beta_1` 0.9, `beta_2` 0.999,
/// `epsilon` 1e-7): Adam with the infinity norm in place of the second moment.
///
/// Keras 3's update (`keras/src/optimizers/adamax.py`), at step `t` (1 for the first), with
/// `m` and `u` starting at 0:
/// ```text
/// m += (g - m) * (1 - beta_1)
/// u = max(beta_2 * u, |g|)
/// w -= lr * m / ((1 - beta_1^t) * (u + epsilon))
/// ```
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut opt = Adamax::new(1e-3);
/// let mut w = [1.0_f32];
/// opt.begin_step();
/// opt.update(0, &mut w, &[4.0]);
/// // Like Adam, the first step moves each weight by about lr.
/// assert!((w[0] - (1.0 - 1e-3)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adamax {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// Learning rate, steps, and the buffers `m` and `u`.
    core: Core<2>,
}

impl Adamax {
    /// Adamax with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Adamax {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            core: Core::new(lr, [Slots::new("m", 0.0), Slots::new("u", 0.0)]),
        }
    }

    beta_epsilon_settings!();
    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        let t = self.core.iterations.max(1) as f64;
        // The step constant in f64, like Adam's: beta_1^t is where f32 would lose the most.
        let alpha = (self.core.lr as f64 / (1.0 - (self.beta_1 as f64).powf(t))) as f32;
        let (c1, b2, eps) = (1.0 - self.beta_1, self.beta_2, self.epsilon);
        let n = value.len();
        let [m, u] = &mut self.core.slots;
        let (m, u) = (m.get(slot, n), u.get(slot, n));
        update_parts([value, m, u], grad, |[value, m, u], grad| {
            for (((w, m), u), &g) in value.iter_mut().zip(m.iter_mut()).zip(u.iter_mut()).zip(grad) {
                *m += (g - *m) * c1;
                *u = (b2 * *u).max(g.abs());
                *w -= alpha * *m / (*u + eps);
            }
        });
    }
}

impl Default for Adamax {
    /// Keras' defaults: learning rate 1e-3.
    fn default() -> Self {
        Adamax::new(1e-3)
    }
}

impl Optimizer for Adamax {
    fn name(&self) -> &'static str {
        "adamax"
    }

    bookkeeping!();

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore([true, true], iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("adamax")?;
        check("adamax", "beta_1", self.beta_1, Range::UnitOpen)?;
        check("adamax", "beta_2", self.beta_2, Range::UnitOpen)?;
        check("adamax", "epsilon", self.epsilon, Range::NonNegative)
    }
}
