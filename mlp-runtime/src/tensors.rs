//! Tensors by their full names (`residual_0.dense_1.weight`), as weight files key them.

use crate::layer::{Layer, Param, ParamRef, Visitor, VisitorRef};
use alloc::{borrow::ToOwned, string::String, vec::Vec};

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

impl core::fmt::Debug for Tensor<'_> {
    /// The kind and shape, not the values.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Tensor::Param(p) => p.fmt(f),
            Tensor::Buffer { shape, .. } => {
                f.debug_struct("Buffer").field("shape", shape).finish_non_exhaustive()
            }
        }
    }
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

/// The full name of the `index`-th parameter in visit order, counting parameters only (as
/// [`collect`] and the optimizers' slots do), for errors that name a tensor.
#[cfg(feature = "std")]
pub(crate) fn param_name<L: Layer + ?Sized>(layer: &L, index: usize) -> String {
    let (mut i, mut found) = (0, String::new());
    for_each_tensor_ref(layer, |name, t| {
        if let TensorRef::Param(_) = t {
            if i == index {
                found = name.to_owned();
            }
            i += 1;
        }
    });
    found
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

/// Why [`restore`] refused a snapshot: it was taken from a network of another shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// A tensor holds another number of values than the snapshot has in its place.
    #[error(
        "tensor `{tensor}` of shape {shape:?} holds {expected} values, but the snapshot has {found} in its place; \
         restore a snapshot of this network"
    )]
    Length {
        /// The tensor's full name (`dense_0.weight`).
        tensor: String,
        /// Its PyTorch shape.
        shape: Vec<usize>,
        /// Values the tensor holds.
        expected: usize,
        /// Values the snapshot has for it.
        found: usize,
    },
    /// The snapshot holds another number of tensors than the network.
    #[error("the snapshot holds {found} tensors, but the network has {expected}; restore a snapshot of this network")]
    Count {
        /// Tensors of the network.
        expected: usize,
        /// Tensors in the snapshot.
        found: usize,
    },
}

/// Puts back values taken by [`snapshot`]. A snapshot of another network is an error
/// naming the first tensor that does not fit, and then nothing has changed.
///
/// ```
/// use mlp::prelude::*;
/// network! { Small< input(2); dense(3) > }
/// network! { Large< input(2); dense(4) > }
/// let saved = mlp::tensors::snapshot(&Small::seeded(0));
/// let err = mlp::tensors::restore(&mut Large::seeded(0), &saved).unwrap_err();
/// assert!(err.to_string().starts_with("tensor `dense_0.weight` of shape [4, 2] holds 8 values"), "{err}");
/// ```
pub fn restore<L: Layer + ?Sized>(layer: &mut L, saved: &[Vec<f32>]) -> Result<(), RestoreError> {
    // Every tensor is checked before any is written, so a refused snapshot changes nothing.
    let (mut count, mut misfit) = (0, None);
    for_each_tensor(layer, |name, mut t| {
        let expected = t.value().len();
        match saved.get(count) {
            Some(v) if misfit.is_none() && v.len() != expected => {
                misfit = Some(RestoreError::Length {
                    tensor: name.to_owned(),
                    shape: t.shape().to_vec(),
                    expected,
                    found: v.len(),
                });
            }
            _ => {}
        }
        count += 1;
    });
    if let Some(e) = misfit {
        return Err(e);
    }
    if count != saved.len() {
        return Err(RestoreError::Count { expected: count, found: saved.len() });
    }
    let mut i = 0;
    for_each_tensor(layer, |_, mut t| {
        t.value().copy_from_slice(&saved[i]);
        i += 1;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Dense;
    use crate::{Activation, Init};

    fn dense<const I: usize, const O: usize>(seed: u64) -> Dense<I, O> {
        Dense::new(Activation::Linear, Init::GlorotUniform, &mut crate::rng::seeded(seed))
    }

    #[test]
    fn restore_puts_back_a_snapshot_of_the_same_network() {
        let a = dense::<3, 2>(1);
        let saved = snapshot(&a);
        let mut b = dense::<3, 2>(2);
        restore(&mut b, &saved).unwrap();
        assert_eq!(snapshot(&b), saved);
    }

    #[test]
    fn restore_refuses_another_networks_snapshot_and_changes_nothing() {
        let saved = snapshot(&dense::<3, 2>(1));
        let mut other = dense::<3, 4>(2);
        let before = snapshot(&other);
        let err = restore(&mut other, &saved).unwrap_err();
        assert_eq!(
            err,
            RestoreError::Length { tensor: "weight".into(), shape: vec![4, 3], expected: 12, found: 6 }
        );
        assert_eq!(snapshot(&other), before);
        // Too few or too many tensors.
        assert_eq!(restore(&mut other, &before[..1]), Err(RestoreError::Count { expected: 2, found: 1 }));
        let mut more = before.clone();
        more.push(vec![0.0]);
        assert_eq!(restore(&mut other, &more), Err(RestoreError::Count { expected: 2, found: 3 }));
        assert_eq!(snapshot(&other), before);
    }
}
