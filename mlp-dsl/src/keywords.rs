//! The words an argument can name: activations and initializers, one table each, with the
//! runtime names the generated code uses. The parser, the checker, "did you mean" and
//! `mlp-macros`' expansion all read these tables, so adding an activation is one row here
//! plus its implementation in the runtime's `Activation`. (The layer keywords' table is in
//! check/layers.rs, since each row points at the function that checks that layer.)
//!
//! The runtime's variant names are written here as text because this crate must not depend
//! on the runtime; the root crate's `tests/keywords.rs` compiles and runs a network using
//! every row, so a row the runtime does not have fails a test.

/// An activation keyword: `relu`, `leaky_relu(0.2)`.
#[derive(Debug, PartialEq)]
pub struct ActivationWord {
    /// As written in `network!`: `leaky_relu`.
    pub keyword: &'static str,
    /// The variant of the runtime's `Activation` it becomes: `LeakyRelu`.
    pub variant: &'static str,
    /// The default of its one number argument (Keras' default), which the variant holds:
    /// `LeakyRelu(0.3)`. `None` for the activations that take no argument.
    pub alpha: Option<f32>,
    /// How it is used, for messages: `leaky_relu(0.2)`.
    pub example: &'static str,
}

/// The identity: a dense layer's activation when none is given.
pub const LINEAR: ActivationWord =
    ActivationWord { keyword: "linear", variant: "Linear", alpha: None, example: "linear" };

/// Every activation, in the order messages list them. Two keywords may name one variant
/// (`silu` is `swish`); summaries then show the first.
pub const ACTIVATIONS: &[ActivationWord] = &[
    LINEAR,
    ActivationWord { keyword: "relu", variant: "Relu", alpha: None, example: "relu" },
    ActivationWord {
        keyword: "leaky_relu",
        variant: "LeakyRelu",
        alpha: Some(0.3),
        example: "leaky_relu(0.2)",
    },
    ActivationWord { keyword: "elu", variant: "Elu", alpha: Some(1.0), example: "elu(0.2)" },
    ActivationWord { keyword: "selu", variant: "Selu", alpha: None, example: "selu" },
    ActivationWord { keyword: "gelu", variant: "Gelu", alpha: None, example: "gelu" },
    ActivationWord { keyword: "swish", variant: "Swish", alpha: None, example: "swish" },
    ActivationWord { keyword: "silu", variant: "Swish", alpha: None, example: "silu" },
    ActivationWord { keyword: "tanh", variant: "Tanh", alpha: None, example: "tanh" },
    ActivationWord { keyword: "sigmoid", variant: "Sigmoid", alpha: None, example: "sigmoid" },
    ActivationWord { keyword: "softmax", variant: "Softmax", alpha: None, example: "softmax" },
];

/// An initializer keyword: `he_normal`.
#[derive(Debug, PartialEq)]
pub struct InitWord {
    /// As written in `network!`: `he_normal`.
    pub keyword: &'static str,
    /// The variant of the runtime's `Init` it becomes: `HeNormal`.
    pub variant: &'static str,
}

/// Keras' default kernel initializer for dense layers, used when `init` is not given.
pub const GLOROT_UNIFORM: InitWord = InitWord { keyword: "glorot_uniform", variant: "GlorotUniform" };

/// The initializer messages show as an example.
pub const HE_NORMAL: InitWord = InitWord { keyword: "he_normal", variant: "HeNormal" };

/// Every initializer, in the order messages list them.
pub const INITIALIZERS: &[InitWord] = &[
    GLOROT_UNIFORM,
    InitWord { keyword: "glorot_normal", variant: "GlorotNormal" },
    InitWord { keyword: "he_uniform", variant: "HeUniform" },
    HE_NORMAL,
    InitWord { keyword: "lecun_uniform", variant: "LecunUniform" },
    InitWord { keyword: "lecun_normal", variant: "LecunNormal" },
    InitWord { keyword: "zeros", variant: "Zeros" },
    InitWord { keyword: "ones", variant: "Ones" },
];

/// A keyword argument of `variance_scaling(..)`: `mode = fan_avg`, `distribution = uniform`.
#[derive(Debug, PartialEq)]
pub struct ScalingWord {
    /// As written in `network!`: `fan_avg`.
    pub keyword: &'static str,
    /// The variant of the runtime's `FanMode` or `ScalingDistribution` it becomes: `FanAvg`.
    pub variant: &'static str,
}

/// `variance_scaling`'s `mode` values; the first is Keras' default.
pub const FAN_MODES: &[ScalingWord] = &[
    ScalingWord { keyword: "fan_in", variant: "FanIn" },
    ScalingWord { keyword: "fan_out", variant: "FanOut" },
    ScalingWord { keyword: "fan_avg", variant: "FanAvg" },
];

/// `variance_scaling`'s `distribution` values; the first is Keras' default.
pub const DISTRIBUTIONS: &[ScalingWord] = &[
    ScalingWord { keyword: "truncated_normal", variant: "TruncatedNormal" },
    ScalingWord { keyword: "untruncated_normal", variant: "UntruncatedNormal" },
    ScalingWord { keyword: "uniform", variant: "Uniform" },
];

/// The initializer that takes arguments: `init = variance_scaling(scale = 2, mode = fan_avg)`.
pub const VARIANCE_SCALING: &str = "variance_scaling";

/// The layer keyword that is also written where an activation goes: `dense(100, prelu)`
/// means `dense(100); prelu` (its slopes are tensors, so it is a layer of its own).
pub const PRELU: &str = "prelu";

/// The activation `keyword` names, if any.
pub fn activation(keyword: &str) -> Option<&'static ActivationWord> {
    ACTIVATIONS.iter().find(|w| w.keyword == keyword)
}

/// The initializer `keyword` names, if any.
pub fn initializer(keyword: &str) -> Option<&'static InitWord> {
    INITIALIZERS.iter().find(|w| w.keyword == keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_unique_and_the_named_rows_are_in_their_tables() {
        let mut words: Vec<&str> = ACTIVATIONS.iter().map(|w| w.keyword).collect();
        words.extend(INITIALIZERS.iter().map(|w| w.keyword));
        words.extend([VARIANCE_SCALING, PRELU]);
        let n = words.len();
        words.sort_unstable();
        words.dedup();
        assert_eq!(words.len(), n, "a keyword is in the tables twice");
        assert_eq!(activation("linear"), Some(&LINEAR));
        assert_eq!(initializer("glorot_uniform"), Some(&GLOROT_UNIFORM));
        assert_eq!(initializer("he_normal"), Some(&HE_NORMAL));
    }

    #[test]
    fn examples_use_their_own_keyword() {
        for w in ACTIVATIONS {
            let args = w.example.strip_prefix(w.keyword);
            match w.alpha {
                None => assert_eq!(args, Some(""), "{}", w.keyword),
                Some(_) => assert!(args.is_some_and(|a| a.starts_with('(')), "{}", w.keyword),
            }
        }
    }
}
