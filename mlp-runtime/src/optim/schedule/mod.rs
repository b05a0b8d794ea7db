//! Learning-rate schedules, like Keras' `LearningRateSchedule`s: the learning rate as a
//! function of the optimizer's step count, plus `ReduceLrOnPlateau`, which reacts to an
//! epoch metric instead.
//!
//! Keras evaluates a schedule at `optimizer.iterations` before the step is applied, so the
//! first step uses `lr(0)`. [`Scheduled`] (made by
//! [`OptimizerExt::with_schedule`](super::OptimizerExt::with_schedule)) does exactly that;
//! a trainer driving a schedule itself calls
//! `opt.set_learning_rate(schedule.lr(opt.iterations()))` before `opt.begin_step()`.
//!
//! ```
//! use mlp_runtime::prelude::*;
//! let s = ExponentialDecay::new(0.1, 10, 0.5);
//! assert_eq!(s.lr(0), 0.1);
//! assert!((s.lr(20) - 0.025).abs() < 1e-9);
//! ```

mod cosine;
mod exponential;
mod inverse_time;
mod one_cycle;
mod piecewise;
mod plateau;

pub use cosine::CosineDecay;
pub use exponential::ExponentialDecay;
pub use inverse_time::InverseTimeDecay;
pub use one_cycle::OneCycle;
pub use piecewise::PiecewiseConstantDecay;
pub use plateau::{PlateauMode, PlateauState, ReduceLrOnPlateau};

use super::{forward, OptimError, Optimizer};

/// The decay schedules' `decay_steps` must be positive (Keras raises otherwise).
fn check_decay_steps(owner: &'static str, decay_steps: u64) -> Result<(), OptimError> {
    if decay_steps == 0 {
        return Err(OptimError::Hyperparameter { owner, name: "decay_steps", value: 0.0, expected: "> 0" });
    }
    Ok(())
}

/// A learning rate per optimizer step.
pub trait Schedule {
    /// The learning rate of the step taken after `step` steps (so `lr(0)` is the first's).
    /// Never panics; parameters [`Schedule::validate`] rejects may give NaN.
    fn lr(&self, step: u64) -> f32;

    /// Checks the parameters (Keras raises for these at construction).
    fn validate(&self) -> Result<(), OptimError> {
        Ok(())
    }
}

/// Any `Fn(step) -> lr` is a schedule, like a Keras callable learning rate.
impl<F: Fn(u64) -> f32> Schedule for F {
    fn lr(&self, step: u64) -> f32 {
        self(step)
    }
}

/// An optimizer whose learning rate follows a schedule: before each step the rate is
/// set to `schedule.lr(iterations)`. `set_learning_rate` lasts only until the next step
/// (Keras refuses it for a scheduled optimizer).
#[derive(Clone, Debug)]
pub struct Scheduled<O, S> {
    inner: O,
    schedule: S,
}

impl<O: Optimizer, S: Schedule> Scheduled<O, S> {
    /// `inner`, driven by `schedule`.
    pub fn new(mut inner: O, schedule: S) -> Self {
        inner.set_learning_rate(schedule.lr(inner.iterations()));
        Scheduled { inner, schedule }
    }

    /// The schedule.
    pub fn schedule(&self) -> &S {
        &self.schedule
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

impl<O: Optimizer, S: Schedule> Optimizer for Scheduled<O, S> {
    forward!(
        inner: name, learning_rate, set_learning_rate, update, update_and_zero, weight_decay_settings, clip,
        iterations, state, set_state
    );

    fn begin_step(&mut self) {
        let lr = self.schedule.lr(self.inner.iterations());
        self.inner.set_learning_rate(lr);
        self.inner.begin_step()
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.inner.validate()?;
        self.schedule.validate()
    }
}
