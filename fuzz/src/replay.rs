//! Runs every file of `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` through a
//! target's function: the normal tests that keep found crashes fixed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Runs `run` on every file for `target` under `fuzz/` (`fuzz_dir`); panics naming every
/// file that panicked, every seed that was refused (seeds are valid inputs), or a target
/// without seeds.
pub fn replay(fuzz_dir: &Path, target: &str, run: fn(&[u8]) -> bool) {
    let mut failures = Vec::new();
    for (folder, must_accept) in [("seeds", true), ("regressions", false)] {
        let dir = fuzz_dir.join(folder).join(target);
        let mut files: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect(),
            Err(_) if folder == "regressions" => Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", dir.display()),
        };
        files.sort();
        if folder == "seeds" && files.is_empty() {
            failures.push(format!("{}: no seeds", dir.display()));
        }
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            match catch_unwind(AssertUnwindSafe(|| run(&data))) {
                Ok(accepted) if must_accept && !accepted => {
                    failures.push(format!("{}: a seed, refused", file.display()))
                }
                Ok(_) => {}
                Err(_) => failures.push(format!("{}: panicked", file.display())),
            }
        }
    }
    assert!(failures.is_empty(), "fuzz target `{target}`:\n{}", failures.join("\n"));
}
