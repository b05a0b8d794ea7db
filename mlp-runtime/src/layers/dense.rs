//! `dense(n, act)`: a fully connected layer with an optional fused activation.

use crate::activation::Activation;
use crate::batch::Batch;
use crate::init::Init;
use crate::kernel::{gemm, gemm_bias, Mat};
use crate::layer::{Backward, Context, Layer, Param, ParamRef, Visitor, VisitorRef};
use crate::rng::Rng;
use nalgebra::{Const, DVector, Dyn, OMatrix};

/// A fully connected layer from `I` to `O` features: `y = act(W x + b)`.
///
/// The kernel is stored as an `I × O` column-major matrix, which is PyTorch's `[out, in]`
/// row-major layout byte for byte, so weight files need no transposition.
///
/// ```
/// use mlp::prelude::*;
/// let mut rng = mlp::rng::seeded(0);
/// let mut d = Dense::<3, 2>::new(Activation::Relu, Init::GlorotUniform, &mut rng);
/// d.forward(&Batch::zeros(4), &mut Context::infer());
/// assert_eq!(d.output().len(), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Dense<const I: usize, const O: usize> {
    weight: OMatrix<f32, Const<I>, Dyn>,
    weight_grad: OMatrix<f32, Const<I>, Dyn>,
    bias: Option<(DVector<f32>, DVector<f32>)>,
    activation: Activation,
    l1: f32,
    l2: f32,
    trainable: bool,
    pre: Batch<O>,
    out: Batch<O>,
    dz: Batch<O>,
    dx: Batch<I>,
}

impl<const I: usize, const O: usize> Dense<I, O> {
    const WEIGHT_SHAPE: [usize; 2] = [O, I];
    const BIAS_SHAPE: [usize; 1] = [O];

    /// A layer with a bias of zeros and a kernel drawn by `init`.
    pub fn new(activation: Activation, init: Init, rng: &mut Rng) -> Self {
        let mut weight = OMatrix::<f32, Const<I>, Dyn>::zeros(O);
        init.fill(weight.as_mut_slice(), I, O, rng);
        Dense {
            weight,
            weight_grad: OMatrix::<f32, Const<I>, Dyn>::zeros(O),
            bias: Some((DVector::zeros(O), DVector::zeros(O))),
            activation,
            l1: 0.0,
            l2: 0.0,
            trainable: true,
            pre: Batch::zeros(0),
            out: Batch::zeros(0),
            dz: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }

    /// Drops the bias (`bias = false`).
    #[must_use]
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// Keras' `kernel_regularizer=l1(l1)`: the loss gains `l1 * sum(|w|)`.
    #[must_use]
    pub fn with_l1(mut self, l1: f32) -> Self {
        self.l1 = l1;
        self
    }

    /// Keras' `kernel_regularizer=l2(l2)`: the loss gains `l2 * sum(w^2)`.
    #[must_use]
    pub fn with_l2(mut self, l2: f32) -> Self {
        self.l2 = l2;
        self
    }

    /// The kernel in PyTorch's `[out, in]` row-major layout.
    pub fn weight(&self) -> &[f32] {
        self.weight.as_slice()
    }

    /// The bias, if the layer has one.
    pub fn bias(&self) -> Option<&[f32]> {
        self.bias.as_ref().map(|(b, _)| b.as_slice())
    }

    /// The input gradient buffer, for a residual unit that adds its body's gradient into it.
    pub(crate) fn input_grad_mut(&mut self) -> &mut Batch<I> {
        &mut self.dx
    }

    /// The activation applied after the product.
    pub fn activation(&self) -> Activation {
        self.activation
    }
}

impl<const I: usize, const O: usize> Layer for Dense<I, O> {
    const IN: usize = I;
    const OUT: usize = O;
    type Input = Batch<I>;
    type Output = Batch<O>;

    fn forward(&mut self, x: &Batch<I>, _ctx: &mut Context) {
        let n = x.len();
        self.out.set_len(n);
        // y (O×n) = W (O×I) · x (I×n) + b, then the activation; W is the transpose of the
        // stored I×O matrix. The kernel adds the bias and applies ReLU as it writes y.
        let relu = self.activation == Activation::Relu;
        gemm_bias(
            O,
            I,
            n,
            Mat::col_major_t(self.weight.as_slice(), I),
            Mat::col_major(x.as_slice(), I),
            self.bias.as_ref().map(|(b, _)| b.as_slice()),
            relu,
            self.out.as_mut_slice(),
        );
        if self.activation.needs_input() {
            self.pre.copy_from(&self.out);
        }
        if !relu {
            self.activation.forward(self.out.as_mut_slice(), O);
        }
    }

    fn output(&self) -> &Batch<O> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<I>, dy: &Batch<O>, how: Backward) {
        let n = x.len();
        let dz: &[f32] = if how.fused_output || self.activation == Activation::Linear {
            dy.as_slice()
        } else {
            self.dz.set_len(n);
            self.activation.backward(
                self.pre.as_slice(),
                self.out.as_slice(),
                dy.as_slice(),
                self.dz.as_mut_slice(),
                O,
            );
            self.dz.as_slice()
        };
        if self.trainable {
            // dW^T (I×O) += x (I×n) · dz^T (n×O)
            gemm(
                I,
                n,
                O,
                1.0,
                Mat::col_major(x.as_slice(), I),
                Mat::col_major_t(dz, O),
                1.0,
                self.weight_grad.as_mut_slice(),
            );
            if let Some((_, db)) = &mut self.bias {
                let db = db.as_mut_slice();
                for col in dz.chunks_exact(O) {
                    db.iter_mut().zip(col).for_each(|(g, d)| *g += d);
                }
            }
        }
        if how.input_grad {
            self.dx.set_len(n);
            // dx (I×n) = W^T (I×O) · dz (O×n)
            gemm(
                I,
                O,
                n,
                1.0,
                Mat::col_major(self.weight.as_slice(), I),
                Mat::col_major(dz, O),
                0.0,
                self.dx.as_mut_slice(),
            );
        }
    }

    fn input_grad(&self) -> &Batch<I> {
        &self.dx
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        v.param(
            "weight",
            Param {
                value: self.weight.as_mut_slice(),
                grad: self.weight_grad.as_mut_slice(),
                shape: &Self::WEIGHT_SHAPE,
                trainable: self.trainable,
                l1: self.l1,
                l2: self.l2,
            },
        );
        if let Some((b, db)) = &mut self.bias {
            v.param(
                "bias",
                Param {
                    value: b.as_mut_slice(),
                    grad: db.as_mut_slice(),
                    shape: &Self::BIAS_SHAPE,
                    trainable: self.trainable,
                    l1: 0.0,
                    l2: 0.0,
                },
            );
        }
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        v.param(
            "weight",
            ParamRef {
                value: self.weight.as_slice(),
                grad: self.weight_grad.as_slice(),
                shape: &Self::WEIGHT_SHAPE,
                trainable: self.trainable,
                l1: self.l1,
                l2: self.l2,
            },
        );
        if let Some((b, db)) = &self.bias {
            v.param(
                "bias",
                ParamRef {
                    value: b.as_slice(),
                    grad: db.as_slice(),
                    shape: &Self::BIAS_SHAPE,
                    trainable: self.trainable,
                    l1: 0.0,
                    l2: 0.0,
                },
            );
        }
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }

    fn output_activation(&self) -> Option<Activation> {
        Some(self.activation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance, EVERY_ACTIVATION};
    use crate::layer::Mode;

    #[test]
    fn dense_backward_matches_finite_differences_for_every_activation() {
        for act in EVERY_ACTIVATION {
            let mut layer = Dense::<6, 4>::new(act, Init::GlorotUniform, &mut crate::rng::seeded(3));
            let tol = Tolerance { eps: 1e-3, ..Default::default() };
            check(&mut layer, &random_batch::<6>(3, 2), Mode::Train, tol, 100)
                .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
        // Large enough for the matrixmultiply path, without bias.
        let mut layer =
            Dense::<40, 30>::new(Activation::Tanh, Init::HeNormal, &mut crate::rng::seeded(4)).without_bias();
        check(&mut layer, &random_batch::<40>(20, 5), Mode::Train, Tolerance::default(), 50).unwrap();
    }
}
