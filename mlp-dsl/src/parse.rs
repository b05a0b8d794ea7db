//! Tokens to the raw syntax of ast.rs. Only the shape of the input is checked here;
//! what the words mean is the checker's business (check/), so one build reports every mistake.

use crate::ast::{Head, RawArg, RawArgs, RawInput, RawLayer, RawNetwork, RawValue};
use crate::MAX_DEPTH;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    bracketed, parenthesized, token, AttrStyle, Attribute, Expr, Ident, Lit, MacroDelimiter, Meta, MetaList,
    MetaNameValue, Path, PathSegment, Result, Token, Visibility,
};

impl Parse for RawInput {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut networks = Vec::new();
        while !input.is_empty() {
            networks.push(input.parse()?);
            // Several networks may share one invocation; a `;` between them is optional.
            let _ = input.parse::<Option<Token![;]>>()?;
        }
        if networks.is_empty() {
            return Err(input.error("expected a network: `network! { pub Name< input(4); dense(2) > }`"));
        }
        Ok(RawInput { networks })
    }
}

impl Parse for RawNetwork {
    fn parse(input: ParseStream) -> Result<Self> {
        let attrs = parse_outer_attrs(input)?;
        let vis: Visibility = input.parse()?;
        let name: Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), "expected the network's name, as in `pub Name< ... >`"))?;
        let open = input.parse::<Token![<]>().map_err(|e| {
            syn::Error::new(e.span(), "expected `<` after the network's name: `Name< layer; layer; ... >`")
        })?;
        let layers = parse_layers(input, open.span, 0)?;
        let close = input.parse::<Token![>]>()?.span;
        Ok(RawNetwork { attrs, vis, name, layers, close })
    }
}

/// Outer attributes (`/// docs` arrive as `#[doc = "..."]`), kept as tokens for rustc to
/// read. `Attribute::parse_outer` parses a `name = value` attribute's value as an expression,
/// one recursion per prefix operator, so a long `#[doc = - - - ... 1]` overflowed the stack.
fn parse_outer_attrs(input: ParseStream) -> Result<Vec<Attribute>> {
    let mut attrs = Vec::new();
    while input.peek(Token![#]) && input.peek2(token::Bracket) {
        let pound_token = input.parse()?;
        let content;
        let bracket_token = bracketed!(content in input);
        let path = parse_attr_path(&content)?;
        let meta = if content.peek(Token![=]) {
            let eq_token = content.parse()?;
            let value: TokenStream = content.parse()?;
            Meta::NameValue(MetaNameValue { path, eq_token, value: Expr::Verbatim(value) })
        } else if content.is_empty() {
            Meta::Path(path)
        } else {
            let group: proc_macro2::Group = content.parse()?;
            let span = group.delim_span();
            let delimiter = match group.delimiter() {
                proc_macro2::Delimiter::Parenthesis => MacroDelimiter::Paren(token::Paren(span)),
                proc_macro2::Delimiter::Brace => MacroDelimiter::Brace(token::Brace(span)),
                proc_macro2::Delimiter::Bracket => MacroDelimiter::Bracket(token::Bracket(span)),
                proc_macro2::Delimiter::None => {
                    return Err(syn::Error::new(
                        group.span(),
                        "expected `(`, `[`, `{` or `=` in the attribute",
                    ))
                }
            };
            if !content.is_empty() {
                return Err(content.error("expected `]` to end the attribute"));
            }
            Meta::List(MetaList { path, delimiter, tokens: group.stream() })
        };
        attrs.push(Attribute { pound_token, style: AttrStyle::Outer, bracket_token, meta });
    }
    Ok(attrs)
}

/// An attribute's path: `doc`, `allow`, `a::b`; keywords are allowed, as in rustc.
fn parse_attr_path(input: ParseStream) -> Result<Path> {
    let leading_colon = input.parse()?;
    let mut segments = Punctuated::<PathSegment, Token![::]>::new();
    segments.push_value(input.call(Ident::parse_any)?.into());
    while input.peek(Token![::]) {
        segments.push_punct(input.parse()?);
        segments.push_value(input.call(Ident::parse_any)?.into());
    }
    Ok(Path { leading_colon, segments })
}

/// Fails on brackets nested more than [`MAX_DEPTH`] deep, before syn's recursive parsers
/// (attributes are parsed as expressions) see them. Iterative, so any depth is safe here.
pub fn check_bracket_depth(tokens: TokenStream) -> Result<()> {
    let mut stack = vec![tokens.into_iter()];
    while let Some(level) = stack.last_mut() {
        match level.next() {
            Some(TokenTree::Group(group)) => {
                if stack.len() > MAX_DEPTH {
                    let msg = format!(
                        "brackets nested more than {MAX_DEPTH} deep; a layer's arguments need only a few levels"
                    );
                    return Err(syn::Error::new(group.span_open(), msg));
                }
                stack.push(group.stream().into_iter());
            }
            Some(_) => {}
            None => {
                stack.pop();
            }
        }
    }
    Ok(())
}

/// Layers separated by `;` (the last one optional), up to a `>` that is left unconsumed.
/// `open` is the `<` they follow, where an unclosed list is reported; `depth` counts the
/// `residual<...>` blocks around them.
fn parse_layers(input: ParseStream, open: Span, depth: usize) -> Result<Vec<RawLayer>> {
    let unclosed = || syn::Error::new(open, "unclosed `<`: end the layer list with `>`");
    let mut layers = Vec::new();
    loop {
        if input.peek(Token![>]) {
            return Ok(layers);
        }
        if input.is_empty() {
            return Err(unclosed());
        }
        layers.push(parse_layer(input, depth)?);
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        } else if input.is_empty() {
            return Err(unclosed());
        } else if !input.peek(Token![>]) {
            return Err(input.error("expected `;` between layers, or `>` to end the list"));
        }
    }
}

/// One layer, `depth` blocks deep.
fn parse_layer(input: ParseStream, depth: usize) -> Result<RawLayer> {
    let first = input.span();
    let name = if input.peek(Ident) && input.peek2(Token![:]) && !input.peek2(Token![::]) {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        Some(name)
    } else {
        None
    };
    if input.peek(Token![;]) {
        return Err(input.error("expected a layer, found an extra `;`; remove it"));
    }
    if input.peek(Token![>]) {
        return Err(input.error("expected a layer after the name, such as `dense(10)`"));
    }
    if input.peek(syn::LitInt) {
        let width: syn::LitInt = input.parse()?;
        let msg = format!("expected a layer, found a number; did you mean `dense({width})`?");
        return Err(syn::Error::new(width.span(), msg));
    }
    let path = Path::parse_mod_style(input)
        .map_err(|e| syn::Error::new(e.span(), "expected a layer, such as `dense(10)` or a network type"))?;
    let mut last = path.segments.last().map_or(first, |s| s.ident.span());
    // `r#dense` is the identifier `dense`, so keywords are compared without the `r#`.
    let head = match path.get_ident().map(IdentExt::unraw) {
        Some(ident) if ident.to_string().starts_with(|c: char| c.is_ascii_lowercase()) => {
            Head::Keyword(ident)
        }
        _ => Head::Network(path),
    };
    let args = if input.peek(syn::token::Paren) {
        let args: RawArgs = parse_args(input)?;
        last = args.span;
        Some(args)
    } else {
        None
    };
    let block = if input.peek(Token![<]) {
        let open = input.parse::<Token![<]>()?.span;
        // Each block is a level of recursion here, in the checker and expand.rs, and in rustc.
        if depth >= MAX_DEPTH {
            let msg = format!(
                "blocks nest at most {MAX_DEPTH} deep; move the inner layers into a `network!` of their own and use it by name"
            );
            return Err(syn::Error::new(open, msg));
        }
        let layers = parse_layers(input, open, depth + 1)?;
        last = input.parse::<Token![>]>()?.span;
        Some(layers)
    } else {
        None
    };
    Ok(RawLayer { name, head, args, block, first, last })
}

fn parse_args(input: ParseStream) -> Result<RawArgs> {
    let content;
    let paren = parenthesized!(content in input);
    let mut args = Vec::new();
    while !content.is_empty() {
        args.push(content.parse()?);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(RawArgs { args, span: paren.span.join() })
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name = input.parse::<Ident>()?.unraw();
            input.parse::<Token![=]>()?;
            Ok(RawArg::Named(name, input.parse()?))
        } else {
            Ok(RawArg::Positional(input.parse()?))
        }
    }
}

impl Parse for RawValue {
    fn parse(input: ParseStream) -> Result<Self> {
        let span = input.span();
        let negative = input.peek(Token![-]);
        if negative {
            input.parse::<Token![-]>()?;
        }
        if input.peek(Lit) && !input.peek(syn::LitBool) {
            let lit: Lit = input.parse()?;
            let sign = if negative { -1.0 } else { 1.0 };
            let text = format!("{}{}", if negative { "-" } else { "" }, lit_text(&lit));
            let number = |value: f64, int: Option<u64>| RawValue::Number {
                value: sign * value,
                int: if negative { None } else { int },
                text: text.clone(),
                span: join(span, lit.span()),
            };
            return Ok(match &lit {
                Lit::Int(i) => match i.base10_parse::<u64>() {
                    Ok(v) => number(v as f64, Some(v)),
                    Err(_) => RawValue::Other { text, span: lit.span() },
                },
                Lit::Float(f) => match f.base10_parse::<f64>() {
                    Ok(v) => number(v, None),
                    Err(_) => RawValue::Other { text, span: lit.span() },
                },
                _ => RawValue::Other { text, span: lit.span() },
            });
        }
        if !negative && input.peek(Ident::peek_any) {
            // `true` and `false` arrive as identifiers too.
            let ident = input.call(Ident::parse_any)?.unraw();
            let args = if input.peek(syn::token::Paren) { Some(parse_args(input)?) } else { None };
            return Ok(RawValue::Word { ident, args });
        }
        // Anything else up to the next `,` is kept as text for the error message.
        let mut text = String::from(if negative { "-" } else { "" });
        let mut last = span;
        while !input.is_empty() && !input.peek(Token![,]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            last = tt.span();
            text.push_str(&tt.to_string());
        }
        Ok(RawValue::Other { text, span: join(span, last) })
    }
}

fn lit_text(lit: &Lit) -> String {
    quote::ToTokens::to_token_stream(lit).to_string()
}

/// The span from `a` to `b` where the compiler supports it (nightly), else `a`.
fn join(a: Span, b: Span) -> Span {
    a.join(b).unwrap_or(a)
}
