//! The small models the three stages pass along: the raw syntax (`Raw*`, from parse.rs)
//! and the checked network (`Model`, from check.rs) that expand.rs turns into code.

use proc_macro2::Span;
use syn::{Attribute, Ident, Path, Visibility};

// ---------------------------------------------------------------- raw syntax

/// Everything inside `network! { ... }`: one or more networks.
pub struct RawInput {
    pub networks: Vec<RawNetwork>,
}

/// `/// docs  pub Name< layers >`
pub struct RawNetwork {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub layers: Vec<RawLayer>,
    /// The closing `>`, where a "no layers" error points.
    pub close: Span,
}

/// `[name:] head [(args)] [<layers>]`
pub struct RawLayer {
    pub name: Option<Ident>,
    pub head: Head,
    pub args: Option<RawArgs>,
    pub block: Option<Vec<RawLayer>>,
    /// First and last token of the layer, so errors cover exactly its text.
    pub first: Span,
    pub last: Span,
}

/// A lowercase keyword (`dense`) or the type path of a sub-network (`Trunk`, `a::Trunk`).
pub enum Head {
    Keyword(Ident),
    Network(Path),
}

/// A parenthesized argument list.
pub struct RawArgs {
    pub args: Vec<RawArg>,
    pub span: Span,
}

/// `value` or `name = value`.
pub enum RawArg {
    Positional(RawValue),
    Named(Ident, RawValue),
}

/// An argument's value, before we know what it should be.
pub enum RawValue {
    /// A number literal, possibly negated; `int` is set when it was written as an integer.
    Number { value: f64, int: Option<u64>, text: String, span: Span },
    /// A bare word, possibly with arguments: `relu`, `leaky_relu(0.2)`, `true`, `he_normal`.
    Word { ident: Ident, args: Option<RawArgs> },
    /// Anything else (a string, an expression); only ever reported as an error.
    Other { text: String, span: Span },
}

impl RawValue {
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
    Known(usize),
    /// `<Path as Layer>::IN`
    InOf(Path),
    /// `<Path as Layer>::OUT`
    OutOf(Path),
}

/// An activation with its arguments resolved (mirrors the runtime's `Activation`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Linear,
    Relu,
    LeakyRelu(f32),
    Elu(f32),
    Selu,
    Gelu,
    Swish,
    Tanh,
    Sigmoid,
    Softmax,
}

/// A checked network: also the body of a residual block.
#[derive(Debug)]
pub struct Model {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub input: Width,
    /// The `input(..)` / `flatten(..)` row of the summary, if the network has one.
    pub input_kind: Option<String>,
    pub layers: Vec<Checked>,
}

impl Model {
    pub fn output(&self) -> Width {
        self.layers.last().map_or_else(|| self.input.clone(), |l| l.output.clone())
    }
}

/// A checked layer.
#[derive(Debug)]
pub struct Checked {
    /// Field name and weight-file key segment.
    pub field: Ident,
    pub input: Width,
    pub output: Width,
    pub kind: Kind,
    /// How the summary shows it: `dense(300, relu)`.
    pub summary: String,
    pub first: Span,
}

#[derive(Debug)]
pub enum Kind {
    Dense { units: usize, act: Act, init: &'static str, l1: f32, l2: f32, bias: bool },
    Activation(Act),
    BatchNorm { momentum: f32, epsilon: f32 },
    LayerNorm { epsilon: f32 },
    Dropout { rate: f32 },
    Residual { project: bool, act: Act, body: Box<Model> },
    Network(Path),
}

impl Kind {
    /// True for layers that hold tensors: they appear in weight files.
    pub fn has_tensors(&self) -> bool {
        !matches!(self, Kind::Activation(_) | Kind::Dropout { .. })
    }
}
