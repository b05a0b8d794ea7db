//! Stochastic gradient descent with optional (Nesterov) momentum, Keras' `SGD`.

use super::state::{self, Slots};
use super::{check_lr, check_range, Optimizer};

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
    /// Learning rate.
    pub lr: f32,
    /// Momentum in `[0, 1]`; 0 is plain gradient descent.
    pub momentum: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
    iterations: u64,
    m: Slots,
}

impl Sgd {
    /// Plain gradient descent with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd { lr, momentum: 0.0, nesterov: false, iterations: 0, m: Slots::new("m", 0.0) }
    }

    /// Sets the momentum (Keras requires `[0, 1]`).
    pub fn momentum(mut self, momentum: f32) -> Self {
        self.momentum = momentum;
        self
    }

    /// Uses Nesterov momentum.
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
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
        let lr = self.lr;
        if self.momentum == 0.0 {
            // Keras keeps no velocity at momentum 0.
            for (w, &g) in value.iter_mut().zip(grad) {
                *w -= g * lr;
            }
            return;
        }
        let mu = self.momentum;
        let m = self.m.get(slot, value.len());
        if self.nesterov {
            for ((w, m), &g) in value.iter_mut().zip(m.iter_mut()).zip(grad) {
                *m = *m * mu - g * lr;
                *w += *m * mu - g * lr;
            }
        } else {
            for ((w, m), &g) in value.iter_mut().zip(m.iter_mut()).zip(grad) {
                *m = *m * mu - g * lr;
                *w += *m;
            }
        }
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        state::save(&[&self.m], self.lr)
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        if self.momentum == 0.0 {
            state::restore(&mut [], &mut self.lr, state)?;
        } else {
            state::restore(&mut [&mut self.m], &mut self.lr, state)?;
        }
        self.iterations = iterations;
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        check_lr(self.lr)?;
        check_range("SGD momentum", self.momentum, 0.0, 1.0, true)
    }
}
