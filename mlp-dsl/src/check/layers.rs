//! Each layer keyword's rules, one function per keyword, dispatched through one table that
//! also feeds "did you mean"; the residual block's width rule; the activations; plus the
//! names the summary and generated code use.

use super::*;

/// What a layer keyword's rule does with it.
#[derive(Clone, Copy)]
pub(super) enum Rule {
    /// Checks the layer: `None` when it is reported as wrong.
    Layer(fn(LayerCx<'_>) -> Option<Made>),
    /// Expands in place, in the chain (`repeat`; see `Chain::repeat` in mod.rs).
    Repeat,
}

/// A checked layer before it is named: its kind, how the summary shows it, and the counter
/// its default name uses (`dense` for `dense_0`).
pub(super) struct Made {
    pub(super) kind: Kind,
    pub(super) summary: String,
    pub(super) counter: String,
    /// A layer the written one stands for after itself: `dense(n, prelu)` is `dense(n); prelu`.
    pub(super) then: Option<Box<Made>>,
}

impl Made {
    fn new(kind: Kind, summary: String, counter: impl Into<String>) -> Self {
        Made { kind, summary, counter: counter.into(), then: None }
    }
}

/// A layer keyword and what it means.
pub(super) struct LayerWord {
    /// As written: `dense`.
    pub(super) keyword: &'static str,
    /// Sets the network's input width, so it may only be the first layer (`input`, `flatten`).
    pub(super) sets_input: bool,
    /// Takes a block of layers `<...>` (`residual`, `repeat`).
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
        rule: Rule::Layer(misplaced_input),
        example: "input(784)",
    },
    LayerWord {
        keyword: "flatten",
        sets_input: true,
        block: false,
        rule: Rule::Layer(misplaced_input),
        example: "flatten(28, 28)",
    },
    LayerWord {
        keyword: "dense",
        sets_input: false,
        block: false,
        rule: Rule::Layer(dense),
        example: "dense(300, relu)",
    },
    LayerWord {
        keyword: "batch_norm",
        sets_input: false,
        block: false,
        rule: Rule::Layer(batch_norm),
        example: "batch_norm(momentum = 0.99, epsilon = 1e-3)",
    },
    LayerWord {
        keyword: "layer_norm",
        sets_input: false,
        block: false,
        rule: Rule::Layer(layer_norm),
        example: "layer_norm(epsilon = 1e-3)",
    },
    LayerWord {
        keyword: "dropout",
        sets_input: false,
        block: false,
        rule: Rule::Layer(dropout),
        example: "dropout(0.2)",
    },
    LayerWord {
        keyword: "alpha_dropout",
        sets_input: false,
        block: false,
        rule: Rule::Layer(dropout),
        example: "alpha_dropout(0.1)",
    },
    LayerWord {
        keyword: keywords::PRELU,
        sets_input: false,
        block: false,
        rule: Rule::Layer(prelu),
        example: "dense(100); prelu",
    },
    LayerWord {
        keyword: "residual",
        sets_input: false,
        block: true,
        rule: Rule::Layer(residual),
        example: "residual<dense(100, relu); dense(100)>",
    },
    LayerWord {
        keyword: "repeat",
        sets_input: false,
        block: true,
        rule: Rule::Repeat,
        example: "repeat(20)< dense(100, selu) >",
    },
];

/// The layer keyword `word` names, if any.
pub(super) fn layer_word(word: &Ident) -> Option<&'static LayerWord> {
    LAYERS.iter().find(|w| word == w.keyword)
}

/// "only `residual` and `repeat` take": the keywords that take a block, for messages.
fn only_block_keywords_take() -> String {
    let words: Vec<&str> = LAYERS.iter().filter(|w| w.block).map(|w| w.keyword).collect();
    match words.split_last() {
        Some((last, [])) => format!("only `{last}` takes"),
        Some((last, rest)) => format!("only {} and `{last}` take", list(rest.iter().copied())),
        None => "nothing takes".to_string(),
    }
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

/// One layer (not a `repeat`, which the chain expands): its kind, how the summary shows it,
/// and the counter its default name uses.
pub(super) fn check_layer(
    scope: &str,
    layer: &RawLayer,
    width: &Width,
    names: &mut Names,
    errors: &mut Errors,
) -> Option<Made> {
    let word = match &layer.head {
        Head::Network(path) => return sub_network(path, layer, errors),
        Head::Keyword(word) => word,
    };
    let row = layer_word(word);
    if layer.block.is_some() && !row.is_some_and(|w| w.block) {
        let msg = format!("{} a block `<...>`, not `{word}`", only_block_keywords_take());
        errors.at(layer.first, layer.last, msg);
    }
    let args = Args::new(word, layer, errors);
    match row.map(|row| (row, row.rule)) {
        Some((row, Rule::Layer(rule))) => rule(LayerCx { scope, layer, word: row, width, names, args }),
        // The chain expands a `repeat` before it gets here.
        Some((_, Rule::Repeat)) => None,
        None => activation_or_unknown(word, layer, args),
    }
}

/// A sub-network, by its type: no arguments, no block.
fn sub_network(path: &Path, layer: &RawLayer, errors: &mut Errors) -> Option<Made> {
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
        let msg = format!("{} a block `<...>`, not the sub-network `{ty}`", only_block_keywords_take());
        errors.at(layer.first, layer.last, msg);
    }
    Some(Made::new(Kind::Network(path.clone()), ty.clone(), snake_case(&ty)))
}

/// A word that is no layer keyword: a standalone activation, or a mistake.
fn activation_or_unknown(word: &Ident, layer: &RawLayer, args: Args<'_>) -> Option<Made> {
    let errors = args.errors;
    if let Some(act) = parse_activation(word, layer.args.as_ref(), errors) {
        return Some(Made::new(Kind::Activation(act), act.name(), "activation"));
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
fn misplaced_input(mut cx: LayerCx<'_>) -> Option<Made> {
    cx.args.finish(&[]);
    let msg = format!(
        "`{}` sets the network's input width, so it can only be the network's first layer",
        cx.word.keyword
    );
    cx.args.errors.at(cx.layer.first, cx.layer.last, msg);
    None
}

/// `dense(units, act, activation = .., init = .., l1 = .., l2 = .., bias = .., max_norm = ..)`;
/// `prelu` as its activation adds a `prelu` layer after it.
fn dense(mut cx: LayerCx<'_>) -> Option<Made> {
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
        Some(v) => dense_activation(args, v),
        None => (Act::LINEAR, false),
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
        act = dense_activation(args, v);
    }
    let (act, prelu) = act;
    let init = args.named("init").map_or(Init::Named(&keywords::GLOROT_UNIFORM), |v| args.init(v));
    let l1 = args.named("l1").map_or(0.0, |v| args.non_negative(v, "`l1`"));
    let l2 = args.named("l2").map_or(0.0, |v| args.non_negative(v, "`l2`"));
    let bias = args.named("bias").is_none_or(|v| args.boolean(v, "bias"));
    let max_norm = args.named("max_norm").map(|v| {
        let hint = "it is the largest norm of each unit's incoming weights, such as `max_norm = 1.0`";
        args.positive(v, "`max_norm`", hint, 1.0)
    });
    args.finish(&["activation", "init", "l1", "l2", "bias", "max_norm"]);
    let summary = if act == Act::LINEAR {
        format!("dense({units})")
    } else {
        format!("dense({units}, {})", act.name())
    };
    let mut made = Made::new(Kind::Dense { units, act, init, l1, l2, bias, max_norm }, summary, "dense");
    if prelu {
        made.then = Some(Box::new(Made::new(Kind::PRelu, keywords::PRELU.to_string(), keywords::PRELU)));
    }
    Some(made)
}

/// A dense layer's activation, and whether it is `prelu` (a layer of its own, added after).
fn dense_activation(args: &mut Args<'_>, v: &RawValue) -> (Act, bool) {
    match v {
        RawValue::Word { ident, args: word_args } if ident == keywords::PRELU => {
            if let Some(a) = word_args {
                args.errors.at_span(a.span, PRELU_TAKES_NOTHING);
            }
            (Act::LINEAR, true)
        }
        v => (args.activation_among(v, &[keywords::PRELU]), false),
    }
}

const PRELU_TAKES_NOTHING: &str =
    "`prelu` takes no arguments: its slopes are learned, one per unit, starting at 0";

/// `prelu`: Keras' `PReLU`, a learned slope per unit for negative inputs.
fn prelu(mut cx: LayerCx<'_>) -> Option<Made> {
    if let Some(args) = &cx.layer.args {
        cx.args.errors.at_span(args.span, PRELU_TAKES_NOTHING);
        cx.args.named.clear();
    }
    cx.args.finish(&[]);
    Some(Made::new(Kind::PRelu, keywords::PRELU.to_string(), keywords::PRELU))
}

/// `batch_norm(momentum = .., epsilon = .., center = .., scale = ..)`
fn batch_norm(mut cx: LayerCx<'_>) -> Option<Made> {
    let args = &mut cx.args;
    args.no_positional(cx.word.example);
    let momentum = args.named("momentum").map_or(BN_MOMENTUM, |v| args.fraction(v, "`momentum`", true));
    let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.epsilon(v));
    let center = args.named("center").is_none_or(|v| args.boolean(v, "center"));
    let scale = args.named("scale").is_none_or(|v| args.boolean(v, "scale"));
    args.finish(&["momentum", "epsilon", "center", "scale"]);
    let keyword = cx.word.keyword;
    // The options that change the layer's tensors show in its summary row.
    let off: Vec<&str> = [("center = false", center), ("scale = false", scale)]
        .into_iter()
        .filter_map(|(text, on)| (!on).then_some(text))
        .collect();
    let summary = if off.is_empty() { keyword.to_string() } else { format!("{keyword}({})", off.join(", ")) };
    Some(Made::new(Kind::BatchNorm { momentum, epsilon, center, scale }, summary, keyword))
}

/// `layer_norm(epsilon = ..)`
fn layer_norm(mut cx: LayerCx<'_>) -> Option<Made> {
    let args = &mut cx.args;
    args.no_positional(cx.word.example);
    let epsilon = args.named("epsilon").map_or(EPSILON, |v| args.epsilon(v));
    args.finish(&["epsilon"]);
    let text = cx.word.keyword.to_string();
    Some(Made::new(Kind::LayerNorm { epsilon }, text.clone(), text))
}

/// `dropout(rate)` or `dropout(rate = ..)`, and `alpha_dropout` alike.
fn dropout(mut cx: LayerCx<'_>) -> Option<Made> {
    let (layer, keyword, example, args) = (cx.layer, cx.word.keyword, cx.word.example, &mut cx.args);
    let value = args.positional.first().copied().or_else(|| args.named("rate"));
    let rate = match value {
        Some(v) => args.fraction(v, "the dropout rate", false),
        None => {
            args.errors.at(layer.first, layer.last, format!("`{keyword}` needs a rate: `{example}`"));
            0.0
        }
    };
    if let Some(extra) = args.positional.get(1) {
        args.errors.at_value(extra, format!("`{keyword}` takes one rate: `{example}`"));
    }
    args.finish(&["rate"]);
    let kind = if keyword == "alpha_dropout" { Kind::AlphaDropout { rate } } else { Kind::Dropout { rate } };
    Some(Made::new(kind, format!("{keyword}({})", fmt_f32(rate)), keyword))
}

/// `residual(project, act)<layers>`
fn residual(mut cx: LayerCx<'_>) -> Option<Made> {
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
            RawValue::Word { ident, .. } if ident == keywords::PRELU => {
                let msg = "`residual` can't apply `prelu` after the sum (its slopes are a layer's tensors); \
                           write `prelu` after the block: `residual<...>; prelu`";
                args.errors.at_value(v, msg);
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
        Made::new(Kind::Residual { project, act, body: Box::new(body) }, summary, cx.word.keyword)
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
        input_dims: Vec::new(),
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
    // from the raw ones unless some raw layer was reported as wrong, or written out as more
    // than one: a `repeat`, a `dense(n, prelu)`).
    let one_for_one = body.layers.len() == block.len()
        && !body.layers.iter().any(|l| matches!(l.kind, Kind::PRelu))
        && !block.iter().any(|raw| is_keyword(raw, "repeat"));
    let last_dense =
        setters.last().filter(|_| one_for_one).map(|&i| &block[i]).filter(|raw| is_keyword(raw, "dense"));
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
