//! One input through the `network!` front end: the `network_macro` fuzz target, and
//! `mlp-dsl/tests/fuzz_replay.rs` on every file in `fuzz/seeds/network_macro/` and
//! `fuzz/regressions/network_macro/`.

use proc_macro2::TokenStream;

/// The text inside `network! { ... }`, checked as the macro checks it. Returns whether it
/// was a valid network; text that is not UTF-8 or not Rust tokens counts as invalid.
pub fn network_macro(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else { return false };
    let Ok(tokens) = text.parse::<TokenStream>() else { return false };
    mlp_dsl::check_tokens(tokens).is_ok()
}
