//! Géron's 1cycle schedule.

use super::{OptimError, Schedule};
use crate::optim::{check, Range};

/// The 1cycle schedule exactly as Aurélien Géron's `OneCycleScheduler` defines it
/// (*Hands-On Machine Learning*, 2nd/3rd ed., chapter 11, and its notebook
/// `11_training_deep_neural_networks.ipynb`), after Leslie Smith's 1cycle policy.
///
/// With `iterations` total steps, `start_lr = max_lr / 10`,
/// `last_iterations = iterations / 10 + 1` (integer division),
/// `half = (iterations - last_iterations) / 2` (integer division) and
/// `last_lr = start_lr / 1000` (so `max_lr / 10_000`) by default, the rate at `step` is
/// ```text
/// step < half:         linear from start_lr (step 0)  to max_lr   (step half)
/// step < 2 * half:     linear from max_lr (step half) to start_lr (step 2 * half)
/// otherwise:           linear from start_lr (step 2 * half) to last_lr (step iterations),
///                      never below last_lr
/// ```
/// Géron's callback sets the rate at the start of each batch, before incrementing its
/// counter, so his `iteration` is this `step` (the optimizer's step count).
///
/// ```
/// use mlp_runtime::prelude::*;
/// let s = OneCycle::new(100, 0.1); // last_iterations 11, half 44
/// assert!((s.lr(0) - 0.01).abs() < 1e-9);
/// assert!((s.lr(44) - 0.1).abs() < 1e-9);
/// assert!((s.lr(88) - 0.01).abs() < 1e-9);
/// assert!((s.lr(100) - 1e-5).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OneCycle {
    /// Total number of steps in the cycle.
    iterations: u64,
    /// The peak rate.
    max_lr: f32,
    /// Rate at step 0 and at the end of the descent; `None`: `max_lr / 10`.
    start_lr: Option<f32>,
    /// Length of the final annealing; `None`: `iterations / 10 + 1`.
    last_iterations: Option<u64>,
    /// Final rate; `None`: `start_lr / 1000`.
    last_lr: Option<f32>,
}

/// Reading the settings back (the plain names are the builder methods).
impl OneCycle {
    /// Total number of steps in the cycle.
    pub fn get_iterations(&self) -> u64 {
        self.iterations
    }

    /// The peak rate.
    pub fn get_max_lr(&self) -> f32 {
        self.max_lr
    }

    /// Rate at step 0 and at the end of the descent; `None`: `max_lr / 10`.
    pub fn get_start_lr(&self) -> Option<f32> {
        self.start_lr
    }

    /// Length of the final annealing; `None`: `iterations / 10 + 1`.
    pub fn get_last_iterations(&self) -> Option<u64> {
        self.last_iterations
    }

    /// Final rate; `None`: `start_lr / 1000`.
    pub fn get_last_lr(&self) -> Option<f32> {
        self.last_lr
    }
}

impl OneCycle {
    /// A cycle over `iterations` steps peaking at `max_lr`, Géron's defaults otherwise.
    pub fn new(iterations: u64, max_lr: f32) -> Self {
        OneCycle { iterations, max_lr, start_lr: None, last_iterations: None, last_lr: None }
    }

    /// Sets the starting rate.
    #[must_use]
    pub fn start_lr(mut self, lr: f32) -> Self {
        self.start_lr = Some(lr);
        self
    }

    /// Sets the length of the final annealing.
    #[must_use]
    pub fn last_iterations(mut self, n: u64) -> Self {
        self.last_iterations = Some(n);
        self
    }

    /// Sets the final rate.
    #[must_use]
    pub fn last_lr(mut self, lr: f32) -> Self {
        self.last_lr = Some(lr);
        self
    }
}

impl Schedule for OneCycle {
    fn lr(&self, step: u64) -> f32 {
        let max = self.max_lr as f64;
        let start = self.start_lr.map_or(max / 10.0, f64::from);
        let last_iterations = self.last_iterations.unwrap_or(self.iterations / 10 + 1);
        let last = self.last_lr.map_or(start / 1000.0, f64::from);
        let half = self.iterations.saturating_sub(last_iterations) / 2;
        let s = step as f64;
        let interpolate = |i1: u64, i2: u64, r1: f64, r2: f64| {
            if i2 <= i1 {
                r2
            } else {
                (r2 - r1) * (s - i1 as f64) / (i2 - i1) as f64 + r1
            }
        };
        let lr = if step < half {
            interpolate(0, half, start, max)
        } else if step < 2 * half {
            interpolate(half, 2 * half, max, start)
        } else {
            interpolate(2 * half, self.iterations, start, last).max(last)
        };
        lr as f32
    }

    fn validate(&self) -> Result<(), OptimError> {
        if self.iterations == 0 {
            return Err(OptimError::Hyperparameter {
                owner: "OneCycle",
                name: "iterations",
                value: 0.0,
                expected: "> 0 (the total training steps)",
            });
        }
        check("OneCycle", "max_lr", self.max_lr, Range::Positive)
    }
}
