//! Each layer keyword's rules: its arguments, its width, the residual block's width rule, and
//! the activations; plus the names the summary and generated code use.

use super::*;

/// One layer: its kind, how the summary shows it, and the counter its default name uses.
pub(super) fn check_layer(
    scope: &str,
    layer: &RawLayer,
    width: &Width,
    names: &mut Names,
    errors: &mut Errors,
) -> Option<(Kind, String, String)> {
    let word = match &layer.head {
        Head::Network(path) => {
            if let Some((ident, keyword)) =
                path.get_ident().and_then(|i| Some((i, lowercase_keyword(&i.unraw().to_string())?)))
            {
                errors.at_span(
                    ident.span(),
                    format!("layer keywords are lowercase: write `{keyword}`; a capitalized name is read as a sub-network type"),
                );
                return None;
            }
            if let Some(args) = &layer.args {
                errors.at_span(
                    args.span,
                    "a sub-network takes no arguments; configure it in its own `network!`",
                );
            }
            if layer.block.is_some() {
                let msg = format!(
                    "only `residual` takes a block `<...>`, not the sub-network `{}`",
                    last_segment(path)
                );
                errors.at(layer.first, layer.last, msg);
            }
            let ty = last_segment(path);
            return Some((Kind::Network(path.clone()), ty.clone(), snake_case(&ty)));
        }
        Head::Keyword(word) => word,
    };
    let text = word.to_string();
    if text != "residual" && layer.block.is_some() {
        errors.at(layer.first, layer.last, format!("only `residual` takes a block `<...>`, not `{text}`"));
    }
    let mut args = Args::new(word, layer, errors);
    let result = match text.as_str() {
        "input" | "flatten" => {
            args.finish(&[]);
            args.errors.at(
                layer.first,
                layer.last,
                format!(
                    "`{text}` sets the network's input width, so it can only be the network's first layer"
                ),
            );
            None
        }
        "dense" => {
            let units = match args.positional.first() {
                Some(RawValue::Word { ident, args: None })
                    if ACTIVATIONS.contains(&ident.to_string().as_str()) =>
                {
                    args.errors.at_span(
                        ident.span(),
                        format!("`dense` needs its width before the activation: `dense(100, {ident})`"),
                    );
                    1
                }
                Some(v) => args.width(v, "a width"),
                None => {
                    args.errors.at(
                        layer.first,
                        layer.last,
                        "`dense` needs a width: `dense(300)` or `dense(300, relu)`",
                    );
                    1
                }
            };
            let mut act = match args.positional.get(1) {
                Some(v) => args.activation(v),
                None => Act::Linear,
            };
            if let Some(extra) = args.positional.get(2) {
                args.errors.at_value(
                    extra,
                    format!(
                        "`dense` takes at most a width and an activation before its options, found {}",
                        extra.describe()
                    ),
                );
            }
            if let Some(v) = args.named("activation") {
                act = args.activation(v);
            }
            let init = args
                .named("init")
                .map_or("glorot_uniform", |v| args.word_in(v, "init", INITS, "initializer"));
            let l1 = args.named("l1").map_or(0.0, |v| args.non_negative(v, "`l1`"));
            let l2 = args.named("l2").map_or(0.0, |v| args.non_negative(v, "`l2`"));
            let bias = args.named("bias").is_none_or(|v| args.boolean(v, "bias"));
            args.finish(&["activation", "init", "l1", "l2", "bias"]);
            let summary = match act {
                Act::Linear => format!("dense({units})"),
                act => format!("dense({units}, {})", act_name(act)),
            };
            Some((Kind::Dense { units, act, init, l1, l2, bias }, summary, "dense".to_string()))
        }
        "batch_norm" => {
            args.no_positional();
            let momentum =
                args.named("momentum").map_or(BN_MOMENTUM, |v| args.fraction(v, "`momentum`", true));
            let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.positive(v, "`epsilon`"));
            args.finish(&["momentum", "epsilon"]);
            Some((Kind::BatchNorm { momentum, epsilon }, text.clone(), text.clone()))
        }
        "layer_norm" => {
            args.no_positional();
            let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.positive(v, "`epsilon`"));
            args.finish(&["epsilon"]);
            Some((Kind::LayerNorm { epsilon }, text.clone(), text.clone()))
        }
        "dropout" => {
            let value = args.positional.first().copied().or_else(|| args.named("rate"));
            let rate = match value {
                Some(v) => args.fraction(v, "the dropout rate", false),
                None => {
                    args.errors.at(layer.first, layer.last, "`dropout` needs a rate: `dropout(0.2)`");
                    0.0
                }
            };
            if let Some(extra) = args.positional.get(1) {
                args.errors.at_value(extra, "`dropout` takes one rate: `dropout(0.2)`");
            }
            args.finish(&["rate"]);
            Some((Kind::Dropout { rate }, format!("dropout({})", fmt_f32(rate)), text.clone()))
        }
        "residual" => {
            let (mut project, mut act, mut acts) = (false, Act::Linear, 0);
            for v in args.positional.clone() {
                match v {
                    RawValue::Word { ident, args: None } if ident == "project" => {
                        if project {
                            args.errors.at_value(v, "`project` is given twice");
                        }
                        project = true;
                    }
                    RawValue::Word { ident, args: None }
                        if !ACTIVATIONS.contains(&ident.to_string().as_str())
                            && !did_you_mean(&ident.to_string(), ["project"].iter()).is_empty() =>
                    {
                        args.errors.at_span(
                            ident.span(),
                            format!("unknown argument `{ident}`; did you mean `project`?"),
                        );
                    }
                    v => {
                        acts += 1;
                        if acts > 1 {
                            args.errors.at_value(
                                v,
                                "`residual` takes one activation, applied after the sum: `residual(project, relu)`",
                            );
                        }
                        act = args.activation(v);
                    }
                }
            }
            args.finish(&[]);
            let summary = match (project, act) {
                (false, Act::Linear) => "residual".to_string(),
                (true, Act::Linear) => "residual(project)".to_string(),
                (false, a) => format!("residual({})", act_name(a)),
                (true, a) => format!("residual(project, {})", act_name(a)),
            };
            let body = check_residual_body(scope, layer, width, project, names, errors);
            body.map(|body| (Kind::Residual { project, act, body: Box::new(body) }, summary, text.clone()))
        }
        _ => match parse_activation(word, layer.args.as_ref(), errors) {
            Some(act) => Some((Kind::Activation(act), act_name(act).to_string(), "activation".to_string())),
            None => {
                let mut hint = did_you_mean(&text, LAYERS.iter().chain(ACTIVATIONS));
                if hint.is_empty() {
                    hint = format!(
                        "; expected a layer ({}), an activation such as `relu`, or a network type",
                        list(&LAYERS[2..])
                    );
                }
                errors.at_span(word.span(), format!("unknown layer `{text}`{hint}"));
                None
            }
        },
    };
    result
}

/// The block of a residual unit, checked in a scope of its own, and its width rule.
pub(super) fn check_residual_body(
    scope: &str,
    layer: &RawLayer,
    width: &Width,
    project: bool,
    names: &mut Names,
    errors: &mut Errors,
) -> Option<Model> {
    let Some(block) = &layer.block else {
        errors.at(
            layer.first,
            layer.last,
            "`residual` needs a block of layers: `residual<dense(100, relu); dense(100)>`",
        );
        return None;
    };
    if block.is_empty() {
        errors.at(
            layer.first,
            layer.last,
            "empty residual block; put at least one layer between `<` and `>`",
        );
        return None;
    }
    // The body is its own struct, named after the outer network and the block's place in it.
    let index = names.counters.get("residual").copied().unwrap_or(0);
    let field = layer.name.as_ref().map_or_else(|| format!("residual_{index}"), |n| n.unraw().to_string());
    let body_name = format!("{scope}{}", camel_case(&field));
    let layers = check_chain(&body_name, block, width.clone(), errors);
    // Made of identifiers without `r#` and `_`, so always an identifier; checked all the same.
    let Some(name) = new_ident(&format!("__{body_name}"), Span::call_site()) else {
        errors.at(
            layer.first,
            layer.last,
            format!("no struct name can be made from `{body_name}`; rename the layer"),
        );
        return None;
    };
    let body = Model {
        attrs: Vec::new(),
        vis: syn::Visibility::Inherited,
        name,
        input: width.clone(),
        input_kind: None,
        layers,
    };
    if !project {
        if let (Width::Known(a), Width::Known(b)) = (width, &body.output()) {
            if a != b {
                residual_mismatch(layer, block, &body, *a, *b, errors);
            }
        }
    }
    Some(body)
}

/// A residual block whose output width is not its input width: the error at the block, and
/// a second one that carries the fix at the layer that sets the wrong width (stable Rust has
/// no spanned `help:` for proc macros, and a `help` embedded in the message would print
/// above the code, not below it).
pub(super) fn residual_mismatch(
    layer: &RawLayer,
    block: &[RawLayer],
    body: &Model,
    want: usize,
    got: usize,
    errors: &mut Errors,
) {
    errors.at(
        layer.first,
        layer.last,
        format!(
            "residual block maps width {want} to {got}; the skip connection adds its input, so the widths must match"
        ),
    );
    let project = "or write `residual(project)<...>` to learn a projection of the input";
    // The layer that sets the block's output width: its last dense, projected residual or sub-network.
    let setter = body.layers.iter().rev().find(|l| l.output != l.input);
    match setter.map(|l| &l.kind) {
        Some(Kind::Dense { act, init, l1, l2, bias, .. }) => {
            // A checked dense comes from a raw one; without it, the general help below.
            let Some(raw) = block.iter().rev().find(|l| is_keyword(l, "dense")) else {
                errors.at(layer.first, layer.last, format!("help: end the block at width {want}, {project}"));
                return;
            };
            let more = *init != "glorot_uniform" || *l1 > 0.0 || *l2 > 0.0 || !*bias;
            let fix = match (act, more) {
                (Act::Linear, false) => format!("dense({want})"),
                (Act::Linear, true) => format!("dense({want}, ..)"),
                (act, false) => format!("dense({want}, {})", act_name(*act)),
                (act, true) => format!("dense({want}, {}, ..)", act_name(*act)),
            };
            errors.at(
                raw.first,
                raw.last,
                format!("help: make this `{fix}` so the block ends at width {want}, {project}"),
            );
        }
        _ => errors.at(layer.first, layer.last, format!("help: end the block at width {want}, {project}")),
    }
}

/// A standalone activation keyword with its arguments, or `None` if `word` is not one.
pub(super) fn parse_activation(word: &Ident, args: Option<&RawArgs>, errors: &mut Errors) -> Option<Act> {
    let text = word.to_string();
    let param = |default: f32, errors: &mut Errors| -> f32 {
        let Some(args) = args else { return default };
        match args.args.as_slice() {
            [] => default,
            [RawArg::Positional(RawValue::Number { value, text, .. })]
            | [RawArg::Named(_, RawValue::Number { value, text, .. })]
                if !(*value as f32).is_finite() =>
            {
                errors.at_span(args.span, too_large_for_f32(&format!("`{word}`'s argument"), text));
                default
            }
            [RawArg::Positional(RawValue::Number { value, .. })] => *value as f32,
            [RawArg::Named(name, RawValue::Number { value, .. })] if name == "alpha" => *value as f32,
            _ => {
                errors.at_span(args.span, format!("`{text}` takes one number: `{text}(0.2)`"));
                default
            }
        }
    };
    let no_args = |act: Act, errors: &mut Errors| {
        if let Some(args) = args {
            errors.at_span(args.span, format!("`{text}` takes no arguments"));
        }
        act
    };
    Some(match text.as_str() {
        "linear" => no_args(Act::Linear, errors),
        "relu" => no_args(Act::Relu, errors),
        "leaky_relu" => Act::LeakyRelu(param(LEAKY_RELU_ALPHA, errors)),
        "elu" => Act::Elu(param(ELU_ALPHA, errors)),
        "selu" => no_args(Act::Selu, errors),
        "gelu" => no_args(Act::Gelu, errors),
        "swish" | "silu" => no_args(Act::Swish, errors),
        "tanh" => no_args(Act::Tanh, errors),
        "sigmoid" => no_args(Act::Sigmoid, errors),
        "softmax" => no_args(Act::Softmax, errors),
        _ => return None,
    })
}

/// How an activation reads in summaries and messages: `leaky_relu(0.2)`.
pub(super) fn act_name(act: Act) -> String {
    match act {
        Act::Linear => "linear".into(),
        Act::Relu => "relu".into(),
        Act::LeakyRelu(a) if a == LEAKY_RELU_ALPHA => "leaky_relu".into(),
        Act::LeakyRelu(a) => format!("leaky_relu({})", fmt_f32(a)),
        Act::Elu(a) if a == ELU_ALPHA => "elu".into(),
        Act::Elu(a) => format!("elu({})", fmt_f32(a)),
        Act::Selu => "selu".into(),
        Act::Gelu => "gelu".into(),
        Act::Swish => "swish".into(),
        Act::Tanh => "tanh".into(),
        Act::Sigmoid => "sigmoid".into(),
        Act::Softmax => "softmax".into(),
    }
}

pub(super) fn fmt_f32(v: f32) -> String {
    format!("{v}")
}

pub(super) fn last_segment(path: &Path) -> String {
    path.segments.last().map(|s| s.ident.unraw().to_string()).unwrap_or_default()
}

/// `residual_0` → `Residual0`, for the names of residual bodies' structs.
pub(super) fn camel_case(name: &str) -> String {
    let mut out = String::new();
    for word in name.split('_') {
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// `FeatureTrunk` → `feature_trunk`, the default field name of a sub-network.
pub(super) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
