//! What can go wrong while training, each error saying where.

use crate::data::DataError;
use crate::io::WeightError;
use std::path::PathBuf;

/// An error from `fit`, `evaluate` or `predict`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The loss became NaN or infinite (Keras' TerminateOnNaN, always on).
    #[error("loss is {loss} at epoch {epoch}, batch {batch}; lower the learning rate, clip gradients, or check the data for NaN")]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The offending value.
        loss: f32,
    },
    /// A gradient became NaN or infinite; the update was not applied, so the weights are
    /// those of the previous step.
    #[error("the gradient of `{tensor}` is NaN or infinite at epoch {epoch}, batch {batch}; the update was not applied, so the weights are those after the previous batch; lower the learning rate, clip gradients, or check the data for extreme values")]
    NonFiniteGradient {
        /// The tensor's full name (`dense_0.weight`).
        tensor: String,
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
    },
    /// The data set does not fit the network.
    #[error("{what}")]
    Shape {
        /// What does not fit.
        what: String,
    },
    /// The targets do not fit the loss.
    #[error("targets of {set} do not fit the loss `{loss}`: {reason}")]
    Targets {
        /// Which data set (`training data`, `validation data`).
        set: &'static str,
        /// The loss's name.
        loss: &'static str,
        /// Why.
        reason: String,
    },
    /// The loss does not suit the network's output (its final activation or width).
    #[error("the loss `{loss}` does not fit the network's output: {reason}")]
    Output {
        /// The loss's name.
        loss: &'static str,
        /// Why, and what to use instead.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
    /// Reading a batch failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A weight file or checkpoint could not be written or read.
    #[error(transparent)]
    Weights(#[from] WeightError),
    /// A checkpoint does not fit this model.
    #[error("checkpoint {}: {reason}", path.display())]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A callback could not write its file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A callback failed for another reason.
    #[error("callback `{callback}`: {reason}")]
    Callback {
        /// The callback's name.
        callback: &'static str,
        /// Why.
        reason: String,
    },
}

/// Why one training step ([`crate::train::Model::train_step`]) applied no update.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The batch's loss is NaN or infinite.
    #[error("loss is {0}")]
    NonFiniteLoss(f32),
    /// A gradient holds a NaN or an infinity.
    #[error("the gradient of `{tensor}` is NaN or infinite")]
    NonFiniteGradient {
        /// The tensor's full name (`dense_0.weight`).
        tensor: String,
    },
}

impl StepError {
    /// The training error for this step of `fit`: 1-based `epoch` and `batch`.
    pub fn at(self, epoch: usize, batch: usize) -> TrainError {
        match self {
            StepError::NonFiniteLoss(loss) => TrainError::NonFinite { epoch, batch, loss },
            StepError::NonFiniteGradient { tensor } => TrainError::NonFiniteGradient { tensor, epoch, batch },
        }
    }
}
