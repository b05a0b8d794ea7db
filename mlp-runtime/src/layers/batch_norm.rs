//! `batch_norm`: batch statistics in training, moving averages at inference.

use crate::batch::Batch;
use crate::kernel::zip_columns;
use crate::layer::{Backward, Context, Layer, Param, ParamRef, Visitor, VisitorRef};
use crate::onnx::{OnnxAttr, OnnxData, OnnxError, OnnxGraph};
use alloc::{string::ToString, vec, vec::Vec};

/// Batch normalization over each feature, with Keras' defaults (momentum 0.99,
/// epsilon 1e-3) and Keras' update of the moving statistics
/// (`moving = momentum * moving + (1 - momentum) * batch`, biased batch variance).
///
/// A frozen batch norm (`set_trainable(false)`) runs in inference mode even while
/// training, as in Keras 3.
///
/// [`BatchNorm::without_center`] and [`BatchNorm::without_scale`] drop beta or gamma
/// (Keras' `center=False`, `scale=False`), as before a layer that shifts or scales anyway.
///
/// ```
/// use mlp::prelude::*;
/// let mut bn = BatchNorm::<2>::new(0.99, 1e-3);
/// let x = Batch::from_samples(&[1.0, 10.0, 3.0, 30.0]).unwrap();
/// bn.forward(&x, &mut Context::train(0));
/// let y = bn.output().as_slice();
/// assert!((y[0] + 1.0).abs() < 1e-3 && (y[2] - 1.0).abs() < 1e-3);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNorm<const N: usize> {
    momentum: f32,
    epsilon: f32,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    gamma_grad: Vec<f32>,
    beta_grad: Vec<f32>,
    // False without gamma or beta: the tensor is then neither visited nor learned and keeps
    // the neutral 1 or 0, so the arithmetic below stays the same for every combination.
    has_gamma: bool,
    has_beta: bool,
    running_mean: Vec<f32>,
    running_var: Vec<f32>,
    trainable: bool,
    // Per-feature scratch of the last forward pass.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    used_batch_stats: bool,
    // Whether `xhat` holds the last forward pass's normalized input: inference skips
    // writing it (no backward pass usually follows), and `backward` then rebuilds it.
    xhat_current: bool,
    // Inference's per-feature `gamma * inv_std` and `beta - mean * gamma * inv_std`.
    scale: Vec<f32>,
    shift: Vec<f32>,
    sum_dy: Vec<f32>,
    sum_dy_xhat: Vec<f32>,
    xhat: Batch<N>,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> BatchNorm<N> {
    const SHAPE: [usize; 1] = [N];

    /// A batch norm with gamma 1, beta 0, moving mean 0 and moving variance 1.
    pub fn new(momentum: f32, epsilon: f32) -> Self {
        BatchNorm {
            momentum,
            epsilon,
            gamma: vec![1.0; N],
            beta: vec![0.0; N],
            gamma_grad: vec![0.0; N],
            beta_grad: vec![0.0; N],
            has_gamma: true,
            has_beta: true,
            running_mean: vec![0.0; N],
            running_var: vec![1.0; N],
            trainable: true,
            mean: vec![0.0; N],
            inv_std: vec![0.0; N],
            used_batch_stats: false,
            xhat_current: false,
            scale: vec![0.0; N],
            shift: vec![0.0; N],
            sum_dy: vec![0.0; N],
            sum_dy_xhat: vec![0.0; N],
            xhat: Batch::zeros(0),
            out: Batch::zeros(0),
            dx: Batch::zeros(0),
        }
    }

    /// Keras' `center=False`: no learned shift beta (it stays 0), and no `bias` tensor in
    /// weight files or parameter counts.
    #[must_use]
    pub fn without_center(mut self) -> Self {
        self.has_beta = false;
        self.beta.fill(0.0);
        self
    }

    /// Keras' `scale=False`: no learned scale gamma (it stays 1), and no `weight` tensor in
    /// weight files or parameter counts.
    #[must_use]
    pub fn without_scale(mut self) -> Self {
        self.has_gamma = false;
        self.gamma.fill(1.0);
        self
    }

    /// `xhat = (x - mean) * inv_std` with the last forward pass's statistics, for a
    /// backward pass after an inference pass.
    fn normalize(&mut self, x: &Batch<N>) {
        self.xhat.set_len(x.len());
        for (s, h) in x.as_slice().chunks_exact(N).zip(self.xhat.as_mut_slice().chunks_exact_mut(N)) {
            for (((h, s), m), k) in h.iter_mut().zip(s).zip(&self.mean).zip(&self.inv_std) {
                *h = (s - m) * k;
            }
        }
        self.xhat_current = true;
    }

    /// The moving mean used at inference.
    pub fn running_mean(&self) -> &[f32] {
        &self.running_mean
    }

    /// The moving variance used at inference.
    pub fn running_var(&self) -> &[f32] {
        &self.running_var
    }
}

impl<const N: usize> Layer for BatchNorm<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, ctx: &mut Context) {
        let n = x.len();
        self.used_batch_stats = ctx.training() && self.trainable && n > 0;
        if self.used_batch_stats {
            self.mean.fill(0.0);
            for s in x.as_slice().chunks_exact(N) {
                self.mean.iter_mut().zip(s).for_each(|(m, v)| *m += v);
            }
            let inv_n = 1.0 / n as f32;
            self.mean.iter_mut().for_each(|m| *m *= inv_n);
            // Variance accumulated in inv_std, then inverted in place.
            self.inv_std.fill(0.0);
            for s in x.as_slice().chunks_exact(N) {
                for ((acc, v), m) in self.inv_std.iter_mut().zip(s).zip(&self.mean) {
                    *acc += (v - m) * (v - m);
                }
            }
            let keep = self.momentum;
            for j in 0..N {
                let var = self.inv_std[j] * inv_n;
                self.running_mean[j] = keep * self.running_mean[j] + (1.0 - keep) * self.mean[j];
                self.running_var[j] = keep * self.running_var[j] + (1.0 - keep) * var;
                self.inv_std[j] = 1.0 / libm::sqrtf(var + self.epsilon);
            }
        } else {
            self.mean.copy_from_slice(&self.running_mean);
            for (s, v) in self.inv_std.iter_mut().zip(&self.running_var) {
                *s = 1.0 / libm::sqrtf(v + self.epsilon);
            }
        }
        self.out.set_len(n);
        if !ctx.training() {
            // One pass, `x * scale + shift`: what inference needs, without `xhat`.
            for j in 0..N {
                self.scale[j] = self.gamma[j] * self.inv_std[j];
                self.shift[j] = self.beta[j] - self.mean[j] * self.scale[j];
            }
            let (scale, shift) = (&self.scale, &self.shift);
            zip_columns(N, [self.out.as_mut_slice()], [x.as_slice()], |[out], [x]| {
                for (s, o) in x.chunks_exact(N).zip(out.chunks_exact_mut(N)) {
                    for (((o, s), scale), shift) in o.iter_mut().zip(s).zip(scale).zip(shift) {
                        *o = s * scale + shift;
                    }
                }
            });
            self.xhat_current = false;
            return;
        }
        self.xhat.set_len(n);
        // Zipped, not indexed: indexing kept bounds checks in the loop and the compiler
        // from vectorizing it (a tenth of a batch-256 step of model B).
        let per_feature = self.mean.iter().zip(&self.inv_std).zip(self.gamma.iter().zip(&self.beta));
        let (hats, outs) = (self.xhat.as_mut_slice(), self.out.as_mut_slice());
        zip_columns(N, [hats, outs], [x.as_slice()], |[hats, outs], [x]| {
            let columns = x.chunks_exact(N).zip(hats.chunks_exact_mut(N)).zip(outs.chunks_exact_mut(N));
            for ((s, h), o) in columns {
                for (((h, o), s), ((m, k), (g, b))) in h.iter_mut().zip(o).zip(s).zip(per_feature.clone()) {
                    *h = (s - m) * k;
                    *o = g * *h + b;
                }
            }
        });
        self.xhat_current = true;
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        let n = x.len();
        if !self.xhat_current {
            self.normalize(x);
        }
        // Batch sums of dy and dy * xhat: the parameter gradients, and the two terms the
        // input gradient subtracts when the batch statistics depended on x.
        self.sum_dy.fill(0.0);
        self.sum_dy_xhat.fill(0.0);
        for (g, h) in dy.as_slice().chunks_exact(N).zip(self.xhat.as_slice().chunks_exact(N)) {
            for (((s, sx), g), h) in self.sum_dy.iter_mut().zip(self.sum_dy_xhat.iter_mut()).zip(g).zip(h) {
                *s += g;
                *sx += g * h;
            }
        }
        if self.trainable && self.has_gamma {
            self.gamma_grad.iter_mut().zip(&self.sum_dy_xhat).for_each(|(a, b)| *a += b);
        }
        if self.trainable && self.has_beta {
            self.beta_grad.iter_mut().zip(&self.sum_dy).for_each(|(a, b)| *a += b);
        }
        if !how.input_grad {
            return;
        }
        self.dx.set_len(n);
        let inv_n = 1.0 / n.max(1) as f32;
        let per_feature = self.gamma.iter().zip(&self.inv_std).zip(self.sum_dy.iter().zip(&self.sum_dy_xhat));
        let batch_stats = self.used_batch_stats;
        zip_columns(
            N,
            [self.dx.as_mut_slice()],
            [dy.as_slice(), self.xhat.as_slice()],
            |[dx], [dy, xhat]| {
                for ((g, h), d) in dy.chunks_exact(N).zip(xhat.chunks_exact(N)).zip(dx.chunks_exact_mut(N)) {
                    let each = d.iter_mut().zip(g).zip(h).zip(per_feature.clone());
                    if batch_stats {
                        for (((d, g), h), ((gamma, k), (s, sx))) in each {
                            *d = (gamma * k) * (g - inv_n * (s + h * sx));
                        }
                    } else {
                        each.for_each(|(((d, g), _), ((gamma, k), _))| *d = (gamma * k) * g);
                    }
                }
            },
        );
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        let trainable = self.trainable;
        let shape = &Self::SHAPE;
        if self.has_gamma {
            v.param(
                "weight",
                Param {
                    value: &mut self.gamma,
                    grad: &mut self.gamma_grad,
                    shape,
                    trainable,
                    l1: 0.0,
                    l2: 0.0,
                },
            );
        }
        if self.has_beta {
            v.param(
                "bias",
                Param {
                    value: &mut self.beta,
                    grad: &mut self.beta_grad,
                    shape,
                    trainable,
                    l1: 0.0,
                    l2: 0.0,
                },
            );
        }
        v.buffer("running_mean", &mut self.running_mean, shape);
        v.buffer("running_var", &mut self.running_var, shape);
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        let trainable = self.trainable;
        let shape = &Self::SHAPE;
        if self.has_gamma {
            v.param(
                "weight",
                ParamRef { value: &self.gamma, grad: &self.gamma_grad, shape, trainable, l1: 0.0, l2: 0.0 },
            );
        }
        if self.has_beta {
            v.param(
                "bias",
                ParamRef { value: &self.beta, grad: &self.beta_grad, shape, trainable, l1: 0.0, l2: 0.0 },
            );
        }
        v.buffer("running_mean", &self.running_mean, shape);
        v.buffer("running_var", &self.running_var, shape);
    }

    /// `BatchNormalization` in inference mode, with the running statistics; a batch norm
    /// without gamma or beta gets constant ones or zeros named as the missing tensor would be.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let tensors = g.tensors_of(self);
        let find = |key: &str| tensors.iter().find(|(k, _)| *k == key).map(|(_, n)| n.clone());
        let gamma =
            find("weight").unwrap_or_else(|| g.initializer("weight", &[N], OnnxData::F32(vec![1.0; N])));
        let beta = find("bias").unwrap_or_else(|| g.initializer("bias", &[N], OnnxData::F32(vec![0.0; N])));
        let (Some(mean), Some(var)) = (find("running_mean"), find("running_var")) else {
            return Err(g.error("a batch norm without running statistics"));
        };
        let x = g.current().to_string();
        g.node(
            "BatchNormalization",
            &[&x, &gamma, &beta, &mean, &var],
            vec![("epsilon", OnnxAttr::Float(self.epsilon))],
        );
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
    fn batch_norm_backward_matches_in_both_modes() {
        let mut bn = BatchNorm::<5>::new(0.9, 1e-3);
        // Non-trivial gamma and beta, and running statistics away from 0 and 1.
        let _ = collect(&mut bn, |p| p.value.iter_mut().enumerate().for_each(|(i, v)| *v += 0.1 * i as f32));
        check(&mut bn, &random_batch::<5>(6, 6), Mode::Train, Tolerance::default(), 100).unwrap();
        check(&mut bn, &random_batch::<5>(6, 7), Mode::Infer, Tolerance::default(), 100).unwrap();
        bn.set_trainable(false);
        check(&mut bn, &random_batch::<5>(6, 7), Mode::Train, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn without_center_or_scale_the_tensor_is_gone_and_gradients_still_match() {
        for (center, scale) in [(true, true), (false, true), (true, false), (false, false)] {
            let mut bn = BatchNorm::<5>::new(0.9, 1e-3);
            if !center {
                bn = bn.without_center();
            }
            if !scale {
                bn = bn.without_scale();
            }
            let mut names = Vec::new();
            crate::tensors::for_each_tensor_ref(&bn, |name, _| names.push(name.to_string()));
            let want: Vec<&str> =
                [(scale, "weight"), (center, "bias"), (true, "running_mean"), (true, "running_var")]
                    .into_iter()
                    .filter_map(|(present, name)| present.then_some(name))
                    .collect();
            assert_eq!(names, want);
            // Whatever is left learned moves away from 1 and 0, and a training pass moves the
            // running statistics away from 0 and 1 for the inference check.
            let _ =
                collect(&mut bn, |p| p.value.iter_mut().enumerate().for_each(|(i, v)| *v += 0.1 * i as f32));
            bn.forward(&random_batch::<5>(6, 8), &mut Context::train(0));
            let what = format!("center {center}, scale {scale}");
            check(&mut bn, &random_batch::<5>(6, 6), Mode::Train, Tolerance::default(), 100).expect(&what);
            check(&mut bn, &random_batch::<5>(6, 7), Mode::Infer, Tolerance::default(), 100).expect(&what);
            // The absent tensor keeps its neutral value: the output is the plain normalization
            // times gamma plus beta, with 1 or 0 in its place.
            let x = random_batch::<5>(4, 9);
            bn.forward(&x, &mut Context::train(0));
            let y = bn.output().as_slice().to_vec();
            bn.forward(&x, &mut Context::infer());
            let got_infer = bn.output().as_slice().to_vec();
            assert!(scale || bn.gamma.iter().all(|&g| g == 1.0), "{what}");
            assert!(center || bn.beta.iter().all(|&b| b == 0.0), "{what}");
            let n = 4.0;
            for j in 0..5 {
                let col: Vec<f32> = x.as_slice().iter().skip(j).step_by(5).copied().collect();
                let mean = col.iter().sum::<f32>() / n;
                let var = col.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
                for (i, v) in col.iter().enumerate() {
                    let want = bn.gamma[j] * (v - mean) / (var + 1e-3).sqrt() + bn.beta[j];
                    assert!((y[i * 5 + j] - want).abs() < 1e-5, "{what}: {} vs {want}", y[i * 5 + j]);
                    let (m, rv) = (bn.running_mean[j], bn.running_var[j]);
                    let want = bn.gamma[j] * (v - m) / (rv + 1e-3).sqrt() + bn.beta[j];
                    assert!(
                        (got_infer[i * 5 + j] - want).abs() < 1e-5,
                        "{what}: {} vs {want}",
                        got_infer[i * 5 + j]
                    );
                }
            }
        }
    }

    #[test]
    fn inference_uses_the_moving_statistics_in_one_pass() {
        let mut bn = BatchNorm::<2>::new(0.5, 0.0);
        // One training pass moves the statistics away from 0 and 1 (epsilon 0, so the
        // expected value below is exact).
        let x = Batch::from_samples(&[0.0, 0.0, 4.0, 8.0, 2.0, 4.0, -2.0, -4.0]).unwrap();
        bn.forward(&x, &mut Context::train(0));
        let (mean, var) = (bn.running_mean().to_vec(), bn.running_var().to_vec());
        bn.forward(&x, &mut Context::infer());
        for (s, got) in x.as_slice().chunks(2).zip(bn.output().as_slice().chunks(2)) {
            for j in 0..2 {
                let want = (s[j] - mean[j]) / var[j].sqrt();
                assert!((got[j] - want).abs() < 1e-6, "{} vs {want}", got[j]);
            }
        }
        // A backward pass after it rebuilds the normalized input it skipped: gamma's
        // gradient is the sum of xhat.
        bn.backward(
            &x,
            &Batch::from_samples(&[1.0; 8]).unwrap(),
            Backward { input_grad: false, fused_output: false },
        );
        let xhat_sum: Vec<f32> =
            (0..2).map(|j| x.as_slice().chunks(2).map(|s| (s[j] - mean[j]) / var[j].sqrt()).sum()).collect();
        assert!(
            bn.gamma_grad.iter().zip(&xhat_sum).all(|(g, w)| (g - w).abs() < 1e-5),
            "{:?}",
            bn.gamma_grad
        );
    }
}
