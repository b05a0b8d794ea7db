//! Peak memory on a gzip bomb, measured from outside (`/usr/bin/time -v`, "Maximum
//! resident set size"): a Fashion-MNIST folder whose training images are a 1 MB gzip
//! file inflating to 1 GB (the right 16-byte header, then zeros).
//!
//! ```text
//! mkdir -p /tmp/bomb/fashion-mnist && cd /tmp/bomb
//! (printf '\x00\x00\x08\x03\x00\x00\xea\x60\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 1000000000 /dev/zero) \
//!     | gzip -9 > fashion-mnist/train-images-idx3-ubyte.gz
//! cp <the real data>/fashion-mnist/{train-labels,t10k}* fashion-mnist/
//! MLP_BOMB_DIR=/tmp/bomb /usr/bin/time -v target/debug/deps/data_bomb-<hash> --ignored
//! ```

use std::path::PathBuf;

use mlp_runtime::data::{fashion_mnist, read_idx};

fn bomb_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("MLP_BOMB_DIR").expect("set MLP_BOMB_DIR to the folder holding fashion-mnist/"),
    )
    .join("fashion-mnist")
}

#[test]
#[ignore = "needs a 1 GB gzip bomb in MLP_BOMB_DIR; run under /usr/bin/time -v"]
fn a_one_gigabyte_bomb_is_an_error() {
    let dir = bomb_dir();
    // One at a time (MLP_BOMB_ONLY=read_idx or load_from) to measure each alone.
    let only = std::env::var("MLP_BOMB_ONLY").unwrap_or_default();
    if only != "load_from" {
        let err = read_idx(dir.join("train-images-idx3-ubyte.gz")).unwrap_err();
        eprintln!("read_idx: {err}");
    }
    if only != "read_idx" {
        let err = fashion_mnist::load_from(&dir).unwrap_err();
        eprintln!("fashion_mnist::load_from: {err}");
    }
}
