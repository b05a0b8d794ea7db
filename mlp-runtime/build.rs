//! Tells the runtime whether it is being compiled without optimization (issue 13).
//!
//! A user's `cargo run` builds this crate at opt-level 0 unless their Cargo.toml says
//! otherwise, and training is then ~250x slower with no hint. Cargo gives build scripts
//! the crate's opt-level in `OPT_LEVEL`; `mlp_unoptimized` lets `opt_level.rs` say so
//! at run time.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mlp_unoptimized)");
    // Only the profile decides the cfg: no rebuild of the script on source changes.
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=OPT_LEVEL");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=mlp_unoptimized");
    }
}
