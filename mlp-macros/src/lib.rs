//! The `network!` macro of the `mlp` crate. Parsing and checking live in the `mlp-dsl`
//! crate (tokens to a checked model, every mistake collected); expand.rs turns the model into
//! the generated code, fallback.rs what stands in for a network with errors. Users depend on
//! `mlp`, which re-exports this.

mod expand;
mod fallback;

use proc_macro::TokenStream;

/// Declares one or more networks. See the `mlp` crate's README for the grammar.
///
/// ```text
/// network! { pub Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) > }
/// ```
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let input = match mlp_dsl::parse(input.into()) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut out = proc_macro2::TokenStream::new();
    for raw in &input.networks {
        match mlp_dsl::check_network(raw) {
            Ok(model) => out.extend(expand::expand(&model)),
            Err(e) => {
                out.extend(e.to_compile_error());
                out.extend(fallback::stub(&raw.name, &raw.vis));
            }
        }
    }
    out.into()
}
