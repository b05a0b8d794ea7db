//! Optimizers, learning-rate schedules and gradient clipping, with Keras 3's update
//! formulas and defaults (`keras/src/optimizers/*.py`).
//!
//! One training step, as the trainer drives it (Keras' `apply`):
//! 1. `begin_step()`: the iteration count advances (Keras' `local_step = iterations + 1`);
//! 2. the gradients are clipped as [`Optimizer::clip`] asks (see [`clip`]);
//! 3. once per trainable tensor, in visit order: the weight decay
//!    [`Optimizer::weight_decay_settings`] asks for, unless the tensor is excluded (see
//!    [`WeightDecay`]), then `update_and_zero(slot, value, grad)`: [`Optimizer::update`],
//!    with the gradient left zeroed for the next step.
//!
//! The optimizers here share a large tensor's update among the kernel's threads
//! ([`crate::kernel::threads`]), in contiguous parts: each element gets the same
//! operations on any thread, so the weights have the same bits at any thread count.
//!
//! ```
//! use mlp_runtime::prelude::*;
//! // Keras: SGD(learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, clipnorm=1.0)
//! let mut opt = Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4).clipnorm(1.0);
//! assert_eq!(opt.clip().norm, Some(1.0));
//! assert_eq!(opt.weight_decay_settings().map(|wd| wd.rate), Some(1e-4));
//! let mut w = [1.0_f32, -2.0];
//! opt.begin_step();
//! opt.update(0, &mut w, &[0.5, 0.5]);
//! assert_eq!(opt.iterations(), 1);
//! ```

/// The builders and getters of `beta_1`, `beta_2` and `epsilon` for an optimizer that
/// keeps them as fields of its own (Nadam, Adamax: one source for both; Adam and AdamW
/// share theirs through `AdamRule`).
macro_rules! beta_epsilon_settings {
    () => {
        /// Sets the first-moment decay rate (Keras requires `[0, 1)`).
        #[must_use]
        pub fn beta_1(mut self, beta_1: f32) -> Self {
            self.beta_1 = beta_1;
            self
        }

        /// Sets the decay rate of the second moment (Nadam) or of the infinity norm
        /// (Adamax) (Keras requires `[0, 1)`).
        #[must_use]
        pub fn beta_2(mut self, beta_2: f32) -> Self {
            self.beta_2 = beta_2;
            self
        }

        /// Sets epsilon, added to the update's denominator for numerical stability.
        #[must_use]
        pub fn epsilon(mut self, epsilon: f32) -> Self {
            self.epsilon = epsilon;
            self
        }

        /// The first-moment decay rate (set by [`Self::beta_1`]).
        pub fn get_beta_1(&self) -> f32 {
            self.beta_1
        }

        /// The second decay rate (set by [`Self::beta_2`]).
        pub fn get_beta_2(&self) -> f32 {
            self.beta_2
        }

        /// Epsilon (set by [`Self::epsilon`]).
        pub fn get_epsilon(&self) -> f32 {
            self.epsilon
        }
    };
}

pub mod clip;
pub mod schedule;

mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod error;
mod nadam;
mod rmsprop;
mod sgd;
mod state;
pub(crate) mod weight_decay;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use clip::{Clip, Clipped};
pub use error::OptimError;
pub use nadam::Nadam;
pub use rmsprop::RMSprop;
pub use schedule::{
    CosineDecay, ExponentialDecay, InverseTimeDecay, OneCycle, PiecewiseConstantDecay, PlateauMode,
    ReduceLrOnPlateau, Schedule, Scheduled,
};
pub use sgd::Sgd;
pub use weight_decay::WeightDecay;

use error::{check, Range};

/// An optimizer: updates tensors in place from their gradients, keeping per-tensor state.
pub trait Optimizer {
    /// Keras' name for the optimizer (`"adam"`, `"SGD"`, ...).
    fn name(&self) -> &'static str;
    /// The current learning rate.
    fn learning_rate(&self) -> f32;
    /// Sets the learning rate for the following steps (schedules and callbacks use this).
    fn set_learning_rate(&mut self, lr: f32);
    /// Called once per training step, before that step's `update` calls (advances the iteration count).
    fn begin_step(&mut self);
    /// Updates one tensor in place. `slot` numbers the network's trainable tensors in visit
    /// order (stable for a network) and keys per-tensor state, allocated on first sight and
    /// reused after (no allocation after the first step).
    ///
    /// This is Keras' `update_step`: the weight decay is not part of it. The trainer
    /// applies [`Optimizer::weight_decay_settings`] to the tensor first, as Keras' `apply` does.
    ///
    /// If a slot's tensor changes length (a different network), its state starts afresh.
    fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]);
    /// [`Optimizer::update`], then `grad` all zeros, ready for the next step's backward
    /// pass to add into: what the trainer calls. The optimizers here zero the gradient as
    /// they read it, which spares the trainer a pass over every gradient after the
    /// update; this default updates, then zeroes.
    fn update_and_zero(&mut self, slot: usize, value: &mut [f32], grad: &mut [f32]) {
        self.update(slot, value, grad);
        crate::kernel::zip_parts([grad], [], |[g], []| g.fill(0.0));
    }
    /// Gradient clipping this optimizer asks for (Keras' clipvalue / clipnorm / global_clipnorm).
    fn clip(&self) -> Clip {
        Clip::NONE
    }
    /// Decoupled weight decay this optimizer asks for (Keras' `weight_decay` and
    /// `exclude_from_weight_decay`), or `None` for none. The trainer applies it at the
    /// learning rate of the step, before each tensor's `update`.
    fn weight_decay_settings(&self) -> Option<&WeightDecay> {
        None
    }
    /// Steps taken so far.
    fn iterations(&self) -> u64;
    /// State for checkpoints: named tensors (e.g. "2.m", "2.v", and "learning_rate", which
    /// Keras also saves) plus `iterations`; restoring them must make the next steps
    /// bit-identical to an uninterrupted run.
    fn state(&self) -> Vec<(String, Vec<f32>)>;
    /// Restores what [`Optimizer::state`] and [`Optimizer::iterations`] returned. Nothing
    /// changes on error; the error names the offending tensor.
    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError>;
    /// Checks the hyperparameters (Keras raises for these at construction); trainers call
    /// it before the first step. The error names the parameter and its valid range.
    fn validate(&self) -> Result<(), OptimError> {
        Ok(())
    }
}

impl<O: Optimizer + ?Sized> Optimizer for Box<O> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn learning_rate(&self) -> f32 {
        (**self).learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f32) {
        (**self).set_learning_rate(lr)
    }
    fn begin_step(&mut self) {
        (**self).begin_step()
    }
    fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
        (**self).update(slot, value, grad)
    }
    fn update_and_zero(&mut self, slot: usize, value: &mut [f32], grad: &mut [f32]) {
        (**self).update_and_zero(slot, value, grad)
    }
    fn clip(&self) -> Clip {
        (**self).clip()
    }
    fn weight_decay_settings(&self) -> Option<&WeightDecay> {
        (**self).weight_decay_settings()
    }
    fn iterations(&self) -> u64 {
        (**self).iterations()
    }
    fn state(&self) -> Vec<(String, Vec<f32>)> {
        (**self).state()
    }
    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        (**self).set_state(iterations, state)
    }
    fn validate(&self) -> Result<(), OptimError> {
        (**self).validate()
    }
}

/// Builder methods every optimizer gets: gradient clipping and a learning-rate schedule.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let opt = Adam::default().global_clipnorm(1.0);
/// assert_eq!(opt.clip(), Clip { global_norm: Some(1.0), ..Clip::NONE });
/// let opt = Sgd::new(0.1).with_schedule(ExponentialDecay::new(0.1, 1000, 0.96));
/// assert_eq!(opt.name(), "SGD");
/// ```
pub trait OptimizerExt: Optimizer + Sized {
    /// Keras' `clipnorm`: each gradient tensor is rescaled so its L2 norm is at most `max`.
    #[must_use]
    fn clipnorm(self, max: f32) -> Clipped<Self> {
        Clipped::new(self, Clip { norm: Some(max), ..Clip::NONE })
    }
    /// Keras' `clipvalue`: each gradient element is clipped to `[-v, v]`.
    #[must_use]
    fn clipvalue(self, v: f32) -> Clipped<Self> {
        Clipped::new(self, Clip { value: Some(v), ..Clip::NONE })
    }
    /// Keras' `global_clipnorm`: all gradients are rescaled together so their joint L2
    /// norm is at most `max`.
    #[must_use]
    fn global_clipnorm(self, max: f32) -> Clipped<Self> {
        Clipped::new(self, Clip { global_norm: Some(max), ..Clip::NONE })
    }
    /// Drives the learning rate from `schedule`, evaluated at the step count before each
    /// step, as when a Keras optimizer is given a `LearningRateSchedule`.
    #[must_use]
    fn with_schedule<S: Schedule>(self, schedule: S) -> Scheduled<Self, S> {
        Scheduled::new(self, schedule)
    }
}

impl<O: Optimizer> OptimizerExt for O {}

/// Forwards the listed [`Optimizer`] methods to the optimizer in field `$inner`, for the
/// wrappers ([`Clipped`], [`Scheduled`]), which change one or two and pass the rest on.
macro_rules! forward {
    ($inner:ident: $($method:ident),+) => { $($crate::optim::forward!(@ $inner $method);)+ };
    (@ $inner:ident name) => {
        fn name(&self) -> &'static str {
            self.$inner.name()
        }
    };
    (@ $inner:ident learning_rate) => {
        fn learning_rate(&self) -> f32 {
            self.$inner.learning_rate()
        }
    };
    (@ $inner:ident set_learning_rate) => {
        fn set_learning_rate(&mut self, lr: f32) {
            self.$inner.set_learning_rate(lr)
        }
    };
    (@ $inner:ident begin_step) => {
        fn begin_step(&mut self) {
            self.$inner.begin_step()
        }
    };
    (@ $inner:ident update) => {
        fn update(&mut self, slot: usize, value: &mut [f32], grad: &[f32]) {
            self.$inner.update(slot, value, grad)
        }
    };
    (@ $inner:ident update_and_zero) => {
        fn update_and_zero(&mut self, slot: usize, value: &mut [f32], grad: &mut [f32]) {
            self.$inner.update_and_zero(slot, value, grad)
        }
    };
    (@ $inner:ident clip) => {
        fn clip(&self) -> $crate::optim::Clip {
            self.$inner.clip()
        }
    };
    (@ $inner:ident weight_decay_settings) => {
        fn weight_decay_settings(&self) -> Option<&$crate::optim::WeightDecay> {
            self.$inner.weight_decay_settings()
        }
    };
    (@ $inner:ident iterations) => {
        fn iterations(&self) -> u64 {
            self.$inner.iterations()
        }
    };
    (@ $inner:ident state) => {
        fn state(&self) -> Vec<(String, Vec<f32>)> {
            self.$inner.state()
        }
    };
    (@ $inner:ident set_state) => {
        fn set_state(
            &mut self,
            iterations: u64,
            state: &[(String, Vec<f32>)],
        ) -> Result<(), $crate::optim::OptimError> {
            self.$inner.set_state(iterations, state)
        }
    };
}
use forward;

/// Re-exports for `mlp::prelude`.
pub mod prelude {
    pub use super::clip::{Clip, Clipped};
    pub use super::schedule::{
        CosineDecay, ExponentialDecay, InverseTimeDecay, OneCycle, PiecewiseConstantDecay, PlateauMode,
        ReduceLrOnPlateau, Schedule, Scheduled,
    };
    pub use super::{
        Adagrad, Adam, AdamW, Adamax, Nadam, OptimError, Optimizer, OptimizerExt, RMSprop, Sgd, WeightDecay,
    };
}
