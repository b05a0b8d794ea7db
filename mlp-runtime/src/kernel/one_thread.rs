//! The kernel's threads without std: there is no thread to hand a part to, so every part
//! runs on the calling thread. The same functions as `team.rs`, so `gemm` is written once.

/// Without std there is one thread: the count stays 1 whatever is asked (`team.rs` clamps
/// to the cores the process may use; here that is one).
pub fn set_threads(threads: usize) {
    let _ = threads;
}

/// Always 1 without std.
pub fn threads() -> usize {
    1
}

/// Computes the parts in order on this thread.
pub(super) fn run_parts(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    (0..parts).for_each(f);
}
