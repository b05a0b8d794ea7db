//! A checked [`Model`] to Rust: the struct, its constructor, and its `Layer`, `Build` and
//! `Network` impls. Everything here may assume the model is valid.

use mlp_dsl::ast::{Act, Checked, Init, Kind, Model, Params, Width};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;

/// Where generated code finds the runtime, from any user crate.
pub(crate) fn rt() -> TokenStream {
    quote!(::mlp::__private)
}

/// The code for a network and, before it, the hidden structs of its residual bodies.
pub fn expand(model: &Model) -> TokenStream {
    let mut out = TokenStream::new();
    expand_model(model, &model.vis, true, None, &mut out);
    out
}

fn width(w: &Width) -> TokenStream {
    let rt = rt();
    match w {
        Width::Known(n) => {
            let n = Literal::usize_unsuffixed(*n);
            quote!(#n)
        }
        Width::InOf(p) => quote!({ <#p as #rt::Layer>::IN }),
        Width::OutOf(p) => quote!({ <#p as #rt::Layer>::OUT }),
    }
}

/// The runtime's `Activation` value: the variant the keyword table names, with its argument.
fn act(a: Act) -> TokenStream {
    let rt = rt();
    let variant = format_ident!("{}", a.word.variant);
    match a.alpha {
        Some(alpha) => quote!(#rt::Activation::#variant(#alpha)),
        None => quote!(#rt::Activation::#variant),
    }
}

/// The runtime's `Init` value: the variant the keyword table names, or `VarianceScaling`
/// with the variants its options' tables name.
fn init(init: &Init) -> TokenStream {
    let rt = rt();
    match init {
        Init::Named(word) => {
            let variant = format_ident!("{}", word.variant);
            quote!(#rt::Init::#variant)
        }
        Init::VarianceScaling { scale, mode, distribution } => {
            let mode = format_ident!("{}", mode.variant);
            let distribution = format_ident!("{}", distribution.variant);
            quote!(#rt::Init::VarianceScaling(#rt::VarianceScaling {
                scale: #scale,
                mode: #rt::FanMode::#mode,
                distribution: #rt::ScalingDistribution::#distribution,
            }))
        }
    }
}

/// The field's type and its constructor.
fn layer_parts(l: &Checked, bodies: &mut Vec<TokenStream>) -> (TokenStream, TokenStream) {
    let rt = rt();
    let i = width(&l.input);
    let o = width(&l.output);
    match &l.kind {
        Kind::Dense { units: _, act: a, init: ini, l1, l2, bias, max_norm } => {
            let a = act(*a);
            let ini = init(ini);
            let mut ctor = quote!(#rt::Dense::new(#a, #ini, rng));
            if !*bias {
                ctor = quote!(#ctor.without_bias());
            }
            if *l1 > 0.0 {
                ctor = quote!(#ctor.with_l1(#l1));
            }
            if *l2 > 0.0 {
                ctor = quote!(#ctor.with_l2(#l2));
            }
            if let Some(c) = max_norm {
                ctor = quote!(#ctor.with_max_norm(#c));
            }
            (quote!(#rt::Dense<#i, #o>), ctor)
        }
        Kind::Activation(a) => {
            let a = act(*a);
            (quote!(#rt::ActivationLayer<#i>), quote!(#rt::ActivationLayer::new(#a)))
        }
        Kind::PRelu => (quote!(#rt::PRelu<#i>), quote!(#rt::PRelu::new())),
        Kind::BatchNorm { momentum, epsilon, center, scale } => {
            let mut ctor = quote!(#rt::BatchNorm::new(#momentum, #epsilon));
            if !*center {
                ctor = quote!(#ctor.without_center());
            }
            if !*scale {
                ctor = quote!(#ctor.without_scale());
            }
            (quote!(#rt::BatchNorm<#i>), ctor)
        }
        Kind::LayerNorm { epsilon } => (quote!(#rt::LayerNorm<#i>), quote!(#rt::LayerNorm::new(#epsilon))),
        Kind::Dropout { rate } => (quote!(#rt::Dropout<#i>), quote!(#rt::Dropout::new(#rate))),
        Kind::AlphaDropout { rate } => (quote!(#rt::AlphaDropout<#i>), quote!(#rt::AlphaDropout::new(#rate))),
        Kind::Residual { project, act: a, body } => {
            let mut out = TokenStream::new();
            // A block whose output width the macro can't compare (a sub-network's) declares
            // its input width as its output: `width_checks` reports a difference, and the
            // types stay consistent so nothing else does.
            let declared = (!*project && body.output() != l.input).then_some(&l.input);
            expand_model(body, &syn::parse_quote!(pub), false, declared, &mut out);
            bodies.push(out);
            let name = &body.name;
            let a = act(*a);
            if *project {
                (
                    quote!(#rt::ProjectedResidual<#name, #i, #o>),
                    quote!(#rt::ProjectedResidual::new(<#name as #rt::Build>::build(rng), #a, rng)),
                )
            } else {
                (
                    quote!(#rt::Residual<#name, #i>),
                    quote!(#rt::Residual::new(<#name as #rt::Build>::build(rng), #a)),
                )
            }
        }
        Kind::Network(path) => (quote!(#path), quote!(<#path as #rt::Build>::build(rng))),
    }
}

/// A layer's (total, trainable) parameter counts: its own, by the checker's formula
/// ([`Kind::own_params`]), plus those of the struct it contains (a residual body, a sub-network).
fn param_counts(l: &Checked) -> (TokenStream, TokenStream) {
    let rt = rt();
    let (i, o) = (width(&l.input), width(&l.output));
    let terms = |p: Params| -> Vec<TokenStream> {
        [(p.in_out, quote!(#i * #o)), (p.per_in, i.clone()), (p.per_out, o.clone())]
            .into_iter()
            .filter(|(c, _)| *c > 0)
            .map(|(c, x)| {
                if c == 1 {
                    x
                } else {
                    let c = Literal::usize_unsuffixed(c);
                    quote!(#c * #x)
                }
            })
            .collect()
    };
    let (mut total, mut trainable) = match l.kind.own_params() {
        Some((t, tr)) => (terms(t), terms(tr)),
        None => (Vec::new(), Vec::new()),
    };
    let inner = match &l.kind {
        Kind::Residual { body, .. } => Some(body.name.to_token_stream()),
        Kind::Network(path) => Some(path.to_token_stream()),
        _ => None,
    };
    if let Some(ty) = inner {
        total.insert(0, quote!(<#ty as #rt::Network>::PARAMS));
        trainable.insert(0, quote!(<#ty as #rt::Network>::TRAINABLE_PARAMS));
    }
    let sum = |terms: Vec<TokenStream>| if terms.is_empty() { quote!(0) } else { quote!((#(#terms)+*)) };
    (sum(total), sum(trainable))
}

/// Checks the macro cannot do itself, left to rustc at the user's tokens: a sub-network's
/// input width, and the output width of a residual block that contains one. rustc reports
/// "expected an array with a size of 100, found one with a size of 784", spanned from the
/// first to the last token of the layer at fault (`features: Trunk`).
fn width_checks(l: &Checked) -> TokenStream {
    let rt = rt();
    match &l.kind {
        Kind::Network(path) => {
            let have = width(&l.input);
            same_size(l.first, path_end(path), have, quote!(<#path as #rt::Layer>::IN))
        }
        Kind::Residual { project: false, body, .. } if body.output() != l.input => {
            let (first, last) = match body.width_setter().map(|b| (b, &b.kind)) {
                Some((b, Kind::Network(path))) => (b.first, path_end(path)),
                Some((b, _)) => (b.first, b.first),
                None => (l.first, l.first),
            };
            same_size(first, last, width(&l.input), width(&body.output()))
        }
        _ => TokenStream::new(),
    }
}

/// `const _: () = { let _: [(); want] = *&[(); got]; };`, with both the type and the
/// initializer spanned from `first` to `last` (rustc joins the spans of the first and last
/// tokens of a type or expression); with the two spans equal, rustc adds no "expected due
/// to this" label on top of the error. The type is written as a projection so that it has
/// a first and a last token of its own.
fn same_size(first: Span, last: Span, want: TokenStream, got: TokenStream) -> TokenStream {
    let open = quote_spanned!(first=> <);
    let close = quote_spanned!(last=> [(); #want] as Same>::T);
    let deref = quote_spanned!(first=> *&);
    let array = quote_spanned!(last=> [(); #got]);
    quote_spanned! {first=>
        // `*&` gives the expression a first token; the lint fires since it is the user's span.
        #[allow(clippy::deref_addrof)]
        const _: () = {
            trait Same {
                type T;
            }
            impl<T> Same for T {
                type T = T;
            }
            let _: #open #close = #deref #array;
        };
    }
}

/// The span of a path's last segment: `Trunk` in `a::Trunk`.
fn path_end(path: &syn::Path) -> Span {
    path.segments.last().map_or_else(Span::call_site, |s| s.ident.span())
}

/// `Layer::INPUT_DIMS`: the dims `input(..)` or `flatten(..)` wrote, or a first
/// sub-network's own; nothing (the trait's `[IN]`) for a residual block's body.
fn input_dims(model: &Model) -> TokenStream {
    let rt = rt();
    match (model.input_dims.as_slice(), model.layers.first().map(|l| &l.kind)) {
        (dims @ [_, ..], _) => {
            let dims = dims.iter().map(|&d| Literal::usize_unsuffixed(d));
            quote!(const INPUT_DIMS: &'static [usize] = &[#(#dims),*];)
        }
        ([], Some(Kind::Network(path))) if model.input_kind.is_none() => {
            quote!(const INPUT_DIMS: &'static [usize] = <#path as #rt::Layer>::INPUT_DIMS;)
        }
        _ => TokenStream::new(),
    }
}

/// `declared`: the output width the struct declares when it differs from its layers' (a
/// residual block's, see `layer_parts`); the last layer's output is cast to it.
fn expand_model(
    model: &Model,
    vis: &syn::Visibility,
    top: bool,
    declared: Option<&Width>,
    out: &mut TokenStream,
) {
    let rt = rt();
    let name = &model.name;
    let mut bodies = Vec::new();
    let (mut fields, mut tys, mut ctors, mut totals, mut trainables, mut checks) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for l in &model.layers {
        let (ty, ctor) = layer_parts(l, &mut bodies);
        let (total, trainable) = param_counts(l);
        fields.push(&l.field);
        tys.push(ty);
        ctors.push(ctor);
        totals.push(total);
        trainables.push(trainable);
        checks.push(width_checks(l));
    }
    let input = width(&model.input);
    let output = width(declared.unwrap_or(&model.output()));
    let (Some(&first), Some(&last)) = (fields.first(), fields.last()) else {
        // The checker guarantees a layer; an error, not a panic, if that ever breaks.
        out.extend(syn::Error::new(name.span(), "a network needs a layer").to_compile_error());
        return;
    };

    // A sub-network's input batch is cast to its own input type: the width check above
    // guarantees the two are the same type, and rustc then reports one clear error, not a cascade.
    let is_net: Vec<bool> = model.layers.iter().map(|l| matches!(l.kind, Kind::Network(_))).collect();
    let input_of = |k: usize| -> TokenStream {
        let x = if k == 0 {
            quote!(x)
        } else {
            let prev = fields[k - 1];
            quote!(self.#prev.output())
        };
        if is_net[k] {
            quote!(#rt::same_width(#x))
        } else {
            x
        }
    };
    let n = model.layers.len();
    let last_output = if declared.is_some() {
        quote!(#rt::same_width(#rt::Layer::output(&self.#last)))
    } else {
        quote!(#rt::Layer::output(&self.#last))
    };
    let first_input_grad = if is_net[0] {
        quote!(#rt::same_width(#rt::Layer::input_grad(&self.#first)))
    } else {
        quote!(#rt::Layer::input_grad(&self.#first))
    };
    let forward: Vec<TokenStream> = (0..n)
        .map(|k| {
            let f = fields[k];
            let x = input_of(k);
            quote!(#rt::Layer::forward(&mut self.#f, #x, ctx);)
        })
        .collect();
    let backward: Vec<TokenStream> = (0..n)
        .rev()
        .map(|k| {
            let f = fields[k];
            let x = input_of(k);
            let dy = if k + 1 == n {
                if declared.is_some() {
                    quote!(#rt::same_width(dy))
                } else {
                    quote!(dy)
                }
            } else {
                let next = fields[k + 1];
                if is_net[k + 1] {
                    quote!(#rt::same_width(#rt::Layer::input_grad(&self.#next)))
                } else {
                    quote!(#rt::Layer::input_grad(&self.#next))
                }
            };
            let input_grad = if k == 0 { quote!(how.input_grad) } else { quote!(true) };
            let fused = if k + 1 == n { quote!(how.fused_output) } else { quote!(false) };
            quote! {
                #rt::Layer::backward(&mut self.#f, #x, #dy, #rt::Backward { input_grad: #input_grad, fused_output: #fused });
            }
        })
        .collect();
    // The read-only walk names the same tensors: saving goes through it.
    let (visits, visits_ref): (Vec<TokenStream>, Vec<TokenStream>) = model
        .layers
        .iter()
        .filter(|l| l.kind.has_tensors())
        .map(|l| {
            let f = &l.field;
            // The field `r#b` is the weight-file key `b`.
            let key = f.unraw().to_string();
            let visit = quote! {
                v.enter(#key);
                #rt::Layer::visit(&mut self.#f, v);
                v.leave();
            };
            let visit_ref = quote! {
                v.enter(#key);
                #rt::Layer::visit_ref(&self.#f, v);
                v.leave();
            };
            (visit, visit_ref)
        })
        .unzip();

    // The ONNX description: each layer in turn, those with tensors inside their key's scope
    // (the same names `visit` gives them).
    let describes: Vec<TokenStream> = model
        .layers
        .iter()
        .map(|l| {
            let f = &l.field;
            if l.kind.has_tensors() {
                let key = f.unraw().to_string();
                quote!(g.scoped_layer(#key, &self.#f)?;)
            } else {
                quote!(#rt::Layer::describe_onnx(&self.#f, g)?;)
            }
        })
        .collect();
    let input_dims = input_dims(model);

    let mut rows = Vec::new();
    if let Some(kind) = &model.input_kind {
        let name = if kind.starts_with("flatten") { "flatten" } else { "input" };
        rows.push(quote!(#rt::Row { name: #name, kind: #kind, out: #input, params: 0 }));
    }
    for (l, total) in model.layers.iter().zip(&totals) {
        let key = l.field.unraw().to_string();
        let kind = &l.summary;
        let w = width(&l.output);
        rows.push(quote!(#rt::Row { name: #key, kind: #kind, out: #w, params: #total }));
    }

    // Only layers that may hold a constraint: a dense layer with `max_norm`, a block, a sub-network.
    let constrained: Vec<_> = model
        .layers
        .iter()
        .filter(|l| match &l.kind {
            Kind::Dense { max_norm, .. } => max_norm.is_some(),
            Kind::Residual { .. } | Kind::Network(_) => true,
            _ => false,
        })
        .map(|l| &l.field)
        .collect();
    let name_str = name.unraw().to_string();
    let has_docs = model.attrs.iter().any(|a| a.path().is_ident("doc"));
    let attrs = &model.attrs;
    let doc = if top && !has_docs {
        let layers = model.layers.iter().map(|l| l.summary.as_str()).collect::<Vec<_>>().join("; ");
        let text = format!(" A network from `network!`: {layers}.");
        quote!(#[doc = #text])
    } else if !top {
        quote!(#[doc(hidden)])
    } else {
        TokenStream::new()
    };
    let span = Span::call_site();
    // Spanned on the network's name, so a batch of the wrong width passed to `predict` gets
    // "method defined here" at `Mnist`, not at the whole macro call.
    let predict = syn::Ident::new("predict", name.span());
    out.extend(bodies);
    out.extend(quote_spanned! {span=>
        #(#attrs)*
        #doc
        #[derive(Clone, Debug)]
        #vis struct #name {
            #( #[allow(missing_docs)] pub #fields: #tys, )*
        }

        #(#checks)*

        impl #name {
            /// Builds the network, drawing initial weights from `rng` layer by layer.
            pub fn new(rng: &mut #rt::Rng) -> Self {
                #name { #( #fields: #ctors, )* }
            }

            /// Builds the network from a seed: the same seed gives the same weights.
            pub fn seeded(seed: u64) -> Self {
                Self::new(&mut #rt::seeded(seed))
            }

            /// Runs the network in inference mode on `x` and returns its output.
            pub fn #predict(&mut self, x: &#rt::Batch<#input>) -> &#rt::Batch<#output> {
                let mut ctx = #rt::Context::infer();
                #rt::Layer::forward(self, x, &mut ctx);
                #rt::Layer::output(self)
            }
        }

        impl #rt::Layer for #name {
            const IN: usize = #input;
            const OUT: usize = #output;
            #input_dims
            type Input = #rt::Batch<#input>;
            type Output = #rt::Batch<#output>;

            fn forward(&mut self, x: &Self::Input, ctx: &mut #rt::Context) {
                #(#forward)*
            }

            fn output(&self) -> &Self::Output {
                #last_output
            }

            fn backward(&mut self, x: &Self::Input, dy: &Self::Output, how: #rt::Backward) {
                #(#backward)*
            }

            fn input_grad(&self) -> &Self::Input {
                #first_input_grad
            }

            fn visit(&mut self, v: &mut dyn #rt::Visitor) {
                #(#visits)*
            }

            fn visit_ref(&self, v: &mut dyn #rt::VisitorRef) {
                #(#visits_ref)*
            }

            fn set_trainable(&mut self, trainable: bool) {
                #( #rt::Layer::set_trainable(&mut self.#fields, trainable); )*
            }

            fn apply_constraints(&mut self) {
                #( #rt::Layer::apply_constraints(&mut self.#constrained); )*
            }

            fn output_activation(&self) -> ::core::option::Option<#rt::Activation> {
                #rt::Layer::output_activation(&self.#last)
            }

            fn describe_onnx(&self, g: &mut #rt::OnnxGraph) -> ::core::result::Result<(), #rt::OnnxError> {
                #(#describes)*
                ::core::result::Result::Ok(())
            }
        }

        impl #rt::Build for #name {
            fn build(rng: &mut #rt::Rng) -> Self {
                Self::new(rng)
            }
        }

        impl #rt::Network for #name {
            const NAME: &'static str = #name_str;
            const PARAMS: usize = 0 #( + #totals )*;
            const TRAINABLE_PARAMS: usize = 0 #( + #trainables )*;
            const ROWS: &'static [#rt::Row] = &[ #(#rows),* ];
        }
    });
}

#[cfg(test)]
mod tests {
    /// The generated code of the networks in `src`, as text.
    fn expand_str(src: &str) -> String {
        let models = mlp_dsl::check_tokens(src.parse().expect("lexes")).expect("checks");
        models.iter().map(|m| super::expand(m).to_string()).collect()
    }

    #[test]
    fn raw_identifiers_keep_their_r_hash_in_code_only() {
        // The field is `r#b`; its weight-file key and summary row say `b`, and the network's
        // name is `Raw`, as PyTorch and the user would write them.
        let code = expand_str("r#Raw< input(4); r#b: residual< r#dense(4) >; r#type: dense(2) >");
        assert!(code.contains("pub r#b :"), "{code}");
        assert!(code.contains("v . enter (\"b\")"), "{code}");
        assert!(code.contains("v . enter (\"type\")"), "{code}");
        assert!(code.contains("name : \"b\""), "{code}");
        assert!(code.contains("const NAME : & 'static str = \"Raw\""), "{code}");
        assert!(code.contains("struct __RawB"), "{code}");
    }
}
