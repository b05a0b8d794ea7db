//! `residual<...>` and `residual(project)<...>`: `act(f(x) + skip(x))`.

use crate::activation::Activation;
use crate::batch::Batch;
use crate::init::Init;
use crate::layer::{Backward, Context, Layer, Visitor, VisitorRef};
use crate::layers::Dense;
use crate::onnx::{OnnxError, OnnxGraph};
use crate::rng::Rng;
use alloc::{string::ToString, vec};

/// A residual unit `act(f(x) + x)` around a body `B` from width `N` to width `N`
/// (Géron's ResidualUnit with `act` after the add). The body is a network the macro
/// generates from the block's layers, so its names are scoped to the block.
#[derive(Clone, Debug)]
pub struct Residual<B, const N: usize> {
    body: B,
    join: Join<N>,
}

/// A residual unit `act(f(x) + P x)` whose skip is a learned linear projection `P`
/// (no bias), for a body that changes the width from `N` to `M`.
#[derive(Clone, Debug)]
pub struct ProjectedResidual<B, const N: usize, const M: usize> {
    body: B,
    projection: Dense<N, M>,
    join: Join<M>,
}

/// The add and the activation after it, shared by both residual kinds.
#[derive(Clone, Debug)]
struct Join<const M: usize> {
    activation: Activation,
    pre: Batch<M>,
    out: Batch<M>,
    dz: Batch<M>,
}

impl<const M: usize> Join<M> {
    fn new(activation: Activation) -> Self {
        Join { activation, pre: Batch::zeros(0), out: Batch::zeros(0), dz: Batch::zeros(0) }
    }

    /// out = act(a + b)
    fn forward(&mut self, a: &Batch<M>, b: &Batch<M>) {
        self.out.copy_from(a);
        self.out.as_mut_slice().iter_mut().zip(b.as_slice()).for_each(|(o, v)| *o += v);
        if self.activation.needs_input() {
            self.pre.copy_from(&self.out);
        }
        self.activation.forward(self.out.as_mut_slice(), M);
    }

    /// The gradient with respect to the sum, into `self.dz`.
    fn backward(&mut self, dy: &Batch<M>, how: Backward) {
        if how.fused_output || self.activation == Activation::Linear {
            self.dz.copy_from(dy);
        } else {
            self.dz.set_len(dy.len());
            self.activation.backward(
                self.pre.as_slice(),
                self.out.as_slice(),
                dy.as_slice(),
                self.dz.as_mut_slice(),
                M,
            );
        }
    }
}

/// The backward a body runs inside a residual: nothing is fused past the add.
fn inner(how: Backward) -> Backward {
    Backward { input_grad: how.input_grad, fused_output: false }
}

impl<B, const N: usize> Residual<B, N>
where
    B: Layer<Input = Batch<N>, Output = Batch<N>>,
{
    /// A residual unit around `body`, with `activation` after the add.
    pub fn new(body: B, activation: Activation) -> Self {
        Residual { body, join: Join::new(activation) }
    }

    /// The block's layers.
    pub fn body(&self) -> &B {
        &self.body
    }

    /// The block's layers, mutably (to freeze part of it, say).
    pub fn body_mut(&mut self) -> &mut B {
        &mut self.body
    }
}

impl<B, const N: usize> Layer for Residual<B, N>
where
    B: Layer<Input = Batch<N>, Output = Batch<N>>,
{
    const IN: usize = N;
    const OUT: usize = N;
    type Input = Batch<N>;
    type Output = Batch<N>;

    fn forward(&mut self, x: &Batch<N>, ctx: &mut Context) {
        self.body.forward(x, ctx);
        self.join.forward(self.body.output(), x);
    }

    fn output(&self) -> &Batch<N> {
        &self.join.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<N>, how: Backward) {
        self.join.backward(dy, how);
        self.body.backward(x, &self.join.dz, inner(how));
        if how.input_grad {
            // dx = the body's input gradient + the skip's (the identity), added in place
            // now that the body is done reading dz.
            let dx = self.join.dz.as_mut_slice();
            dx.iter_mut().zip(self.body.input_grad().as_slice()).for_each(|(d, b)| *d += b);
        }
    }

    fn input_grad(&self) -> &Batch<N> {
        &self.join.dz
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        self.body.visit(v);
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        self.body.visit_ref(v);
    }

    /// The body, `Add` with the input, then the activation.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let x = g.current().to_string();
        self.body.describe_onnx(g)?;
        let y = g.current().to_string();
        g.node("Add", &[&y, &x], vec![]);
        g.activation(self.join.activation);
        Ok(())
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.body.set_trainable(trainable);
    }

    fn apply_constraints(&mut self) {
        self.body.apply_constraints();
    }

    fn output_activation(&self) -> Option<Activation> {
        Some(self.join.activation)
    }
}

impl<B, const N: usize, const M: usize> ProjectedResidual<B, N, M>
where
    B: Layer<Input = Batch<N>, Output = Batch<M>>,
{
    /// A residual unit around `body` whose skip is a projection drawn from `rng`
    /// (Glorot uniform, like a dense kernel).
    pub fn new(body: B, activation: Activation, rng: &mut Rng) -> Self {
        let projection = Dense::new(Activation::Linear, Init::GlorotUniform, rng).without_bias();
        ProjectedResidual { body, projection, join: Join::new(activation) }
    }
}

impl<B, const N: usize, const M: usize> Layer for ProjectedResidual<B, N, M>
where
    B: Layer<Input = Batch<N>, Output = Batch<M>>,
{
    const IN: usize = N;
    const OUT: usize = M;
    type Input = Batch<N>;
    type Output = Batch<M>;

    fn forward(&mut self, x: &Batch<N>, ctx: &mut Context) {
        self.body.forward(x, ctx);
        self.projection.forward(x, ctx);
        self.join.forward(self.body.output(), self.projection.output());
    }

    fn output(&self) -> &Batch<M> {
        &self.join.out
    }

    fn backward(&mut self, x: &Batch<N>, dy: &Batch<M>, how: Backward) {
        self.join.backward(dy, how);
        self.body.backward(x, &self.join.dz, inner(how));
        self.projection.backward(x, &self.join.dz, inner(how));
        if how.input_grad {
            let dx = self.projection.input_grad_mut().as_mut_slice();
            dx.iter_mut().zip(self.body.input_grad().as_slice()).for_each(|(d, b)| *d += b);
        }
    }

    /// Input gradient: the body's plus the projection's. The projection's buffer is
    /// returned after the body's has been added into it in `backward`.
    fn input_grad(&self) -> &Batch<N> {
        self.projection.input_grad()
    }

    fn visit(&mut self, v: &mut dyn Visitor) {
        self.body.visit(v);
        v.enter("projection");
        self.projection.visit(v);
        v.leave();
    }

    fn visit_ref(&self, v: &mut dyn VisitorRef) {
        self.body.visit_ref(v);
        v.enter("projection");
        self.projection.visit_ref(v);
        v.leave();
    }

    /// The body, the projection as `Gemm` (`transB = 1`, no bias) under `projection`, `Add`,
    /// then the activation.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let x = g.current().to_string();
        self.body.describe_onnx(g)?;
        let y = g.current().to_string();
        g.set_current(x);
        g.scoped_layer("projection", &self.projection)?;
        let p = g.current().to_string();
        g.node("Add", &[&y, &p], vec![]);
        g.activation(self.join.activation);
        Ok(())
    }

    fn set_trainable(&mut self, trainable: bool) {
        self.body.set_trainable(trainable);
        self.projection.set_trainable(trainable);
    }

    fn apply_constraints(&mut self) {
        self.body.apply_constraints();
        self.projection.apply_constraints();
    }

    fn output_activation(&self) -> Option<Activation> {
        Some(self.join.activation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{check, random_batch, Tolerance};
    use crate::layer::Mode;

    #[test]
    fn residual_backward_matches_through_the_skip_and_the_body() {
        let rng = &mut crate::rng::seeded(5);
        let mut r = Residual::<_, 4>::new(
            Dense::<4, 4>::new(Activation::Tanh, Init::GlorotUniform, rng),
            Activation::Relu,
        );
        check(&mut r, &random_batch::<4>(3, 1), Mode::Train, Tolerance::default(), 100).unwrap();
    }

    #[test]
    fn projected_residual_backward_matches_through_the_projection() {
        let rng = &mut crate::rng::seeded(6);
        let body = Dense::<4, 3>::new(Activation::Linear, Init::GlorotUniform, rng);
        let mut r = ProjectedResidual::<_, 4, 3>::new(body, Activation::Tanh, rng);
        check(&mut r, &random_batch::<4>(3, 2), Mode::Train, Tolerance::default(), 100).unwrap();
    }
}
