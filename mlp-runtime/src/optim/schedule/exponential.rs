//! Exponential decay, Keras' `ExponentialDecay`.

use super::{OptimError, Schedule};
use crate::optim::{check, Range};

/// `initial * decay_rate ^ (step / decay_steps)`, with the exponent floored when
/// `staircase` (Keras' `ExponentialDecay`, `staircase` off by default).
///
/// ```
/// use mlp_runtime::prelude::*;
/// let s = ExponentialDecay::new(1.0, 100, 0.1).staircase(true);
/// assert_eq!(s.lr(99), 1.0);
/// assert!((s.lr(100) - 0.1).abs() < 1e-7);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExponentialDecay {
    /// The rate at step 0.
    initial: f32,
    /// Steps over which the rate is multiplied by `decay_rate` (> 0).
    decay_steps: u64,
    /// The factor per `decay_steps` steps.
    decay_rate: f32,
    /// Decay in whole periods only.
    staircase: bool,
}

/// Reading the settings back (the plain names are the builder methods).
impl ExponentialDecay {
    /// The rate at step 0.
    pub fn get_initial(&self) -> f32 {
        self.initial
    }

    /// Steps over which the rate is multiplied by `decay_rate` (> 0).
    pub fn get_decay_steps(&self) -> u64 {
        self.decay_steps
    }

    /// The factor per `decay_steps` steps.
    pub fn get_decay_rate(&self) -> f32 {
        self.decay_rate
    }

    /// Decay in whole periods only.
    pub fn get_staircase(&self) -> bool {
        self.staircase
    }
}

impl ExponentialDecay {
    /// A smooth decay (Keras' default `staircase = False`).
    pub fn new(initial: f32, decay_steps: u64, decay_rate: f32) -> Self {
        ExponentialDecay { initial, decay_steps, decay_rate, staircase: false }
    }

    /// Decays in whole periods only.
    #[must_use]
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }
}

impl Schedule for ExponentialDecay {
    fn lr(&self, step: u64) -> f32 {
        let mut p = step as f64 / self.decay_steps as f64;
        if self.staircase {
            p = p.floor();
        }
        (self.initial as f64 * (self.decay_rate as f64).powf(p)) as f32
    }

    fn validate(&self) -> Result<(), OptimError> {
        super::check_decay_steps("ExponentialDecay", self.decay_steps)?;
        check("ExponentialDecay", "initial", self.initial, Range::Finite)?;
        check("ExponentialDecay", "decay_rate", self.decay_rate, Range::Finite)
    }
}
