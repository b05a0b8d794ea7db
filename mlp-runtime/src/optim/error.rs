//! What can be wrong with an optimizer's or schedule's settings, or with a saved state.

/// An invalid hyper-parameter ([`Optimizer::validate`](super::Optimizer::validate),
/// [`Schedule::validate`](super::Schedule::validate), [`ReduceLrOnPlateau::validate`](super::ReduceLrOnPlateau::validate),
/// [`PiecewiseConstantDecay::new`](super::PiecewiseConstantDecay::new)) or an optimizer state
/// that does not fit ([`Optimizer::set_state`](super::Optimizer::set_state)).
///
/// Custom optimizers and schedules build these too, most often [`OptimError::Hyperparameter`]:
///
/// ```
/// use mlp_runtime::optim::OptimError;
/// let e = OptimError::Hyperparameter { owner: "lion", name: "beta_1", value: 1.5, expected: "in [0, 1)" };
/// assert_eq!(e.to_string(), "lion beta_1 must be in [0, 1), got 1.5");
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimError {
    /// A hyper-parameter is out of its valid range.
    #[error("{owner} {name} must be {expected}, got {value}")]
    Hyperparameter {
        /// The optimizer's or schedule's name (`"adam"`, `"CosineDecay"`).
        owner: &'static str,
        /// The hyper-parameter (`"beta_1"`, `"learning rate"`).
        name: &'static str,
        /// Its value (integer settings converted).
        value: f32,
        /// The valid range, as it reads after "must be" (`"in [0, 1)"`, `"a finite number > 0"`).
        expected: &'static str,
    },
    /// [`PiecewiseConstantDecay`](super::PiecewiseConstantDecay) was given a number of values
    /// other than one more than its boundaries.
    #[error(
        "PiecewiseConstantDecay needs one more value than boundaries, got {boundaries} boundaries and {values} values"
    )]
    PiecewiseLengths {
        /// Number of boundaries.
        boundaries: usize,
        /// Number of values.
        values: usize,
    },
    /// [`PiecewiseConstantDecay`](super::PiecewiseConstantDecay)'s boundaries do not increase strictly.
    #[error("PiecewiseConstantDecay boundaries must increase strictly, got {0:?}")]
    PiecewiseBoundaries(Vec<u64>),
    /// The saved state belongs to another kind of optimizer.
    #[error("the checkpoint holds the state of optimizer `{saved}`, not `{current}`")]
    OtherOptimizer {
        /// The name of the optimizer that saved the state.
        saved: String,
        /// The name of the optimizer asked to restore it.
        current: &'static str,
    },
    /// A state tensor is not named `<slot>.<kind>` (nor `learning_rate`).
    #[error("optimizer state `{0}` is not named `<slot>.<kind>`")]
    StateName(String),
    /// A state tensor of a kind this optimizer, as configured, does not keep.
    #[error(
        "optimizer state `{tensor}`: this optimizer, as configured, keeps no `{kind}` (it keeps {keeps:?})"
    )]
    StateKind {
        /// The tensor's name.
        tensor: String,
        /// Its kind (after the dot).
        kind: String,
        /// The kinds this optimizer keeps.
        keeps: Vec<&'static str>,
    },
    /// A state tensor appears twice.
    #[error("optimizer state `{0}` appears twice")]
    StateDuplicate(String),
    /// A state tensor holds no values.
    #[error("optimizer state `{0}` is empty")]
    StateEmpty(String),
    /// The saved learning rate is not one finite float.
    #[error("optimizer state `learning_rate` must be one finite float")]
    StateLearningRate,
    /// A slot lacks some of the kinds the others have, or they differ in length.
    #[error("optimizer state of slot {slot} is incomplete or inconsistent ({})", lengths_of(*.slot, .lengths))]
    StateIncomplete {
        /// The slot (trainable tensor number).
        slot: usize,
        /// Each kind this optimizer keeps, with the length found for the slot (0: missing).
        lengths: Vec<(&'static str, usize)>,
    },
}

/// `0.m: 3, 0.v: 0`.
fn lengths_of(slot: usize, lengths: &[(&'static str, usize)]) -> String {
    let parts: Vec<String> = lengths.iter().map(|(kind, len)| format!("{slot}.{kind}: {len}")).collect();
    parts.join(", ")
}

/// The ranges Keras enforces on hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Range {
    /// `[0, 1)`: the betas, `rho`.
    UnitOpen,
    /// `[0, 1]`: momentum.
    Unit,
    /// Finite and not negative: learning rates, epsilon, weight decay.
    NonNegative,
    /// Finite and positive: clipping bounds, peak rates.
    Positive,
    /// Any finite number.
    Finite,
}

impl Range {
    fn contains(self, v: f32) -> bool {
        match self {
            Range::UnitOpen => (0.0..1.0).contains(&v),
            Range::Unit => (0.0..=1.0).contains(&v),
            Range::NonNegative => v.is_finite() && v >= 0.0,
            Range::Positive => v.is_finite() && v > 0.0,
            Range::Finite => v.is_finite(),
        }
    }

    /// How [`OptimError::Hyperparameter`] says it, after "must be".
    fn words(self) -> &'static str {
        match self {
            Range::UnitOpen => "in [0, 1)",
            Range::Unit => "in [0, 1]",
            Range::NonNegative => "a finite number >= 0",
            Range::Positive => "a finite number > 0",
            Range::Finite => "finite",
        }
    }
}

/// Checks one hyper-parameter against `range`; the error names it and its owner.
pub(crate) fn check(
    owner: &'static str,
    name: &'static str,
    value: f32,
    range: Range,
) -> Result<(), OptimError> {
    if range.contains(value) {
        Ok(())
    } else {
        Err(OptimError::Hyperparameter { owner, name, value, expected: range.words() })
    }
}
