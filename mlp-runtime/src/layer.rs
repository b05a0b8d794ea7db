//! The `Layer` trait that every layer and every generated network implements.

use crate::batch::Batch;
use crate::onnx::{OnnxError, OnnxGraph};
use crate::rng::Rng;

/// Whether a forward pass trains (batch statistics, dropout on) or infers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: batch norm uses batch statistics and updates its moving averages,
    /// dropout drops.
    Train,
    /// Inference: batch norm uses its moving averages, dropout is the identity.
    Infer,
}

/// What a forward pass needs besides its input: the mode and the generator that
/// dropout draws from (owned here, so a checkpoint can save its state).
#[derive(Clone, Debug)]
pub struct Context {
    /// Training or inference.
    pub mode: Mode,
    /// Keep dropout active even in inference mode (Monte Carlo dropout).
    pub mc_dropout: bool,
    /// The generator dropout draws its masks from.
    pub rng: Rng,
}

impl Context {
    /// A training context whose dropout masks come from `seed`.
    pub fn train(seed: u64) -> Self {
        Context { mode: Mode::Train, mc_dropout: false, rng: crate::rng::seeded(seed) }
    }

    /// An inference context.
    pub fn infer() -> Self {
        Context { mode: Mode::Infer, mc_dropout: false, rng: crate::rng::seeded(0) }
    }

    /// True in training mode.
    pub fn training(&self) -> bool {
        self.mode == Mode::Train
    }
}

/// How a backward pass should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backward {
    /// Compute the gradient with respect to the input (false for the first layer,
    /// which saves its largest product).
    pub input_grad: bool,
    /// The incoming gradient is already taken with respect to the input of the
    /// network's final softmax or sigmoid (a loss fused with it), so that activation's
    /// derivative is skipped.
    pub fused_output: bool,
}

impl Backward {
    /// Input gradient wanted, nothing fused.
    pub const FULL: Backward = Backward { input_grad: true, fused_output: false };
}

/// A trainable tensor as a visitor sees it.
pub struct Param<'a> {
    /// Values, in PyTorch's layout (row-major over `shape`).
    pub value: &'a mut [f32],
    /// Gradient of the loss, same layout; backward passes add to it.
    pub grad: &'a mut [f32],
    /// PyTorch's shape: `[out, in]` for a dense weight, `[n]` for a bias or gamma.
    pub shape: &'a [usize],
    /// False when the layer is frozen: optimizers leave it alone.
    pub trainable: bool,
    /// Keras `l1` penalty on this tensor (0 unless it is a kernel with `l1 = ..`).
    pub l1: f32,
    /// Keras `l2` penalty on this tensor: the loss gains `l2 * sum(w^2)`.
    pub l2: f32,
}

impl core::fmt::Debug for Param<'_> {
    /// The shape and settings, not the (possibly millions of) values and gradients.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Param")
            .field("shape", &self.shape)
            .field("trainable", &self.trainable)
            .field("l1", &self.l1)
            .field("l2", &self.l2)
            .finish_non_exhaustive()
    }
}

/// What a layer knows of a tensor's gradient, kept beside it and offered to visitors with
/// the tensor by [`Visitor::param_lazy`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradState {
    /// An optimizer step used the gradient, which now stands for zeros: the layer's next
    /// backward pass overwrites it instead of adding to it.
    pub spent: bool,
    /// The backward pass that last wrote the whole gradient found every element finite,
    /// and nothing has changed it since.
    pub finite: bool,
}

/// A trainable tensor as a read-only visitor ([`VisitorRef`]) sees it: [`Param`] without `mut`.
#[derive(Clone, Copy, Debug)]
pub struct ParamRef<'a> {
    /// Values, in PyTorch's layout (row-major over `shape`).
    pub value: &'a [f32],
    /// Gradient of the loss, same layout. After an optimizer step and until the next
    /// backward pass, a spent gradient ([`GradState::spent`], a dense layer's kernel) shows
    /// here the values the step used rather than zeros (a [`Visitor`] sees zeros).
    pub grad: &'a [f32],
    /// PyTorch's shape: `[out, in]` for a dense weight, `[n]` for a bias or gamma.
    pub shape: &'a [usize],
    /// False when the layer is frozen: optimizers leave it alone.
    pub trainable: bool,
    /// Keras `l1` penalty on this tensor (0 unless it is a kernel with `l1 = ..`).
    pub l1: f32,
    /// Keras `l2` penalty on this tensor: the loss gains `l2 * sum(w^2)`.
    pub l2: f32,
}

/// Walks a layer's tensors, with write access ([`Layer::visit`]): optimizers, loading,
/// zeroing gradients. Names arrive one segment at a time: `enter("dense_0")`, then
/// `param("weight", ..)`, then `leave()`; a full key joins the open segments with `.`.
/// [`VisitorRef`] is the read-only counterpart.
pub trait Visitor {
    /// A named sub-layer begins.
    fn enter(&mut self, _name: &'static str) {}
    /// The last entered sub-layer ends.
    fn leave(&mut self) {}
    /// A trainable tensor (possibly frozen; see [`Param::trainable`]).
    fn param(&mut self, name: &'static str, p: Param<'_>);
    /// A trainable tensor with what its layer knows of its gradient ([`GradState`]): that
    /// it is spent (it stands for zeros, and the next backward pass overwrites it), or that
    /// the backward pass which wrote it found it finite.
    ///
    /// A layer may offer a tensor this way instead of through [`Visitor::param`] when its
    /// backward pass keeps the state (the dense layer does, for its kernel). The default
    /// makes a spent gradient real zeros and forgets that it was found finite (`param` may
    /// change it), then calls `param`: a visitor that only implements `param` sees what it
    /// always did. The trainer's update overrides it: it skips its own check of a gradient
    /// found finite, and after the optimizer step marks the gradient spent instead of
    /// writing zeros over it, so the next backward pass writes it without reading it.
    fn param_lazy(&mut self, name: &'static str, p: Param<'_>, state: &mut GradState) {
        if core::mem::take(&mut state.spent) {
            p.grad.fill(0.0);
        }
        state.finite = false;
        self.param(name, p)
    }
    /// A non-trainable tensor that is saved with the weights (batch norm's running statistics).
    fn buffer(&mut self, _name: &'static str, _value: &mut [f32], _shape: &[usize]) {}
}

/// Walks a layer's tensors without changing them ([`Layer::visit_ref`]): saving, reading a
/// tensor, counting parameters, all from a `&` reference. The same calls, in the same order,
/// as [`Visitor`].
pub trait VisitorRef {
    /// A named sub-layer begins.
    fn enter(&mut self, _name: &'static str) {}
    /// The last entered sub-layer ends.
    fn leave(&mut self) {}
    /// A trainable tensor (possibly frozen; see [`ParamRef::trainable`]).
    fn param(&mut self, name: &'static str, p: ParamRef<'_>);
    /// A non-trainable tensor that is saved with the weights (batch norm's running statistics).
    fn buffer(&mut self, _name: &'static str, _value: &[f32], _shape: &[usize]) {}
}

/// A layer from width `IN` to width `OUT`. Every generated network implements it, so a
/// network can be used as a layer of another.
///
/// Forward and backward write into buffers the layer owns and reuses, so a training step
/// allocates nothing once the batch size is settled.
pub trait Layer {
    /// Input width.
    const IN: usize;
    /// Output width.
    const OUT: usize;
    /// The dims of one input sample, as the network's first layer states them: `[28, 28]`
    /// for `flatten(28, 28)`, `[IN]` for `input(IN)` and for a layer that says nothing else.
    /// An exported ONNX model's input is `[batch, dims...]`.
    const INPUT_DIMS: &'static [usize] = &[Self::IN];
    /// Always `Batch<IN>`.
    type Input;
    /// Always `Batch<OUT>`.
    type Output;

    /// Runs the layer on `x`; the result is then available from [`Layer::output`].
    fn forward(&mut self, x: &Self::Input, ctx: &mut Context);

    /// The output of the last forward pass.
    fn output(&self) -> &Self::Output;

    /// Given the input of the last forward pass and the gradient of the loss with respect
    /// to its output, adds parameter gradients and (if asked) computes the input gradient.
    fn backward(&mut self, x: &Self::Input, dy: &Self::Output, how: Backward);

    /// The input gradient computed by the last backward pass.
    fn input_grad(&self) -> &Self::Input;

    /// Visits parameters and buffers, with write access.
    fn visit(&mut self, v: &mut dyn Visitor);

    /// Visits the same parameters and buffers as [`Layer::visit`], in the same order and
    /// under the same names, read-only. Saving and reading weights go through it, so a
    /// tensor it skips is missing from saved files: it has no default for that reason.
    ///
    /// A hand-written layer mirrors its `visit`:
    ///
    /// ```
    /// use mlp::prelude::*;
    ///
    /// /// `y = x * scale`, one learned scale per feature.
    /// struct Scale { scale: Vec<f32>, grad: Vec<f32>, out: Batch<2>, dx: Batch<2> }
    ///
    /// impl Layer for Scale {
    ///     const IN: usize = 2;
    ///     const OUT: usize = 2;
    ///     type Input = Batch<2>;
    ///     type Output = Batch<2>;
    ///     fn forward(&mut self, x: &Batch<2>, _: &mut Context) {
    ///         self.out.copy_from(x);
    ///         for y in self.out.as_mut_slice().chunks_exact_mut(2) {
    ///             y.iter_mut().zip(&self.scale).for_each(|(y, k)| *y *= k);
    ///         }
    ///     }
    ///     fn output(&self) -> &Batch<2> { &self.out }
    ///     fn backward(&mut self, x: &Batch<2>, dy: &Batch<2>, _: Backward) {
    ///         self.dx.copy_from(dy);
    ///         let rows = x.as_slice().chunks_exact(2).zip(self.dx.as_mut_slice().chunks_exact_mut(2));
    ///         for (x, d) in rows {
    ///             for j in 0..2 {
    ///                 self.grad[j] += x[j] * d[j];
    ///                 d[j] *= self.scale[j];
    ///             }
    ///         }
    ///     }
    ///     fn input_grad(&self) -> &Batch<2> { &self.dx }
    ///     fn visit(&mut self, v: &mut dyn Visitor) {
    ///         let (value, grad) = (&mut self.scale, &mut self.grad);
    ///         v.param("scale", Param { value, grad, shape: &[2], trainable: true, l1: 0.0, l2: 0.0 });
    ///     }
    ///     fn visit_ref(&self, v: &mut dyn VisitorRef) {
    ///         let (value, grad) = (&self.scale, &self.grad);
    ///         v.param("scale", ParamRef { value, grad, shape: &[2], trainable: true, l1: 0.0, l2: 0.0 });
    ///     }
    ///     fn set_trainable(&mut self, _: bool) {}
    /// }
    ///
    /// let s = Scale { scale: vec![2.0, 3.0], grad: vec![0.0; 2], out: Batch::zeros(0), dx: Batch::zeros(0) };
    /// assert_eq!(s.get_tensor("scale"), Some(vec![2.0, 3.0]));
    /// ```
    fn visit_ref(&self, v: &mut dyn VisitorRef);

    /// Freezes (`false`) or unfreezes the layer and everything in it, like Keras'
    /// `layer.trainable = False`. A frozen batch norm runs in inference mode.
    fn set_trainable(&mut self, trainable: bool);

    /// The final activation of this layer, if it ends in softmax or sigmoid a loss can fuse with.
    fn output_activation(&self) -> Option<crate::Activation> {
        None
    }

    /// Applies weight constraints (a dense layer's max-norm) to trainable tensors. Training
    /// calls it after every optimizer step, as Keras applies a `kernel_constraint` after each
    /// update; a layer holding others forwards it to each of them. The default does nothing.
    fn apply_constraints(&mut self) {}

    /// Describes the layer at inference as standard ONNX operators: reads
    /// [`OnnxGraph::current`], adds nodes and initializers (named by the weight-file keys,
    /// [`OnnxGraph::tensors_of`]), and leaves its output as the current value. The default is
    /// [`OnnxError::Unsupported`] naming the layer's type: a layer with no exact ONNX form is
    /// an error, never an approximation.
    fn describe_onnx(&self, g: &mut OnnxGraph) -> Result<(), OnnxError> {
        let _ = g;
        Err(OnnxError::Unsupported { layer: core::any::type_name::<Self>() })
    }
}

/// Layers and networks that can be built from a generator: initializers draw from it.
pub trait Build: Sized {
    /// Builds the layer, drawing initial weights from `rng`.
    fn build(rng: &mut Rng) -> Self;
}

/// What every `network!` type is beyond a layer: counts the macro computed at compile
/// time and a Keras-like summary.
pub trait Network: Layer + Build {
    /// The network's type name.
    const NAME: &'static str;
    /// Parameters as Keras counts them (batch norm's moving statistics included).
    const PARAMS: usize;
    /// Trainable parameters (batch norm's moving statistics excluded).
    const TRAINABLE_PARAMS: usize;
    /// One row per top-level layer: (name, kind, output width, parameters).
    const ROWS: &'static [crate::summary::Row];

    /// A Keras-like table of the layers and their parameter counts, from the compile-time
    /// constants: every parameter counts as trainable, whatever the network's value has frozen.
    /// [`Network::runtime_summary`] counts a value's frozen layers as non-trainable, as Keras does.
    fn summary() -> crate::summary::Summary {
        crate::summary::Summary::of::<Self>()
    }

    /// The summary of this value: like [`Network::summary`], but the trainable and
    /// non-trainable counts are taken from the network as it is now, so parameters of frozen
    /// layers ([`Layer::set_trainable`]) count as non-trainable, as in Keras' `model.summary()`.
    /// See [`Summary::of_value`](crate::summary::Summary::of_value).
    fn runtime_summary(&self) -> crate::summary::Summary {
        crate::summary::Summary::of_value(self)
    }
}

/// A layer whose input is `Batch<I>` and output `Batch<O>`: the bound generic code uses.
pub trait Net<const I: usize, const O: usize>: Layer<Input = Batch<I>, Output = Batch<O>> {}
impl<T, const I: usize, const O: usize> Net<I, O> for T where T: Layer<Input = Batch<I>, Output = Batch<O>> {}

/// Reinterprets a batch as a batch of the same width named by another const expression.
/// Generated code uses it where a sub-network's input width is only known to rustc: a
/// compile-time check beside each call guarantees `P == Q`, so the cast is the identity.
#[doc(hidden)]
#[inline(always)]
pub fn same_width<const P: usize, const Q: usize>(x: &Batch<P>) -> &Batch<Q> {
    const { assert!(P == Q) };
    // SAFETY: P == Q (checked at compile time), so Batch<P> and Batch<Q> are the same type.
    unsafe { &*(x as *const Batch<P>).cast::<Batch<Q>>() }
}
