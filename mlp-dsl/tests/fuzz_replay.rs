//! The `network_macro` fuzz target's seeds and every crash found, replayed through the
//! function the target calls (the other targets' files: the root's `tests/fuzz_replay.rs`).

#[path = "../../fuzz/src/network_macro.rs"]
mod network_macro;
#[path = "../../fuzz/src/replay.rs"]
mod replay;

use std::path::Path;

#[test]
fn network_macro() {
    let fuzz_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    replay::replay(&fuzz_dir, "network_macro", network_macro::network_macro);
}
