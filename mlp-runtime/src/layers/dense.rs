//! `dense(n, act)`: a fully connected layer with an optional fused activation.

use crate::activation::Activation;
use crate::batch::Batch;
use crate::init::Init;
use crate::kernel::{gemm, gemm_bias, gemm_finite, Mat};
use crate::layer::{Backward, Context, GradState, Layer, Param, ParamRef, Visitor, VisitorRef};
use crate::onnx::{OnnxAttr, OnnxError, OnnxGraph};
use crate::rng::Rng;
use alloc::{string::ToString, vec};
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
    /// Whether `weight_grad` is spent (the next backward pass overwrites it) or was found
    /// finite by the product that wrote it ([`Visitor::param_lazy`]).
    weight_grad_state: GradState,
    bias: Option<(DVector<f32>, DVector<f32>)>,
    activation: Activation,
    l1: f32,
    l2: f32,
    max_norm: Option<f32>,
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
            weight_grad_state: GradState::default(),
            bias: Some((DVector::zeros(O), DVector::zeros(O))),
            activation,
            l1: 0.0,
            l2: 0.0,
            max_norm: None,
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

    /// Keras' `kernel_constraint=max_norm(c)` (`MaxNorm(c, axis=0)`): after every optimizer
    /// step, each unit's incoming weight vector `w` (a row of [`Dense::weight`]) becomes
    /// `w * clip(|w|, 0, c) / (1e-7 + |w|)`, exactly Keras' formula: a row longer than `c`
    /// is scaled back to `c`, a shorter one by `|w| / (1e-7 + |w|)` (a rounding-level change,
    /// kept so results match Keras'). `c > 0`.
    #[must_use]
    pub fn with_max_norm(mut self, c: f32) -> Self {
        self.max_norm = Some(c);
        self
    }

    /// The max-norm limit on each unit's incoming weights, if any ([`Dense::with_max_norm`]).
    pub fn max_norm(&self) -> Option<f32> {
        self.max_norm
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

    fn forward(&mut self, x: &Batch<I>, ctx: &mut Context) {
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
            !ctx.training(),
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
            // dW^T (I×O) += x (I×n) · dz^T (n×O); `=` when the last step spent the
            // gradient: the product then neither reads it nor needs it zeroed first. It
            // also checks the result for NaN and infinity, so the update need not.
            let beta = if core::mem::take(&mut self.weight_grad_state.spent) { 0.0 } else { 1.0 };
            self.weight_grad_state.finite = gemm_finite(
                I,
                n,
                O,
                1.0,
                Mat::col_major(x.as_slice(), I),
                Mat::col_major_t(dz, O),
                beta,
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
        v.param_lazy(
            "weight",
            Param {
                value: self.weight.as_mut_slice(),
                grad: self.weight_grad.as_mut_slice(),
                shape: &Self::WEIGHT_SHAPE,
                trainable: self.trainable,
                l1: self.l1,
                l2: self.l2,
            },
            &mut self.weight_grad_state,
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

    /// `Gemm` with `transB = 1` (the weight stays `[out, in]`), then the activation.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let tensors = g.tensors_of(self);
        let find = |key: &str| tensors.iter().find(|(k, _)| *k == key).map(|(_, n)| n.as_str());
        let weight = find("weight").ok_or_else(|| g.error("a dense layer without a weight"))?;
        let x = g.current().to_string();
        let mut inputs = vec![x.as_str(), weight];
        inputs.extend(find("bias"));
        g.node("Gemm", &inputs, vec![("transB", OnnxAttr::Int(1))]);
        g.activation(self.activation);
        Ok(())
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }

    fn output_activation(&self) -> Option<Activation> {
        Some(self.activation)
    }

    fn apply_constraints(&mut self) {
        let Some(c) = self.max_norm else { return };
        // A frozen kernel is not updated, so Keras does not constrain it either.
        if !self.trainable || I == 0 {
            return;
        }
        // Each unit's incoming weights are one contiguous row of the [out, in] layout.
        for row in self.weight.as_mut_slice().chunks_exact_mut(I) {
            let norm = libm::sqrt(row.iter().map(|&w| f64::from(w) * f64::from(w)).sum::<f64>()) as f32;
            let s = norm.min(c) / (1e-7 + norm);
            row.iter_mut().for_each(|w| *w *= s);
        }
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

    /// Three units of four inputs: rows of norm 3.28 and 1.80 (over 1.5) and 0.55 (under).
    const ROWS: [f32; 12] = [0.7, -2.9, 1.3, 0.25, 0.1, 0.2, -0.3, 0.4, -1.2, 0.9, 0.8, -0.6];

    fn with_rows(rows: &[f32]) -> Dense<4, 3> {
        let mut d = Dense::<4, 3>::new(Activation::Linear, Init::Zeros, &mut crate::rng::seeded(0));
        d.weight.as_mut_slice().copy_from_slice(rows);
        d
    }

    #[test]
    fn max_norm_scales_rows_as_keras_does() {
        let mut d = with_rows(&ROWS).with_max_norm(1.5);
        assert_eq!(d.max_norm(), Some(1.5));
        d.apply_constraints();
        // keras.constraints.MaxNorm(1.5, axis=0) on the [in, out] transpose (Keras 3.15.1,
        // TensorFlow backend), read back as rows.
        let keras = [
            0.321_709_245_443_344_1,
            -1.332_795_500_755_31,
            0.597_459_971_904_754_6,
            0.114_896_155_893_802_64,
            -0.998_460_352_420_806_9,
            0.748_845_219_612_121_6,
            0.665_640_234_947_204_6,
            -0.499_230_176_210_403_44,
        ];
        let w = d.weight();
        let long = w[..4].iter().chain(&w[8..]);
        for (got, want) in long.zip(keras) {
            assert!((f64::from(*got) - want).abs() <= 1e-6 * want.abs(), "{got} vs {want}");
        }
        // A row under the limit is scaled by |w| / (1e-7 + |w|): Keras gives 0.09999998,
        // 0.19999996, -0.29999995, 0.39999992.
        let short = [0.099_999_98, 0.199_999_96, -0.299_999_95, 0.399_999_92];
        for (got, want) in w[4..8].iter().zip(short) {
            assert!((got - want).abs() <= 1e-7, "{got} vs {want}");
        }
        assert_ne!(w[4..8], ROWS[4..8], "Keras moves a short row by a rounding step too");
    }

    #[test]
    fn max_norm_leaves_a_frozen_kernel_and_an_unconstrained_one_alone() {
        let mut frozen = with_rows(&ROWS).with_max_norm(1.5);
        frozen.set_trainable(false);
        frozen.apply_constraints();
        assert_eq!(frozen.weight(), ROWS);
        let mut free = with_rows(&ROWS);
        free.apply_constraints();
        assert_eq!((free.max_norm(), free.weight()), (None, &ROWS[..]));
    }
}
