//! Keras' `ReduceLROnPlateau` callback, as a small state machine.

use crate::optim::{check, OptimError, Range};

/// Whether the monitored metric should fall (a loss) or rise (an accuracy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlateauMode {
    /// Improvement is `metric < best - min_delta`.
    #[default]
    Min,
    /// Improvement is `metric > best + min_delta`.
    Max,
}

/// The counters of a [`ReduceLrOnPlateau`], for checkpoints.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauState {
    /// Best metric so far (`+inf` / `-inf` before the first epoch).
    pub best: f32,
    /// Epochs without improvement.
    pub wait: u32,
    /// Epochs of cooldown left.
    pub cooldown_counter: u32,
}

/// Reduces the learning rate when a metric stops improving, Keras' `ReduceLROnPlateau`
/// (defaults: factor 0.1, patience 10, min_delta 1e-4, cooldown 0, min_lr 0, mode min).
/// Monitor-agnostic: the caller passes the metric it watches.
///
/// Keras' rule, per epoch end: during cooldown the counter ticks down and the wait resets;
/// an improvement on `best` by more than `min_delta` resets the wait; otherwise (outside
/// cooldown) the wait grows, and at `patience` the rate becomes
/// `max(lr * factor, min_lr)` if `lr > min_lr`, and cooldown starts. A NaN metric counts
/// as no improvement.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut p = ReduceLrOnPlateau::new().patience(2);
/// assert_eq!(p.on_epoch_end(1.0, 0.1), None); // best = 1.0
/// assert_eq!(p.on_epoch_end(1.0, 0.1), None); // wait 1
/// let lr = p.on_epoch_end(1.0, 0.1).unwrap(); // wait 2: reduce
/// assert!((lr - 0.01).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLrOnPlateau {
    /// Factor the rate is multiplied by (in `[0, 1)`).
    factor: f32,
    /// Epochs without improvement before a reduction.
    patience: u32,
    /// Smallest change that counts as an improvement.
    min_delta: f32,
    /// Epochs to wait after a reduction before counting again.
    cooldown: u32,
    /// The rate is never reduced below this.
    min_lr: f32,
    /// Whether the metric should fall or rise.
    mode: PlateauMode,
    state: PlateauState,
}

/// Reading the settings back (the plain names are the builder methods).
impl ReduceLrOnPlateau {
    /// Factor the rate is multiplied by (in `[0, 1)`).
    pub fn get_factor(&self) -> f32 {
        self.factor
    }

    /// Epochs without improvement before a reduction.
    pub fn get_patience(&self) -> u32 {
        self.patience
    }

    /// Smallest change that counts as an improvement.
    pub fn get_min_delta(&self) -> f32 {
        self.min_delta
    }

    /// Epochs to wait after a reduction before counting again.
    pub fn get_cooldown(&self) -> u32 {
        self.cooldown
    }

    /// The rate is never reduced below this.
    pub fn get_min_lr(&self) -> f32 {
        self.min_lr
    }

    /// Whether the metric should fall or rise.
    pub fn get_mode(&self) -> PlateauMode {
        self.mode
    }
}

impl ReduceLrOnPlateau {
    /// Keras' defaults.
    pub fn new() -> Self {
        ReduceLrOnPlateau {
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            mode: PlateauMode::Min,
            state: PlateauState { best: f32::INFINITY, wait: 0, cooldown_counter: 0 },
        }
    }

    /// Sets the factor.
    #[must_use]
    pub fn factor(mut self, factor: f32) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the patience.
    #[must_use]
    pub fn patience(mut self, patience: u32) -> Self {
        self.patience = patience;
        self
    }

    /// Sets min_delta.
    #[must_use]
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.min_delta = min_delta;
        self
    }

    /// Sets the cooldown.
    #[must_use]
    pub fn cooldown(mut self, cooldown: u32) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets the floor of the rate.
    #[must_use]
    pub fn min_lr(mut self, min_lr: f32) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// Sets the mode and resets the counters (the starting `best` depends on it).
    #[must_use]
    pub fn mode(mut self, mode: PlateauMode) -> Self {
        self.mode = mode;
        self.reset();
        self
    }

    /// Forgets the history, as Keras does at the start of `fit`.
    pub fn reset(&mut self) {
        let best = match self.mode {
            PlateauMode::Min => f32::INFINITY,
            PlateauMode::Max => f32::NEG_INFINITY,
        };
        self.state = PlateauState { best, wait: 0, cooldown_counter: 0 };
    }

    /// The counters, for a checkpoint.
    pub fn state(&self) -> PlateauState {
        self.state
    }

    /// Restores counters from a checkpoint.
    pub fn set_state(&mut self, state: PlateauState) {
        self.state = state;
    }

    /// Takes the epoch's metric and the optimizer's current rate; returns the new rate
    /// when it reduces it.
    pub fn on_epoch_end(&mut self, metric: f32, current_lr: f32) -> Option<f32> {
        let s = &mut self.state;
        if s.cooldown_counter > 0 {
            s.cooldown_counter -= 1;
            s.wait = 0;
        }
        let improved = match self.mode {
            PlateauMode::Min => metric < s.best - self.min_delta,
            PlateauMode::Max => metric > s.best + self.min_delta,
        };
        if improved {
            s.best = metric;
            s.wait = 0;
        } else if s.cooldown_counter == 0 {
            s.wait += 1;
            if s.wait >= self.patience && current_lr > self.min_lr {
                s.cooldown_counter = self.cooldown;
                s.wait = 0;
                return Some((current_lr * self.factor).max(self.min_lr));
            }
        }
        None
    }

    /// Checks the parameters (Keras rejects `factor >= 1`).
    pub fn validate(&self) -> Result<(), OptimError> {
        check("ReduceLrOnPlateau", "factor", self.factor, Range::UnitOpen)?;
        check("ReduceLrOnPlateau", "min_lr", self.min_lr, Range::NonNegative)
    }
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        ReduceLrOnPlateau::new()
    }
}
