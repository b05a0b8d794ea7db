//! RMSprop, Keras' `RMSprop`.

use super::state::{self, Slots};
use super::{check_lr, check_range, Optimizer};

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
    /// Learning rate.
    pub lr: f32,
    /// Discount of the running average of squared gradients.
    pub rho: f32,
    /// Plain (not Nesterov) momentum; 0 keeps no momentum state.
    pub momentum: f32,
    /// Added to the denominator inside the square root.
    pub epsilon: f32,
    /// Divide by the estimated variance of the gradient instead of its second moment.
    pub centered: bool,
    iterations: u64,
    v: Slots,
    mom: Slots,
    mg: Slots,
}

impl RMSprop {
    /// RMSprop with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        RMSprop {
            lr,
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
            iterations: 0,
            v: Slots::new("v", 0.0),
            mom: Slots::new("momentum", 0.0),
            mg: Slots::new("average_gradient", 0.0),
        }
    }

    /// Sets `rho`.
    pub fn rho(mut self, rho: f32) -> Self {
        self.rho = rho;
        self
    }

    /// Sets the momentum.
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Uses the centered variant.
    pub fn centered(mut self, centered: bool) -> Self {
        self.centered = centered;
        self
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

    fn learning_rate(&self) -> f32 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f32) {
        self.lr = lr;
    }

    fn begin_step(&mut self) {
        self.iterations += 1;
    }

    fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
        let (rho, c, lr, eps, mu) = (self.rho, 1.0 - self.rho, self.lr, self.epsilon, self.momentum);
        let n = value.len();
        let (centered, use_mom) = (self.centered, mu > 0.0);
        let v = self.v.get(slot, n);
        // Buffers a variant does not use stay empty, as Keras does not create them.
        let mom: &mut [f32] = if use_mom { self.mom.get(slot, n) } else { &mut [] };
        let mg: &mut [f32] = if centered { self.mg.get(slot, n) } else { &mut [] };
        for (i, (w, &g)) in value.iter_mut().zip(grad).enumerate() {
            v[i] = rho * v[i] + c * (g * g);
            let denom = if centered {
                mg[i] = rho * mg[i] + c * g;
                v[i] - mg[i] * mg[i] + eps
            } else {
                v[i] + eps
            };
            let step = lr * g / denom.sqrt();
            if use_mom {
                mom[i] = mu * mom[i] + step;
                *w -= mom[i];
            } else {
                *w -= step;
            }
        }
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        state::save(&[&self.v, &self.mom, &self.mg], self.lr)
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        let mut kinds: Vec<&mut Slots> = vec![&mut self.v];
        if self.momentum > 0.0 {
            kinds.push(&mut self.mom);
        }
        if self.centered {
            kinds.push(&mut self.mg);
        }
        state::restore(&mut kinds, &mut self.lr, state)?;
        self.iterations = iterations;
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        check_lr(self.lr)?;
        check_range("rmsprop rho", self.rho, 0.0, 1.0, false)?;
        check_range("rmsprop momentum", self.momentum, 0.0, 1.0, true)?;
        check_range("rmsprop epsilon", self.epsilon, 0.0, f32::MAX, true)
    }
}
