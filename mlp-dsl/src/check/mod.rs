//! The raw syntax to a checked [`Model`]: what each word means, every width, every name.
//! Pure functions over the AST, so they are unit-tested without compiling anything.
//! Every mistake found is collected, each at the span of the layer or argument at fault.
//!
//! This file walks a network and names its layers; layers.rs holds each keyword's rules,
//! args.rs the reading of arguments, diagnostic.rs the collecting and wording of errors.

mod args;
mod diagnostic;
mod layers;

use crate::ast::{
    Act, Checked, Head, Init, Kind, Model, RawArg, RawArgs, RawLayer, RawNetwork, RawValue, Width,
};
use crate::keywords::{self, ScalingWord};
use args::*;
use diagnostic::*;
use layers::*;
use proc_macro2::Span;
use std::collections::HashMap;
use syn::ext::IdentExt;
use syn::{Error, Ident, Path};

/// Keras' defaults.
const BN_MOMENTUM: f32 = 0.99;
const EPSILON: f32 = 1e-3;

/// Checks one network; on any mistake returns all of them combined.
pub fn check_network(raw: &RawNetwork) -> Result<Model, Error> {
    let mut errors = Errors::default();
    let model = check_top(raw, &mut errors);
    errors.into_result().map(|()| model)
}

fn check_top(raw: &RawNetwork, errors: &mut Errors) -> Model {
    let mut layers: &[RawLayer] = &raw.layers;
    let (mut input_kind, mut input_dims) = (None, Vec::new());
    let input = match (layers.first(), layers.get(1..)) {
        (Some(first @ RawLayer { head: Head::Keyword(word), .. }), Some(rest))
            if layer_word(word).is_some_and(|w| w.sets_input) =>
        {
            layers = rest;
            let (width, kind, dims) = check_input(word, first, errors);
            (input_kind, input_dims) = (Some(kind), dims);
            width
        }
        (Some(RawLayer { head: Head::Network(path), .. }), _) => Width::InOf(path.clone()),
        (Some(first), _) => {
            errors.at(
                first.first,
                first.last,
                format!(
                    "network `{}` has no input width; start it with `input(n)` or `flatten(d1, d2, ...)`",
                    raw.name
                ),
            );
            Width::Known(1)
        }
        (None, _) => {
            errors.at_span(
                raw.close,
                format!(
                    "network `{}` has no layers; write them inside `<...>`, starting with `input(n)`",
                    raw.name
                ),
            );
            Width::Known(1)
        }
    };
    if layers.is_empty() && !raw.layers.is_empty() {
        errors.at_span(
            raw.close,
            format!(
                "network `{}` has an input but no layers after it; add one before `>`, such as `dense(10)`",
                raw.name
            ),
        );
    }
    let size = written_out(layers);
    let layers = if size > crate::MAX_LAYERS {
        let msg = format!(
            "network `{}` has {} layers once its repeats are written out; a network may have at most {}",
            raw.name,
            if size == usize::MAX { "too many".to_string() } else { size.to_string() },
            crate::MAX_LAYERS
        );
        match largest_repeat(layers) {
            Some(r) => errors.at(r.first, r.last, msg),
            None => errors.at_span(raw.name.span(), msg),
        }
        // Not checked further: writing them out is the work the limit avoids.
        Vec::new()
    } else {
        // Without `r#`: the scope becomes part of other identifiers.
        check_chain(&raw.name.unraw().to_string(), layers, input.clone(), errors)
    };
    let total = layers.iter().try_fold(0usize, |sum, l| match layer_params(l) {
        Ok(Some(n)) => sum.checked_add(n),
        // Unknown (a sub-network's), or already reported at the layer.
        Ok(None) | Err(()) => Some(sum),
    });
    if total.is_none() {
        errors.at_span(
            raw.name.span(),
            format!(
                "network `{}` has more parameters than a usize can count ({}); make its layers narrower",
                raw.name,
                usize::MAX
            ),
        );
    }
    Model {
        attrs: raw.attrs.clone(),
        vis: raw.vis.clone(),
        name: raw.name.clone(),
        input,
        input_kind,
        input_dims,
        layers,
    }
}

/// A layer's parameter count (what the generated `Network::PARAMS` adds up): `Ok(None)` when
/// it depends on a sub-network's widths or on a layer inside it that is already reported,
/// `Err` when this layer's own arithmetic overflows.
fn layer_params(l: &Checked) -> Result<Option<usize>, ()> {
    let (Width::Known(i), Width::Known(o)) = (&l.input, &l.output) else {
        return Ok(None);
    };
    let Some((own, _)) = l.kind.own_params() else {
        return Ok(None);
    };
    let mut n = own.count(*i, *o);
    if let Kind::Residual { body, .. } = &l.kind {
        for inner in &body.layers {
            match layer_params(inner) {
                Ok(Some(k)) => n = n.and_then(|s| s.checked_add(k)),
                Ok(None) | Err(()) => return Ok(None),
            }
        }
    }
    n.map(Some).ok_or(())
}

fn is_keyword(layer: &RawLayer, word: &str) -> bool {
    matches!(&layer.head, Head::Keyword(k) if k == word)
}

/// `input(n)` / `flatten(d1, d2, ...)`: the product of the dimensions.
fn check_input(word: &Ident, layer: &RawLayer, errors: &mut Errors) -> (Width, String, Vec<usize>) {
    let mut args = Args::new(word, layer, errors);
    let positional = args.positional.clone();
    let dims: Vec<usize> = positional.iter().map(|v| args.width(v, "a dimension")).collect();
    args.finish(&[]);
    if dims.is_empty() {
        let example = layer_word(word).map_or("input(784)", |w| w.example);
        errors.at(layer.first, layer.last, format!("`{word}` needs the input's dimensions: `{example}`"));
    }
    let width = dims.iter().try_fold(1usize, |w, d| w.checked_mul(*d)).unwrap_or_else(|| {
        let msg = format!(
            "`{word}`'s dimensions multiply to more than the largest width, {}; the input is too large",
            usize::MAX
        );
        errors.at(layer.first, layer.last, msg);
        1
    });
    let list = dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    (Width::Known(width), format!("{word}({list})"), dims)
}

/// Per-scope name bookkeeping: counters per kind, and the names taken so far.
#[derive(Default)]
struct Names {
    counters: HashMap<String, usize>,
    taken: HashMap<String, Span>,
}

impl Names {
    fn next(&mut self, kind: &str) -> String {
        let k = self.counters.entry(kind.to_string()).or_insert(0);
        *k += 1;
        format!("{kind}_{}", *k - 1)
    }
}

/// How many times `repeat(n)` may repeat its layers.
const MAX_REPEAT: u64 = 1000;

/// Checks a list of layers that starts at width `input`.
fn check_chain(scope: &str, layers: &[RawLayer], input: Width, errors: &mut Errors) -> Vec<Checked> {
    let mut chain = Chain { scope, names: Names::default(), width: input, out: Vec::new() };
    chain.layers(layers, errors);
    chain.out
}

/// A list of layers being checked: one scope's names, and the width so far.
struct Chain<'s> {
    scope: &'s str,
    names: Names,
    width: Width,
    out: Vec<Checked>,
}

impl Chain<'_> {
    fn layers(&mut self, layers: &[RawLayer], errors: &mut Errors) {
        for layer in layers {
            if is_keyword(layer, "repeat") {
                self.repeat(layer, errors);
                continue;
            }
            if let Some(made) = check_layer(self.scope, layer, &self.width, &mut self.names, errors) {
                self.push(made, layer, layer.name.as_ref(), errors);
            }
        }
    }

    /// Names a checked layer (`name` if the user gave one) and appends it, then the layer it
    /// stands for after itself, if any.
    fn push(&mut self, made: Made, layer: &RawLayer, name: Option<&Ident>, errors: &mut Errors) {
        let Made { kind, summary, counter, then } = made;
        let generated = self.names.next(&counter);
        let field = match name {
            Some(name) => name.clone(),
            None => match new_ident(&generated, layer.first) {
                Some(ident) => ident,
                None => {
                    // The name comes from a sub-network's type; some unicode ones lowercase
                    // into text that is no identifier.
                    let msg = format!(
                        "no field name can be made from `{generated}`; name the layer: `name: {counter}`"
                    );
                    errors.at(layer.first, layer.last, msg);
                    return;
                }
            },
        };
        // `r#b` and `b` are the same field, and the weight-file key is `b`.
        let key = field.unraw().to_string();
        if self.names.taken.insert(key.clone(), field.span()).is_some() {
            let msg = format!("duplicate layer name `{key}`; give this layer another name");
            match name {
                Some(name) => errors.at_span(name.span(), msg),
                // A user's name took the one this layer would have had.
                None => errors.at(layer.first, layer.last, msg),
            }
        }
        let output = output_width(&kind, &self.width);
        let checked = Checked {
            field,
            input: self.width.clone(),
            output: output.clone(),
            kind,
            summary,
            first: layer.first,
        };
        if layer_params(&checked).is_err() {
            let msg = format!(
                "`{}` has more parameters than a usize can count ({}); make it narrower",
                checked.summary,
                usize::MAX
            );
            errors.at(layer.first, layer.last, msg);
        }
        self.out.push(checked);
        self.width = output;
        if let Some(then) = then {
            self.push(*then, layer, None, errors);
        }
    }

    /// `repeat(n)< layers >`: the layers, checked and named as if written `n` times here.
    /// Copies differ only in their input width, so a mistake is reported once, from the
    /// first copy that has it.
    fn repeat(&mut self, layer: &RawLayer, errors: &mut Errors) {
        let Some((n, block)) = check_repeat(layer, errors) else { return };
        let first_input = self.width.clone();
        for copy in 1..=n {
            let (before, input) = (errors.count(), self.width.clone());
            self.layers(block, errors);
            if errors.count() > before {
                if copy > 1 {
                    let widths = match (&first_input, &input) {
                        (Width::Known(a), Width::Known(b)) => {
                            format!(
                                ", whose input is {b} wide where the first copy's was {a}: the repeated layers \
                                 must work at both widths (begin them with a layer that sets the width, or end \
                                 them at {a})"
                            )
                        }
                        _ => String::new(),
                    };
                    let msg = format!("the mistakes above are in copy {copy} of this `repeat({n})`{widths}");
                    errors.at(layer.first, layer.last, msg);
                }
                return;
            }
        }
    }
}

/// A `repeat`'s count and block, or `None` when there is nothing to expand. Names inside
/// the block are reported (each copy would repeat them); the block is then expanded once,
/// so its other mistakes are found too.
fn check_repeat<'r>(layer: &'r RawLayer, errors: &mut Errors) -> Option<(u64, &'r [RawLayer])> {
    let Head::Keyword(word) = &layer.head else { return None };
    let example = layer_word(word).map_or("", |w| w.example);
    if let Some(name) = &layer.name {
        let msg = format!(
            "`repeat` writes out layers, it is no layer itself, so it takes no name; remove `{name}:`"
        );
        errors.at_span(name.span(), msg);
    }
    let mut args = Args::new(word, layer, errors);
    let n = match args.positional.first() {
        Some(RawValue::Number { int: Some(k), .. }) if (1..=MAX_REPEAT).contains(k) => *k,
        Some(v) => {
            let msg = format!("`repeat` takes a count from 1 to {MAX_REPEAT}, found {}", v.describe());
            args.errors.at_value(v, msg);
            1
        }
        None => {
            let msg = format!("`repeat` needs a count: `{example}`");
            args.errors.at(layer.first, layer.last, msg);
            1
        }
    };
    if let Some(extra) = args.positional.get(1) {
        args.errors.at_value(extra, format!("`repeat` takes one count: `{example}`"));
    }
    args.finish(&[]);
    let Some(block) = layer.block.as_deref() else {
        errors.at(layer.first, layer.last, format!("`repeat` needs a block of layers: `{example}`"));
        return None;
    };
    if block.is_empty() {
        errors.at(layer.first, layer.last, "empty repeat block; put at least one layer between `<` and `>`");
        return None;
    }
    let mut named = false;
    for inner in block {
        if let Some(name) = &inner.name {
            named = true;
            let msg = format!(
                "a layer inside `repeat` can't be named: each copy would be called `{name}`; remove the name, the copies are numbered (`dense_0`, `dense_1`, ...)"
            );
            errors.at_span(name.span(), msg);
        }
    }
    Some((if named { 1 } else { n }, block))
}

/// How many layers `layers` make once every `repeat` is written out, residual bodies
/// included (saturating: the count only has to be compared with [`MAX_LAYERS`](crate::MAX_LAYERS)).
fn written_out(layers: &[RawLayer]) -> usize {
    layers.iter().fold(0usize, |sum, layer| {
        let block = layer.block.as_deref().map_or(0, written_out);
        let n = if is_keyword(layer, "repeat") {
            block.saturating_mul(repeat_count(layer))
        } else {
            block.saturating_add(1)
        };
        sum.saturating_add(n)
    })
}

/// The count a `repeat` asks for, if it is a valid one; else 1.
fn repeat_count(layer: &RawLayer) -> usize {
    match layer.args.as_ref().and_then(|a| a.args.first()) {
        Some(RawArg::Positional(RawValue::Number { int: Some(k), .. })) if (1..=MAX_REPEAT).contains(k) => {
            *k as usize
        }
        _ => 1,
    }
}

/// The `repeat` most responsible for `layers` being too many once written out: the one
/// that makes the most, looking inside blocks.
fn largest_repeat(layers: &[RawLayer]) -> Option<&RawLayer> {
    let biggest = layers.iter().filter(|l| l.block.is_some()).max_by_key(|l| {
        let block = l.block.as_deref().map_or(0, written_out);
        if is_keyword(l, "repeat") {
            block.saturating_mul(repeat_count(l))
        } else {
            block
        }
    })?;
    if is_keyword(biggest, "repeat") {
        Some(biggest)
    } else {
        largest_repeat(biggest.block.as_deref().unwrap_or_default())
    }
}

/// `text` as an identifier at `span`, if it is one (not a keyword, no stray characters).
fn new_ident(text: &str, span: Span) -> Option<Ident> {
    let mut ident = syn::parse_str::<Ident>(text).ok()?;
    ident.set_span(span);
    Some(ident)
}

fn output_width(kind: &Kind, input: &Width) -> Width {
    match kind {
        Kind::Dense { units, .. } => Width::Known(*units),
        Kind::Residual { body, project: true, .. } => body.output(),
        Kind::Network(path) => Width::OutOf(path.clone()),
        _ => input.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Params, RawInput};
    use proc_macro2::TokenStream;

    fn check_str(src: &str) -> Result<Model, Vec<String>> {
        let input: RawInput = syn::parse_str(src).expect("parses");
        check_network(&input.networks[0]).map_err(|e| e.into_iter().map(|e| e.to_string()).collect())
    }

    fn widths(m: &Model) -> Vec<(String, Width)> {
        m.layers.iter().map(|l| (l.field.to_string(), l.output.clone())).collect()
    }

    #[test]
    fn plain_chain_widths_and_names() {
        let m =
            check_str("pub Plain< flatten(28, 28); dense(300, relu); dense(100, relu); dense(10, softmax) >")
                .unwrap();
        assert_eq!(m.input, Width::Known(784));
        assert_eq!(
            widths(&m),
            vec![
                ("dense_0".into(), Width::Known(300)),
                ("dense_1".into(), Width::Known(100)),
                ("dense_2".into(), Width::Known(10))
            ]
        );
        assert_eq!(m.layers[2].summary, "dense(10, softmax)");
    }

    #[test]
    fn names_count_per_kind_and_user_names_keep_their_place() {
        let m = check_str(
            "N< input(4); dense(8); batch_norm; relu; hidden: dense(6); dropout(0.5); batch_norm; dense(2) >",
        )
        .unwrap();
        let names: Vec<String> = m.layers.iter().map(|l| l.field.to_string()).collect();
        assert_eq!(
            names,
            ["dense_0", "batch_norm_0", "activation_0", "hidden", "dropout_0", "batch_norm_1", "dense_2"]
        );
    }

    #[test]
    fn residual_scopes_names_and_checks_widths() {
        let m = check_str("N< input(3); residual(relu)< dense(3, relu); batch_norm; dense(3) >; dense(2) >")
            .unwrap();
        let Kind::Residual { body, act, project } = &m.layers[0].kind else { panic!("not a residual") };
        assert_eq!((act.name(), *project), ("relu".to_string(), false));
        assert_eq!(widths(body)[2], ("dense_1".into(), Width::Known(3)));
        assert_eq!(m.layers[0].field, "residual_0");
        assert_eq!(m.layers[1].field, "dense_0");
    }

    #[test]
    fn the_tutorials_residual_unit_is_a_width_error_with_a_fix() {
        let errs = check_str(
            "N< input(3); residual< dense(10, relu); batch_norm; dense(20, relu); batch_norm >; dense(1) >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "residual block maps width 3 to 20; the skip connection adds its input, so the widths must match",
                "help: make this `dense(3, relu)` so the block ends at width 3, or write `residual(project)<...>` \
                 to learn a projection of the input",
            ]
        );
    }

    #[test]
    fn the_width_fix_keeps_the_layer_as_written() {
        // Issue 13: the fix named the activation of another layer (`tanh`), and the wrong one.
        let errs = check_str(
            "N< input(300); residual(relu)< dense(300, relu); dense(100) >; \
             residual< dense(10); dense(20, leaky_relu(0.2), init = he_normal); h: dense(20, bias = false) >; \
             residual< dense(relu) > >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "residual block maps width 300 to 100; the skip connection adds its input, so the widths must match",
                "help: make this `dense(300)` so the block ends at width 300, or write \
                 `residual(project, relu)<...>` to learn a projection of the input",
                "residual block maps width 300 to 20; the skip connection adds its input, so the widths must match",
                "help: make this `h: dense(300, bias = false)` so the block ends at width 300, or write \
                 `residual(project)<...>` to learn a projection of the input",
                "`dense` needs its width before the activation: `dense(100, relu)`",
                "residual block maps width 300 to 1; the skip connection adds its input, so the widths must match",
                "help: make this `dense(300, relu)` so the block ends at width 300, or write \
                 `residual(project)<...>` to learn a projection of the input",
            ]
        );
    }

    #[test]
    fn a_body_that_works_at_another_width_gets_both_fixes() {
        let both = |want: usize, got: usize, project: &str| {
            [
                format!(
                    "residual block's input is {want} wide, but its layers work at width {got}; the skip \
                     connection adds the input to their output, so the widths must match"
                ),
                format!(
                    "help: put `dense({got})` before the block so its input is {got} wide, or write \
                     `{project}<...>` to learn a projection of the input"
                ),
                format!("help: or make this `dense({want})` so the block ends at its input's width, {want}"),
            ]
        };
        let errs = check_str("N< flatten(28, 28); residual< dense(300, relu); dense(300) >; dense(10) >")
            .unwrap_err();
        assert_eq!(errs, both(784, 300, "residual(project)"));
        // Issue 13's block: every layer at 100 after a width of 300.
        let errs = check_str("N< input(300); residual(relu)< dense(100, tanh); dense(100) >; dense(10) >")
            .unwrap_err();
        assert_eq!(errs, both(300, 100, "residual(project, relu)"));
        // Layers that keep the width do not count; one layer that sets a width is not enough to tell.
        let errs =
            check_str("N< input(784); residual< batch_norm; dense(300); dropout(0.2) > >").unwrap_err();
        assert_eq!(errs[0], "residual block maps width 784 to 300; the skip connection adds its input, so the widths must match");
        // A projected inner block sets the width too; the last fix needs a dense layer.
        let errs = check_str("N< input(8); residual< residual(project)< dense(4) >; dense(4); relu; residual(project)< dense(4) > > >")
            .unwrap_err();
        assert_eq!(errs, both(8, 4, "residual(project)")[..2]);
    }

    #[test]
    fn projected_residual_changes_width() {
        let m = check_str("N< input(3); residual(project, relu)< dense(20) >; dense(1) >").unwrap();
        assert_eq!(m.layers[0].output, Width::Known(20));
        assert_eq!(m.layers[0].summary, "residual(project, relu)");
    }

    #[test]
    fn sub_networks_make_symbolic_widths() {
        let m = check_str("N< features: Trunk; dense(10, softmax) >").unwrap();
        assert!(matches!(&m.input, Width::InOf(p) if p.is_ident("Trunk")));
        assert!(matches!(&m.layers[0].output, Width::OutOf(p) if p.is_ident("Trunk")));
        assert_eq!(m.layers[1].input, m.layers[0].output);
        let m = check_str("N< input(5); a::FeatureTrunk; dense(1) >").unwrap();
        assert_eq!(m.layers[0].field, "feature_trunk_0");
    }

    #[test]
    fn every_mistake_is_reported_in_one_pass() {
        let errs = check_str(
            "N< input(4); desne(3); dense(0); dense(5, rleu); dense(5, init = he_normall); dense(5, l3 = 1); \
             dense(5, l2 = relu); dense(5, bias = 0.5); dense(5, shape = 2); dropout(1.5); batch_norm(momentum = 2); \
             x: dense(2); x: dense(2); residual<> >",
        )
        .unwrap_err();
        let expect = [
            "unknown layer `desne`; did you mean `dense`?",
            "`dense` needs a width of at least 1, found 0",
            "unknown activation `rleu`; did you mean `relu`?",
            "unknown initializer `he_normall`; did you mean `he_normal`?",
            "`dense` has no option `l3`; did you mean `l1`?",
            "`l2` takes a number, found `relu`",
            "`bias` takes `true` or `false`, found `0.5`",
            "`dense` has no option `shape`; its options are `activation`, `init`, `l1`, `l2`, `bias`, `max_norm`",
            "the dropout rate must be in [0, 1), found 1.5; it is the fraction of units to drop, such as `dropout(0.2)`",
            "`momentum` must be in [0, 1], found 2; Keras' default is 0.99",
            "duplicate layer name `x`; give this layer another name",
            "empty residual block; put at least one layer between `<` and `>`",
        ];
        assert_eq!(errs, expect);
    }

    #[test]
    fn missing_input_and_misplaced_input() {
        let errs = check_str("N< dense(3); dense(2) >").unwrap_err();
        assert_eq!(
            errs,
            ["network `N` has no input width; start it with `input(n)` or `flatten(d1, d2, ...)`"]
        );
        let errs = check_str("N< input(3); flatten(3); dense(2) >").unwrap_err();
        assert_eq!(
            errs,
            ["`flatten` sets the network's input width, so it can only be the network's first layer"]
        );
        let errs = check_str("N< input(3) >").unwrap_err();
        assert_eq!(
            errs,
            ["network `N` has an input but no layers after it; add one before `>`, such as `dense(10)`"]
        );
    }

    #[test]
    fn mistakes_get_a_concrete_fix() {
        let errs = check_str(
            "N< input(4); Dense(3); BatchNorm; dense(relu); conv2d(3); dense(2, softplus); dense(2, init = xavier); \
             batch_norm(0.9); dropout(-0.1) >",
        )
        .unwrap_err();
        let expect = [
            "layer keywords are lowercase: write `dense`; a capitalized name is read as a sub-network type",
            "layer keywords are lowercase: write `batch_norm`; a capitalized name is read as a sub-network type",
            "`dense` needs its width before the activation: `dense(100, relu)`",
            "unknown layer `conv2d`; expected a layer (`dense`, `batch_norm`, `layer_norm`, `dropout`, \
             `alpha_dropout`, `prelu`, `residual`, `repeat`), an activation such as `relu`, or a network type",
            "unknown activation `softplus`; expected one of `linear`, `relu`, `leaky_relu`, `elu`, `selu`, \
             `gelu`, `swish`, `silu`, `tanh`, `sigmoid`, `softmax`, `prelu`",
            "unknown initializer `xavier`; expected one of `glorot_uniform`, `glorot_normal`, `he_uniform`, \
             `he_normal`, `lecun_uniform`, `lecun_normal`, `zeros`, `ones`, `variance_scaling`",
            "`batch_norm` takes only named options: `batch_norm(momentum = 0.99, epsilon = 1e-3)`",
            "the dropout rate must be in [0, 1), found -0.1; it is the fraction of units to drop, such as \
             `dropout(0.2)`",
        ];
        assert_eq!(errs, expect);
        let errs = check_str("N< input(4); residual< dense(4); batch_norm; dense(2, relu, bias = false) > >")
            .unwrap_err();
        assert_eq!(
            errs[1],
            "help: make this `dense(4, relu, bias = false)` so the block ends at width 4, or write \
             `residual(project)<...>` to learn a projection of the input",
        );
        let errs = check_str("N< input(4); residual< residual(project)< dense(2) > > >").unwrap_err();
        assert_eq!(
            errs[1],
            "help: end the block at width 4, or write `residual(project)<...>` to learn a projection of the input"
        );
    }

    #[test]
    fn residual_arguments_are_checked() {
        let errs = check_str(
            "N< input(4); residual(projection)< dense(4) >; residual(relu, tanh)< dense(4) >; \
             residual(project, project)< dense(2) >; dense(1)< relu >; Trunk< dense(1) > >",
        )
        .unwrap_err();
        let expect = [
            "unknown argument `projection`; did you mean `project`?",
            "`residual` takes one activation, applied after the sum: `residual(project, relu)`",
            "`project` is given twice",
            "only `residual` and `repeat` take a block `<...>`, not `dense`",
            "only `residual` and `repeat` take a block `<...>`, not the sub-network `Trunk`",
        ];
        assert_eq!(errs, expect);
    }

    #[test]
    fn activations_take_their_arguments() {
        let m = check_str(
            "N< input(2); leaky_relu; leaky_relu(0.2); elu(alpha = 2); dense(2, leaky_relu(0.1)) >",
        )
        .unwrap();
        let acts: Vec<String> = m.layers.iter().map(|l| l.summary.clone()).collect();
        assert_eq!(acts, ["leaky_relu", "leaky_relu(0.2)", "elu(2)", "dense(2, leaky_relu(0.1))"]);
        let errs = check_str("N< input(2); relu(3); dense(2) >").unwrap_err();
        assert_eq!(errs, ["`relu` takes no arguments"]);
    }

    #[test]
    fn integers_are_accepted_where_floats_are_expected() {
        let m =
            check_str("N< input(2); dropout(0); batch_norm(momentum = 1, epsilon = 1); dense(1) >").unwrap();
        assert!(matches!(m.layers[0].kind, Kind::Dropout { rate } if rate == 0.0));
    }

    fn check_text(src: &str) -> Result<Vec<Model>, Vec<String>> {
        let tokens: TokenStream = src.parse().expect("lexes");
        crate::check_tokens(tokens)
            .map_err(|e| e.iter().flat_map(|e| e.clone()).map(|e| e.to_string()).collect())
    }

    #[test]
    fn raw_identifiers_are_the_identifiers_they_spell() {
        // Each of these panicked in `Ident::new` ("r#b" is no identifier).
        let m =
            check_str("r#N< input(3); r#b: residual< r#dense(3) >; r#type: dense(2); a::r#Trunk >").unwrap();
        let names: Vec<String> = m.layers.iter().map(|l| l.field.to_string()).collect();
        assert_eq!(names, ["r#b", "r#type", "trunk_0"]);
        let Kind::Residual { body, .. } = &m.layers[0].kind else { panic!("not a residual") };
        assert_eq!(body.name, "__NB");
        assert!(matches!(body.layers[0].kind, Kind::Dense { units: 3, .. }));
        let errs = check_str("N< input(3); r#b: dense(2); b: dense(2) >").unwrap_err();
        assert_eq!(errs, ["duplicate layer name `b`; give this layer another name"]);
    }

    #[test]
    fn blocks_nest_at_most_max_depth() {
        let nested = |depth: usize| {
            format!("N< input(3); {} dense(3) {} >", "residual<".repeat(depth), ">".repeat(depth))
        };
        assert!(check_text(&nested(crate::MAX_DEPTH)).is_ok());
        let errs = check_text(&nested(crate::MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(
            errs,
            ["blocks nest at most 32 deep; move the inner layers into a `network!` of their own and use it by name"]
        );
        // Far deeper than any stack would take if each level were a call.
        assert!(check_text(&nested(100_000)).is_err());
    }

    #[test]
    fn brackets_nest_at_most_max_depth() {
        let errs = check_text(&format!("N< input(3); dense(3, relu{}) >", "(".repeat(40) + &")".repeat(40)))
            .unwrap_err();
        assert_eq!(errs, ["brackets nested more than 32 deep; a layer's arguments need only a few levels"]);
        let deep =
            format!("#[doc = {}1{}] N< input(3); dense(3) >", "(".repeat(100_000), ")".repeat(100_000));
        assert!(check_text(&deep).is_err());
    }

    #[test]
    fn attributes_are_kept_as_tokens() {
        // syn parses `= value` as an expression, one recursion per `-`: a stack overflow.
        let deep = format!("#[doc = {}1] N< input(3); dense(3) >", "- ".repeat(200_000));
        assert!(check_text(&deep).is_ok());
        let m =
            check_str("/// Docs.\n#[allow(dead_code)] #[r#doc = 1] #[a::b] N< input(3); dense(3) >").unwrap();
        let attrs: Vec<String> =
            m.attrs.iter().map(|a| quote::ToTokens::to_token_stream(a).to_string()).collect();
        assert_eq!(attrs, ["# [doc = \" Docs.\"]", "# [allow (dead_code)]", "# [r#doc = 1]", "# [a :: b]"]);
        assert!(m.attrs[0].path().is_ident("doc"));
    }

    #[test]
    fn widths_and_parameter_counts_that_overflow_are_errors() {
        let errs = check_str("N< flatten(4294967296, 4294967296); dense(2) >").unwrap_err();
        assert_eq!(
            errs,
            ["`flatten`'s dimensions multiply to more than the largest width, 18446744073709551615; the input is too large"]
        );
        let errs = check_str("N< input(4294967296); dense(4294967296) >").unwrap_err();
        assert_eq!(
            errs,
            ["`dense(4294967296)` has more parameters than a usize can count (18446744073709551615); make it narrower"]
        );
        // Reported inside the block only, not again at the block and the network.
        let errs = check_str("N< input(4611686018427387904); residual< batch_norm > >").unwrap_err();
        assert_eq!(
            errs,
            ["`batch_norm` has more parameters than a usize can count (18446744073709551615); make it narrower"]
        );
        let big = "dense(2147483648, bias = false)";
        let errs = check_str(&format!("N< input(2147483648); {big}; {big}; {big}; {big} >")).unwrap_err();
        assert_eq!(
            errs,
            ["network `N` has more parameters than a usize can count (18446744073709551615); make its layers narrower"]
        );
    }

    #[test]
    fn numbers_must_fit_in_an_f32() {
        // Each of these reached `quote!` as an infinite f32, which panics.
        let errs = check_str(
            "N< input(2); leaky_relu(1e39); dense(2, l2 = 1e39); batch_norm(epsilon = 1e999); elu(alpha = -1e39) >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "`leaky_relu`'s argument must fit in an f32 (at most 3.4028235e38), found 1e39",
                "`l2` must fit in an f32 (at most 3.4028235e38), found 1e39",
                "`epsilon` must fit in an f32 (at most 3.4028235e38), found 1e999",
                "`elu`'s argument must fit in an f32 (at most 3.4028235e38), found -1e39",
            ]
        );
        let errs = check_str("N< input(2); dropout(0.99999999999) >").unwrap_err();
        assert_eq!(
            errs,
            ["the dropout rate must be in [0, 1), found 0.99999999999; it is the fraction of units to drop, such as `dropout(0.2)`"]
        );
        let errs = check_str("N< input(2); layer_norm(epsilon = 1e-50) >").unwrap_err();
        assert_eq!(errs, ["`epsilon` must be positive, found 1e-50; Keras' default is 1e-3"]);
    }

    fn fields(m: &Model) -> Vec<String> {
        m.layers.iter().map(|l| l.field.to_string()).collect()
    }

    #[test]
    fn repeat_writes_its_layers_out_in_place() {
        // Géron's deep SELU stack: the first copy takes 784, the rest 100; names continue.
        let m = check_str(
            "N< flatten(28, 28); dense(300); repeat(100)< dense(100, selu) >; dense(10, softmax) >",
        )
        .unwrap();
        assert_eq!(m.layers.len(), 102);
        assert_eq!(
            (m.layers[1].input.clone(), m.layers[1].field.to_string()),
            (Width::Known(300), "dense_1".into())
        );
        assert_eq!(m.layers[2].input, Width::Known(100));
        assert_eq!(m.layers[100].field, "dense_100");
        assert_eq!(m.layers[101].field, "dense_101");
        assert!(m.layers[1..101].iter().all(|l| l.summary == "dense(100, selu)"));
        // Nested, and inside a residual body (a scope of its own), and a residual inside one.
        let m = check_str(
            "N< input(4); repeat(2)< dense(4, relu); repeat(2)< dropout(0.1); batch_norm > >; \
             residual< repeat(3)< dense(4) > >; repeat(2)< residual< dense(4) > > >",
        )
        .unwrap();
        assert_eq!(
            fields(&m),
            [
                "dense_0",
                "dropout_0",
                "batch_norm_0",
                "dropout_1",
                "batch_norm_1",
                "dense_1",
                "dropout_2",
                "batch_norm_2",
                "dropout_3",
                "batch_norm_3",
                "residual_0",
                "residual_1",
                "residual_2"
            ]
        );
        let body = |i: usize| match &m.layers[i].kind {
            Kind::Residual { body, .. } => body,
            _ => panic!("not a residual"),
        };
        assert_eq!(fields(body(10)), ["dense_0", "dense_1", "dense_2"]);
        assert_eq!(
            (body(11).name.to_string(), body(12).name.to_string()),
            ("__NResidual1".into(), "__NResidual2".into())
        );
    }

    #[test]
    fn repeat_mistakes() {
        let errs = check_str(
            "N< input(4); repeat(0)< dense(4) >; repeat(1001)< dense(4) >; repeat< dense(4) >; repeat(2.5)< dense(4) >; \
             repeat(2); repeat(2)<>; r: repeat(2)< dense(4) >; repeat(2)< h: dense(4); relu >; repeat(2, 3)< relu > >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "`repeat` takes a count from 1 to 1000, found `0`",
                "`repeat` takes a count from 1 to 1000, found `1001`",
                "`repeat` needs a count: `repeat(20)< dense(100, selu) >`",
                "`repeat` takes a count from 1 to 1000, found `2.5`",
                "`repeat` needs a block of layers: `repeat(20)< dense(100, selu) >`",
                "empty repeat block; put at least one layer between `<` and `>`",
                "`repeat` writes out layers, it is no layer itself, so it takes no name; remove `r:`",
                "a layer inside `repeat` can't be named: each copy would be called `h`; remove the name, the \
                 copies are numbered (`dense_0`, `dense_1`, ...)",
                "`repeat` takes one count: `repeat(20)< dense(100, selu) >`",
            ]
        );
        // A mistake that only the second copy makes is reported once, and the repeat says why.
        let errs = check_str("N< input(784); repeat(3)< residual< dense(784) >; dense(100) > >").unwrap_err();
        assert_eq!(
            errs,
            [
                "residual block maps width 100 to 784; the skip connection adds its input, so the widths must match",
                "help: make this `dense(100)` so the block ends at width 100, or write `residual(project)<...>` \
                 to learn a projection of the input",
                "the mistakes above are in copy 2 of this `repeat(3)`, whose input is 100 wide where the first \
                 copy's was 784: the repeated layers must work at both widths (begin them with a layer that sets \
                 the width, or end them at 784)",
            ]
        );
        // A mistake in every copy is reported once.
        let errs = check_str("N< input(4); repeat(5)< dense(4, rleu) > >").unwrap_err();
        assert_eq!(errs, ["unknown activation `rleu`; did you mean `relu`?"]);
        // Written out, a network has at most MAX_LAYERS layers: reported at the repeat that
        // makes the most, without writing them out.
        let errs = check_str(
            "N< input(4); repeat(2)< dense(4) >; residual< repeat(1000)< repeat(1000)< relu > > > >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            ["network `N` has 1000003 layers once its repeats are written out; a network may have at most 10000"]
        );
    }

    #[test]
    fn prelu_is_a_layer_and_a_dense_layers_shorthand() {
        let m = check_str("N< input(4); dense(8, prelu); h: dense(6, activation = prelu); prelu; dense(2) >")
            .unwrap();
        assert_eq!(fields(&m), ["dense_0", "prelu_0", "h", "prelu_1", "prelu_2", "dense_2"]);
        assert!(matches!(m.layers[0].kind, Kind::Dense { act: Act::LINEAR, .. }));
        assert_eq!((m.layers[1].input.clone(), m.layers[1].summary.as_str()), (Width::Known(8), "prelu"));
        assert_eq!(
            m.layers[1].kind.own_params(),
            Some((Params { per_in: 1, ..Params::ZERO }, Params { per_in: 1, ..Params::ZERO }))
        );
        let errs = check_str(
            "N< input(4); prelu(0.25); dense(4, prelu(0.25)); residual(prelu)< dense(4) >; dense(4, prelo) >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "`prelu` takes no arguments: its slopes are learned, one per unit, starting at 0",
                "`prelu` takes no arguments: its slopes are learned, one per unit, starting at 0",
                "`residual` can't apply `prelu` after the sum (its slopes are a layer's tensors); write `prelu` \
                 after the block: `residual<...>; prelu`",
                "unknown activation `prelo`; did you mean `prelu`?",
            ]
        );
    }

    #[test]
    fn chapter_11_options() {
        let m = check_str(
            "N< input(4); batch_norm(center = false); batch_norm(scale = false, momentum = 0.9); \
             batch_norm(center = false, scale = false); alpha_dropout(0.1); alpha_dropout(rate = 0.2); \
             dense(3, selu, init = variance_scaling, max_norm = 1); \
             dense(3, init = variance_scaling(scale = 2, mode = fan_avg, distribution = uniform)) >",
        )
        .unwrap();
        let summaries: Vec<&str> = m.layers.iter().map(|l| l.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "batch_norm(center = false)",
                "batch_norm(scale = false)",
                "batch_norm(center = false, scale = false)",
                "alpha_dropout(0.1)",
                "alpha_dropout(0.2)",
                "dense(3, selu)",
                "dense(3)"
            ]
        );
        let params: Vec<_> = m.layers[..3].iter().map(|l| l.kind.own_params().unwrap()).collect();
        let p = |per_in| Params { per_in, ..Params::ZERO };
        assert_eq!(params, [(p(3), p(1)), (p(3), p(1)), (p(2), p(0))]);
        assert!(matches!(m.layers[3].kind, Kind::AlphaDropout { rate } if rate == 0.1));
        let Kind::Dense { init: Init::VarianceScaling { scale, mode, distribution }, max_norm, .. } =
            m.layers[5].kind
        else {
            panic!("not variance scaling")
        };
        assert_eq!(
            (scale, mode.keyword, distribution.keyword, max_norm),
            (1.0, "fan_in", "truncated_normal", Some(1.0))
        );
        let Kind::Dense { init: Init::VarianceScaling { scale, mode, distribution }, max_norm, .. } =
            m.layers[6].kind
        else {
            panic!("not variance scaling")
        };
        assert_eq!((scale, mode.keyword, distribution.keyword, max_norm), (2.0, "fan_avg", "uniform", None));
        let errs = check_str(
            "N< input(4); batch_norm(center = 0); alpha_dropout(1); alpha_dropout; dense(3, max_norm = 0); \
             dense(3, init = variance_scaling(2)); dense(3, init = variance_scaling(scale = -1, mode = fan_ave)); \
             dense(3, init = variance_scaling(distribution = normal, sigma = 1, mode = 3)); dense(3, init = he_normal(2)) >",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "`center` takes `true` or `false`, found `0`",
                "the dropout rate must be in [0, 1), found 1; it is the fraction of units to drop, such as `dropout(0.2)`",
                "`alpha_dropout` needs a rate: `alpha_dropout(0.1)`",
                "`max_norm` must be positive, found 0; it is the largest norm of each unit's incoming weights, \
                 such as `max_norm = 1.0`",
                "`variance_scaling` takes named options: `variance_scaling(scale = 2.0, mode = fan_avg, \
                 distribution = uniform)`",
                "`scale` must be positive, found -1; Keras' default is 1.0",
                "`mode` can't be `fan_ave`; did you mean `fan_avg`?",
                "`distribution` can't be `normal`; expected one of `truncated_normal`, `untruncated_normal`, `uniform`",
                "`variance_scaling` has no option `sigma`; its options are `scale`, `mode`, `distribution`",
                "`mode` can't be `3`; expected one of `fan_in`, `fan_out`, `fan_avg`",
                "`he_normal` takes no arguments; `variance_scaling(scale = 2.0, mode = fan_avg)` is the initializer that does",
            ]
        );
    }

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("dense", "dense"), 0);
        assert_eq!(edit_distance("desne", "dense"), 1);
        assert_eq!(edit_distance("relu", "rleu"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
