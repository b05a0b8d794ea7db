//! The arguments of one layer, consumed as the layer's rules ask for them: widths, numbers,
//! fractions, words; each wrong one reported at its value.

use super::*;

/// A number as the user wrote it.
pub(super) fn shown(v: &RawValue) -> String {
    match v {
        RawValue::Number { text, .. } => text.clone(),
        v => v.describe(),
    }
}

/// The arguments of one layer, consumed as the layer's rules ask for them.
pub(super) struct Args<'a> {
    pub(super) layer: String,
    pub(super) positional: Vec<&'a RawValue>,
    pub(super) named: Vec<(&'a Ident, &'a RawValue)>,
    pub(super) errors: &'a mut Errors,
}

impl<'a> Args<'a> {
    pub(super) fn new(word: &Ident, layer: &'a RawLayer, errors: &'a mut Errors) -> Self {
        let mut positional = Vec::new();
        let mut named: Vec<(&Ident, &RawValue)> = Vec::new();
        for arg in layer.args.iter().flat_map(|a| &a.args) {
            match arg {
                RawArg::Positional(v) if named.is_empty() => positional.push(v),
                RawArg::Positional(v) => errors.at_value(v, "positional arguments go before options"),
                RawArg::Named(name, v) => {
                    if named.iter().any(|(n, _)| *n == name) {
                        errors.at_span(name.span(), format!("option `{name}` is given twice"));
                    }
                    named.push((name, v));
                }
            }
        }
        Args { layer: word.to_string(), positional, named, errors }
    }

    pub(super) fn named(&self, key: &str) -> Option<&'a RawValue> {
        self.named.iter().find(|(n, _)| *n == key).map(|(_, v)| *v)
    }

    /// Reports options this layer does not have.
    pub(super) fn finish(&mut self, allowed: &[&str]) {
        for (name, _) in &self.named {
            let key = name.to_string();
            if !allowed.contains(&key.as_str()) {
                let msg = if allowed.is_empty() {
                    format!("`{}` has no options, found `{key}`", self.layer)
                } else {
                    let mut hint = did_you_mean(&key, allowed.iter().copied());
                    if hint.is_empty() {
                        hint = format!("; its options are {}", list(allowed.iter().copied()));
                    }
                    format!("`{}` has no option `{key}`{hint}", self.layer)
                };
                self.errors.at_span(name.span(), msg);
            }
        }
    }

    /// Reports a positional argument to a layer that has only options; `example` shows them.
    pub(super) fn no_positional(&mut self, example: &str) {
        if let Some(v) = self.positional.first() {
            let msg = format!("`{}` takes only named options: `{example}`", self.layer);
            self.errors.at_value(v, msg);
        }
    }

    /// A positive integer width.
    pub(super) fn width(&mut self, v: &RawValue, what: &str) -> usize {
        match v {
            RawValue::Number { int: Some(0), span, .. } => {
                self.errors.at_span(*span, format!("`{}` needs {what} of at least 1, found 0", self.layer));
                1
            }
            RawValue::Number { int: Some(n), span, .. } => usize::try_from(*n).unwrap_or_else(|_| {
                self.errors.at_span(*span, "width too large");
                1
            }),
            v => {
                let msg = format!("`{}` takes {what} as a whole number, found {}", self.layer, v.describe());
                self.errors.at_value(v, msg);
                1
            }
        }
    }

    /// A number; `what` is how the message names it (`` `l2` ``, "the dropout rate").
    pub(super) fn number(&mut self, v: &RawValue, what: &str) -> Option<f64> {
        match v {
            // Every number ends up an f32 in the generated code.
            RawValue::Number { value, text, .. } if !(*value as f32).is_finite() => {
                self.errors.at_value(v, too_large_for_f32(what, text));
                None
            }
            RawValue::Number { value, .. } => Some(*value),
            v => {
                let msg = format!("{what} takes a number, found {}", v.describe());
                self.errors.at_value(v, msg);
                None
            }
        }
    }

    pub(super) fn non_negative(&mut self, v: &RawValue, what: &str) -> f32 {
        match self.number(v, what) {
            Some(x) if x >= 0.0 => x as f32,
            Some(_) => {
                self.errors.at_value(v, format!("{what} must be 0 or more, found {}", shown(v)));
                0.0
            }
            None => 0.0,
        }
    }

    /// A positive number; `hint` ends the message when it is not, `fallback` stands in for it.
    pub(super) fn positive(&mut self, v: &RawValue, what: &str, hint: &str, fallback: f32) -> f32 {
        match self.number(v, what) {
            // Compared as the f32 it becomes: 1e-50 would be 0.
            Some(x) if x as f32 > 0.0 => x as f32,
            Some(_) => {
                self.errors.at_value(v, format!("{what} must be positive, found {}; {hint}", shown(v)));
                fallback
            }
            None => fallback,
        }
    }

    /// A normalization's `epsilon`.
    pub(super) fn epsilon(&mut self, v: &RawValue) -> f32 {
        self.positive(v, "`epsilon`", "Keras' default is 1e-3", EPSILON)
    }

    /// In `[0, 1)`, or `[0, 1]` when `closed` (momentum; dropout is open).
    pub(super) fn fraction(&mut self, v: &RawValue, what: &str, closed: bool) -> f32 {
        let (range, hint) = if closed {
            ("[0, 1]", "Keras' default is 0.99")
        } else {
            ("[0, 1)", "it is the fraction of units to drop, such as `dropout(0.2)`")
        };
        // Compared as the f32 it becomes: 0.99999999999 is 1.0, and dropout(1) divides by 0.
        match self.number(v, what).map(|x| x as f32) {
            Some(x) if x >= 0.0 && (x < 1.0 || (closed && x == 1.0)) => x,
            Some(_) => {
                self.errors.at_value(v, format!("{what} must be in {range}, found {}; {hint}", shown(v)));
                0.0
            }
            None => 0.0,
        }
    }

    pub(super) fn boolean(&mut self, v: &RawValue, what: &str) -> bool {
        match v {
            RawValue::Word { ident, args: None } if ident == "true" => true,
            RawValue::Word { ident, args: None } if ident == "false" => false,
            v => {
                let msg = format!("`{what}` takes `true` or `false`, found {}", v.describe());
                self.errors.at_value(v, msg);
                true
            }
        }
    }

    /// An initializer, for `init = ..`: a keyword, or `variance_scaling(..)`.
    pub(super) fn init(&mut self, v: &RawValue) -> Init {
        let fallback = Init::Named(&keywords::GLOROT_UNIFORM);
        let words = || {
            let named = keywords::INITIALIZERS.iter().map(|w| w.keyword);
            named.chain([keywords::VARIANCE_SCALING])
        };
        match v {
            RawValue::Word { ident, args } if ident == keywords::VARIANCE_SCALING => {
                self.variance_scaling(args.as_ref())
            }
            RawValue::Word { ident, args } => {
                let text = ident.to_string();
                if let Some(w) = keywords::initializer(&text) {
                    if let Some(args) = args {
                        let msg = format!(
                            "`{text}` takes no arguments; `{}(scale = 2.0, mode = fan_avg)` is the initializer that does",
                            keywords::VARIANCE_SCALING
                        );
                        self.errors.at_span(args.span, msg);
                    }
                    return Init::Named(w);
                }
                let mut hint = did_you_mean(&text, words());
                if hint.is_empty() {
                    hint = format!("; expected one of {}", list(words()));
                }
                self.errors.at_span(ident.span(), format!("unknown initializer `{text}`{hint}"));
                fallback
            }
            v => {
                let msg = format!(
                    "`init` takes an initializer such as `{}`, found {}",
                    keywords::HE_NORMAL.keyword,
                    v.describe()
                );
                self.errors.at_value(v, msg);
                fallback
            }
        }
    }

    /// `variance_scaling(scale = .., mode = .., distribution = ..)`, every option optional,
    /// defaulting to Keras' `(1.0, fan_in, truncated_normal)`.
    fn variance_scaling(&mut self, args: Option<&RawArgs>) -> Init {
        let (mut scale, mut mode, mut distribution) =
            (1.0, &keywords::FAN_MODES[0], &keywords::DISTRIBUTIONS[0]);
        let mut seen: Vec<&Ident> = Vec::new();
        for arg in args.iter().flat_map(|a| &a.args) {
            let (name, v) = match arg {
                RawArg::Named(name, v) => (name, v),
                RawArg::Positional(v) => {
                    let msg = format!(
                        "`{}` takes named options: `{}(scale = 2.0, mode = fan_avg, distribution = uniform)`",
                        keywords::VARIANCE_SCALING,
                        keywords::VARIANCE_SCALING
                    );
                    self.errors.at_value(v, msg);
                    continue;
                }
            };
            if seen.contains(&name) {
                self.errors.at_span(name.span(), format!("option `{name}` is given twice"));
            }
            seen.push(name);
            match name.to_string().as_str() {
                "scale" => scale = self.positive(v, "`scale`", "Keras' default is 1.0", 1.0),
                "mode" => mode = self.scaling_word(v, "mode", keywords::FAN_MODES),
                "distribution" => {
                    distribution = self.scaling_word(v, "distribution", keywords::DISTRIBUTIONS)
                }
                other => {
                    let options = ["scale", "mode", "distribution"];
                    let mut hint = did_you_mean(other, options);
                    if hint.is_empty() {
                        hint = format!("; its options are {}", list(options));
                    }
                    let msg = format!("`{}` has no option `{other}`{hint}", keywords::VARIANCE_SCALING);
                    self.errors.at_span(name.span(), msg);
                }
            }
        }
        Init::VarianceScaling { scale, mode, distribution }
    }

    /// One of `words`, for `variance_scaling`'s option `what`.
    fn scaling_word(
        &mut self,
        v: &RawValue,
        what: &str,
        words: &'static [ScalingWord],
    ) -> &'static ScalingWord {
        let keywords = || words.iter().map(|w| w.keyword);
        if let RawValue::Word { ident, args: None } = v {
            if let Some(w) = words.iter().find(|w| ident == w.keyword) {
                return w;
            }
        }
        let text = match v {
            RawValue::Word { ident, args: None } => ident.to_string(),
            _ => String::new(),
        };
        let mut hint = did_you_mean(&text, keywords());
        if text.is_empty() || hint.is_empty() {
            hint = format!("; expected one of {}", list(keywords()));
        }
        self.errors.at_value(v, format!("`{what}` can't be {}{hint}", v.describe()));
        &words[0]
    }

    pub(super) fn activation(&mut self, v: &RawValue) -> Act {
        self.activation_among(v, &[])
    }

    /// An activation, where `also` (`prelu` for a dense layer) may be written too: they join
    /// the words a mistake is compared with and listed against.
    pub(super) fn activation_among(&mut self, v: &RawValue, also: &[&'static str]) -> Act {
        match v {
            RawValue::Word { ident, args } => match parse_activation(ident, args.as_ref(), self.errors) {
                Some(act) => act,
                None => {
                    let text = ident.to_string();
                    let words =
                        || keywords::ACTIVATIONS.iter().map(|w| w.keyword).chain(also.iter().copied());
                    let mut hint = did_you_mean(&text, words());
                    if hint.is_empty() {
                        hint = format!("; expected one of {}", list(words()));
                    }
                    self.errors.at_span(ident.span(), format!("unknown activation `{text}`{hint}"));
                    Act::LINEAR
                }
            },
            v => {
                let msg = format!(
                    "`{}` expects an activation such as `relu` here, found {}",
                    self.layer,
                    v.describe()
                );
                self.errors.at_value(v, msg);
                Act::LINEAR
            }
        }
    }
}
