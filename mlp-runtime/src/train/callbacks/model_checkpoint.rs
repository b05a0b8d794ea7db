//! Keras' `ModelCheckpoint`.

use super::{higher_is_better, monitored, Callback, Control};
use crate::io::{save_checkpoint, save_weights, CheckpointState};
use crate::layer::Layer;
use crate::train::{EpochLogs, TrainError};
use std::path::{Path, PathBuf};

/// Saves the network after each epoch, or only when `monitor` improves
/// (`save_best_only`). Weights go to a safetensors file; with [`ModelCheckpoint::full`],
/// a checkpoint that also holds the optimizer and generator state, for resuming with
/// `Model::load_checkpoint`. Files are written through a temporary file and a rename; a path that is not a
/// regular file (a device, a FIFO, a directory) is refused when training starts.
///
/// ```no_run
/// use mlp::prelude::*;
/// let best = ModelCheckpoint::new("best.safetensors").monitor("val_accuracy").save_best_only(true);
/// # let _ = best;
/// ```
#[derive(Debug)]
pub struct ModelCheckpoint {
    path: PathBuf,
    monitor: String,
    best_only: bool,
    full: bool,
    best: Option<f32>,
}

impl ModelCheckpoint {
    /// Saves to `path` after every epoch, watching `val_loss` if told to keep the best only.
    pub fn new(path: impl AsRef<Path>) -> Self {
        ModelCheckpoint {
            path: path.as_ref().to_path_buf(),
            monitor: "val_loss".into(),
            best_only: false,
            full: false,
            best: None,
        }
    }
    /// The value that decides "best".
    #[must_use]
    pub fn monitor(mut self, key: &str) -> Self {
        self.monitor = key.to_string();
        self
    }
    /// Save only when the monitored value improves.
    #[must_use]
    pub fn save_best_only(mut self, best_only: bool) -> Self {
        self.best_only = best_only;
        self
    }
    /// Save a full training checkpoint instead of weights only.
    #[must_use]
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }
}

impl<N: Layer> Callback<N> for ModelCheckpoint {
    fn name(&self) -> &'static str {
        "ModelCheckpoint"
    }

    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        // A path that cannot take the file fails now, not after an epoch of training.
        crate::io::check_writable(&self.path)
            .map_err(|source| TrainError::Io { path: self.path.clone(), source })
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        if self.best_only {
            let value = monitored(logs, &self.monitor, "ModelCheckpoint")?;
            let better = match self.best {
                None => !value.is_nan(),
                Some(b) if higher_is_better(&self.monitor) => value > b,
                Some(b) => value < b,
            };
            if !better {
                return Ok(());
            }
            self.best = Some(value);
        }
        if self.full {
            let state = CheckpointState::of(logs.epoch, &*ctl.optimizer, ctl.rng);
            save_checkpoint(&self.path, ctl.net, &state)?;
        } else {
            save_weights(ctl.net, &self.path)?;
        }
        Ok(())
    }
}
