//! Each layer keyword's rules, one function per keyword, dispatched through one table that
//! also feeds "did you mean"; the residual block's width rule; the activations; plus the
//! names the summary and generated code use.

use super::*;

/// What a layer's rule gives: its kind, how the summary shows it, and the counter its
/// default name uses (`dense` for `dense_0`); `None` when it is reported as wrong.
pub(super) type Rule = fn(LayerCx<'_>) -> Option<(Kind, String, String)>;

/// A layer keyword and what it means.
pub(super) struct LayerWord {
    /// As written: `dense`.
    pub(super) keyword: &'static str,
    /// Sets the network's input width, so it may only be the first layer (`input`, `flatten`).
    pub(super) sets_input: bool,
    /// Takes a block of layers `<...>` (`residual`).
    pub(super) block: bool,
    /// Checks the layer where it is not the network's input.
    pub(super) rule: Rule,
    /// How it is used, for messages: `dropout(0.2)`.
    pub(super) example: &'static str,
}

/// The layer keywords, in the order messages list them. Any other lowercase word must be an
/// activation (see [`keywords::ACTIVATIONS`]).
pub(super) const LAYERS: &[LayerWord] = &[
    LayerWord {
        keyword: "input",
        sets_input: true,
        block: false,
        rule: misplaced_input,
        example: "input(784)",
    },
    LayerWord {
        keyword: "flatten",
        sets_input: true,
        block: false,
        rule: misplaced_input,
        example: "flatten(28, 28)",
    },
    LayerWord { keyword: "dense", sets_input: false, block: false, rule: dense, example: "dense(300, relu)" },
    LayerWord {
        keyword: "batch_norm",
        sets_input: false,
        block: false,
        rule: batch_norm,
        example: "batch_norm(momentum = 0.99, epsilon = 1e-3)",
    },
    LayerWord {
        keyword: "layer_norm",
        sets_input: false,
        block: false,
        rule: layer_norm,
        example: "layer_norm(epsilon = 1e-3)",
    },
    LayerWord { keyword: "dropout", sets_input: false, block: false, rule: dropout, example: "dropout(0.2)" },
    LayerWord {
        keyword: "residual",
        sets_input: false,
        block: true,
        rule: residual,
        example: "residual<dense(100, relu); dense(100)>",
    },
];

/// The layer keyword `word` names, if any.
pub(super) fn layer_word(word: &Ident) -> Option<&'static LayerWord> {
    LAYERS.iter().find(|w| word == w.keyword)
}

/// `` `residual` ``: the keywords that take a block, for messages.
fn block_keywords() -> String {
    list(LAYERS.iter().filter(|w| w.block).map(|w| w.keyword))
}

/// What a layer's rule works with.
pub(super) struct LayerCx<'a> {
    /// The struct whose fields the layers become (residual bodies are named after it).
    pub(super) scope: &'a str,
    pub(super) layer: &'a RawLayer,
    /// Its table row.
    pub(super) word: &'static LayerWord,
    /// Its input width.
    pub(super) width: &'a Width,
    pub(super) names: &'a mut Names,
    /// Its arguments, with the error collector.
    pub(super) args: Args<'a>,
}

/// One layer: its kind, how the summary shows it, and the counter its default name uses.
pub(super) fn check_layer(
    scope: &str,
    layer: &RawLayer,
    width: &Width,
    names: &mut Names,
    errors: &mut Errors,
) -> Option<(Kind, String, String)> {
    let word = match &layer.head {
        Head::Network(path) => return sub_network(path, layer, errors),
        Head::Keyword(word) => word,
    };
    let row = layer_word(word);
    if layer.block.is_some() && !row.is_some_and(|w| w.block) {
        let msg = format!("only {} takes a block `<...>`, not `{word}`", block_keywords());
        errors.at(layer.first, layer.last, msg);
    }
    let args = Args::new(word, layer, errors);
    match row {
        Some(row) => (row.rule)(LayerCx { scope, layer, word: row, width, names, args }),
        None => activation_or_unknown(word, layer, args),
    }
}

/// A sub-network, by its type: no arguments, no block.
fn sub_network(path: &Path, layer: &RawLayer, errors: &mut Errors) -> Option<(Kind, String, String)> {
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
        errors.at_span(args.span, "a sub-network takes no arguments; configure it in its own `network!`");
    }
    let ty = last_segment(path);
    if layer.block.is_some() {
        let msg = format!("only {} takes a block `<...>`, not the sub-network `{ty}`", block_keywords());
        errors.at(layer.first, layer.last, msg);
    }
    Some((Kind::Network(path.clone()), ty.clone(), snake_case(&ty)))
}

/// A word that is no layer keyword: a standalone activation, or a mistake.
fn activation_or_unknown(word: &Ident, layer: &RawLayer, args: Args<'_>) -> Option<(Kind, String, String)> {
    let errors = args.errors;
    if let Some(act) = parse_activation(word, layer.args.as_ref(), errors) {
        return Some((Kind::Activation(act), act.name(), "activation".to_string()));
    }
    let text = word.to_string();
    let mut hint = did_you_mean(&text, layer_keywords());
    if hint.is_empty() {
        // The input layers are left out: they are only ever first, where they are not unknown.
        let layers = list(LAYERS.iter().filter(|w| !w.sets_input).map(|w| w.keyword));
        hint = format!("; expected a layer ({layers}), an activation such as `relu`, or a network type");
    }
    errors.at_span(word.span(), format!("unknown layer `{text}`{hint}"));
    None
}

/// `input` / `flatten` after the first layer.
fn misplaced_input(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    cx.args.finish(&[]);
    let msg = format!(
        "`{}` sets the network's input width, so it can only be the network's first layer",
        cx.word.keyword
    );
    cx.args.errors.at(cx.layer.first, cx.layer.last, msg);
    None
}

/// `dense(units, act, activation = .., init = .., l1 = .., l2 = .., bias = ..)`
fn dense(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    let (layer, args) = (cx.layer, &mut cx.args);
    let units = match args.positional.first() {
        Some(RawValue::Word { ident, args: None }) if keywords::activation(&ident.to_string()).is_some() => {
            args.errors.at_span(
                ident.span(),
                format!("`dense` needs its width before the activation: `dense(100, {ident})`"),
            );
            1
        }
        Some(v) => args.width(v, "a width"),
        None => {
            let msg = format!("`dense` needs a width: `dense(300)` or `{}`", cx.word.example);
            args.errors.at(layer.first, layer.last, msg);
            1
        }
    };
    let mut act = match args.positional.get(1) {
        Some(v) => args.activation(v),
        None => Act::LINEAR,
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
    let init = args.named("init").map_or(&keywords::GLOROT_UNIFORM, |v| args.init(v));
    let l1 = args.named("l1").map_or(0.0, |v| args.non_negative(v, "`l1`"));
    let l2 = args.named("l2").map_or(0.0, |v| args.non_negative(v, "`l2`"));
    let bias = args.named("bias").is_none_or(|v| args.boolean(v, "bias"));
    args.finish(&["activation", "init", "l1", "l2", "bias"]);
    let summary = if act == Act::LINEAR {
        format!("dense({units})")
    } else {
        format!("dense({units}, {})", act.name())
    };
    Some((Kind::Dense { units, act, init, l1, l2, bias }, summary, "dense".to_string()))
}

/// `batch_norm(momentum = .., epsilon = ..)`
fn batch_norm(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    let args = &mut cx.args;
    args.no_positional(cx.word.example);
    let momentum = args.named("momentum").map_or(BN_MOMENTUM, |v| args.fraction(v, "`momentum`", true));
    let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.positive(v, "`epsilon`"));
    args.finish(&["momentum", "epsilon"]);
    let text = cx.word.keyword.to_string();
    Some((Kind::BatchNorm { momentum, epsilon }, text.clone(), text))
}

/// `layer_norm(epsilon = ..)`
fn layer_norm(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    let args = &mut cx.args;
    args.no_positional(cx.word.example);
    let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.positive(v, "`epsilon`"));
    args.finish(&["epsilon"]);
    let text = cx.word.keyword.to_string();
    Some((Kind::LayerNorm { epsilon }, text.clone(), text))
}

/// `dropout(rate)` or `dropout(rate = ..)`
fn dropout(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    let (layer, example, args) = (cx.layer, cx.word.example, &mut cx.args);
    let value = args.positional.first().copied().or_else(|| args.named("rate"));
    let rate = match value {
        Some(v) => args.fraction(v, "the dropout rate", false),
        None => {
            args.errors.at(layer.first, layer.last, format!("`dropout` needs a rate: `{example}`"));
            0.0
        }
    };
    if let Some(extra) = args.positional.get(1) {
        args.errors.at_value(extra, format!("`dropout` takes one rate: `{example}`"));
    }
    args.finish(&["rate"]);
    Some((Kind::Dropout { rate }, format!("dropout({})", fmt_f32(rate)), cx.word.keyword.to_string()))
}

/// `residual(project, act)<layers>`
fn residual(mut cx: LayerCx<'_>) -> Option<(Kind, String, String)> {
    let args = &mut cx.args;
    let (mut project, mut act, mut acts) = (false, Act::LINEAR, 0);
    for v in args.positional.clone() {
        match v {
            RawValue::Word { ident, args: None } if ident == "project" => {
                if project {
                    args.errors.at_value(v, "`project` is given twice");
                }
                project = true;
            }
            RawValue::Word { ident, args: None }
                if keywords::activation(&ident.to_string()).is_none()
                    && !did_you_mean(&ident.to_string(), ["project"]).is_empty() =>
            {
                args.errors
                    .at_span(ident.span(), format!("unknown argument `{ident}`; did you mean `project`?"));
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
    let summary = match (project, act == Act::LINEAR) {
        (false, true) => "residual".to_string(),
        (true, true) => "residual(project)".to_string(),
        (false, false) => format!("residual({})", act.name()),
        (true, false) => format!("residual(project, {})", act.name()),
    };
    let body = check_residual_body(&mut cx, project, act);
    body.map(|body| {
        (Kind::Residual { project, act, body: Box::new(body) }, summary, cx.word.keyword.to_string())
    })
}

/// The block of a residual unit, checked in a scope of its own, and its width rule.
fn check_residual_body(cx: &mut LayerCx<'_>, project: bool, act: Act) -> Option<Model> {
    let (scope, layer, width, errors) = (cx.scope, cx.layer, cx.width, &mut *cx.args.errors);
    let Some(block) = &layer.block else {
        let msg = format!("`residual` needs a block of layers: `{}`", cx.word.example);
        errors.at(layer.first, layer.last, msg);
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
    let index = cx.names.counters.get("residual").copied().unwrap_or(0);
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
                residual_mismatch(layer, act, block, &body, *a, *b, errors);
            }
        }
    }
    Some(body)
}

/// A residual block whose output width is not its input width: the error at the block, and
/// more that carry the fixes at the tokens they change (stable Rust has no spanned `help:`
/// for proc macros, and a `help` embedded in the message would print above the code, not
/// below it).
///
/// Two cases. When two or more of the body's layers set a width and all set `got`, the body
/// works at `got` and it is the block's input that differs: the fixes are a `dense(got)`
/// before the block or a projection, and, last, ending the block at `want`. Otherwise the
/// block's last width is off: the fix is the last layer that sets a width, at `want`.
pub(super) fn residual_mismatch(
    layer: &RawLayer,
    act: Act,
    block: &[RawLayer],
    body: &Model,
    want: usize,
    got: usize,
    errors: &mut Errors,
) {
    let project = if act == Act::LINEAR {
        "residual(project)".to_string()
    } else {
        format!("residual(project, {})", act.name())
    };
    let project = format!("or write `{project}<...>` to learn a projection of the input");
    // The layers that set a width (a sub-network's is one the macro cannot see).
    let setters: Vec<usize> = (0..body.layers.len())
        .filter(|&i| {
            matches!(
                body.layers[i].kind,
                Kind::Dense { .. } | Kind::Residual { project: true, .. } | Kind::Network(_)
            )
        })
        .collect();
    // The last of them, as written, when it is a dense layer (checked layers come one for one
    // from the raw ones unless some raw layer was reported as wrong).
    let last_dense = setters
        .last()
        .filter(|_| body.layers.len() == block.len())
        .map(|&i| &block[i])
        .filter(|raw| is_keyword(raw, "dense"));
    let works_at_got =
        setters.len() >= 2 && setters.iter().all(|&i| body.layers[i].output == Width::Known(got));
    if works_at_got {
        errors.at(
            layer.first,
            layer.last,
            format!(
                "residual block's input is {want} wide, but its layers work at width {got}; the skip connection adds the input to their output, so the widths must match"
            ),
        );
        // `residual`, where the new layer goes in front.
        let head = match &layer.head {
            Head::Keyword(word) => word.span(),
            Head::Network(_) => layer.first,
        };
        errors.at(
            layer.first,
            head,
            format!("help: put `dense({got})` before the block so its input is {got} wide, {project}"),
        );
        if let Some(raw) = last_dense {
            errors.at(
                raw.first,
                raw.last,
                format!(
                    "help: or make this `{}` so the block ends at its input's width, {want}",
                    dense_at(raw, want)
                ),
            );
        }
        return;
    }
    errors.at(
        layer.first,
        layer.last,
        format!(
            "residual block maps width {want} to {got}; the skip connection adds its input, so the widths must match"
        ),
    );
    match last_dense {
        Some(raw) => errors.at(
            raw.first,
            raw.last,
            format!("help: make this `{}` so the block ends at width {want}, {project}", dense_at(raw, want)),
        ),
        None => errors.at(layer.first, layer.last, format!("help: end the block at width {want}, {project}")),
    }
}

/// A `dense` layer as written, at width `units`: its name, activation and options as they are.
fn dense_at(raw: &RawLayer, units: usize) -> String {
    let written = raw.args.as_ref().map_or(&[][..], |a| a.args.as_slice());
    // The width as written goes; anything else first (`dense(relu)`) follows the new one.
    let rest = match written {
        [RawArg::Positional(RawValue::Number { .. }), rest @ ..] => rest,
        all => all,
    };
    let args: Vec<String> = std::iter::once(units.to_string()).chain(rest.iter().map(arg_text)).collect();
    let name = raw.name.as_ref().map_or_else(String::new, |n| format!("{n}: "));
    format!("{name}dense({})", args.join(", "))
}

/// An argument as written (up to spacing): `tanh`, `leaky_relu(0.2)`, `init = he_normal`.
fn arg_text(arg: &RawArg) -> String {
    let value = |v: &RawValue| match v {
        RawValue::Number { text, .. } | RawValue::Other { text, .. } => text.clone(),
        RawValue::Word { ident, args: None } => ident.to_string(),
        RawValue::Word { ident, args: Some(args) } => {
            format!("{ident}({})", args.args.iter().map(arg_text).collect::<Vec<_>>().join(", "))
        }
    };
    match arg {
        RawArg::Positional(v) => value(v),
        RawArg::Named(name, v) => format!("{name} = {}", value(v)),
    }
}

/// A standalone activation keyword with its arguments, or `None` if `word` is not one.
pub(super) fn parse_activation(word: &Ident, args: Option<&RawArgs>, errors: &mut Errors) -> Option<Act> {
    let text = word.to_string();
    let row = keywords::activation(&text)?;
    let Some(default) = row.alpha else {
        if let Some(args) = args {
            errors.at_span(args.span, format!("`{text}` takes no arguments"));
        }
        return Some(Act::new(row, None));
    };
    let Some(args) = args else { return Some(Act::new(row, Some(default))) };
    let alpha = match args.args.as_slice() {
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
            errors.at_span(args.span, format!("`{text}` takes one number: `{}`", row.example));
            default
        }
    };
    Some(Act::new(row, Some(alpha)))
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
