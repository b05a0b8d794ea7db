//! Stochastic gradient descent with optional (Nesterov) momentum, Keras' `SGD`.

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

/// Gradient descent with momentum, Keras 3's `SGD` (defaults: learning rate 0.01,
/// momentum 0, no Nesterov).
///
/// Keras 3's update (`keras/src/optimizers/sgd.py`), with velocity `m` starting at 0:
/// - momentum 0: `w -= lr * g`;
/// - momentum: `m = momentum * m - lr * g; w += m`;
/// - Nesterov: `m = momentum * m - lr * g; w += momentum * m - lr * g`.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut opt = Sgd::new(0.1).momentum(0.9);
/// let mut w = [1.0_f32];
/// for _ in 0..2 {
///     opt.begin_step();
///     opt.update(0, &mut w, &[1.0]);
/// }
/// // m1 = -0.1, m2 = 0.9 * -0.1 - 0.1 = -0.19
/// assert!((w[0] - (1.0 - 0.1 - 0.19)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    momentum: f32,
    nesterov: bool,
    /// Learning rate, steps, and the velocity `m`.
    core: Core<1>,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd { momentum: 0.0, nesterov: false, core: Core::new(lr, [Slots::new("m", 0.0)]) }
    }

    /// Sets the momentum in `[0, 1]`; 0 is plain gradient descent.
    #[must_use]
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Uses Nesterov momentum.
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// The momentum (set by [`Sgd::momentum`]).
    pub fn get_momentum(&self) -> f32 {
        self.momentum
    }

    /// Whether the momentum is Nesterov's (set by [`Sgd::nesterov`]).
    pub fn get_nesterov(&self) -> bool {
        self.nesterov
    }

    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        let lr = self.core.lr;
        if self.momentum == 0.0 {
            // Keras keeps no velocity at momentum 0.
            update_parts([value], grad, |[value], grad| {
                for (w, &g) in value.iter_mut().zip(grad) {
                    *w -= g * lr;
                }
            });
            return;
        }
        let mu = self.momentum;
        let [m] = &mut self.core.slots;
        let m = m.get(slot, value.len());
        if self.nesterov {
            update_parts([value, m], grad, |[value, m], grad| {
                for ((w, m), &g) in value.iter_mut().zip(m.iter_mut()).zip(grad) {
                    *m = *m * mu - g * lr;
                    *w += *m * mu - g * lr;
                }
            });
        } else {
            update_parts([value, m], grad, |[value, m], grad| {
                for ((w, m), &g) in value.iter_mut().zip(m.iter_mut()).zip(grad) {
                    *m = *m * mu - g * lr;
                    *w += *m;
                }
            });
        }
    }
}

impl Default for Sgd {
    /// Keras' defaults: learning rate 0.01, no momentum.
    fn default() -> Self {
        Sgd::new(0.01)
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "SGD"
    }

    bookkeeping!();

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore([self.momentum != 0.0], iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("SGD")?;
        check("SGD", "momentum", self.momentum, Range::Unit)
    }
}
