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

/// The fuzzer's dictionary holds every activation and initializer keyword, so a row added to
/// the tables is fuzzed too.
#[test]
fn the_dictionary_knows_every_keyword() {
    let dict =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/network_macro.dict"))
            .expect("fuzz/network_macro.dict");
    let words: Vec<&str> = dict.lines().filter_map(|l| l.strip_prefix('"')?.strip_suffix('"')).collect();
    let tables = mlp_dsl::keywords::ACTIVATIONS.iter().map(|w| w.keyword);
    for keyword in tables.chain(mlp_dsl::keywords::INITIALIZERS.iter().map(|w| w.keyword)) {
        assert!(words.contains(&keyword), "fuzz/network_macro.dict lacks \"{keyword}\"");
    }
}
