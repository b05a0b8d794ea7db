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
/// let saved = mlp::tensors::snapshot(&mut Small::seeded(0));
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
        let mut a = dense::<3, 2>(1);
        let saved = snapshot(&mut a);
        let mut b = dense::<3, 2>(2);
        restore(&mut b, &saved).unwrap();
        assert_eq!(snapshot(&mut b), saved);
    }

    #[test]
    fn restore_refuses_another_networks_snapshot_and_changes_nothing() {
        let saved = snapshot(&mut dense::<3, 2>(1));
        let mut other = dense::<3, 4>(2);
        let before = snapshot(&mut other);
        let err = restore(&mut other, &saved).unwrap_err();
        assert_eq!(
            err,
            RestoreError::Length { tensor: "weight".into(), shape: vec![4, 3], expected: 12, found: 6 }
        );
        assert_eq!(snapshot(&mut other), before);
        // Too few or too many tensors.
        assert_eq!(restore(&mut other, &before[..1]), Err(RestoreError::Count { expected: 2, found: 1 }));
        let mut more = before.clone();
        more.push(vec![0.0]);
        assert_eq!(restore(&mut other, &more), Err(RestoreError::Count { expected: 2, found: 3 }));
        assert_eq!(snapshot(&mut other), before);
    }
}
