//! Typed batches: `Batch<N>` holds samples of width `N` as the columns of a matrix.

use alloc::vec::Vec;
use nalgebra::{Const, Dyn, OMatrix};

/// The nalgebra matrix behind a [`Batch`]: `N` rows (the width), one column per sample.
pub type BatchMatrix<const N: usize> = OMatrix<f32, Const<N>, Dyn>;

/// A batch of samples of width `N`, stored as the columns of a column-major matrix,
/// so each sample is `N` contiguous floats.
///
/// The width is part of the type, so passing a batch of the wrong width to a network
/// is a compile error: rustc points at the argument with ``expected `784`, found `100` ``
/// and notes ``expected reference `&Batch<784>` found reference `&Batch<100>` ``
/// (`tests/ui/forward_wrong_width.stderr` holds the whole message).
///
/// ```
/// use mlp::prelude::*;
/// let x = Batch::<3>::from_samples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(x.len(), 2);
/// assert_eq!(x.sample(1), &[4.0, 5.0, 6.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<const N: usize>(BatchMatrix<N>);

impl<const N: usize> Batch<N> {
    /// The width of every sample.
    pub const WIDTH: usize = N;

    /// A batch of `len` samples, all zero.
    pub fn zeros(len: usize) -> Self {
        Batch(BatchMatrix::<N>::zeros(len))
    }

    /// A batch from samples laid end to end (`len * N` floats); an error saying so if the
    /// length is not a multiple of `N` (or `N` is 0).
    ///
    /// ```
    /// use mlp::prelude::*;
    /// let err = Batch::<3>::from_samples(&[1.0; 7]).unwrap_err();
    /// assert_eq!(err.to_string(), "Batch<3>::from_samples: expected a multiple of 3 floats \
    ///     (whole samples of width 3), found 7 floats");
    /// ```
    #[cfg(feature = "std")]
    pub fn from_samples(data: &[f32]) -> Result<Self, crate::data::DataError> {
        if N == 0 || !data.len().is_multiple_of(N) {
            return Err(crate::data::DataError::shape(
                format!("Batch<{N}>::from_samples"),
                format!("a multiple of {N} floats (whole samples of width {N})"),
                format!("{} floats", data.len()),
            ));
        }
        Ok(Batch(BatchMatrix::<N>::from_column_slice(data)))
    }

    /// A batch holding the single sample `x`.
    pub fn from_sample(x: &[f32; N]) -> Self {
        Batch(BatchMatrix::<N>::from_column_slice(x))
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.ncols()
    }

    /// True when the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.0.ncols() == 0
    }

    /// Sample `i` as a slice of `N` floats.
    ///
    /// # Panics
    ///
    /// When `i >= self.len()`, like indexing a slice; [`Batch::get`] returns `None` instead.
    pub fn sample(&self, i: usize) -> &[f32] {
        self.check_index(i);
        &self.as_slice()[i * N..(i + 1) * N]
    }

    /// Sample `i`, or `None` when the batch has no sample `i`.
    ///
    /// ```
    /// use mlp_runtime::Batch;
    /// let b = Batch::<2>::from_samples(&[1.0, 2.0]).unwrap();
    /// assert_eq!(b.get(0), Some(&[1.0, 2.0][..]));
    /// assert_eq!(b.get(1), None);
    /// ```
    pub fn get(&self, i: usize) -> Option<&[f32]> {
        (i < self.len()).then(|| &self.as_slice()[i * N..(i + 1) * N])
    }

    /// Sample `i`, mutably.
    ///
    /// # Panics
    ///
    /// When `i >= self.len()`, like indexing a slice.
    pub fn sample_mut(&mut self, i: usize) -> &mut [f32] {
        self.check_index(i);
        &mut self.as_mut_slice()[i * N..(i + 1) * N]
    }

    /// Panics with a message that names the index and the batch size.
    fn check_index(&self, i: usize) {
        assert!(i < self.len(), "sample {i} is out of range for a batch of {} samples", self.len());
    }

    /// All samples laid end to end.
    pub fn as_slice(&self) -> &[f32] {
        self.0.as_slice()
    }

    /// All samples laid end to end, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        self.0.as_mut_slice()
    }

    /// The underlying nalgebra matrix (`N` rows, one column per sample).
    pub fn matrix(&self) -> &BatchMatrix<N> {
        &self.0
    }

    /// The underlying nalgebra matrix, mutably (resizing it changes the batch's length).
    pub fn matrix_mut(&mut self) -> &mut BatchMatrix<N> {
        &mut self.0
    }

    /// A batch over `matrix`: one sample per column.
    ///
    /// ```
    /// use mlp_runtime::batch::{Batch, BatchMatrix};
    /// let b = Batch::from_matrix(BatchMatrix::<2>::from_column_slice(&[1.0, 2.0, 3.0, 4.0]));
    /// assert_eq!(b.sample(1), &[3.0, 4.0]);
    /// assert_eq!(b.into_inner().ncols(), 2);
    /// ```
    pub fn from_matrix(matrix: BatchMatrix<N>) -> Self {
        Batch(matrix)
    }

    /// The underlying nalgebra matrix, by value.
    pub fn into_inner(self) -> BatchMatrix<N> {
        self.0
    }

    /// Index of the largest value of each sample (the predicted class).
    pub fn argmax(&self) -> Vec<usize> {
        (0..self.len()).map(|i| argmax(self.sample(i))).collect()
    }

    /// Makes this batch hold `len` samples, reusing its allocation when it can.
    /// Values are unspecified afterwards; callers overwrite them.
    pub fn set_len(&mut self, len: usize) {
        if self.len() != len {
            let m = core::mem::replace(&mut self.0, BatchMatrix::<N>::zeros(0));
            self.0 = m.resize_horizontally(len, 0.0);
        }
    }

    /// Copies `other` into this batch, reusing the allocation.
    pub fn copy_from(&mut self, other: &Batch<N>) {
        self.set_len(other.len());
        self.as_mut_slice().copy_from_slice(other.as_slice());
    }
}

/// Index of the largest value (the first one on ties; NaN never wins). 0 when `v` is
/// empty or all NaN.
///
/// ```
/// assert_eq!(mlp_runtime::batch::argmax(&[f32::NAN, 1.0, 3.0, 3.0]), 2);
/// ```
pub fn argmax(v: &[f32]) -> usize {
    // Start from the first number: every comparison with a NaN is false, so a NaN
    // in front would otherwise never be replaced.
    let mut best = v.iter().position(|x| !x.is_nan()).unwrap_or(0);
    for (i, &x) in v.iter().enumerate().skip(best + 1) {
        if x > v[best] {
            best = i;
        }
    }
    best
}

impl<const N: usize> From<BatchMatrix<N>> for Batch<N> {
    fn from(matrix: BatchMatrix<N>) -> Self {
        Batch(matrix)
    }
}

impl<const N: usize> Default for Batch<N> {
    fn default() -> Self {
        Self::zeros(0)
    }
}

#[cfg(test)]
mod tests {
    use super::{argmax, Batch};

    #[test]
    fn argmax_skips_nan_wherever_it_stands() {
        assert_eq!(argmax(&[f32::NAN, 1.0, 3.0]), 2);
        assert_eq!(argmax(&[1.0, f32::NAN, 3.0, 3.0]), 2);
        assert_eq!(argmax(&[2.0, f32::NAN, 1.0]), 0);
        assert_eq!(argmax(&[f32::NAN, f32::NAN]), 0);
        assert_eq!(argmax(&[]), 0);
    }

    #[test]
    #[should_panic(expected = "sample 2 is out of range for a batch of 2 samples")]
    fn sample_out_of_range_names_the_index_and_the_size() {
        let b = Batch::<3>::zeros(2);
        assert_eq!(b.get(2), None);
        let _ = b.sample(2);
    }
}
