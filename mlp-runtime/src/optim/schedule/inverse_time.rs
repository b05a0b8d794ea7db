//! Inverse time decay (power scheduling), Keras' `InverseTimeDecay`.

use super::{OptimError, Schedule};
use crate::optim::{check, Range};

/// `initial / (1 + decay_rate * step / decay_steps)`, with `step / decay_steps` floored
/// when `staircase` (Keras' `InverseTimeDecay`; Géron's power scheduling with `c = 1`).
///
/// ```
/// use mlp_runtime::prelude::*;
/// // Keras' docstring example: 0.1, decay 0.5 per 1.0 steps.
/// let s = InverseTimeDecay::new(0.1, 1, 0.5);
/// assert!((s.lr(2) - 0.05).abs() < 1e-7);
/// let s = InverseTimeDecay::new(1.0, 10, 1.0).staircase(true);
/// assert_eq!((s.lr(9), s.lr(10)), (1.0, 0.5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseTimeDecay {
    /// The rate at step 0.
    initial: f32,
    /// Steps per unit of decay (> 0).
    decay_steps: u64,
    /// How much the denominator grows per `decay_steps` steps.
    decay_rate: f32,
    /// Decay in whole periods only.
    staircase: bool,
}

impl InverseTimeDecay {
    /// A smooth decay (Keras' default `staircase = False`).
    pub fn new(initial: f32, decay_steps: u64, decay_rate: f32) -> Self {
        InverseTimeDecay { initial, decay_steps, decay_rate, staircase: false }
    }

    /// Decays in whole periods only.
    #[must_use]
    pub fn staircase(mut self, staircase: bool) -> Self {
        self.staircase = staircase;
        self
    }

    /// The rate at step 0.
    pub fn get_initial(&self) -> f32 {
        self.initial
    }

    /// Steps per unit of decay.
    pub fn get_decay_steps(&self) -> u64 {
        self.decay_steps
    }

    /// How much the denominator grows per `decay_steps` steps.
    pub fn get_decay_rate(&self) -> f32 {
        self.decay_rate
    }

    /// Decay in whole periods only.
    pub fn get_staircase(&self) -> bool {
        self.staircase
    }
}

impl Schedule for InverseTimeDecay {
    fn lr(&self, step: u64) -> f32 {
        let mut p = step as f64 / self.decay_steps as f64;
        if self.staircase {
            p = p.floor();
        }
        (self.initial as f64 / (1.0 + self.decay_rate as f64 * p)) as f32
    }

    fn validate(&self) -> Result<(), OptimError> {
        super::check_decay_steps("InverseTimeDecay", self.decay_steps)?;
        check("InverseTimeDecay", "initial", self.initial, Range::Finite)?;
        check("InverseTimeDecay", "decay_rate", self.decay_rate, Range::NonNegative)
    }
}
