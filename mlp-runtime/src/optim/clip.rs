//! Gradient clipping, Keras' `clipvalue`, `clipnorm` and `global_clipnorm`.
//!
//! The optimizer says what it wants ([`super::Optimizer::clip`]); the trainer applies it
//! to the step's gradients before the `update` calls, with the pure functions here:
//!
//! ```
//! use mlp_runtime::optim::clip::{clip_norm, clip_value, global_norm_scale, scale, sum_sq};
//! let (mut a, mut b) = ([3.0_f32, 4.0], [0.0_f32, 12.0]);
//! // global_clipnorm(6.5): the joint norm is 13, so every gradient is halved.
//! let k = global_norm_scale(sum_sq(&a) + sum_sq(&b), 6.5);
//! scale(&mut a, k);
//! scale(&mut b, k);
//! assert_eq!((a, b), ([1.5, 2.0], [0.0, 6.0]));
//! clip_norm(&mut a, 1.0); // per tensor: now of norm 1
//! assert!((a[0] - 0.6).abs() < 1e-6 && (a[1] - 0.8).abs() < 1e-6);
//! clip_value(&mut b, 0.5);
//! assert_eq!(b, [0.0, 0.5]);
//! ```

use super::{check, forward, OptimError, Optimizer, Range, Schedule, Scheduled};

/// The clipping an optimizer asks for. Keras accepts only one of the three; if several
/// are set, the trainer applies the one Keras' `_clip_gradients` would check first:
/// `norm`, then `global_norm`, then `value` (see [`Clip::effective`]). A bound that is not
/// a positive number means no clipping, as in Keras.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Clip {
    /// Keras' `clipvalue`: every element is clipped to `[-value, value]`.
    pub value: Option<f32>,
    /// Keras' `clipnorm`: every tensor is rescaled to an L2 norm of at most `norm`.
    pub norm: Option<f32>,
    /// Keras' `global_clipnorm`: all tensors together are rescaled to an L2 norm of at most `global_norm`.
    pub global_norm: Option<f32>,
}

impl Clip {
    /// No clipping.
    pub const NONE: Clip = Clip { value: None, norm: None, global_norm: None };

    /// The one clipping Keras would apply, all others cleared: the first positive bound of
    /// `norm`, `global_norm`, `value`.
    pub fn effective(&self) -> Clip {
        let positive = |b: Option<f32>| b.filter(|&b| b > 0.0);
        if let Some(n) = positive(self.norm) {
            Clip { norm: Some(n), ..Clip::NONE }
        } else if let Some(n) = positive(self.global_norm) {
            Clip { global_norm: Some(n), ..Clip::NONE }
        } else if let Some(v) = positive(self.value) {
            Clip { value: Some(v), ..Clip::NONE }
        } else {
            Clip::NONE
        }
    }

    /// True when nothing is clipped.
    pub fn is_none(&self) -> bool {
        self.effective() == Clip::NONE
    }
}

/// Clips every element of `grad` to `[-v, v]` (Keras' `clipvalue`). No-op unless `v > 0`.
pub fn clip_value(grad: &mut [f32], v: f32) {
    if v > 0.0 {
        grad.iter_mut().for_each(|g| *g = g.clamp(-v, v));
    }
}

/// Sum of squares of `grad`, accumulated in f64 (one tensor's share of a global norm).
pub fn sum_sq(grad: &[f32]) -> f64 {
    grad.iter().map(|&g| (g as f64) * (g as f64)).sum()
}

/// Rescales `grad` so its L2 norm is at most `max` (Keras' `clipnorm`, applied per tensor):
/// `g * max / max(norm, max)`. A gradient already within the bound is left bit-for-bit
/// as is. No-op unless `max > 0`.
pub fn clip_norm(grad: &mut [f32], max: f32) {
    if max > 0.0 {
        let norm = sum_sq(grad).sqrt();
        if norm > max as f64 {
            scale(grad, (max as f64 / norm) as f32);
        }
    }
}

/// The factor Keras' `global_clipnorm` multiplies every gradient by, from the sum of
/// squares of all of them ([`sum_sq`] summed over tensors): `max / max(norm, max)`, so 1
/// when the norm is within the bound. Like Keras, it is NaN when the norm is not finite
/// (the step then shows up as NaN instead of silently zeroing gradients). 1 unless `max > 0`.
pub fn global_norm_scale(sum_sq: f64, max: f32) -> f32 {
    if max <= 0.0 || max.is_nan() {
        return 1.0;
    }
    let norm = sum_sq.sqrt();
    if !norm.is_finite() {
        return f32::NAN;
    }
    if norm > max as f64 {
        (max as f64 / norm) as f32
    } else {
        1.0
    }
}

/// Multiplies every element of `grad` by `k`.
pub fn scale(grad: &mut [f32], k: f32) {
    if k != 1.0 {
        grad.iter_mut().for_each(|g| *g *= k);
    }
}

/// An optimizer with gradient clipping, made by [`super::OptimizerExt::clipnorm`],
/// `clipvalue` or `global_clipnorm`. Everything else is the inner optimizer's.
#[derive(Clone, Debug)]
pub struct Clipped<O> {
    inner: O,
    clip: Clip,
}

impl<O> Clipped<O> {
    /// `inner`, asking for `clip`.
    pub fn new(inner: O, clip: Clip) -> Self {
        Clipped { inner, clip }
    }

    /// The wrapped optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The wrapped optimizer, mutably.
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// Clips each tensor's norm to `max` instead (Keras allows one kind of clipping).
    #[must_use]
    pub fn clipnorm(self, max: f32) -> Self {
        Clipped { clip: Clip { norm: Some(max), ..Clip::NONE }, ..self }
    }

    /// Clips each element to `[-v, v]` instead (Keras allows one kind of clipping).
    #[must_use]
    pub fn clipvalue(self, v: f32) -> Self {
        Clipped { clip: Clip { value: Some(v), ..Clip::NONE }, ..self }
    }

    /// Clips the joint norm to `max` instead (Keras allows one kind of clipping).
    #[must_use]
    pub fn global_clipnorm(self, max: f32) -> Self {
        Clipped { clip: Clip { global_norm: Some(max), ..Clip::NONE }, ..self }
    }

    /// Drives the inner optimizer's learning rate from `schedule` (clipping unchanged).
    #[must_use]
    pub fn with_schedule<S: Schedule>(self, schedule: S) -> Clipped<Scheduled<O, S>>
    where
        O: Optimizer,
    {
        Clipped { inner: Scheduled::new(self.inner, schedule), clip: self.clip }
    }
}

impl<O: Optimizer> Optimizer for Clipped<O> {
    forward!(
        inner: name, learning_rate, set_learning_rate, begin_step, update, update_and_zero, weight_decay_settings,
        iterations, state, set_state
    );

    fn clip(&self) -> Clip {
        self.clip
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.inner.validate()?;
        let bounds = [
            ("clipvalue", self.clip.value),
            ("clipnorm", self.clip.norm),
            ("global_clipnorm", self.clip.global_norm),
        ];
        for (name, bound) in bounds {
            if let Some(b) = bound {
                check(self.inner.name(), name, b, Range::Positive)?;
            }
        }
        Ok(())
    }
}
