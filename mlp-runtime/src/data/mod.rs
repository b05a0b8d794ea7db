//! Data loading: IDX files, the Fashion-MNIST and MNIST datasets, CSV, in-memory datasets.
//!
//! ```no_run
//! use mlp_runtime::prelude::*;
//! let (train, test) = fashion_mnist::load()?; // pixels already in [0, 1]
//! let (train, valid) = train.split_last(1.0 / 12.0)?;
//! let mut rng = mlp_runtime::rng::seeded(42);
//! let mut order = train.indices();
//! let mut x = Batch::<784>::default();
//! let mut y = TargetBuf::default();
//! shuffle(&mut order, &mut rng);
//! for chunk in order.chunks(32) {
//!     train.fill_batch(chunk, &mut x)?; // no allocation after the first batch
//!     train.fill_targets(chunk, &mut y)?; // y.as_targets() goes to the loss
//! }
//! # let _ = (test, valid);
//! # Ok::<(), DataError>(())
//! ```

mod builtin;
mod csv;
mod dataset;
mod download;
mod error;
mod idx;

pub use self::csv::TargetKind;
pub use builtin::{fashion_mnist, mnist, FileSpec, Search, Source};
pub use dataset::{shuffle, Dataset, Standardizer, TargetBuf, TargetData, MAX_CLASSES};
pub use error::DataError;
pub use idx::{gunzip_if_gz, parse_idx, read_idx, read_idx_with_limit, read_maybe_gz, Idx, MAX_IDX_BYTES};

/// The old name of [`TargetData`], which clashed with the losses' [`crate::loss::Targets`].
#[deprecated(
    note = "renamed to `mlp::data::TargetData`; `mlp::loss::Targets` is the per-batch view losses take"
)]
pub type Targets = TargetData;

/// Re-exports for `mlp::prelude`. [`TargetData`] stays out: the prelude's `Targets` is
/// the losses' borrowed one, which [`TargetBuf::as_targets`] produces.
pub mod prelude {
    pub use super::{fashion_mnist, mnist, shuffle, DataError, Dataset, Standardizer, TargetBuf, TargetKind};
}
