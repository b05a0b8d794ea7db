//! `alpha_dropout(p)`: dropout that keeps SELU's mean 0 and variance 1, the identity at
//! inference.

use super::dropout::{draw_mask, masked_input_grad};
use crate::activation::Activation;
use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Visitor, VisitorRef};
use crate::onnx::{OnnxError, OnnxGraph};
use alloc::{string::ToString, vec::Vec};

/// SELU's negative saturation, `-scale * alpha`: where a dropped unit is set (Keras' `alpha_p`).
const ALPHA_P: f64 = -1.758_099_340_847_376_6;

/// Keras' `AlphaDropout`: in training, each input is replaced with probability `rate` by
/// SELU's saturation value `alpha_p`, then all are mapped by `a * x + b`, with `a` and `b`
/// chosen so that inputs of mean 0 and variance 1 keep them (the self-normalizing property
/// SELU networks rely on). Masks come from the [`Context`]'s generator, as in
/// [`Dropout`](super::Dropout), so runs are reproducible.
///
/// ```
/// use mlp::prelude::*;
/// let mut d = AlphaDropout::<4>::new(0.2);
/// let x = Batch::from_samples(&[0.5, -1.0, 2.0, 0.0]).unwrap();
/// d.forward(&x, &mut Context::infer());
/// assert_eq!(d.output().as_slice(), x.as_slice());
/// ```
#[derive(Clone, Debug)]
pub struct AlphaDropout<const N: usize> {
    rate: f32,
    /// Keras' affine correction `a * x + b`, and what a dropped unit becomes, `a * alpha_p + b`.
    a: f32,
    b: f32,
    dropped: f32,
    /// `a` where the input was kept, 0 where it was dropped: the backward pass's factor.
    mask: Vec<f32>,
    active: bool,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> AlphaDropout<N> {
    /// Alpha dropout with the given rate, `0 <= rate < 1` (the macro checks literals).
    pub fn new(rate: f32) -> Self {
        // Keras computes these in Python floats from the rate as written (0.2, not the f32
        // nearest it, 0.2000000029...), and its float32 tensors see them rounded. The f32's
        // shortest decimal is the rate as written.
        let r = rate.to_string().parse::<f64>().unwrap_or(f64::from(rate));
        let a = libm::pow((1.0 - r) * (1.0 + r * ALPHA_P * ALPHA_P), -0.5);
        let b = -a * ALPHA_P * r;
        let (a, b) = (a as f32, b as f32);
        AlphaDropout {
            rate,
            a,
            b,
            dropped: a * ALPHA_P as f32 + b,
            mask: Vec::new(),
            active: false,
            out: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }

    /// The drop probability.
    pub fn rate(&self) -> f32 {
        self.rate
    }
}

impl<const N: usize> Layer for AlphaDropout<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, ctx: &mut Context) {
        self.out.copy_from(x);
        self.active = (ctx.training() || ctx.mc_dropout) && self.rate > 0.0;
        if !self.active {
            return;
        }
        // The same draws as `Dropout`; `a` (never 0) marks a kept unit.
        self.mask.resize(x.as_slice().len(), 0.0);
        draw_mask(&mut ctx.rng, N, &mut self.mask, self.rate, self.a);
        let (b, dropped) = (self.b, self.dropped);
        for (y, &m) in self.out.as_mut_slice().iter_mut().zip(&self.mask) {
            *y = if m != 0.0 { m * *y + b } else { dropped };
        }
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, _x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        if !how.input_grad {
            return;
        }
        masked_input_grad(&mut self.dx, dy, self.active.then_some(&self.mask[..]));
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, _v: &mut dyn Visitor) {}

    fn visit_ref(&self, _v: &mut dyn VisitorRef) {}

    /// Nothing: the identity at inference.
    fn describe_onnx(&self, _g: &mut OnnxGraph) -> Result<(), OnnxError> {
        Ok(())
    }

    fn set_trainable(&mut self, _trainable: bool) {}

    fn output_activation(&self) -> Option<Activation> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance};
    use crate::layer::Mode;
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn alpha_dropout_backward_matches_with_a_fixed_mask() {
        let mut d = AlphaDropout::<8>::new(0.3);
        check(&mut d, &random_batch::<8>(5, 9), Mode::Train, Tolerance::default(), 100).unwrap();
        check(&mut d, &random_batch::<8>(5, 9), Mode::Infer, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn constants_are_keras() {
        // Keras 3.15.1, keras/src/layers/regularization/alpha_dropout.py:
        //   a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5;  b = -a * alpha_p * rate
        // evaluated there in Python floats: rate 0.1 gives a = 0.9212845161497115,
        // b = 0.16197097005757022; rate 0.2 gives a = 0.8789035834435328,
        // b = 0.30903996214409446.
        for (rate, a, b) in [
            (0.1, 0.921_284_516_149_711_5, 0.161_970_970_057_570_22),
            (0.2, 0.878_903_583_443_532_8, 0.309_039_962_144_094_46),
        ] {
            let d = AlphaDropout::<1>::new(rate);
            assert_eq!((d.a, d.b), (a as f32, b as f32), "rate {rate}");
        }
        // AlphaDropout(0.2)(zeros, training=True) in Keras gives exactly these two values:
        // b where kept, a * alpha_p + b where dropped.
        let mut d = AlphaDropout::<100>::new(0.2);
        d.forward(&Batch::zeros(10), &mut Context::train(3));
        let y = d.output().as_slice();
        let kept = y.iter().filter(|&&y| y == 0.309_039_95).count();
        let dropped = y.iter().filter(|&&y| y == -1.236_159_8).count();
        assert!(kept + dropped == 1000 && (100..300).contains(&dropped), "{kept} kept, {dropped} dropped");
    }

    #[test]
    fn selu_normalized_inputs_keep_mean_zero_and_variance_one() {
        // SELU of standard normal draws has mean 0 and variance 1 (SELU's fixed point).
        let mut rng = crate::rng::seeded(1);
        let mut v: Vec<f32> = (0..200_000).map(|_| StandardNormal.sample(&mut rng)).collect();
        Activation::Selu.forward(&mut v, 10);
        let x = Batch::<10>::from_samples(&v).unwrap();
        let moments = |s: &[f32]| {
            let n = s.len() as f64;
            let mean = s.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            (mean, s.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n)
        };
        // 200,000 draws: both moments are within about 0.005 of their true values by
        // chance, so 0.02 passes every seed, while plain inverted dropout at rate 0.2
        // would move the variance by 0.25 and leaving out `b` the mean by 0.3.
        let (mean, var) = moments(x.as_slice());
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "input: mean {mean}, var {var}");
        for rate in [0.05, 0.1, 0.2, 0.5] {
            let mut d = AlphaDropout::<10>::new(rate);
            d.forward(&x, &mut Context::train(2));
            let (mean, var) = moments(d.output().as_slice());
            assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "rate {rate}: mean {mean}, var {var}");
        }
    }

    #[test]
    fn identity_at_inference_and_rate_zero_active_for_monte_carlo() {
        let x = random_batch::<6>(50, 4);
        let mut d = AlphaDropout::<6>::new(0.3);
        d.forward(&x, &mut Context::infer());
        assert_eq!(d.output().as_slice(), x.as_slice());
        let mut mc = Context::infer();
        mc.mc_dropout = true;
        d.forward(&x, &mut mc);
        assert!(d.output().as_slice().contains(&d.dropped));
        let mut none = AlphaDropout::<6>::new(0.0);
        none.forward(&x, &mut Context::train(0));
        assert_eq!(none.output().as_slice(), x.as_slice());
    }
}
