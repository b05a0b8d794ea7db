//! The `network!` macro of the `mlp` crate. Three stages, each a file: parse.rs (tokens to
//! the raw syntax of ast.rs), check.rs (meanings, widths and names; every mistake
//! collected), expand.rs (the generated code). Users depend on `mlp`, which re-exports this.

mod ast;
mod check;
mod expand;
mod parse;

use proc_macro::TokenStream;

/// Declares one or more networks. See the `mlp` crate's README for the grammar.
///
/// ```text
/// network! { pub Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) > }
/// ```
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as ast::RawInput);
    let mut out = proc_macro2::TokenStream::new();
    for raw in &input.networks {
        match check::check_network(raw) {
            Ok(model) => out.extend(expand::expand(&model)),
            Err(e) => {
                out.extend(e.to_compile_error());
                out.extend(expand::stub(&raw.name, &raw.vis));
            }
        }
    }
    out.into()
}
