//! RMSprop, Keras' `RMSprop`.

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

/// RMSprop, Keras 3's `RMSprop` (defaults: learning rate 1e-3, `rho` 0.9, momentum 0,
/// `epsilon` 1e-7, not centered).
///
/// Keras 3's update (`keras/src/optimizers/rmsprop.py`), with all state starting at 0:
/// ```text
/// v = rho * v + (1 - rho) * g^2
/// centered:  mg = rho * mg + (1 - rho) * g;  denom = v - mg^2 + epsilon
/// otherwise: denom = v + epsilon
/// step = lr * g / sqrt(denom)
/// momentum > 0: mom = momentum * mom + step; w -= mom
/// otherwise:    w -= step
/// ```
/// Note `epsilon` sits inside the square root, unlike Adam's.
#[derive(Clone, Debug)]
pub struct RMSprop {
    rho: f32,
    momentum: f32,
    epsilon: f32,
    centered: bool,
    /// Learning rate, steps, and the buffers `v`, `momentum`, `average_gradient`.
    core: Core<3>,
}

impl RMSprop {
    /// RMSprop with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        RMSprop {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            core: Core::new(
                lr,
                [Slots::new("v", 0.0), Slots::new("momentum", 0.0), Slots::new("average_gradient", 0.0)],
            ),
        }
    }

    /// Sets `rho`, the discount of the running average of squared gradients (Keras
    /// requires `[0, 1)`).
    #[must_use]
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self
    }

    /// Sets the plain (not Nesterov) momentum in `[0, 1]`; 0 keeps no momentum state.
    #[must_use]
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets epsilon, added to the denominator inside the square root.
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Uses the centered variant: divides by the estimated variance of the gradient
    /// instead of its second moment.
    #[must_use]
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
    }

    /// `rho` (set by [`RMSprop::rho`]).
    pub fn get_rho(&self) -> f32 {
        self.rho
    }

    /// The momentum (set by [`RMSprop::momentum`]).
    pub fn get_momentum(&self) -> f32 {
        self.momentum
    }

    /// Epsilon (set by [`RMSprop::epsilon`]).
    pub fn get_epsilon(&self) -> f32 {
        self.epsilon
    }

    /// Whether this is the centered variant (set by [`RMSprop::centered`]).
    pub fn get_centered(&self) -> bool {
        self.centered
    }

    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        let (rho, c, lr, eps, mu) = (self.rho, 1.0 - self.rho, self.core.lr, self.epsilon, self.momentum);
        let n = value.len();
        let (centered, use_mom) = (self.centered, mu > 0.0);
        let [v, mom, mg] = &mut self.core.slots;
        let v = v.get(slot, n);
        // One element's update; a variant's unused buffers are `None`.
        let rule = |w: &mut f32, v: &mut f32, mom: Option<&mut f32>, mg: Option<&mut f32>, g: f32| {
            *v = rho * *v + c * (g * g);
            let denom = match mg {
                Some(mg) => {
                    *mg = rho * *mg + c * g;
                    *v - *mg * *mg + eps
                }
                None => *v + eps,
            };
            let step = lr * g / denom.sqrt();
            match mom {
                Some(mom) => {
                    *mom = mu * *mom + step;
                    *w -= *mom;
                }
                None => *w -= step,
            }
        };
        // Buffers a variant does not use stay empty, as Keras does not create them.
        match (use_mom, centered) {
            (false, false) => update_parts([value, v], grad, |[value, v], grad| {
                for ((w, v), &g) in value.iter_mut().zip(v).zip(grad) {
                    rule(w, v, None, None, g);
                }
            }),
            (true, false) => update_parts([value, v, mom.get(slot, n)], grad, |[value, v, mom], grad| {
                for (((w, v), mom), &g) in value.iter_mut().zip(v).zip(mom).zip(grad) {
                    rule(w, v, Some(mom), None, g);
                }
            }),
            (false, true) => update_parts([value, v, mg.get(slot, n)], grad, |[value, v, mg], grad| {
                for (((w, v), mg), &g) in value.iter_mut().zip(v).zip(mg).zip(grad) {
                    rule(w, v, None, Some(mg), g);
                }
            }),
            (true, true) => update_parts(
                [value, v, mom.get(slot, n), mg.get(slot, n)],
                grad,
                |[value, v, mom, mg], grad| {
                    for ((((w, v), mom), mg), &g) in value.iter_mut().zip(v).zip(mom).zip(mg).zip(grad) {
                        rule(w, v, Some(mom), Some(mg), g);
                    }
                },
            ),
        }
    }
}

impl Default for RMSprop {
    /// Keras' defaults: learning rate 1e-3.
    fn default() -> Self {
        RMSprop::new(1e-3)
    }
}

impl Optimizer for RMSprop {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    bookkeeping!();

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore([true, self.momentum > 0.0, self.centered], iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("rmsprop")?;
        check("rmsprop", "rho", self.rho, Range::UnitOpen)?;
        check("rmsprop", "momentum", self.momentum, Range::Unit)?;
        check("rmsprop", "epsilon", self.epsilon, Range::NonNegative)
    }
}
