//! One input through each runtime parser: what the fuzz targets run, and what the root
//! crate's `tests/fuzz_replay.rs` runs on every file in `fuzz/seeds/` and `fuzz/regressions/`.
//! Each function returns whether the input was accepted; any input may be refused, none may
//! panic, abort or allocate without bound.

use mlp::data::{gunzip_if_gz, parse_idx, read_idx_with_limit, Dataset, TargetKind};
use mlp::io::{load_checkpoint, load_from_bytes, load_weights_from_bytes, LoadOptions};
use mlp::optim::Adam;
use mlp::prelude::*;
use std::path::Path;

network! {
    /// The network the weight-file and checkpoint targets load into: one of each layer
    /// that has tensors, a residual block and a name.
    pub FuzzNet< input(4); dense(3, relu); batch_norm; layer_norm; residual(project)< dense(2) >; head: dense(2, softmax) >
}

/// The bytes of an IDX file, not compressed.
pub fn idx(data: &[u8]) -> bool {
    parse_idx(data, "fuzz.idx").is_ok()
}

/// The bytes of an IDX file, gzip-compressed or not, read both ways: streamed from a file
/// within a size limit (as data sets and downloads are read) and inflated in memory. What
/// both accept must be the same.
pub fn idx_gz(data: &[u8]) -> bool {
    let in_memory = gunzip_if_gz(data.to_vec(), Path::new("fuzz.idx.gz"))
        .and_then(|bytes| parse_idx(&bytes, "fuzz.idx.gz"))
        .ok();
    let path = std::env::temp_dir().join(format!("mlp-fuzz-idx-{}.gz", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return in_memory.is_some();
    }
    let streamed = read_idx_with_limit(&path, 1 << 24).ok();
    let _ = std::fs::remove_file(&path);
    if let (Some(a), Some(b)) = (&in_memory, &streamed) {
        assert_eq!((&a.dims, &a.data), (&b.dims, &b.data), "the streamed and in-memory readers disagree");
    }
    in_memory.is_some() || streamed.is_some()
}

/// A CSV file with a `label` column, read as classes and as values.
pub fn csv(data: &[u8]) -> bool {
    let classes = Dataset::from_csv_reader(data, "fuzz.csv", "label", TargetKind::Classes).is_ok();
    let values = Dataset::from_csv_reader(data, "fuzz.csv", "label", TargetKind::Values).is_ok();
    classes || values
}

/// A safetensors weight file for [`FuzzNet`], loaded from bytes as without std
/// (`load_from_bytes`): a refused file leaves the network as it was, and the std loader
/// (`load_weights_from_bytes`) gives the same report or message.
pub fn weights(data: &[u8]) -> bool {
    let mut net = FuzzNet::seeded(0);
    let before = mlp::tensors::snapshot(&net);
    let loaded = load_from_bytes(&mut net, data, &LoadOptions::default());
    if let Err(e) = &loaded {
        assert!(mlp::tensors::snapshot(&net) == before, "a refused file changed the network: {e}");
    }
    let with_std = load_weights_from_bytes(&mut FuzzNet::seeded(0), data, &LoadOptions::default());
    assert_eq!(
        loaded.as_ref().map_err(ToString::to_string),
        with_std.as_ref().map_err(ToString::to_string),
        "the two loaders disagree"
    );
    loaded.is_ok()
}

/// A checkpoint of [`FuzzNet`] trained by Adam: the network's tensors, then the optimizer's
/// state. `load_checkpoint` reads a path, so the bytes go through a file of this process's own.
pub fn checkpoint(data: &[u8]) -> bool {
    let path = std::env::temp_dir().join(format!("mlp-fuzz-checkpoint-{}.safetensors", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return false;
    }
    let mut net = FuzzNet::seeded(0);
    let loaded = load_checkpoint(&path, &mut net);
    let _ = std::fs::remove_file(&path);
    loaded.is_ok_and(|state| state.restore_optimizer(&mut Adam::default()).is_ok())
}
