//! Losses.

/// Re-exports for `mlp::prelude`.
pub mod prelude {}
