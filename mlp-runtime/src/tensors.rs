//! Tensors by their full names (`residual_0.dense_1.weight`), as weight files key them.

use crate::layer::{Layer, Param, ParamRef, Visitor, VisitorRef};

/// A tensor a network holds, as seen by [`for_each_tensor`].
pub enum Tensor<'a> {
    /// A trainable tensor (possibly frozen).
    Param(Param<'a>),
    /// A non-trainable buffer (batch norm's running statistics).
    Buffer {
        /// The values.
        value: &'a mut [f32],
        /// PyTorch's shape.
        shape: &'a [usize],
    },
}

impl Tensor<'_> {
    /// The values.
    pub fn value(&mut self) -> &mut [f32] {
        match self {
            Tensor::Param(p) => p.value,
            Tensor::Buffer { value, .. } => value,
        }
    }

    /// PyTorch's shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::Param(p) => p.shape,
            Tensor::Buffer { shape, .. } => shape,
        }
    }
}

/// A tensor a network holds, as seen by [`for_each_tensor_ref`]: [`Tensor`] without `mut`.
#[derive(Clone, Copy, Debug)]
pub enum TensorRef<'a> {
    /// A trainable tensor (possibly frozen).
    Param(ParamRef<'a>),
    /// A non-trainable buffer (batch norm's running statistics).
    Buffer {
        /// The values.
        value: &'a [f32],
        /// PyTorch's shape.
        shape: &'a [usize],
    },
}

impl<'a> TensorRef<'a> {
    /// The values.
    pub fn value(&self) -> &'a [f32] {
        match self {
            TensorRef::Param(p) => p.value,
            TensorRef::Buffer { value, .. } => value,
        }
    }

    /// PyTorch's shape.
    pub fn shape(&self) -> &'a [usize] {
        match self {
            TensorRef::Param(p) => p.shape,
            TensorRef::Buffer { shape, .. } => shape,
        }
    }

    /// Whether an optimizer updates it: a parameter of a layer that is not frozen.
    pub fn trainable(&self) -> bool {
        matches!(self, TensorRef::Param(p) if p.trainable)
    }
}

/// The full name of the tensor being visited: the open `enter` segments, joined with `.`.
struct Names<F> {
    prefix: String,
    marks: Vec<usize>,
    f: F,
}

impl<F> Names<F> {
    fn new(f: F) -> Self {
        Names { prefix: String::new(), marks: Vec::new(), f }
    }

    fn open(&mut self, name: &str) {
        self.marks.push(self.prefix.len());
        self.prefix.push_str(name);
        self.prefix.push('.');
    }

    fn close(&mut self) {
        if let Some(len) = self.marks.pop() {
            self.prefix.truncate(len);
        }
    }

    /// Calls `call` with the full name of `name` and the callback.
    fn named(&mut self, name: &str, call: impl FnOnce(&str, &mut F)) {
        let len = self.prefix.len();
        self.prefix.push_str(name);
        call(&self.prefix, &mut self.f);
        self.prefix.truncate(len);
    }
}

impl<F: FnMut(&str, Tensor<'_>)> Visitor for Names<F> {
    fn enter(&mut self, name: &'static str) {
        self.open(name);
    }
    fn leave(&mut self) {
        self.close();
    }
    fn param(&mut self, name: &'static str, p: Param<'_>) {
        self.named(name, |n, f| f(n, Tensor::Param(p)));
    }
    fn buffer(&mut self, name: &'static str, value: &mut [f32], shape: &[usize]) {
        self.named(name, |n, f| f(n, Tensor::Buffer { value, shape }));
    }
}

impl<F: FnMut(&str, TensorRef<'_>)> VisitorRef for Names<F> {
    fn enter(&mut self, name: &'static str) {
        self.open(name);
    }
    fn leave(&mut self) {
        self.close();
    }
    fn param(&mut self, name: &'static str, p: ParamRef<'_>) {
        self.named(name, |n, f| f(n, TensorRef::Param(p)));
    }
    fn buffer(&mut self, name: &'static str, value: &[f32], shape: &[usize]) {
        self.named(name, |n, f| f(n, TensorRef::Buffer { value, shape }));
    }
}

/// Calls `f` with the full name and the tensor, for every tensor of `layer` in visit order,
/// with write access. [`for_each_tensor_ref`] only reads, from a `&` reference.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(4, relu); residual< dense(4) >; batch_norm; dense(2) > }
/// let mut net = Net::seeded(0);
/// mlp::tensors::for_each_tensor(&mut net, |_, mut t| t.value().fill(0.5));
/// assert_eq!(net.get_tensor("dense_1.bias"), Some(vec![0.5, 0.5]));
/// ```
pub fn for_each_tensor<L: Layer + ?Sized>(layer: &mut L, f: impl FnMut(&str, Tensor<'_>)) {
    layer.visit(&mut Names::new(f));
}

/// Calls `f` with the full name and the tensor, for every tensor of `layer` in visit order
/// (the order of [`for_each_tensor`] and of saved files), read-only.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(4, relu); residual< dense(4) >; batch_norm; dense(2) > }
/// let net = Net::seeded(0);
/// let mut names = Vec::new();
/// mlp::tensors::for_each_tensor_ref(&net, |name, _| names.push(name.to_string()));
/// assert_eq!(names, ["dense_0.weight", "dense_0.bias", "residual_0.dense_0.weight", "residual_0.dense_0.bias",
///     "batch_norm_0.weight", "batch_norm_0.bias", "batch_norm_0.running_mean", "batch_norm_0.running_var",
///     "dense_1.weight", "dense_1.bias"]);
/// ```
pub fn for_each_tensor_ref<L: Layer + ?Sized>(layer: &L, f: impl FnMut(&str, TensorRef<'_>)) {
    layer.visit_ref(&mut Names::new(f));
}

/// Sets every parameter gradient to zero.
pub fn zero_grads<L: Layer + ?Sized>(layer: &mut L) {
    struct Zero;
    impl Visitor for Zero {
        fn param(&mut self, _: &'static str, p: Param<'_>) {
            p.grad.fill(0.0);
        }
    }
    layer.visit(&mut Zero);
}

/// Applies `f` to every parameter in visit order and collects the results.
pub fn collect<L: Layer + ?Sized, T>(layer: &mut L, f: impl FnMut(Param<'_>) -> T) -> Vec<T> {
    struct Collect<F, T>(F, Vec<T>);
    impl<F: FnMut(Param<'_>) -> T, T> Visitor for Collect<F, T> {
        fn param(&mut self, _: &'static str, p: Param<'_>) {
            let v = (self.0)(p);
            self.1.push(v);
        }
    }
    let mut c = Collect(f, Vec::new());
    layer.visit(&mut c);
    c.1
}

/// A copy of every tensor's values (parameters and buffers), in visit order.
pub fn snapshot<L: Layer + ?Sized>(layer: &L) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    for_each_tensor_ref(layer, |_, t| out.push(t.value().to_vec()));
    out
}

/// Puts back values taken by [`snapshot`] (of a network of the same type).
pub fn restore<L: Layer + ?Sized>(layer: &mut L, saved: &[Vec<f32>]) {
    let mut i = 0;
    for_each_tensor(layer, |_, mut t| {
        if let Some(v) = saved.get(i) {
            t.value().copy_from_slice(v);
        }
        i += 1;
    });
}
