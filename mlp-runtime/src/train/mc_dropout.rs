//! Monte Carlo dropout (Géron, ch. 11): many inference passes with dropout kept on, and
//! what they say together.

use super::{Model, TrainError};
use crate::batch::Batch;
use crate::data::Dataset;
use crate::layer::Layer;
use crate::loss::Loss;
use crate::optim::Optimizer;

/// Every pass of Monte Carlo dropout, and per sample and output their mean and standard
/// deviation: Géron's `y_probas`, `y_mean` and `y_std`
/// (`np.stack([model(X, training=True) for _ in range(100)])`, `.mean(axis=0)`,
/// `.std(axis=0)`), from [`Model::predict_mc_dropout_passes`].
#[derive(Clone, Debug, PartialEq)]
pub struct McDropout {
    /// Outputs per sample.
    pub width: usize,
    /// Samples per pass.
    pub samples: usize,
    /// Every pass's outputs, passes end to end, each `samples * width` floats laid out like
    /// [`Model::predict`]'s (see [`McDropout::pass`]).
    pub probas: Vec<f32>,
    /// The mean over the passes, `samples * width` floats.
    pub mean: Vec<f32>,
    /// The standard deviation over the passes, population (divided by the number of
    /// passes, as numpy's `std` and Géron), `samples * width` floats.
    pub std: Vec<f32>,
}

impl McDropout {
    /// The number of passes.
    pub fn passes(&self) -> usize {
        self.probas.len().checked_div(self.samples * self.width).unwrap_or(0)
    }

    /// The outputs of pass `k` (0-based), like one [`Model::predict`]; empty past the last.
    pub fn pass(&self, k: usize) -> &[f32] {
        let n = self.samples * self.width;
        self.probas.get(k * n..(k + 1) * n).unwrap_or(&[])
    }

    /// The statistics of `passes` passes of `samples * width` floats each, in f64 (a sum of
    /// hundreds of passes in f32 would lose the digits the deviation is made of).
    fn of(probas: Vec<f32>, samples: usize, width: usize) -> Self {
        let n = samples * width;
        let passes = probas.len().checked_div(n).unwrap_or(0);
        let mut sum = vec![0.0f64; n];
        for pass in probas.chunks_exact(n.max(1)) {
            sum.iter_mut().zip(pass).for_each(|(s, &p)| *s += p as f64);
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / passes.max(1) as f64).collect();
        let mut var = vec![0.0f64; n];
        for pass in probas.chunks_exact(n.max(1)) {
            for ((v, &p), m) in var.iter_mut().zip(pass).zip(&mean) {
                *v += (p as f64 - m) * (p as f64 - m);
            }
        }
        let std = var.iter().map(|v| (v / passes.max(1) as f64).sqrt() as f32).collect();
        McDropout { width, samples, mean: mean.iter().map(|&m| m as f32).collect(), std, probas }
    }
}

impl<N, O, L, const I: usize, const OUT: usize> Model<N, O, L>
where
    N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    /// Monte Carlo dropout (Géron, ch. 11): the mean output of `passes` inference passes
    /// with dropout kept on (batch norm still uses its moving statistics).
    /// `passes` must be at least 1. [`Model::predict_mc_dropout_passes`] keeps every pass
    /// and the standard deviation too.
    pub fn predict_mc_dropout(&mut self, data: &Dataset, passes: usize) -> Result<Vec<f32>, TrainError> {
        check_passes(passes)?;
        let mut mean = vec![0.0f32; data.len() * OUT];
        let mut out = std::mem::take(&mut self.out);
        for _ in 0..passes {
            self.run_inference(data, &mut out, true)?;
            mean.iter_mut().zip(&out).for_each(|(m, o)| *m += o);
        }
        self.out = out;
        let k = 1.0 / passes as f32;
        mean.iter_mut().for_each(|m| *m *= k);
        Ok(mean)
    }

    /// Monte Carlo dropout with every pass kept: [`McDropout`]'s `probas`, `mean` and
    /// `std` are Géron's `y_probas`, `y_mean` and `y_std`. Holds `passes * samples * OUT`
    /// floats; an amount this process cannot allocate is an error, not an abort.
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(2); dense(16, relu); dropout(0.5); dense(3, softmax) > }
    /// let data = Dataset::classification(vec![0.5, -1.0, 2.0, 0.1], 2, vec![0, 2])?;
    /// let mut model = Model::compile(Net::seeded(1), Adam::new(1e-3), SparseCategoricalCrossentropy::new());
    /// let mc = model.predict_mc_dropout_passes(&data, 100)?;
    /// assert_eq!((mc.passes(), mc.pass(7).len(), mc.std.len()), (100, 6, 6));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn predict_mc_dropout_passes(
        &mut self,
        data: &Dataset,
        passes: usize,
    ) -> Result<McDropout, TrainError> {
        check_passes(passes)?;
        let n = data.len() * OUT;
        let total = n.checked_mul(passes).filter(|t| t.checked_mul(4).is_some());
        let mut probas = Vec::new();
        if total.is_none_or(|t| probas.try_reserve_exact(t).is_err()) {
            return Err(TrainError::Config(format!(
                "Monte Carlo dropout with {passes} passes over {} samples of {OUT} outputs would hold \
                 {} floats, more than this process can allocate; use fewer passes or samples, or \
                 predict_mc_dropout for the mean alone",
                data.len(),
                total.map_or_else(|| "more than usize::MAX".to_string(), |t| t.to_string()),
            )));
        }
        let mut out = std::mem::take(&mut self.out);
        for _ in 0..passes {
            self.run_inference(data, &mut out, true)?;
            probas.extend_from_slice(&out);
        }
        self.out = out;
        Ok(McDropout::of(probas, data.len(), OUT))
    }
}

fn check_passes(passes: usize) -> Result<(), TrainError> {
    if passes == 0 {
        return Err(TrainError::Config("Monte Carlo dropout needs at least 1 pass, found 0".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::McDropout;

    #[test]
    fn statistics_are_numpys_mean_and_population_std() {
        // Two samples of width 1, three passes: [1, 2], [3, 2], [5, 2].
        let mc = McDropout::of(vec![1.0, 2.0, 3.0, 2.0, 5.0, 2.0], 2, 1);
        assert_eq!(mc.passes(), 3);
        assert_eq!(mc.pass(1), &[3.0, 2.0]);
        assert!(mc.pass(3).is_empty());
        assert_eq!(mc.mean, [3.0, 2.0]);
        // numpy: np.std([1, 3, 5]) = sqrt(8 / 3).
        assert!((mc.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(mc.std[1], 0.0);
    }
}
