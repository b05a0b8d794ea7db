//! The functions the fuzz targets call, one input each. The same files are compiled into
//! the normal tests (`tests/fuzz_replay.rs`, `mlp-dsl/tests/fuzz_replay.rs`), which replay
//! the seeds and every crash found, so `cargo test --workspace` covers them.

pub mod network_macro;
pub mod replay;
pub mod targets;
