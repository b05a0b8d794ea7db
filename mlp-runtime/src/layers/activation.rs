//! A standalone activation layer (`relu;`, `softmax;`, ...).

use crate::activation::Activation;
use crate::batch::Batch;
use crate::layer::{Backward, Context, Layer, Visitor, VisitorRef};
use crate::onnx::{OnnxError, OnnxGraph};

/// An activation applied on its own, between other layers.
///
/// ```
/// use mlp::prelude::*;
/// let mut a = ActivationLayer::<2>::new(Activation::Relu);
/// a.forward(&Batch::from_samples(&[-1.0, 2.0]).unwrap(), &mut Context::infer());
/// assert_eq!(a.output().as_slice(), &[0.0, 2.0]);
/// ```
#[derive(Clone, Debug)]
pub struct ActivationLayer<const N: usize> {
    activation: Activation,
    out: Batch<N>,
    dx: Batch<N>,
}

impl<const N: usize> ActivationLayer<N> {
    /// The layer applying `activation`.
    pub fn new(activation: Activation) -> Self {
        ActivationLayer { activation, out: Batch::zeros(0), dx: Batch::zeros(0) }
    }
}

impl<const N: usize> Layer for ActivationLayer<N> {
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, _ctx: &mut Context) {
        self.out.copy_from(x);
        self.activation.forward(self.out.as_mut_slice(), N);
    }

    fn output(&self) -> &Batch<N> {
        &self.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        if !how.input_grad {
            return;
        }
        self.dx.set_len(x.len());
        if how.fused_output {
            self.dx.copy_from(dy);
        } else {
            self.activation.backward(
                x.as_slice(),
                self.out.as_slice(),
                dy.as_slice(),
                self.dx.as_mut_slice(),
                N,
            );
        }
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.dx
    }

    fn visit(&mut self, _v: &mut dyn Visitor) {}

    fn visit_ref(&self, _v: &mut dyn VisitorRef) {}

    fn set_trainable(&mut self, _trainable: bool) {}

    fn output_activation(&self) -> Option<Activation> {
        Some(self.activation)
    }

    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        g.activation(self.activation);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance, EVERY_ACTIVATION};
    use crate::layer::Mode;

    #[test]
    fn every_activation_backward_matches_finite_differences() {
        for act in EVERY_ACTIVATION {
            let mut layer = ActivationLayer::<5>::new(act);
            let tol = Tolerance { eps: 1e-3, ..Default::default() };
            check(&mut layer, &random_batch::<5>(4, 1), Mode::Train, tol, 100)
                .unwrap_or_else(|e| panic!("{act:?}: {e}"));
        }
    }
}
