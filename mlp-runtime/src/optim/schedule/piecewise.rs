//! Piecewise constant decay, Keras' `PiecewiseConstantDecay`.

use super::{OptimError, Schedule};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, and the last value after the last boundary
/// (Keras' `PiecewiseConstantDecay`).
///
/// ```
/// use mlp_runtime::prelude::*;
/// let s = PiecewiseConstantDecay::new(vec![100, 110], vec![1.0, 0.5, 0.1]).unwrap();
/// assert_eq!((s.lr(100), s.lr(101), s.lr(111)), (1.0, 0.5, 0.1));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f32>,
}

impl PiecewiseConstantDecay {
    /// The schedule; an error unless the boundaries increase strictly and there is one
    /// more value than boundaries.
    pub fn new(boundaries: Vec<u64>, values: Vec<f32>) -> Result<Self, OptimError> {
        let s = PiecewiseConstantDecay { boundaries, values };
        s.validate()?;
        Ok(s)
    }

    /// The step boundaries.
    pub fn boundaries(&self) -> &[u64] {
        &self.boundaries
    }

    /// The rates, one more than the boundaries.
    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

impl Schedule for PiecewiseConstantDecay {
    fn lr(&self, step: u64) -> f32 {
        // Boundaries increase, so the number of them below `step` is the interval's index.
        let i = self.boundaries.iter().filter(|&&b| step > b).count();
        self.values.get(i).or(self.values.last()).copied().unwrap_or(f32::NAN)
    }

    fn validate(&self) -> Result<(), OptimError> {
        if self.values.len() != self.boundaries.len() + 1 {
            return Err(OptimError::PiecewiseLengths {
                boundaries: self.boundaries.len(),
                values: self.values.len(),
            });
        }
        if self.boundaries.windows(2).any(|w| w[0] >= w[1]) {
            return Err(OptimError::PiecewiseBoundaries(self.boundaries.clone()));
        }
        Ok(())
    }
}
