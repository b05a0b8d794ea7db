//! Adagrad, Keras' `Adagrad`.

use super::state::{bookkeeping, update_via_apply, Core, Slots};
use super::weight_decay::weight_decay_builders;
use super::{check, OptimError, Optimizer, Range};
use crate::kernel::{update_parts, Grad};

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
    epsilon: f32,
    /// Learning rate, steps, and the accumulators (whose starting value is
    /// `initial_accumulator_value`).
    core: Core<1>,
}

impl Adagrad {
    /// Adagrad with learning rate `lr` and Keras' other defaults.
    pub fn new(lr: f32) -> Self {
        Adagrad { epsilon: 1e-7, core: Core::new(lr, [Slots::new("accumulator", 0.1)]) }
    }

    /// Sets the accumulators' starting value (must be >= 0).
    #[must_use]
    pub fn initial_accumulator_value(mut self, v: f32) -> Self {
        let [acc] = &mut self.core.slots;
        acc.set_init(v);
        self
    }

    /// Sets epsilon, added to the accumulator inside the square root.
    #[must_use]
    pub fn epsilon(mut self, epsilon: f32) -> Self {
        self.epsilon = epsilon;
        self
    }

    /// The accumulators' starting value (set by [`Adagrad::initial_accumulator_value`]).
    pub fn get_initial_accumulator_value(&self) -> f32 {
        self.core.slots[0].init()
    }

    /// Epsilon (set by [`Adagrad::epsilon`]).
    pub fn get_epsilon(&self) -> f32 {
        self.epsilon
    }

    weight_decay_builders!();

    /// One tensor's update, from a gradient read or consumed ([`Optimizer::update`],
    /// [`Optimizer::update_and_zero`]).
    fn apply(&mut self, slot: usize, value: &mut [f32], grad: Grad<'_>) {
        let (lr, eps) = (self.core.lr, self.epsilon);
        let [acc] = &mut self.core.slots;
        let acc = acc.get(slot, value.len());
        update_parts([value, acc], grad, |[value, acc], grad| {
            for ((w, a), &g) in value.iter_mut().zip(acc.iter_mut()).zip(grad) {
                *a += g * g;
                *w -= lr * g / (*a + eps).sqrt();
            }
        });
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

    bookkeeping!();

    update_via_apply!();

    fn set_state(&mut self, iterations: u64, state: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        self.core.restore([true], iterations, state)
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.core.check_common("adagrad")?;
        check(
            "adagrad",
            "initial_accumulator_value",
            self.get_initial_accumulator_value(),
            Range::NonNegative,
        )?;
        check("adagrad", "epsilon", self.epsilon, Range::NonNegative)
    }
}
