//! Tensors by their full names (`residual_0.dense_1.weight`), as weight files key them.

use crate::layer::{Layer, Param, Visitor};

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

/// Calls `f` with the full name and the tensor, for every tensor of `layer` in visit order.
///
/// ```
/// use mlp::prelude::*;
/// network! { Net< input(3); dense(4, relu); residual< dense(4) >; batch_norm; dense(2) > }
/// let mut names = Vec::new();
/// mlp::tensors::for_each_tensor(&mut Net::seeded(0), |name, _| names.push(name.to_string()));
/// assert_eq!(names, ["dense_0.weight", "dense_0.bias", "residual_0.dense_0.weight", "residual_0.dense_0.bias",
///     "batch_norm_0.weight", "batch_norm_0.bias", "batch_norm_0.running_mean", "batch_norm_0.running_var",
///     "dense_1.weight", "dense_1.bias"]);
/// ```
pub fn for_each_tensor<L: Layer + ?Sized>(layer: &mut L, f: impl FnMut(&str, Tensor<'_>)) {
    struct Named<F> {
        prefix: String,
        marks: Vec<usize>,
        f: F,
    }
    impl<F: FnMut(&str, Tensor<'_>)> Named<F> {
        fn call(&mut self, name: &str, t: Tensor<'_>) {
            let len = self.prefix.len();
            self.prefix.push_str(name);
            (self.f)(&self.prefix, t);
            self.prefix.truncate(len);
        }
    }
    impl<F: FnMut(&str, Tensor<'_>)> Visitor for Named<F> {
        fn enter(&mut self, name: &'static str) {
            self.marks.push(self.prefix.len());
            self.prefix.push_str(name);
            self.prefix.push('.');
        }
        fn leave(&mut self) {
            if let Some(len) = self.marks.pop() {
                self.prefix.truncate(len);
            }
        }
        fn param(&mut self, name: &'static str, p: Param<'_>) {
            self.call(name, Tensor::Param(p));
        }
        fn buffer(&mut self, name: &'static str, value: &mut [f32], shape: &[usize]) {
            self.call(name, Tensor::Buffer { value, shape });
        }
    }
    layer.visit(&mut Named { prefix: String::new(), marks: Vec::new(), f });
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
pub fn snapshot<L: Layer + ?Sized>(layer: &mut L) -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    for_each_tensor(layer, |_, mut t| out.push(t.value().to_vec()));
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
