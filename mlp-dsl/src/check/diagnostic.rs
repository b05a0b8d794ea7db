//! Collecting errors, and the wording they share: lists, "did you mean", limits.

use crate::ast::RawValue;
use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::Error;

use super::layers::LAYERS;
use crate::keywords::ACTIVATIONS;

/// Collected errors, combined into one at the end.
#[derive(Default)]
pub(super) struct Errors {
    all: Option<Error>,
    count: usize,
}

impl Errors {
    pub(super) fn push(&mut self, e: Error) {
        self.count += 1;
        match &mut self.all {
            Some(all) => all.combine(e),
            None => self.all = Some(e),
        }
    }

    /// How many errors were collected so far.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// An error covering the tokens from `first` to `last`.
    pub(super) fn at(&mut self, first: Span, last: Span, msg: impl std::fmt::Display) {
        self.push(spanned(first, last, msg));
    }

    pub(super) fn at_span(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.push(Error::new(span, msg));
    }

    /// An error covering an argument's value: `leaky_relu(0.2)` whole, not just its parentheses.
    pub(super) fn at_value(&mut self, v: &RawValue, msg: impl std::fmt::Display) {
        match v {
            RawValue::Word { ident, args: Some(args) } => self.at(ident.span(), args.span, msg),
            v => self.at_span(v.span(), msg),
        }
    }

    /// `Ok` when nothing was collected, else every error combined into one.
    pub(crate) fn into_result(self) -> Result<(), Error> {
        self.all.map_or(Ok(()), Err)
    }
}

/// `Error::new_spanned` over two tokens carrying the spans, which works on stable.
pub(super) fn spanned(first: Span, last: Span, msg: impl std::fmt::Display) -> Error {
    let a = quote_spanned!(first=> a);
    let b = quote_spanned!(last=> b);
    let tokens: TokenStream = a.into_iter().chain(b).collect();
    Error::new_spanned(tokens, msg)
}

/// "`l2` must fit in an f32 (at most 3.4028235e38), found 1e39"
pub(super) fn too_large_for_f32(what: &str, text: &str) -> String {
    format!("{what} must fit in an f32 (at most {:e}), found {text}", f32::MAX)
}

/// `` `a`, `b`, `c` ``
pub(super) fn list<'w>(words: impl IntoIterator<Item = &'w str>) -> String {
    words.into_iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
}

/// Every keyword a layer can start with: the layers', then the activations'.
pub(super) fn layer_keywords() -> impl Iterator<Item = &'static str> {
    LAYERS.iter().map(|w| w.keyword).chain(ACTIVATIONS.iter().map(|w| w.keyword))
}

/// The keyword a capitalized layer name stands for: `Dense` → `dense`, `BatchNorm` →
/// `batch_norm`, `ReLU` → `relu`.
pub(super) fn lowercase_keyword(name: &str) -> Option<&'static str> {
    let squashed = name.to_lowercase();
    layer_keywords().find(|k| k.replace('_', "") == squashed)
}

/// `; did you mean `dense`?` when a known word is close to `word`.
pub(super) fn did_you_mean<'w>(word: &str, candidates: impl IntoIterator<Item = &'w str>) -> String {
    let best = candidates.into_iter().map(|c| (edit_distance(word, c), c)).min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= (word.len().max(c.len()) / 3).max(1) => format!("; did you mean `{c}`?"),
        _ => String::new(),
    }
}

/// Levenshtein distance, with a swap of neighbours counted as one edit.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}
