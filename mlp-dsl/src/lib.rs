//! The `network!` language: its syntax tree ([`ast`]), parser, checker ([`check`]) and the
//! tables of its activation and initializer words ([`keywords`]).
//!
//! The `mlp-macros` crate turns a checked [`Model`] into code. This front end is a crate of
//! its own because a proc-macro crate can export only macros, and tests and the fuzzer need
//! to run it on any tokens: [`check_tokens`] works outside a macro too (proc-macro2 falls
//! back to its own token types there), so `"N< input(4); dense(2) >".parse()` is an input.
//! It never panics on any input; every mistake is a `syn::Error` at the tokens at fault.

#![warn(missing_docs)]

pub mod ast;
pub mod check;
pub mod keywords;
mod parse;

pub use ast::{Model, RawInput, RawNetwork};
pub use check::check_network;

use proc_macro2::TokenStream;

/// How deeply `residual<...>` blocks, and brackets, may nest. Parsing, checking and the
/// generated code all recurse once per level, so a limit keeps rustc's stack safe; real
/// networks use two or three levels.
pub const MAX_DEPTH: usize = 32;

/// How many layers a network may have once its `repeat`s are written out, residual bodies
/// included: each becomes a struct field, so this bounds the macro's and rustc's work.
/// Géron's deepest network has 100.
pub const MAX_LAYERS: usize = 10_000;

/// Parses the tokens inside `network! { ... }` into their raw syntax (one or more networks).
pub fn parse(tokens: TokenStream) -> syn::Result<RawInput> {
    parse::check_bracket_depth(tokens.clone())?;
    syn::parse2(tokens)
}

/// Parses and checks the tokens inside `network! { ... }`: the checked networks, or every
/// mistake found (the parser stops at its first; the checker reports all of each network's).
pub fn check_tokens(tokens: TokenStream) -> Result<Vec<Model>, Vec<syn::Error>> {
    let input = parse(tokens).map_err(|e| vec![e])?;
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for raw in &input.networks {
        match check_network(raw) {
            Ok(model) => models.push(model),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(errors)
    }
}
