//! Callbacks `fit` calls around epochs and batches, like Keras': early stopping, learning-rate
//! scheduling, reduce-on-plateau, CSV logging and checkpoints.

mod csv_logger;
mod early_stopping;
mod lr_scheduler;
mod model_checkpoint;
mod plateau;

pub use csv_logger::CsvLogger;
pub use early_stopping::EarlyStopping;
pub use lr_scheduler::LearningRateScheduler;
pub use model_checkpoint::ModelCheckpoint;
pub use plateau::ReduceLrOnPlateauCallback;

use super::{BatchLogs, EpochLogs, TrainError};
use crate::optim::Optimizer;
use crate::rng::Rng;

/// What a callback may look at and change.
pub struct Control<'a, N> {
    /// The network being trained.
    pub net: &'a mut N,
    /// Its optimizer (a callback may change the learning rate).
    pub optimizer: &'a mut dyn Optimizer,
    /// The generator behind shuffling and dropout (a checkpoint saves its state).
    pub rng: &'a Rng,
    /// Epochs completed so far.
    pub epoch: usize,
    /// Set to stop training after this epoch.
    pub stop: bool,
}

impl<N> std::fmt::Debug for Control<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("net", &std::any::type_name::<N>())
            .field("optimizer", &self.optimizer.name())
            .field("learning_rate", &self.optimizer.learning_rate())
            .field("epoch", &self.epoch)
            .field("stop", &self.stop)
            .finish_non_exhaustive()
    }
}

/// Hooks called by `fit`. All have empty defaults; an error stops training and is
/// returned by `fit`.
pub trait Callback<N> {
    /// A short name for error messages.
    fn name(&self) -> &'static str;
    /// Before the first epoch.
    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
    /// Before each epoch (`epoch` is 1-based).
    fn on_epoch_begin(&mut self, _epoch: usize, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
    /// Before each batch (`batch` is 0-based within the epoch, as in Keras).
    fn on_batch_begin(&mut self, _batch: usize, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
    /// After each batch's step, with the epoch's running means so far. Setting
    /// [`Control::stop`] ends training after this batch: the epoch ends early (its logs
    /// cover the batches run, and [`Callback::on_epoch_end`] still runs), then training.
    fn on_batch_end(&mut self, _logs: &BatchLogs<'_>, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
    /// After each epoch, with its logs (validation figures included).
    fn on_epoch_end(&mut self, _logs: &EpochLogs, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
    /// After the last epoch (also after an early stop).
    fn on_train_end(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        Ok(())
    }
}

/// A callback lent to `fit` (`Fit::callback(&mut early)`) stays the caller's, so its
/// state (the epoch early stopping stopped at, the best value) can be read afterwards.
impl<N, C: Callback<N> + ?Sized> Callback<N> for &mut C {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn on_train_begin(&mut self, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_train_begin(ctl)
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_epoch_begin(epoch, ctl)
    }
    fn on_batch_begin(&mut self, batch: usize, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_batch_begin(batch, ctl)
    }
    fn on_batch_end(&mut self, logs: &BatchLogs<'_>, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_batch_end(logs, ctl)
    }
    fn on_epoch_end(&mut self, logs: &EpochLogs, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_epoch_end(logs, ctl)
    }
    fn on_train_end(&mut self, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        (**self).on_train_end(ctl)
    }
}

/// Reads the monitored value from the logs, or says which keys there are.
pub(crate) fn monitored(logs: &EpochLogs, key: &str, callback: &'static str) -> Result<f32, TrainError> {
    logs.get(key).ok_or_else(|| {
        let keys = logs.values.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ");
        TrainError::Callback { callback, reason: format!("no `{key}` in the logs; they have {keys}") }
    })
}

/// Whether higher is better for a monitored key (accuracies), as Keras' mode "auto" decides.
pub(crate) fn higher_is_better(key: &str) -> bool {
    key.contains("acc")
}
