//! `prelu`: a leaky ReLU whose slope for negative inputs is learned, one per unit.

use crate::activation::Activation;
use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Param, ParamRef, Visitor, VisitorRef};
use crate::onnx::{OnnxError, OnnxGraph};
use alloc::{string::ToString, vec, vec::Vec};

/// Keras' `PReLU`: `y = x` for `x > 0`, `alpha_j * x` otherwise, with one learned slope
/// `alpha_j` per unit.
///
/// The slopes start at 0, Keras' default (the layer starts as a ReLU); PyTorch's
/// `nn.PReLU` starts them at 0.25. They are saved under PyTorch's name and shape,
/// `weight` of shape `[N]` (`nn.PReLU(num_parameters=N)`). As in Keras, whose layer is
/// `relu(x) - alpha * relu(-x)`, the input gradient at exactly `x = 0` is 0.
///
/// ```
/// use mlp::prelude::*;
/// let mut p = PRelu::<2>::new();
/// p.set_tensor("weight", &[0.1, 0.5]).unwrap();
/// p.forward(&Batch::from_samples(&[-2.0, -2.0, 3.0, 3.0]).unwrap(), &mut Context::infer());
/// assert_eq!(p.output().as_slice(), &[-0.2, -1.0, 3.0, 3.0]);
/// ```
#[derive(Clone, Debug)]
pub struct PRelu<const N: usize> {
    alpha: Vec<f32>,
    alpha_grad: Vec<f32>,
    trainable: bool,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> PRelu<N> {
    const SHAPE: [usize; 1] = [N];

    /// A PReLU with every slope 0 (Keras' `alpha_initializer="zeros"`).
    pub fn new() -> Self {
        PRelu {
            alpha: vec![0.0; N],
            alpha_grad: vec![0.0; N],
            trainable: true,
            out: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }
}

impl<const N: usize> Default for PRelu<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Layer for PRelu<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, _ctx: &mut Context) {
        self.out.copy_from(x);
        for y in self.out.as_mut_slice().chunks_exact_mut(N) {
            for (y, a) in y.iter_mut().zip(&self.alpha) {
                *y = if *y > 0.0 { *y } else { *y * a };
            }
        }
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        let rows = x.as_slice().chunks_exact(N).zip(dy.as_slice().chunks_exact(N));
        if self.trainable {
            // d/dalpha_j = x where x < 0 (Keras' -relu(-x)), summed over the batch.
            for (x, g) in rows.clone() {
                for j in 0..N {
                    if x[j] < 0.0 {
                        self.alpha_grad[j] += g[j] * x[j];
                    }
                }
            }
        }
        if !how.input_grad {
            return;
        }
        self.dx.set_len(x.len());
        for ((x, g), d) in rows.zip(self.dx.as_mut_slice().chunks_exact_mut(N)) {
            for j in 0..N {
                // Keras differentiates relu(x) - alpha * relu(-x), and relu's slope at 0 is 0.
                let slope = if x[j] > 0.0 {
                    1.0
                } else if x[j] < 0.0 {
                    self.alpha[j]
                } else {
                    0.0
                };
                d[j] = slope * g[j];
            }
        }
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        v.param(
            "weight",
            Param {
                value: &mut self.alpha,
                grad: &mut self.alpha_grad,
                shape: &Self::SHAPE,
                trainable: self.trainable,
                l1: 0.0,
                l2: 0.0,
            },
        );
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        v.param(
            "weight",
            ParamRef {
                value: &self.alpha,
                grad: &self.alpha_grad,
                shape: &Self::SHAPE,
                trainable: self.trainable,
                l1: 0.0,
                l2: 0.0,
            },
        );
    }

    /// `PRelu` with one slope per unit.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let tensors = g.tensors_of(self);
        let Some((_, slope)) = tensors.first() else {
            return Err(g.error("a prelu without slopes"));
        };
        let x = g.current().to_string();
        g.node("PRelu", &[&x, slope], vec![]);
        Ok(())
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }

    fn output_activation(&self) -> Option<Activation> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance};
    use crate::layer::Mode;

    /// Inputs at least 0.1 away from the kink at 0, which central differences would straddle.
    fn away_from_zero<const N: usize>(rows: usize, seed: u64) -> Batch<N> {
        let mut x = random_batch::<N>(rows, seed);
        x.as_mut_slice().iter_mut().for_each(|v| *v += 0.1f32.copysign(*v));
        x
    }

    fn with_slopes(alpha: [f32; 5]) -> PRelu<5> {
        let mut p = PRelu::<5>::new();
        p.alpha.copy_from_slice(&alpha);
        p
    }

    #[test]
    fn prelu_input_and_slope_gradients_match_finite_differences() {
        let mut p = with_slopes([0.25, -0.3, 0.0, 1.5, 0.05]);
        for mode in [Mode::Train, Mode::Infer] {
            check(&mut p, &away_from_zero::<5>(6, 3), mode, Tolerance::default(), 100).unwrap();
        }
        // The fresh layer too: slopes 0 still get a gradient.
        check(&mut PRelu::<5>::new(), &away_from_zero::<5>(6, 4), Mode::Train, Tolerance::default(), 100)
            .unwrap();
    }

    #[test]
    fn keras_values_and_gradients_at_and_around_zero() {
        // Keras 3.15.1 (TensorFlow) with alpha 0.3 at x = [-1.5, 0, 2]: y = [-0.45, 0, 2],
        // dy/dx = [0.3, 0, 1], dy/dalpha = [-1.5, 0, 0].
        let mut p = PRelu::<3>::new();
        p.alpha.fill(0.3);
        let x = Batch::from_samples(&[-1.5, 0.0, 2.0]).unwrap();
        p.forward(&x, &mut Context::train(0));
        assert_eq!(p.output().as_slice(), &[-1.5 * 0.3, 0.0, 2.0]);
        p.backward(&x, &Batch::from_samples(&[1.0; 3]).unwrap(), Backward::FULL);
        assert_eq!(p.input_grad().as_slice(), &[0.3, 0.0, 1.0]);
        assert_eq!(p.alpha_grad, [-1.5, 0.0, 0.0]);
    }

    #[test]
    fn slopes_start_at_zero_under_pytorchs_name_and_freeze() {
        let mut p = PRelu::<4>::default();
        let mut seen = Vec::new();
        crate::tensors::for_each_tensor_ref(&p, |name, t| seen.push((name.to_string(), t.shape().to_vec())));
        assert_eq!(seen, [("weight".to_string(), vec![4])]);
        assert_eq!(p.alpha, [0.0; 4]);
        p.set_trainable(false);
        let x = away_from_zero::<4>(3, 1);
        p.forward(&x, &mut Context::train(0));
        p.backward(&x, &random_batch::<4>(3, 2), Backward::FULL);
        assert_eq!(p.alpha_grad, [0.0; 4]);
    }
}
