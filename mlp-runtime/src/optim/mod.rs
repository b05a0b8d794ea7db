//! Optimizers, learning-rate schedules and gradient clipping.

/// Re-exports for `mlp::prelude`.
pub mod prelude {}
