//! In-memory datasets: features, targets, splits, shuffling, scaling and batching.

use rand::seq::SliceRandom;

use super::{DataError, Idx};
use crate::batch::Batch;
use crate::kernel::row_parts;
use crate::rng::Rng;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// What a dataset's samples are labelled with.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TargetData {
    /// One class index per sample (classification).
    Classes(Vec<u32>),
    /// `width` floats per sample, laid end to end (regression).
    Values {
        /// The values, sample-major.
        data: Vec<f32>,
        /// Floats per sample.
        width: usize,
    },
    /// No labels, for this many samples: features to predict on ([`Dataset::unlabeled`]).
    Unlabeled(usize),
}

impl TargetData {
    /// Number of samples the targets describe (labelled or not).
    pub fn len(&self) -> usize {
        match self {
            TargetData::Classes(c) => c.len(),
            TargetData::Values { data, width } => data.len().checked_div(*width).unwrap_or(0),
            TargetData::Unlabeled(n) => *n,
        }
    }

    /// True when no sample is labelled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the samples at `indices`, in that order. Indices must be in range.
    fn gather(&self, indices: &[usize]) -> TargetData {
        match self {
            TargetData::Classes(c) => {
                TargetData::Classes(indices.iter().filter_map(|&i| c.get(i).copied()).collect())
            }
            TargetData::Values { data, width } => TargetData::Values {
                data: indices.iter().filter_map(|&i| row(data, *width, i)).flatten().copied().collect(),
                width: *width,
            },
            TargetData::Unlabeled(n) => TargetData::Unlabeled(indices.iter().filter(|&&i| i < *n).count()),
        }
    }
}

/// Class ids must be below this: 2^16 = 65,536.
///
/// A class id is a column of the one-hot targets and of the softmax output, and an
/// index into per-class arrays such as [`Dataset::class_counts`], so memory grows
/// with the largest id, not with the number of samples. 65,536 is three times the
/// 21,841 classes of ImageNet-21k, the largest label set in common use, and keeps a
/// per-class count array at 512 KiB; a larger id (a CSV label of 4294967295) is a
/// data error, reported at construction with its sample.
pub const MAX_CLASSES: u32 = 1 << 16;

/// The first NaN or infinite value of `data` laid out `width` per row, as a
/// [`DataError::NonFinite`] naming its row and column.
fn first_non_finite(data: &[f32], width: usize, what: &'static str) -> Result<(), DataError> {
    match data.iter().position(|v| !v.is_finite()) {
        Some(pos) => Err(DataError::NonFinite {
            sample: pos / width.max(1),
            column: pos % width.max(1),
            what,
            value: data[pos],
        }),
        None => Ok(()),
    }
}

/// Checks every class id against [`MAX_CLASSES`].
fn check_classes(classes: &[u32]) -> Result<(), DataError> {
    match classes.iter().position(|&c| c >= MAX_CLASSES) {
        Some(sample) => Err(DataError::ClassTooLarge { sample, class: classes[sample], max: MAX_CLASSES }),
        None => Ok(()),
    }
}

/// Copies row `i` of the dataset (`row(i)`, `width` floats) for each `i` in `indices` into
/// consecutive rows of `dst`, then checks that every value copied is finite, naming the
/// first that is not by its sample and column. One check per part of the batch (all of
/// it, or each core's share of a large one: [`row_parts`]), not one per row, and inlined
/// so a constant `width` (a batch's) copies small rows without a call: the tiny 4-input
/// network's epochs spent 5% of their time in `memmove` for 16-byte rows.
#[inline(always)]
fn gather_finite<'a>(
    dst: &mut [f32],
    width: usize,
    indices: &[usize],
    row: impl Fn(usize) -> Option<&'a [f32]> + Sync,
    what: &'static str,
) -> Result<(), DataError> {
    let filled = (indices.len() * width).min(dst.len());
    let bad = AtomicBool::new(false);
    row_parts(width, &mut dst[..filled], |first, part| {
        for (dst, &i) in part.chunks_exact_mut(width).zip(&indices[first..]) {
            if let Some(src) = row(i) {
                dst.copy_from_slice(&src[..width]);
            }
        }
        if !crate::finite::all_finite(part) {
            bad.store(true, Relaxed);
        }
    });
    let filled = &dst[..filled];
    if !bad.into_inner() {
        return Ok(());
    }
    first_non_finite(filled, width, what).map_err(|e| match e {
        DataError::NonFinite { sample, column, what, value } => {
            DataError::NonFinite { sample: indices[sample], column, what, value }
        }
        other => other,
    })
}

/// Row `i` of `width` floats, or `None` past the end.
fn row(data: &[f32], width: usize, i: usize) -> Option<&[f32]> {
    data.get(i.checked_mul(width)?..i.checked_add(1)?.checked_mul(width)?)
}

/// Samples held in memory: `width` features per sample, and their [`TargetData`].
///
/// Features are stored sample-major, samples laid end to end: exactly the layout of a
/// [`Batch`], so filling a batch is one copy per sample.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let ds = Dataset::classification(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 2, vec![1, 0, 1]).unwrap();
/// assert_eq!((ds.len(), ds.width(), ds.num_classes()), (3, 2, 2));
/// assert_eq!(ds.sample(1), Some(&[2.0, 3.0][..]));
///
/// let mut x = Batch::<2>::default();
/// ds.fill_batch(&[2, 0], &mut x).unwrap();
/// assert_eq!(x.as_slice(), &[4.0, 5.0, 0.0, 1.0]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Dataset {
    features: Vec<f32>,
    width: usize,
    targets: TargetData,
}

/// A summary, not the data: a training set is millions of floats.
impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Dataset");
        d.field("len", &self.len()).field("width", &self.width);
        match &self.targets {
            TargetData::Classes(_) => d.field("num_classes", &self.num_classes()),
            TargetData::Values { width, .. } => d.field("target_width", width),
            TargetData::Unlabeled(_) => d.field("targets", &"none"),
        };
        d.finish()
    }
}

impl Dataset {
    /// A dataset from features laid end to end (`width` per sample) and targets; an
    /// error unless both describe the same number of samples, every feature and target
    /// value is finite ([`DataError::NonFinite`], naming the sample and column) and
    /// every class is below [`MAX_CLASSES`] ([`DataError::ClassTooLarge`]).
    pub fn new(features: Vec<f32>, width: usize, targets: TargetData) -> Result<Self, DataError> {
        if width == 0 {
            return Err(DataError::shape("dataset feature width", "at least 1", 0));
        }
        if !features.len().is_multiple_of(width) {
            return Err(DataError::shape(
                "dataset features",
                format!("a multiple of the width {width} floats"),
                features.len(),
            ));
        }
        if let TargetData::Values { data, width: tw } = &targets {
            if *tw == 0 || !data.len().is_multiple_of(*tw) {
                return Err(DataError::shape(
                    "dataset target values",
                    format!("a non-zero width dividing their {} floats", data.len()),
                    format!("width {tw}"),
                ));
            }
        }
        let n = features.len() / width;
        if targets.len() != n {
            return Err(DataError::shape(
                "dataset targets",
                format!("one per sample ({n} samples of width {width})"),
                format!("{} targets", targets.len()),
            ));
        }
        first_non_finite(&features, width, "feature")?;
        match &targets {
            TargetData::Classes(c) => check_classes(c)?,
            TargetData::Values { data, width } => first_non_finite(data, *width, "target")?,
            TargetData::Unlabeled(_) => {}
        }
        Ok(Dataset { features, width, targets })
    }

    /// Features without labels, `width` per sample: what [`Model::predict`](crate::train::Model::predict)
    /// and its variants take when there is nothing to compare with. `fit`, `evaluate` and
    /// the label operations (`filter`, `fill_targets`, ...) refuse it, saying so.
    ///
    /// ```
    /// use mlp::prelude::*;
    /// network! { Net< input(2); dense(3, softmax) > }
    /// let new_samples = Dataset::unlabeled(vec![0.5, -1.0, 2.0, 0.1], 2)?;
    /// let mut model = Model::compile(Net::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    /// assert_eq!(model.predict_classes(&new_samples)?.len(), 2);
    /// let err = model.evaluate(&new_samples).unwrap_err();
    /// assert!(err.to_string().contains("has no labels"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlabeled(features: Vec<f32>, width: usize) -> Result<Self, DataError> {
        let n = features.len().checked_div(width).unwrap_or(0);
        Self::new(features, width, TargetData::Unlabeled(n))
    }

    /// Whether the samples have labels (classes or values).
    pub fn is_labeled(&self) -> bool {
        !matches!(self.targets, TargetData::Unlabeled(_))
    }

    /// A classification dataset: one class index per sample.
    pub fn classification(features: Vec<f32>, width: usize, classes: Vec<u32>) -> Result<Self, DataError> {
        Self::new(features, width, TargetData::Classes(classes))
    }

    /// A regression dataset: `target_width` target values per sample.
    pub fn regression(
        features: Vec<f32>,
        width: usize,
        values: Vec<f32>,
        target_width: usize,
    ) -> Result<Self, DataError> {
        Self::new(features, width, TargetData::Values { data: values, width: target_width })
    }

    /// A classification dataset from IDX images and labels, pixels as floats in
    /// `0.0..=255.0` (not scaled: call [`Dataset::scale`] with `1.0 / 255.0` for
    /// `[0, 1]`). Each image is flattened row-major, so 28x28 images have width 784.
    pub fn from_u8_images(images: &Idx, labels: &Idx) -> Result<Self, DataError> {
        Self::from_idx(images, labels, 1.0)
    }

    /// Like [`Dataset::from_u8_images`], dividing every pixel by `divisor` (255 gives
    /// the `[0, 1]` range Keras users get from `x / 255.0`).
    pub(crate) fn from_idx(images: &Idx, labels: &Idx, divisor: f32) -> Result<Self, DataError> {
        let mismatch = |reason: String| DataError::Mismatch {
            images: images.path.clone(),
            labels: labels.path.clone(),
            reason,
        };
        if images.dims.len() < 2 {
            return Err(mismatch(format!(
                "the images file should have at least 2 dimensions (count, pixels...), found {:?}",
                images.dims
            )));
        }
        if labels.dims.len() != 1 {
            return Err(mismatch(format!(
                "the labels file should have 1 dimension (count), found {:?}",
                labels.dims
            )));
        }
        if images.count() != labels.count() {
            return Err(mismatch(format!("{} images but {} labels", images.count(), labels.count())));
        }
        let width = images.item_len();
        if width == 0 {
            return Err(mismatch(format!("images of zero size: dimensions {:?}", images.dims)));
        }
        let features = images.data.iter().map(|&p| f32::from(p) / divisor).collect();
        let classes = labels.data.iter().map(|&c| u32::from(c)).collect();
        Self::classification(features, width, classes)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.len() / self.width
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Features per sample.
    pub fn width(&self) -> usize {
        self.width
    }

    /// All features, samples laid end to end.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All features, mutably (for custom preprocessing).
    pub fn features_mut(&mut self) -> &mut [f32] {
        &mut self.features
    }

    /// The targets.
    pub fn targets(&self) -> &TargetData {
        &self.targets
    }

    /// The features of sample `i`, or `None` past the end.
    pub fn sample(&self, i: usize) -> Option<&[f32]> {
        row(&self.features, self.width, i)
    }

    /// The class of sample `i`; `None` past the end or for value targets.
    pub fn class(&self, i: usize) -> Option<u32> {
        self.classes()?.get(i).copied()
    }

    /// All class labels; `None` for value targets.
    pub fn classes(&self) -> Option<&[u32]> {
        match &self.targets {
            TargetData::Classes(c) => Some(c),
            TargetData::Values { .. } | TargetData::Unlabeled(_) => None,
        }
    }

    /// All target values, laid end to end; `None` for class targets.
    pub fn values(&self) -> Option<&[f32]> {
        match &self.targets {
            TargetData::Values { data, .. } => Some(data),
            TargetData::Classes(_) | TargetData::Unlabeled(_) => None,
        }
    }

    /// One more than the largest class (0 for an empty dataset or value targets).
    pub fn num_classes(&self) -> usize {
        self.classes().and_then(|c| c.iter().max()).map_or(0, |&m| m as usize + 1)
    }

    /// How many samples each class has, indexed by class (at most [`MAX_CLASSES`]
    /// entries).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &c in self.classes().unwrap_or_default() {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        counts
    }

    /// `0..len`: the indices of every sample in order, ready for [`shuffle`].
    pub fn indices(&self) -> Vec<usize> {
        (0..self.len()).collect()
    }

    /// The indices of every sample in an order drawn from `rng`.
    pub fn shuffled_indices(&self, rng: &mut Rng) -> Vec<usize> {
        let mut indices = self.indices();
        shuffle(&mut indices, rng);
        indices
    }

    /// Checks that every index is a sample of this dataset.
    fn check_indices(&self, indices: &[usize]) -> Result<(), DataError> {
        let len = self.len();
        match indices.iter().find(|&&i| i >= len) {
            Some(&index) => Err(DataError::Index { index, len }),
            None => Ok(()),
        }
    }

    /// A new dataset of the samples at `indices`, in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset, DataError> {
        self.check_indices(indices)?;
        let features = indices.iter().filter_map(|&i| self.sample(i)).flatten().copied().collect();
        Ok(Dataset { features, width: self.width, targets: self.targets.gather(indices) })
    }

    /// The samples for which `keep(features, class)` is true, in order. An error for
    /// value targets.
    ///
    /// ```
    /// # use mlp_runtime::prelude::*;
    /// # let ds = Dataset::classification(vec![0.0; 4], 1, vec![5, 2, 6, 9]).unwrap();
    /// // Géron's transfer-learning split: every class but sandals (5) and shirts (6)...
    /// let a = ds.filter(|_, c| c != 5 && c != 6)?.map_classes(|c| if c > 6 { c - 2 } else { c })?;
    /// assert_eq!(a.classes(), Some(&[2, 7][..]));
    /// // ...and a binary task: is it a shirt?
    /// let b = ds.filter(|_, c| c == 5 || c == 6)?.map_classes(|c| u32::from(c == 6))?;
    /// assert_eq!(b.classes(), Some(&[0, 1][..]));
    /// # Ok::<(), DataError>(())
    /// ```
    pub fn filter(&self, mut keep: impl FnMut(&[f32], u32) -> bool) -> Result<Dataset, DataError> {
        let classes = self.classes().ok_or(self.not_classes("filter"))?;
        let indices: Vec<usize> = self
            .features
            .chunks_exact(self.width)
            .zip(classes)
            .enumerate()
            .filter(|(_, (x, &c))| keep(x, c))
            .map(|(i, _)| i)
            .collect();
        self.subset(&indices)
    }

    /// Replaces every class `c` by `f(c)` (to relabel after [`Dataset::filter`]). An
    /// error for value targets or a new class at or above [`MAX_CLASSES`].
    pub fn map_classes(mut self, mut f: impl FnMut(u32) -> u32) -> Result<Dataset, DataError> {
        let err = self.not_classes("map_classes");
        match &mut self.targets {
            TargetData::Classes(c) => {
                c.iter_mut().for_each(|c| *c = f(*c));
                check_classes(c)?;
            }
            TargetData::Values { .. } | TargetData::Unlabeled(_) => return Err(err),
        }
        Ok(self)
    }

    fn not_classes(&self, what: &'static str) -> DataError {
        let width = match &self.targets {
            TargetData::Values { width, .. } => *width,
            TargetData::Classes(_) => 1,
            TargetData::Unlabeled(_) => return DataError::Unlabeled { what },
        };
        DataError::NotClasses { what, width }
    }

    /// Splits into the first `n` samples and the rest.
    pub fn split_at(&self, n: usize) -> Result<(Dataset, Dataset), DataError> {
        let len = self.len();
        if n > len {
            return Err(DataError::shape("split_at", format!("at most {len} (the dataset's length)"), n));
        }
        let first: Vec<usize> = (0..n).collect();
        let rest: Vec<usize> = (n..len).collect();
        Ok((self.subset(&first)?, self.subset(&rest)?))
    }

    /// Keras' `validation_split`: the last `fraction` of the samples, in their current
    /// order (before any shuffling), becomes the second dataset. Like Keras, the first
    /// part gets `floor(len * (1 - fraction))` samples.
    ///
    /// ```
    /// # use mlp_runtime::prelude::*;
    /// let ds = Dataset::classification((0..10).map(|i| i as f32).collect(), 1, vec![0; 10]).unwrap();
    /// let (train, valid) = ds.split_last(0.2).unwrap();
    /// assert_eq!(valid.features(), &[8.0, 9.0]);
    /// assert_eq!(train.len(), 8);
    /// ```
    pub fn split_last(&self, fraction: f64) -> Result<(Dataset, Dataset), DataError> {
        if !(0.0..=1.0).contains(&fraction) {
            return Err(DataError::shape("split_last fraction", "a number in 0..=1", fraction));
        }
        // f64 holds every realistic length exactly; the cast floors, as Keras' int() does.
        let n = ((self.len() as f64) * (1.0 - fraction)) as usize;
        self.split_at(n.min(self.len()))
    }

    /// Multiplies every feature by `factor` (`1.0 / 255.0` maps bytes to `[0, 1]`).
    pub fn scale(&mut self, factor: f32) {
        self.features.iter_mut().for_each(|x| *x *= factor);
    }

    /// Copies the samples at `indices` into `x`, resizing it to `indices.len()` samples
    /// and reusing its allocation, so a training loop allocates nothing per batch.
    /// An error if `N` is not the dataset's width, an index is out of range, or a copied
    /// value is NaN or infinite ([`DataError::NonFinite`]: features can turn non-finite
    /// after construction, through [`Dataset::features_mut`], [`Dataset::scale`] or a
    /// [`Standardizer`]); `x` then holds a partial batch.
    pub fn fill_batch<const N: usize>(&self, indices: &[usize], x: &mut Batch<N>) -> Result<(), DataError> {
        if N != self.width {
            return Err(DataError::shape("batch width", format!("{} (the dataset's width)", self.width), N));
        }
        self.check_indices(indices)?;
        x.set_len(indices.len());
        gather_finite(x.as_mut_slice(), N, indices, |i| self.sample(i), "feature")
    }

    /// Asks the CPU to start loading the features of the samples at `indices` into its
    /// caches (x86-64; nothing elsewhere), so filling the next batch does not wait for
    /// memory: a shuffled batch's rows are scattered over the whole data set. Indices past
    /// the end are skipped; nothing is read or checked.
    pub(crate) fn prefetch(&self, indices: &[usize]) {
        #[cfg(target_arch = "x86_64")]
        for &i in indices {
            if let Some(row) = self.sample(i) {
                // Every fourth cache line: the CPU's stream prefetcher fetches the lines
                // between (every line costs more in prefetch instructions than it saves).
                for line in row.chunks(64) {
                    // A hint (SSE, in every x86-64 CPU): never faults, reads nothing.
                    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
                    // SAFETY: the pointer is inside `row`; a prefetch has no other effect.
                    unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr().cast()) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = indices;
    }

    /// Writes the targets (classes or values) of the samples at `indices` into `out`,
    /// reusing its allocation. An error for an index out of range or a non-finite
    /// target value ([`DataError::NonFinite`]).
    pub fn fill_targets(&self, indices: &[usize], out: &mut TargetBuf) -> Result<(), DataError> {
        self.check_indices(indices)?;
        match &self.targets {
            TargetData::Classes(c) => {
                if !matches!(out, TargetBuf::Classes(_)) {
                    *out = TargetBuf::Classes(Vec::new());
                }
                if let TargetBuf::Classes(buf) = out {
                    buf.clear();
                    buf.extend(indices.iter().filter_map(|&i| c.get(i).copied()));
                }
            }
            TargetData::Values { data, width } => {
                if !matches!(out, TargetBuf::Values(_)) {
                    *out = TargetBuf::Values(Vec::new());
                }
                if let TargetBuf::Values(buf) = out {
                    buf.clear();
                    buf.resize(indices.len() * width, 0.0);
                    gather_finite(buf, *width, indices, |i| row(data, *width, i), "target")?;
                }
            }
            TargetData::Unlabeled(_) => return Err(DataError::Unlabeled { what: "fill_targets" }),
        }
        Ok(())
    }

    /// Writes the classes of the samples at `indices` into `out`, reusing its
    /// allocation. An error for value targets or an index out of range.
    pub fn fill_classes(&self, indices: &[usize], out: &mut Vec<u32>) -> Result<(), DataError> {
        let classes = self.classes().ok_or(self.not_classes("fill_classes"))?;
        self.check_indices(indices)?;
        out.clear();
        out.extend(indices.iter().filter_map(|&i| classes.get(i).copied()));
        Ok(())
    }

    /// Writes the classes of the samples at `indices` as one-hot rows of width `M`
    /// (for categorical cross-entropy). An error for value targets, an index out of
    /// range, or a class `>= M`.
    pub fn fill_one_hot<const M: usize>(&self, indices: &[usize], y: &mut Batch<M>) -> Result<(), DataError> {
        let classes = self.classes().ok_or(self.not_classes("fill_one_hot"))?;
        self.check_indices(indices)?;
        if let Some(&c) = indices.iter().filter_map(|&i| classes.get(i)).find(|&&c| c as usize >= M) {
            return Err(DataError::shape("one-hot class", format!("a class below the width {M}"), c));
        }
        y.set_len(indices.len());
        y.as_mut_slice().fill(0.0);
        for (dst, &i) in y.as_mut_slice().chunks_exact_mut(M).zip(indices) {
            if let Some(hot) = classes.get(i).and_then(|&c| dst.get_mut(c as usize)) {
                *hot = 1.0;
            }
        }
        Ok(())
    }

    /// Copies the target values of the samples at `indices` into `y` (regression).
    /// An error for class targets, a width other than `M`, an index out of range, or a
    /// non-finite value ([`DataError::NonFinite`]).
    pub fn fill_values<const M: usize>(&self, indices: &[usize], y: &mut Batch<M>) -> Result<(), DataError> {
        let TargetData::Values { data, width } = &self.targets else {
            return Err(match self.targets {
                TargetData::Unlabeled(_) => DataError::Unlabeled { what: "fill_values" },
                _ => DataError::shape("fill_values targets", "values", "classes"),
            });
        };
        if *width != M {
            return Err(DataError::shape("target batch width", format!("{width} (the targets' width)"), M));
        }
        self.check_indices(indices)?;
        y.set_len(indices.len());
        gather_finite(y.as_mut_slice(), M, indices, |i| row(data, M, i), "target")
    }
}

/// One batch's targets, kept between batches so filling them allocates nothing once
/// the buffer has grown; hand [`TargetBuf::as_targets`] to a loss.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetBuf {
    /// Class indices.
    Classes(Vec<u32>),
    /// Values, laid out like the network's output.
    Values(Vec<f32>),
}

impl Default for TargetBuf {
    fn default() -> Self {
        TargetBuf::Classes(Vec::new())
    }
}

impl TargetBuf {
    /// The targets as the losses take them.
    pub fn as_targets(&self) -> crate::loss::Targets<'_> {
        match self {
            TargetBuf::Classes(c) => crate::loss::Targets::Classes(c),
            TargetBuf::Values(v) => crate::loss::Targets::Values(v),
        }
    }

    /// Number of entries (classes, or floats).
    pub fn len(&self) -> usize {
        match self {
            TargetBuf::Classes(c) => c.len(),
            TargetBuf::Values(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Shuffles `indices` in place (Fisher-Yates), allocating nothing: call it once per
/// epoch on the same vector.
///
/// ```
/// use mlp_runtime::prelude::*;
/// let mut rng = mlp_runtime::rng::seeded(42);
/// let mut order: Vec<usize> = (0..5).collect();
/// shuffle(&mut order, &mut rng);
/// order.sort();
/// assert_eq!(order, [0, 1, 2, 3, 4]);
/// ```
pub fn shuffle(indices: &mut [usize], rng: &mut Rng) {
    indices.shuffle(rng);
}

/// Per-feature standardization, `(x - mean) / std`, with statistics from the training
/// split only (like scikit-learn's `StandardScaler`: population std; a constant
/// feature gets std 1 so it maps to 0 rather than NaN).
///
/// ```
/// # use mlp_runtime::prelude::*;
/// let mut train = Dataset::regression(vec![1.0, 5.0, 3.0, 5.0], 2, vec![0.0, 0.0], 1).unwrap();
/// let s = Standardizer::fit(&train);
/// s.apply(&mut train).unwrap();
/// assert_eq!(train.features(), &[-1.0, 0.0, 1.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature.
    pub mean: Vec<f32>,
    /// Standard deviation of each feature (1 where it was 0).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Computes each feature's mean and standard deviation over `train`.
    pub fn fit(train: &Dataset) -> Standardizer {
        let w = train.width();
        // f64 sums: 60 000 samples of f32 would lose digits.
        let mut sum = vec![0f64; w];
        let mut sq = vec![0f64; w];
        for x in train.features().chunks_exact(w) {
            for ((s, q), &v) in sum.iter_mut().zip(&mut sq).zip(x) {
                *s += f64::from(v);
                *q += f64::from(v) * f64::from(v);
            }
        }
        let n = train.len().max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let sd = (q / n - m * m).max(0.0).sqrt();
                if sd > 0.0 {
                    sd as f32
                } else {
                    1.0
                }
            })
            .collect();
        Standardizer { mean: mean.iter().map(|&m| m as f32).collect(), std }
    }

    /// Standardizes `ds` in place; an error if its width differs from the fitted one.
    pub fn apply(&self, ds: &mut Dataset) -> Result<(), DataError> {
        if ds.width() != self.mean.len() {
            return Err(DataError::shape(
                "standardizer width",
                format!("{} (the width it was fitted on)", self.mean.len()),
                ds.width(),
            ));
        }
        let w = ds.width();
        for x in ds.features_mut().chunks_exact_mut(w) {
            for ((v, m), s) in x.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;
    use std::path::PathBuf;

    fn ds(n: usize, width: usize) -> Dataset {
        let features = (0..n * width).map(|v| v as f32).collect();
        Dataset::classification(features, width, (0..n as u32).map(|c| c % 3).collect()).unwrap()
    }

    #[test]
    fn constructors_validate_lengths() {
        assert!(matches!(Dataset::classification(vec![0.0; 5], 2, vec![0, 0]), Err(DataError::Shape { .. })));
        assert!(matches!(Dataset::classification(vec![0.0; 4], 2, vec![0]), Err(DataError::Shape { .. })));
        assert!(matches!(Dataset::classification(vec![], 0, vec![]), Err(DataError::Shape { .. })));
        assert!(matches!(
            Dataset::regression(vec![0.0; 4], 2, vec![0.0; 3], 2),
            Err(DataError::Shape { .. })
        ));
        assert!(matches!(Dataset::regression(vec![0.0; 4], 2, vec![], 0), Err(DataError::Shape { .. })));
        let r = Dataset::regression(vec![0.0; 4], 2, vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        assert_eq!(
            (r.len(), r.num_classes(), r.class(0), r.values().map(<[f32]>::len)),
            (2, 0, None, Some(4))
        );
    }

    #[test]
    fn accessors() {
        let d = ds(4, 3);
        assert_eq!((d.len(), d.width(), d.num_classes()), (4, 3, 3));
        assert_eq!(d.sample(2), Some(&[6.0, 7.0, 8.0][..]));
        assert_eq!(d.sample(4), None);
        assert_eq!(d.sample(usize::MAX), None);
        assert_eq!((d.class(3), d.class(4)), (Some(0), None));
        assert_eq!(d.class_counts(), [2, 1, 1]);
        assert_eq!(format!("{d:?}"), "Dataset { len: 4, width: 3, num_classes: 3 }");
    }

    #[test]
    fn subset_filter_map_classes() {
        let d = ds(6, 2);
        let s = d.subset(&[5, 0, 5]).unwrap();
        assert_eq!(s.features(), &[10.0, 11.0, 0.0, 1.0, 10.0, 11.0]);
        assert_eq!(s.classes(), Some(&[2, 0, 2][..]));
        assert!(matches!(d.subset(&[1, 6]), Err(DataError::Index { index: 6, len: 6 })));

        let f = d.filter(|x, c| c != 1 && x[0] < 8.0).unwrap();
        assert_eq!(f.classes(), Some(&[0, 2, 0][..]));
        assert_eq!(f.features(), &[0.0, 1.0, 4.0, 5.0, 6.0, 7.0]);
        let m = f.map_classes(|c| c / 2).unwrap();
        assert_eq!(m.classes(), Some(&[0, 1, 0][..]));

        let r = Dataset::regression(vec![0.0; 2], 1, vec![0.0; 2], 1).unwrap();
        assert!(matches!(r.filter(|_, _| true), Err(DataError::NotClasses { .. })));
        assert!(matches!(r.map_classes(|c| c), Err(DataError::NotClasses { .. })));
    }

    #[test]
    fn splits_follow_keras() {
        let d = ds(10, 1);
        let (a, b) = d.split_last(0.25).unwrap();
        // floor(10 * 0.75) = 7 train samples; the validation part is the tail.
        assert_eq!((a.len(), b.len()), (7, 3));
        assert_eq!(b.features(), &[7.0, 8.0, 9.0]);
        assert_eq!(d.split_last(0.0).unwrap().1.len(), 0);
        assert_eq!(d.split_last(1.0).unwrap().0.len(), 0);
        assert!(d.split_last(1.5).is_err());
        assert!(d.split_last(f64::NAN).is_err());
        let (a, b) = d.split_at(4).unwrap();
        assert_eq!((a.features()[3], b.features()[0]), (3.0, 4.0));
        assert!(d.split_at(11).is_err());
    }

    #[test]
    fn shuffling_is_seeded_and_a_permutation() {
        let d = ds(50, 1);
        let a = d.shuffled_indices(&mut seeded(1));
        let b = d.shuffled_indices(&mut seeded(1));
        let c = d.shuffled_indices(&mut seeded(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d.indices());
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, d.indices());

        // In place: the same allocation is reused epoch after epoch.
        let mut order = d.indices();
        let ptr = order.as_ptr();
        shuffle(&mut order, &mut seeded(1));
        assert_eq!(order, a);
        assert_eq!(order.as_ptr(), ptr);
    }

    #[test]
    fn an_unlabeled_dataset_fills_batches_and_refuses_label_operations() {
        let d = Dataset::unlabeled((0..12).map(|i| i as f32).collect(), 3).unwrap();
        assert_eq!((d.len(), d.width(), d.is_labeled(), d.num_classes()), (4, 3, false, 0));
        let mut x = Batch::<3>::default();
        d.fill_batch(&[3, 0], &mut x).unwrap();
        assert_eq!(x.as_slice(), &[9.0, 10.0, 11.0, 0.0, 1.0, 2.0]);
        // Splits and subsets stay unlabeled, with their own counts.
        let (a, b) = d.split_at(1).unwrap();
        assert_eq!((a.len(), b.len(), b.is_labeled()), (1, 3, false));
        let no_labels = |e: DataError| e.to_string().contains("needs labelled samples");
        assert!(no_labels(d.fill_targets(&[0], &mut TargetBuf::default()).unwrap_err()));
        assert!(no_labels(d.fill_classes(&[0], &mut Vec::new()).unwrap_err()));
        assert!(no_labels(d.filter(|_, _| true).unwrap_err()));
        assert!(no_labels(d.fill_values(&[0], &mut Batch::<1>::default()).unwrap_err()));
        assert!(d.class_counts().is_empty());
        assert!(Dataset::unlabeled(vec![1.0; 5], 2).is_err(), "not whole samples");
        assert!(Dataset::unlabeled(vec![f32::NAN; 2], 2).is_err(), "features are checked as ever");
    }

    #[test]
    fn fill_batch_copies_rows_and_reuses_the_allocation() {
        let d = ds(5, 3);
        let mut x = Batch::<3>::zeros(4);
        let ptr = x.as_slice().as_ptr();
        d.fill_batch(&[4, 1, 2, 0], &mut x).unwrap();
        assert_eq!(x.len(), 4);
        assert_eq!(x.sample(0), &[12.0, 13.0, 14.0]);
        assert_eq!(x.sample(3), &[0.0, 1.0, 2.0]);
        assert_eq!(x.as_slice().as_ptr(), ptr, "same size: no reallocation");
        // A short last batch.
        d.fill_batch(&[3], &mut x).unwrap();
        assert_eq!(x.as_slice(), &[9.0, 10.0, 11.0]);

        let mut wrong = Batch::<2>::default();
        assert!(matches!(d.fill_batch(&[0], &mut wrong), Err(DataError::Shape { .. })));
        assert!(matches!(d.fill_batch(&[9], &mut x), Err(DataError::Index { index: 9, len: 5 })));

        let mut y = Vec::new();
        d.fill_classes(&[4, 1, 2], &mut y).unwrap();
        assert_eq!(y, [1, 1, 2]);
        let mut hot = Batch::<3>::default();
        d.fill_one_hot(&[2, 0], &mut hot).unwrap();
        assert_eq!(hot.as_slice(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        let mut narrow = Batch::<2>::default();
        assert!(d.fill_one_hot(&[2], &mut narrow).is_err());
    }

    #[test]
    fn fill_targets_reuses_its_buffer_for_either_kind() {
        let mut buf = TargetBuf::default();
        ds(4, 1).fill_targets(&[3, 1], &mut buf).unwrap();
        assert_eq!(buf, TargetBuf::Classes(vec![0, 1]));
        assert_eq!(buf.as_targets(), crate::loss::Targets::Classes(&[0, 1]));
        let r = Dataset::regression(vec![0.0; 2], 1, vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        r.fill_targets(&[1], &mut buf).unwrap();
        assert_eq!(buf, TargetBuf::Values(vec![3.0, 4.0]));
        assert!(r.fill_targets(&[2], &mut buf).is_err());
    }

    #[test]
    fn fill_values_for_regression() {
        let r = Dataset::regression(vec![0.0; 3], 1, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2).unwrap();
        let mut y = Batch::<2>::default();
        r.fill_values(&[2, 0], &mut y).unwrap();
        assert_eq!(y.as_slice(), &[5.0, 6.0, 1.0, 2.0]);
        let mut y1 = Batch::<1>::default();
        assert!(r.fill_values(&[0], &mut y1).is_err());
        assert!(ds(2, 1).fill_values(&[0], &mut y).is_err());
        assert!(r.fill_classes(&[0], &mut Vec::new()).is_err());
    }

    #[test]
    fn scale_and_standardize() {
        let mut d = Dataset::classification(vec![0.0, 255.0, 51.0, -2.0], 2, vec![0, 1]).unwrap();
        d.scale(0.5);
        assert_eq!(d.features(), &[0.0, 127.5, 25.5, -1.0]);

        let train = Dataset::regression(vec![1.0, 7.0, 3.0, 7.0, 5.0, 7.0], 2, vec![0.0; 3], 1).unwrap();
        let s = Standardizer::fit(&train);
        assert_eq!(s.mean, [3.0, 7.0]);
        assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 1.0, "a constant feature keeps std 1");
        let mut test = Dataset::regression(vec![3.0, 9.0], 2, vec![0.0], 1).unwrap();
        s.apply(&mut test).unwrap();
        assert_eq!(test.features(), &[0.0, 2.0]);
        let mut other = ds(2, 3);
        assert!(s.apply(&mut other).is_err());
    }

    #[test]
    fn non_finite_values_are_refused_at_construction_naming_sample_and_column() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut x = vec![0.0; 6];
            x[4] = bad;
            let err = Dataset::classification(x.clone(), 3, vec![0, 1]).unwrap_err();
            assert!(
                matches!(err, DataError::NonFinite { sample: 1, column: 1, what: "feature", .. }),
                "{err:?}"
            );
            assert!(err.to_string().starts_with("sample 1, feature column 1: "), "{err}");
            let err = Dataset::regression(vec![0.0; 2], 1, vec![1.0, 2.0, 3.0, bad], 2).unwrap_err();
            assert!(
                matches!(err, DataError::NonFinite { sample: 1, column: 1, what: "target", .. }),
                "{err:?}"
            );
            assert!(Dataset::new(x, 2, TargetData::Classes(vec![0; 3])).is_err());
        }
    }

    #[test]
    fn a_wide_batch_fills_in_parts_as_row_by_row() {
        // 40 rows of 784: shared between two threads where the kernel has them.
        let d = ds(64, 784);
        let idx: Vec<usize> = (0..40).map(|i| (i * 37) % 64).collect();
        let mut x = Batch::<784>::default();
        d.fill_batch(&idx, &mut x).unwrap();
        let want: Vec<f32> = idx.iter().flat_map(|&i| d.sample(i).unwrap().to_vec()).collect();
        assert_eq!(x.as_slice(), &want[..]);
        // A NaN in the batch's last row (the second part) is named by its sample.
        let mut d = d;
        d.features_mut()[idx[39] * 784 + 5] = f32::NAN;
        let err = d.fill_batch(&idx, &mut x).unwrap_err();
        assert!(
            matches!(err, DataError::NonFinite { sample, column: 5, .. } if sample == idx[39]),
            "{err:?}"
        );
    }

    #[test]
    fn fills_refuse_values_that_turned_non_finite_later() {
        let mut d = ds(4, 3);
        d.features_mut()[7] = f32::NAN; // sample 2, column 1
        let mut x = Batch::<3>::default();
        d.fill_batch(&[0, 1, 3], &mut x).unwrap();
        let err = d.fill_batch(&[3, 2], &mut x).unwrap_err();
        assert!(matches!(err, DataError::NonFinite { sample: 2, column: 1, what: "feature", .. }), "{err:?}");

        // Scaling overflows to infinity; a Standardizer with a zero std divides by 0.
        let mut d = ds(2, 2);
        d.scale(f32::MAX);
        assert!(matches!(d.fill_batch(&[1], &mut Batch::<2>::default()), Err(DataError::NonFinite { .. })));
        let mut d = ds(2, 2);
        Standardizer { mean: vec![0.0; 2], std: vec![0.0; 2] }.apply(&mut d).unwrap();
        // Sample 0 is 0 / 0 = NaN in column 0.
        let err = d.fill_batch(&[0], &mut Batch::<2>::default()).unwrap_err();
        assert!(matches!(err, DataError::NonFinite { sample: 0, column: 0, .. }), "{err:?}");

        // TargetData (values) are checked by both target fills.
        let mut r = Dataset::regression(vec![0.0; 2], 1, vec![1.0, 2.0, 3.0, 4.0], 2).unwrap();
        if let TargetData::Values { data, .. } = &mut r.targets {
            data[3] = f32::INFINITY;
        }
        let mut buf = TargetBuf::default();
        r.fill_targets(&[0], &mut buf).unwrap();
        let err = r.fill_targets(&[0, 1], &mut buf).unwrap_err();
        assert!(matches!(err, DataError::NonFinite { sample: 1, column: 1, what: "target", .. }), "{err:?}");
        let err = r.fill_values(&[1], &mut Batch::<2>::default()).unwrap_err();
        assert!(matches!(err, DataError::NonFinite { sample: 1, column: 1, what: "target", .. }), "{err:?}");
    }

    #[test]
    fn huge_class_ids_are_refused_without_a_huge_allocation() {
        let err = Dataset::classification(vec![0.0; 3], 1, vec![1, u32::MAX, 2]).unwrap_err();
        assert!(matches!(err, DataError::ClassTooLarge { sample: 1, class: u32::MAX, .. }), "{err:?}");
        assert!(err.to_string().contains("sample 1: class 4294967295"), "{err}");
        let top = Dataset::classification(vec![0.0; 2], 1, vec![MAX_CLASSES - 1, 0]).unwrap();
        assert_eq!(top.num_classes(), MAX_CLASSES as usize);
        assert_eq!(top.class_counts().len(), MAX_CLASSES as usize);
        let err = top.map_classes(|c| c + 1).unwrap_err();
        assert!(matches!(err, DataError::ClassTooLarge { sample: 0, .. }), "{err:?}");
    }

    #[test]
    fn from_u8_images_checks_both_files() {
        let idx = |dims: Vec<usize>, data: Vec<u8>, p: &str| Idx { dims, data, path: PathBuf::from(p) };
        let images = idx(vec![2, 2, 2], vec![0, 255, 1, 2, 3, 4, 5, 6], "imgs");
        let labels = idx(vec![2], vec![9, 3], "labs");
        let d = Dataset::from_u8_images(&images, &labels).unwrap();
        assert_eq!((d.width(), d.len(), d.classes()), (4, 2, Some(&[9, 3][..])));
        assert_eq!(d.sample(0), Some(&[0.0, 255.0, 1.0, 2.0][..]));
        // The loaders divide, as Keras users do (`x / 255.0`), rather than multiply.
        let scaled = Dataset::from_idx(&images, &labels, 255.0).unwrap();
        assert_eq!(scaled.sample(1), Some(&[3.0 / 255.0, 4.0 / 255.0, 5.0 / 255.0, 6.0 / 255.0][..]));

        let three = idx(vec![3], vec![1, 2, 3], "labs3");
        let err = Dataset::from_u8_images(&images, &three).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("imgs") && msg.contains("labs3") && msg.contains("2 images but 3 labels"),
            "{msg}"
        );
        assert!(Dataset::from_u8_images(&labels, &labels).is_err());
        assert!(Dataset::from_u8_images(&images, &images).is_err());
    }
}
