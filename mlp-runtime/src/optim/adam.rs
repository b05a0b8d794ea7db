//! Adam, Keras' `Adam` (and the update `AdamW` shares).

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

/// Adam, Keras 3's `Adam` (defaults: learning rate 1e-3, `beta_1` 0.9, `beta_2` 0.999,
/// `epsilon` 1e-7, no AMSGrad).
///
/// Keras 3's update (`keras/src/optimizers/adam.py`), at step `t` (1 for the first), with
/// `m` and `v` starting at 0:
/// ```text
/// alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
/// m += (g - m) * (1 - beta_1)
/// v += (g^2 - v) * (1 - beta_2)
/// v_hat = max(v_hat, v)                  (AMSGrad only; then v_hat replaces v below)
/// w -= m * alpha / (sqrt(v) + epsilon)
/// ```
/// Note `epsilon` is added to `sqrt(v)` before the bias correction (Keras' "epsilon hat"),
/// not after as in PyTorch.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut opt = Adam::new(1e-3);
/// let mut w = [1.0_f32];
/// opt.begin_step();
/// opt.update(0, &mut w, &[4.0]);
/// // The first Adam step moves each weight by about lr, whatever the gradient's scale.
/// assert!((w[0] - (1.0 - 1e-3)).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    rule: AdamRule,
    /// Learning rate, steps, and the buffers `m`, `v`, `v_hat`.
    core: Core<3>,
}

/// Adam's hyper-parameters and update, which [`AdamW`](super::AdamW) shares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamRule {
    /// Decay rate of the first-moment estimate.
    pub(crate) beta_1: f32,
    /// Decay rate of the second-moment estimate.
    pub(crate) beta_2: f32,
    /// Added to `sqrt(v)` for numerical stability.
    pub(crate) epsilon: f32,
    /// The AMSGrad variant (the running maximum of `v` is used).
    pub(crate) amsgrad: bool,
}

impl AdamRule {
    /// Keras' defaults.
    pub(crate) const KERAS: AdamRule = AdamRule { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false };

    /// The bookkeeping Adam needs: `m`, `v`, and `v_hat` for AMSGrad.
    pub(crate) const fn core(lr: f32) -> Core<3> {
        Core::new(lr, [Slots::new("m", 0.0), Slots::new("v", 0.0), Slots::new("v_hat", 0.0)])
    }

    /// The buffers these settings keep.
    pub(crate) fn used(&self) -> [bool; 3] {
        [true, true, self.amsgrad]
    }

    /// The Adam update of one tensor.
    pub(crate) fn step(&self, core: &mut Core<3>, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        let t = core.iterations.max(1) as f64;
        let (b1, b2) = (self.beta_1, self.beta_2);
        // Step constants in f64: beta^t for large t is where f32 would lose the most.
        let alpha =
            (core.lr as f64 * (1.0 - (b2 as f64).powf(t)).sqrt() / (1.0 - (b1 as f64).powf(t))) as f32;
        let (c1, c2, eps) = (1.0 - b1, 1.0 - b2, self.epsilon);
        let n = value.len();
        let [m, v, v_hat] = &mut core.slots;
        let m = m.get(slot, n);
        let v = v.get(slot, n);
        if self.amsgrad {
            let vh = v_hat.get(slot, n);
            update_parts([value, m, v, vh], grad, |[value, m, v, vh], grad| {
                for ((((w, m), v), vh), &g) in
                    value.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(vh.iter_mut()).zip(grad)
                {
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    *vh = vh.max(*v);
                    *w -= *m * alpha / (vh.sqrt() + eps);
                }
            });
        } else {
            update_parts([value, m, v], grad, |[value, m, v], grad| {
                for (((w, m), v), &g) in value.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grad) {
                    *m += (g - *m) * c1;
                    *v += (g * g - *v) * c2;
                    *w -= *m * alpha / (v.sqrt() + eps);
                }
            });
        }
    }

    /// Checks the settings, naming `owner` (`"adam"` or `"adamw"`).
    pub(crate) fn check(&self, owner: &'static str) -> Result<(), OptimError> {
        check(owner, "beta_1", self.beta_1, Range::UnitOpen)?;
        check(owner, "beta_2", self.beta_2, Range::UnitOpen)?;
        check(owner, "epsilon", self.epsilon, Range::NonNegative)
    }
}

/// The builders and getters of [`AdamRule`]'s settings, for a type with a field `rule`
/// (Adam and AdamW: one source for both).
macro_rules! adam_settings {
    () => {
        /// Sets the first-moment decay rate (Keras requires `[0, 1)`).
        #[must_use]
        pub fn beta_1(mut self, beta_1: f32) -> Self {
            self.rule.beta_1 = beta_1;
            self
        }

        /// Sets the second-moment decay rate (Keras requires `[0, 1)`).
        #[must_use]
        pub fn beta_2(mut self, beta_2: f32) -> Self {
            self.rule.beta_2 = beta_2;
            self
        }

        /// Sets epsilon, added to `sqrt(v)` for numerical stability.
        #[must_use]
        pub fn epsilon(mut self, epsilon: f32) -> Self {
            self.rule.epsilon = epsilon;
            self
        }

        /// Uses the AMSGrad variant (the running maximum of `v` is used).
        #[must_use]
        pub fn amsgrad(mut self, amsgrad: bool) -> Self {
            self.rule.amsgrad = amsgrad;
            self
        }

        /// The first-moment decay rate (set by [`Self::beta_1`]).
        pub fn get_beta_1(&self) -> f32 {
            self.rule.beta_1
        }

        /// The second-moment decay rate (set by [`Self::beta_2`]).
        pub fn get_beta_2(&self) -> f32 {
            self.rule.beta_2
        }

        /// Epsilon (set by [`Self::epsilon`]).
        pub fn get_epsilon(&self) -> f32 {
            self.rule.epsilon
        }

        /// Whether this is the AMSGrad variant (set by [`Self::amsgrad`]).
        pub fn get_amsgrad(&self) -> bool {
            self.rule.amsgrad
        }
    };
}
pub(crate) use adam_settings;

impl Adam {
    /// Adam with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Adam { rule: AdamRule::KERAS, core: AdamRule::core(lr) }
    }

    adam_settings!();
    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        self.rule.step(&mut self.core, slot, value, grad);
    }
}

impl Default for Adam {
    /// Keras' defaults: learning rate 1e-3.
    fn default() -> Self {
        Adam::new(1e-3)
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "adam"
    }

    bookkeeping!();

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore(self.rule.used(), iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("adam")?;
        self.rule.check("adam")
    }
}
