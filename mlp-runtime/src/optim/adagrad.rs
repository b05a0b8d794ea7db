//! Adagrad, Keras' `Adagrad`.

use super::state::{self, Slots};
use super::{check_lr, check_range, Optimizer};

/// Adagrad, Keras 3's `Adagrad` (defaults: learning rate 1e-3, initial accumulator 0.1,
/// `epsilon` 1e-7).
///
/// Keras 3's update (`keras/src/optimizers/adagrad.py`), with the accumulator starting at
/// `initial_accumulator_value`:
/// ```text
/// acc += g^2
/// w -= lr * g / sqrt(acc + epsilon)
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    /// Learning rate.
    pub lr: f32,
    /// Starting value of every accumulator (must be >= 0).
    pub initial_accumulator_value: f32,
    /// Added to the accumulator inside the square root.
    pub epsilon: f32,
    iterations: u64,
    acc: Slots,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Adagrad {
            lr,
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
            iterations: 0,
            acc: Slots::new("accumulator", 0.1),
        }
    }

    /// Sets the accumulators' starting value.
    pub fn initial_accumulator_value(mut self, v: f32) -> Self {
        self.initial_accumulator_value = v;
        self
    }

    /// Sets epsilon.
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }
}

impl Default for Adagrad {
    /// Keras' defaults: learning rate 1e-3.
    fn default() -> Self {
        Adagrad::new(1e-3)
    }
}

impl Optimizer for Adagrad {
    fn name(&self) -> &'static str {
        "adagrad"
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
        let (lr, eps) = (self.lr, self.epsilon);
        // The public field may have been set directly: read it at allocation time.
        self.acc.set_init(self.initial_accumulator_value);
        let acc = self.acc.get(slot, value.len());
        for ((w, a), &g) in value.iter_mut().zip(acc.iter_mut()).zip(grad) {
            *a += g * g;
            *w -= lr * g / (*a + eps).sqrt();
        }
    }

    fn iterations(&self) -> u64 {
        self.iterations
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        state::save(&[&self.acc], self.lr)
    }

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), String> {
        state::restore(&mut [&mut self.acc], &mut self.lr, state)?;
        self.iterations = iterations;
        Ok(())
    }

    fn validate(&self) -> Result<(), String> {
        check_lr(self.lr)?;
        check_range(
            "adagrad initial_accumulator_value",
            self.initial_accumulator_value,
            0.0,
            f32::MAX,
            true,
        )?;
        check_range("adagrad epsilon", self.epsilon, 0.0, f32::MAX, true)
    }
}
