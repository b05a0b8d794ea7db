//! The fuzz targets' seeds and every crash the fuzzer found (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`), replayed through the same functions the targets call, so
//! `cargo test --workspace` keeps them fixed without cargo-fuzz. The `network_macro` target's
//! files are replayed by `mlp-dsl/tests/fuzz_replay.rs`.
//!
//! The seeds are tiny valid files generated here: after a format change, rewrite them with
//! `MLP_WRITE_SEEDS=1 cargo test --test fuzz_replay`.

#[path = "../fuzz/src/replay.rs"]
mod replay;
#[path = "../fuzz/src/targets.rs"]
mod targets;

use mlp::io::{save_checkpoint, weights_to_bytes, CheckpointState};
use mlp::optim::Adam;
use replay::replay;
use std::path::{Path, PathBuf};
use targets::FuzzNet;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn idx() {
    replay(&fuzz_dir(), "idx", targets::idx);
}

#[test]
fn idx_gz() {
    replay(&fuzz_dir(), "idx_gz", targets::idx_gz);
}

#[test]
fn csv() {
    replay(&fuzz_dir(), "csv", targets::csv);
}

#[test]
fn weights() {
    replay(&fuzz_dir(), "weights", targets::weights);
}

#[test]
fn checkpoint() {
    replay(&fuzz_dir(), "checkpoint", targets::checkpoint);
}

/// A panicking input fails the replay, naming the file.
#[test]
#[should_panic(expected = "panicked")]
fn a_panicking_input_fails_the_replay() {
    replay(&fuzz_dir(), "idx", |data| panic!("{} bytes", data.len()));
}

#[test]
fn seeds_are_what_this_file_generates() {
    let write = std::env::var_os("MLP_WRITE_SEEDS").is_some();
    for (target, name, bytes) in seeds() {
        let path = fuzz_dir().join("seeds").join(target).join(name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(on_disk == bytes, "{} is stale: rerun with MLP_WRITE_SEEDS=1", path.display());
        }
    }
}

/// (target, file name, bytes) of every generated seed.
fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let images = idx_file(0x08, &[2, 3, 3], &(0..18).collect::<Vec<u8>>());
    let labels = idx_file(0x08, &[2], &[0, 9]);
    let csv = b"x0,x1,label\n0.5,1,0\n-2,3e-1,1\n".to_vec();
    let net = FuzzNet::seeded(1);
    let weights = weights_to_bytes(&net).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.safetensors");
    let state = CheckpointState::of(3, &Adam::default(), &mlp::rng::seeded(7));
    save_checkpoint(&path, &net, &state).unwrap();
    let checkpoint = std::fs::read(&path).unwrap();
    vec![
        ("idx", "images-u8-2x3x3.idx", images.clone()),
        ("idx", "labels-u8-2.idx", labels.clone()),
        ("idx_gz", "images-u8-2x3x3.idx.gz", stored_gzip(&images)),
        ("idx_gz", "labels-u8-2.idx", labels),
        ("csv", "two-rows.csv", csv),
        ("weights", "fuzz-net.safetensors", weights),
        ("checkpoint", "fuzz-net-adam.safetensors", checkpoint),
    ]
}

/// An IDX file: magic (two zero bytes, the type code, the rank), big-endian dims, data.
fn idx_file(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, type_code, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

/// `data` as a gzip file of one stored (uncompressed) deflate block; no encoder needed.
fn stored_gzip(data: &[u8]) -> Vec<u8> {
    let len = data.len() as u16;
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.push(1); // final block, stored
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
