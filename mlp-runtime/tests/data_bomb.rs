//! Peak memory on a gzip bomb: a Fashion-MNIST folder whose training images are a 1 MB
//! gzip file inflating to 1 GB (the right 16-byte header, then zeros). Before the limits,
//! loading it peaked at 1.05 GB; now it is an error naming the file, read within the
//! file's known size (47 MB).
//!
//! Ignored by default (it writes and reads 1 GB of gzip stream, a few seconds); `.ci/run`
//! runs it. The process's own high-water mark (`VmHWM`) is the measurement, so run it
//! alone: `cargo test -p mlp-runtime --test data_bomb -- --ignored --nocapture`.

use std::io::Write;

use flate2::{write::GzEncoder, Compression};
use mlp_runtime::data::{fashion_mnist, read_idx, DataError};

/// 1,000,000,000 bytes of content: the header of 60,000 images of 28x28, then zeros.
fn write_bomb(path: &std::path::Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz = GzEncoder::new(std::io::BufWriter::new(file), Compression::best());
    gz.write_all(&[0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = 1_000_000_000usize - 16;
    while left > 0 {
        let n = left.min(zeros.len());
        gz.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    gz.finish().unwrap().flush().unwrap();
}

/// The process's peak resident memory in bytes (Linux; `None` elsewhere).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
#[ignore = "writes and inflates a 1 GB gzip bomb (a few seconds); .ci/run runs it"]
fn a_one_gigabyte_bomb_is_refused_within_the_files_known_size() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("fashion-mnist");
    std::fs::create_dir(&dir).unwrap();
    let bomb = dir.join("train-images-idx3-ubyte.gz");
    write_bomb(&bomb);
    // The other three only need to exist: the training images are read first.
    for name in ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        std::fs::write(dir.join(name), b"").unwrap();
    }
    let on_disk = std::fs::metadata(&bomb).unwrap().len();
    let before = peak_rss();

    let err = read_idx(&bomb).unwrap_err();
    assert!(err.to_string().contains("train-images-idx3-ubyte.gz"), "{err}");
    let err = fashion_mnist::load_from(&dir).unwrap_err();
    assert!(matches!(err, DataError::IdxTooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("train-images-idx3-ubyte.gz"), "{err}");

    if let (Some(before), Some(peak)) = (before, peak_rss()) {
        eprintln!(
            "bomb: {on_disk} bytes on disk, 1,000,000,016 inflated; peak RSS {:.1} MB before reading, {:.1} MB after",
            before as f64 / 1e6,
            peak as f64 / 1e6
        );
        // Within the largest size the file may have (47 MB) and the test's own footprint,
        // far below the 1 GB the bomb holds.
        assert!(peak < 256_000_000, "peak RSS {peak} bytes");
    }
}
