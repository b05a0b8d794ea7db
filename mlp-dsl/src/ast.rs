//! The small models the stages pass along: the raw syntax (`Raw*`, from the parser) and the
//! checked network ([`Model`], from [`check`](crate::check)) that `mlp-macros` turns into code.

use crate::keywords::{self, ActivationWord, InitWord, ScalingWord, ACTIVATIONS};
use proc_macro2::Span;
use syn::{Attribute, Ident, Path, Visibility};

// ---------------------------------------------------------------- raw syntax

/// Everything inside `network! { ... }`: one or more networks.
#[derive(Debug)]
pub struct RawInput {
    /// In the order written.
    pub networks: Vec<RawNetwork>,
}

/// `/// docs  pub Name< layers >`
#[derive(Debug)]
pub struct RawNetwork {
    /// Doc comments and other outer attributes, passed on to the struct.
    pub attrs: Vec<Attribute>,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The struct's name, as written (possibly `r#Name`).
    pub name: Ident,
    /// The layers between `<` and `>`.
    pub layers: Vec<RawLayer>,
    /// The closing `>`, where a "no layers" error points.
    pub close: Span,
}

/// `[name:] head [(args)] [<layers>]`
#[derive(Debug)]
pub struct RawLayer {
    /// `name:`, as written (possibly `r#name`).
    pub name: Option<Ident>,
    /// What the layer is.
    pub head: Head,
    /// `(...)`, if written.
    pub args: Option<RawArgs>,
    /// `<...>`, if written (only `residual` takes one).
    pub block: Option<Vec<RawLayer>>,
    /// First token of the layer; with `last`, errors cover exactly its text.
    pub first: Span,
    /// Last token of the layer.
    pub last: Span,
}

/// A lowercase keyword (`dense`) or the type path of a sub-network (`Trunk`, `a::Trunk`).
#[derive(Debug)]
pub enum Head {
    /// A lowercase word, without any `r#`.
    Keyword(Ident),
    /// Anything else: a sub-network's type.
    Network(Path),
}

/// A parenthesized argument list.
#[derive(Debug)]
pub struct RawArgs {
    /// In the order written.
    pub args: Vec<RawArg>,
    /// The parentheses and everything between them.
    pub span: Span,
}

/// `value` or `name = value`.
#[derive(Debug)]
pub enum RawArg {
    /// `value`
    Positional(RawValue),
    /// `name = value`; the name without any `r#`.
    Named(Ident, RawValue),
}

/// An argument's value, before we know what it should be.
#[derive(Debug)]
pub enum RawValue {
    /// A number literal, possibly negated; `int` is set when it was written as an integer.
    Number {
        /// The value, possibly infinite (`1e999`).
        value: f64,
        /// The value when it is a non-negative integer literal.
        int: Option<u64>,
        /// As written, for messages.
        text: String,
        /// The sign and the literal.
        span: Span,
    },
    /// A bare word, possibly with arguments: `relu`, `leaky_relu(0.2)`, `true`, `he_normal`.
    Word {
        /// The word, without any `r#`.
        ident: Ident,
        /// `(...)` after it.
        args: Option<RawArgs>,
    },
    /// Anything else (a string, an expression); only ever reported as an error.
    Other {
        /// As written, for messages.
        text: String,
        /// The whole value.
        span: Span,
    },
}

impl RawValue {
    /// Where an error about the value points.
    pub fn span(&self) -> Span {
        match self {
            RawValue::Number { span, .. } | RawValue::Other { span, .. } => *span,
            RawValue::Word { ident, args } => args.as_ref().map_or(ident.span(), |a| a.span),
        }
    }

    /// How the value reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            RawValue::Number { text, .. } | RawValue::Other { text, .. } => format!("`{text}`"),
            RawValue::Word { ident, args: None } => format!("`{ident}`"),
            RawValue::Word { ident, args: Some(_) } => format!("`{ident}(..)`"),
        }
    }
}

// ---------------------------------------------------------------- checked model

/// A width: a number the macro knows, or one it can only name (a sub-network's).
#[derive(Clone, Debug, PartialEq)]
pub enum Width {
    /// A number the macro knows.
    Known(usize),
    /// `<Path as Layer>::IN`
    InOf(Path),
    /// `<Path as Layer>::OUT`
    OutOf(Path),
}

/// An activation with its argument resolved: a row of [`ACTIVATIONS`]
/// and, for the activations that take one, its number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Act {
    /// Its row; for a second keyword of one variant (`silu`), the first one's (`swish`).
    pub word: &'static ActivationWord,
    /// Its argument (the default when none is written); `None` when it takes none.
    pub alpha: Option<f32>,
}

impl Act {
    /// The identity, a dense layer's activation when none is given.
    pub const LINEAR: Act = Act { word: &keywords::LINEAR, alpha: None };

    /// `word` with its argument; summaries name it by the first keyword of its variant.
    pub fn new(word: &'static ActivationWord, alpha: Option<f32>) -> Act {
        let word = ACTIVATIONS.iter().find(|w| w.variant == word.variant).unwrap_or(word);
        Act { word, alpha }
    }

    /// How it reads in summaries and messages: `relu`, `leaky_relu(0.2)`; an argument equal
    /// to the default is left out.
    pub fn name(&self) -> String {
        match self.alpha {
            Some(a) if Some(a) != self.word.alpha => format!("{}({a})", self.word.keyword),
            _ => self.word.keyword.to_string(),
        }
    }
}

/// A checked network: also the body of a residual block.
#[derive(Debug)]
pub struct Model {
    /// Passed on to the struct.
    pub attrs: Vec<Attribute>,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The struct's name (`__Name...` for a residual block's body).
    pub name: Ident,
    /// The input width.
    pub input: Width,
    /// The `input(..)` / `flatten(..)` row of the summary, if the network has one.
    pub input_kind: Option<String>,
    /// The dims `input(..)` / `flatten(..)` wrote (`[28, 28]`); empty when the network has
    /// neither (a residual body, a network that starts with a sub-network).
    pub input_dims: Vec<usize>,
    /// At least one, after the input.
    pub layers: Vec<Checked>,
}

impl Model {
    /// The last layer's output width.
    pub fn output(&self) -> Width {
        self.layers.last().map_or_else(|| self.input.clone(), |l| l.output.clone())
    }

    /// The layer that sets the output width: the last one whose output width is not its
    /// input width (a dense, a projected residual or a sub-network), where a residual block
    /// that ends at the wrong width is reported. `None` when every layer keeps the width.
    pub fn width_setter(&self) -> Option<&Checked> {
        self.layers.iter().rev().find(|l| l.output != l.input)
    }
}

/// A checked layer.
#[derive(Debug)]
pub struct Checked {
    /// Field name and weight-file key segment.
    pub field: Ident,
    /// Its input width.
    pub input: Width,
    /// Its output width.
    pub output: Width,
    /// What it is, with its options resolved.
    pub kind: Kind,
    /// How the summary shows it: `dense(300, relu)`.
    pub summary: String,
    /// Its first token, where rustc's width errors point.
    pub first: Span,
}

/// A dense layer's kernel initializer: a named one, or `variance_scaling(..)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// A row of [`keywords::INITIALIZERS`]: `he_normal`.
    Named(&'static InitWord),
    /// `variance_scaling(scale = .., mode = .., distribution = ..)`, Keras' `VarianceScaling`.
    VarianceScaling {
        /// The variance's scale (positive).
        scale: f32,
        /// A row of [`keywords::FAN_MODES`].
        mode: &'static ScalingWord,
        /// A row of [`keywords::DISTRIBUTIONS`].
        distribution: &'static ScalingWord,
    },
}

/// A checked layer's kind. Every number is finite.
#[derive(Debug)]
#[allow(missing_docs)] // The fields are the DSL's own options, documented in the README.
pub enum Kind {
    /// `dense(units, act, init = .., l1 = .., l2 = .., bias = .., max_norm = ..)`
    Dense { units: usize, act: Act, init: Init, l1: f32, l2: f32, bias: bool, max_norm: Option<f32> },
    /// A standalone activation.
    Activation(Act),
    /// `prelu`, or the layer `dense(n, prelu)` adds after itself: learned slopes, one per unit.
    PRelu,
    /// `batch_norm(momentum = .., epsilon = .., center = .., scale = ..)`
    BatchNorm { momentum: f32, epsilon: f32, center: bool, scale: bool },
    /// `layer_norm(epsilon = ..)`
    LayerNorm { epsilon: f32 },
    /// `dropout(rate)`
    Dropout { rate: f32 },
    /// `alpha_dropout(rate)`
    AlphaDropout { rate: f32 },
    /// `residual(project, act)<body>`
    Residual { project: bool, act: Act, body: Box<Model> },
    /// A sub-network, by its type.
    Network(Path),
}

impl Kind {
    /// Its own parameter counts, (total, trainable), as formulas in its widths: the one
    /// place each layer's count is written. The checker evaluates them to catch overflow;
    /// the generated `Network::PARAMS` and summary rows spell them out, over widths only
    /// rustc may know. A residual unit's body and a sub-network (`None`) are counted by
    /// their own structs.
    pub fn own_params(&self) -> Option<(Params, Params)> {
        let same = |p: Params| Some((p, p));
        match self {
            Kind::Dense { bias, .. } => same(Params { in_out: 1, per_in: 0, per_out: usize::from(*bias) }),
            // The moving mean and variance are parameters that no gradient trains (as in Keras).
            Kind::BatchNorm { center, scale, .. } => {
                let trained = usize::from(*center) + usize::from(*scale);
                Some((
                    Params { per_in: 2 + trained, ..Params::ZERO },
                    Params { per_in: trained, ..Params::ZERO },
                ))
            }
            Kind::LayerNorm { .. } => same(Params { per_in: 2, ..Params::ZERO }),
            Kind::PRelu => same(Params { per_in: 1, ..Params::ZERO }),
            Kind::Activation(_) | Kind::Dropout { .. } | Kind::AlphaDropout { .. } => same(Params::ZERO),
            // A projection is a dense kernel without bias.
            Kind::Residual { project, .. } => same(Params { in_out: usize::from(*project), ..Params::ZERO }),
            Kind::Network(_) => None,
        }
    }

    /// True for layers that hold tensors: they appear in weight files.
    pub fn has_tensors(&self) -> bool {
        !matches!(self, Kind::Activation(_) | Kind::Dropout { .. } | Kind::AlphaDropout { .. })
    }
}

/// A parameter count as a formula in a layer's input and output widths `I` and `O`:
/// `in_out * I * O + per_in * I + per_out * O`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Times `I * O` (a kernel).
    pub in_out: usize,
    /// Times `I` (per-feature vectors of a normalization).
    pub per_in: usize,
    /// Times `O` (a bias).
    pub per_out: usize,
}

impl Params {
    /// No parameters.
    pub const ZERO: Params = Params { in_out: 0, per_in: 0, per_out: 0 };

    /// The count for widths `i` and `o`, or `None` if it overflows a `usize`.
    pub fn count(&self, i: usize, o: usize) -> Option<usize> {
        let kernel = self.in_out.checked_mul(i)?.checked_mul(o)?;
        kernel.checked_add(self.per_in.checked_mul(i)?)?.checked_add(self.per_out.checked_mul(o)?)
    }
}
