//! Adam, Keras' `Adam` (and the update `AdamW` shares).

use super::state::{self, Slots};
use super::{check_lr, check_range, Optimizer};

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
    /// Learning rate.
    pub lr: f32,
    /// Decay rate of the first-moment estimate.
    pub beta_1: f32,
    /// Decay rate of the second-moment estimate.
    pub beta_2: f32,
    /// Added to `sqrt(v)` for numerical stability.
    pub epsilon: f32,
    /// The AMSGrad variant (the running maximum of `v` is used).
    pub amsgrad: bool,
    iterations: u64,
    m: Slots,
    v: Slots,
    v_hat: Slots,
}

impl Adam {
    /// Adam with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            amsgrad: false,
            iterations: 0,
            m: Slots::new("m", 0.0),
            v: Slots::new("v", 0.0),
            v_hat: Slots::new("v_hat", 0.0),
        }
    }

    /// Sets the first-moment decay rate.
    pub fn beta_1(mut self, beta_1: f32) -> Self {
        self.beta_1 = beta_1;
        self
    }

    /// Sets the second-moment decay rate.
    pub fn beta_2(mut self, beta_2: f32) -> Self {
        self.beta_2 = beta_2;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// Uses the AMSGrad variant.
    pub fn amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
        self
    }

    /// The Adam update of one tensor, after `weight_decay * lr` of decoupled decay
    /// (Keras applies decay before the update, with the same learning rate).
    pub(crate) fn step(&mut self, slot: usize, value: &mut [f32], grad: &[f32], weight_decay: f32) {
        let t = self.iterations.max(1) as f64;
        let (b1, b2) = (self.beta_1, self.beta_2);
        // Step constants in f64: beta^t for large t is where f32 would lose the most.
        let alpha =
            (self.lr as f64 * (1.0 - (b2 as f64).powf(t)).sqrt() / (1.0 - (b1 as f64).powf(t))) as f32;
        let (c1, c2, eps) = (1.0 - b1, 1.0 - b2, self.epsilon);
        let decay = weight_decay * self.lr;
        let n = value.len();
        let m = self.m.get(slot, n);
        let v = self.v.get(slot, n);
        if self.amsgrad {
            let vh = self.v_hat.get(slot, n);
            for ((((w, m), v), vh), &g) in
                value.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(vh.iter_mut()).zip(grad)
            {
                *w -= *w * decay;
                *m += (g - *m) * c1;
                *v += (g * g - *v) * c2;
                *vh = vh.max(*v);
                *w -= *m * alpha / (vh.sqrt() + eps);
            }
        } else {
            for (((w, m), v), &g) in value.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grad) {
                *w -= *w * decay;
                *m += (g - *m) * c1;
                *v += (g * g - *v) * c2;
                *w -= *m * alpha / (v.sqrt() + eps);
            }
        }
    }

    pub(crate) fn restore(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        if self.amsgrad {
            state::restore(&mut [&mut self.m, &mut self.v, &mut self.v_hat], &mut self.lr, state)?;
        } else {
            state::restore(&mut [&mut self.m, &mut self.v], &mut self.lr, state)?;
        }
        self.iterations = iterations;
        Ok(())
    }

    pub(crate) fn check(&self, name: &str) -> Result<(), String> {
        check_lr(self.lr)?;
        check_range(&format!("{name} beta_1"), self.beta_1, 0.0, 1.0, false)?;
        check_range(&format!("{name} beta_2"), self.beta_2, 0.0, 1.0, false)?;
        check_range(&format!("{name} epsilon"), self.epsilon, 0.0, f32::MAX, true)
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
        self.step(slot, value, grad, 0.0);
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        state::save(&[&self.m, &self.v, &self.v_hat], self.lr)
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        self.restore(iterations, state)
    }

    fn validate(&self) -> Result<(), String> {
        self.check("adam")
    }
}
