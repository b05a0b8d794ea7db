//! Data loading: IDX files, the Fashion-MNIST and MNIST datasets, CSV, in-memory datasets.

/// Re-exports for `mlp::prelude`.
pub mod prelude {}
