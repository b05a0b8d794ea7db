//! `layer_norm`: per-sample normalization with learned gamma and beta.

use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Param, ParamRef, Visitor, VisitorRef};
use crate::onnx::{OnnxAttr, OnnxError, OnnxGraph};
use alloc::{string::ToString, vec, vec::Vec};

/// Layer normalization: each sample is normalized over its `N` features, then scaled
/// by gamma and shifted by beta (Keras' epsilon 1e-3 by default).
///
/// ```
/// use mlp::prelude::*;
/// let mut ln = LayerNorm::<2>::new(1e-3);
/// ln.forward(&Batch::from_samples(&[1.0, 3.0]).unwrap(), &mut Context::infer());
/// let y = ln.output().as_slice();
/// assert!((y[0] + 1.0).abs() < 1e-3 && (y[1] - 1.0).abs() < 1e-3);
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm<const N: usize> {
    epsilon: f32,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    gamma_grad: Vec<f32>,
    beta_grad: Vec<f32>,
    trainable: bool,
    inv_std: Vec<f32>,
    xhat: Batch<N>,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> LayerNorm<N> {
    const SHAPE: [usize; 1] = [N];

    /// A layer norm with gamma 1 and beta 0.
    pub fn new(epsilon: f32) -> Self {
        LayerNorm {
            epsilon,
            gamma: vec![1.0; N],
            beta: vec![0.0; N],
            gamma_grad: vec![0.0; N],
            beta_grad: vec![0.0; N],
            trainable: true,
            inv_std: Vec::new(),
            xhat: Batch::zeros(0),
            out: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }
}

impl<const N: usize> Layer for LayerNorm<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, _ctx: &mut Context) {
        let n = x.len();
        self.inv_std.resize(n, 0.0);
        self.xhat.set_len(n);
        self.out.set_len(n);
        let rows = x.as_slice().chunks_exact(N).zip(self.xhat.as_mut_slice().chunks_exact_mut(N));
        for ((s, h), (o, inv)) in
            rows.zip(self.out.as_mut_slice().chunks_exact_mut(N).zip(self.inv_std.iter_mut()))
        {
            let mean = s.iter().sum::<f32>() / N as f32;
            let var = s.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / N as f32;
            *inv = 1.0 / libm::sqrtf(var + self.epsilon);
            for j in 0..N {
                h[j] = (s[j] - mean) * *inv;
                o[j] = self.gamma[j] * h[j] + self.beta[j];
            }
        }
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        let rows = || dy.as_slice().chunks_exact(N).zip(self.xhat.as_slice().chunks_exact(N));
        if self.trainable {
            for (g, h) in rows() {
                for j in 0..N {
                    self.gamma_grad[j] += g[j] * h[j];
                    self.beta_grad[j] += g[j];
                }
            }
        }
        if !how.input_grad {
            return;
        }
        self.dx.set_len(x.len());
        let per_sample = rows().zip(self.dx.as_mut_slice().chunks_exact_mut(N)).zip(&self.inv_std);
        for (((g, h), d), inv) in per_sample {
            // With dxhat = gamma * dy: dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
            let (mut m1, mut m2) = (0.0, 0.0);
            for j in 0..N {
                let dh = self.gamma[j] * g[j];
                m1 += dh;
                m2 += dh * h[j];
            }
            m1 /= N as f32;
            m2 /= N as f32;
            for j in 0..N {
                d[j] = inv * (self.gamma[j] * g[j] - m1 - h[j] * m2);
            }
        }
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        let trainable = self.trainable;
        let shape = &Self::SHAPE;
        v.param(
            "weight",
            Param { value: &mut self.gamma, grad: &mut self.gamma_grad, shape, trainable, l1: 0.0, l2: 0.0 },
        );
        v.param(
            "bias",
            Param { value: &mut self.beta, grad: &mut self.beta_grad, shape, trainable, l1: 0.0, l2: 0.0 },
        );
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        let trainable = self.trainable;
        let shape = &Self::SHAPE;
        v.param(
            "weight",
            ParamRef { value: &self.gamma, grad: &self.gamma_grad, shape, trainable, l1: 0.0, l2: 0.0 },
        );
        v.param(
            "bias",
            ParamRef { value: &self.beta, grad: &self.beta_grad, shape, trainable, l1: 0.0, l2: 0.0 },
        );
    }

    /// `LayerNormalization` over the last axis.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let tensors = g.tensors_of(self);
        let find = |key: &str| tensors.iter().find(|(k, _)| *k == key).map(|(_, n)| n.clone());
        let (Some(gamma), Some(beta)) = (find("weight"), find("bias")) else {
            return Err(g.error("a layer norm without weight and bias"));
        };
        let x = g.current().to_string();
        let attrs = vec![("axis", OnnxAttr::Int(-1)), ("epsilon", OnnxAttr::Float(self.epsilon))];
        g.node("LayerNormalization", &[&x, &gamma, &beta], attrs);
        Ok(())
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.trainable = trainable;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance};
    use crate::layer::Mode;
    use crate::tensors::collect;

    #[test]
    fn layer_norm_backward_matches() {
        let mut ln = LayerNorm::<5>::new(1e-3);
        let _ = collect(&mut ln, |p| p.value.iter_mut().enumerate().for_each(|(i, v)| *v += 0.2 * i as f32));
        check(&mut ln, &random_batch::<5>(4, 8), Mode::Train, Tolerance::default(), 100).unwrap();
    }
}
