//! What is emitted in place of a network that has errors.

use crate::expand::rt;
use proc_macro2::TokenStream;
use quote::quote;

/// What is emitted for a network with errors: its name and the methods users call, so the
/// user sees the real errors and not a cascade of "cannot find type".
pub fn stub(name: &syn::Ident, vis: &syn::Visibility) -> TokenStream {
    let rt = rt();
    quote! {
        #vis struct #name;
        impl #name {
            #[allow(dead_code, unused_variables)]
            pub fn new(rng: &mut #rt::Rng) -> Self { #name }
            #[allow(dead_code, unused_variables)]
            pub fn seeded(seed: u64) -> Self { #name }
        }
    }
}
