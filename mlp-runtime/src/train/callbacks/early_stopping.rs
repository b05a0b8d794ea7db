//! Keras' `EarlyStopping`.

use super::{higher_is_better, monitored, Callback, Control};
use crate::layer::Layer;
use crate::tensors::{restore, snapshot};
use crate::train::{EpochLogs, TrainError};

/// Stops training when the monitored value has not improved by `min_delta` for
/// `patience` epochs; optionally puts back the weights of the best epoch.
///
/// ```
/// use mlp::prelude::*;
/// let stop = EarlyStopping::new("val_loss").patience(10).restore_best_weights(true);
/// # let _ = stop;
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    monitor: String,
    patience: usize,
    min_delta: f32,
    restore_best: bool,
    best: f32,
    wait: usize,
    best_weights: Vec<Vec<f32>>,
    /// The epoch whose weights are kept as best (1-based; 0 before any).
    pub best_epoch: usize,
    /// The epoch training stopped after, if it stopped early.
    pub stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    /// Watches `monitor` (`"val_loss"`, `"val_accuracy"`, `"loss"`, ...); patience 0, min_delta 0.
    pub fn new(monitor: &str) -> Self {
        EarlyStopping {
            monitor: monitor.to_string(),
            patience: 0,
            min_delta: 0.0,
            restore_best: false,
            best: f32::NAN,
            wait: 0,
            best_weights: Vec::new(),
            best_epoch: 0,
            stopped_epoch: None,
        }
    }

    /// Epochs without improvement before stopping.
    #[must_use]
    pub fn patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// The smallest change that counts as an improvement.
    #[must_use]
    pub fn min_delta(mut self, min_delta: f32) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// Put back the best epoch's weights when training ends.
    #[must_use]
    pub fn restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best = restore;
        self
    }

    fn improved(&self, value: f32) -> bool {
        if self.best.is_nan() {
            return true;
        }
        if higher_is_better(&self.monitor) {
            value > self.best + self.min_delta
        } else {
            value < self.best - self.min_delta
        }
    }
}

impl<N: Layer> Callback<N> for EarlyStopping {
    fn name(&self) -> &'static str {
        "EarlyStopping"
    }

    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.best = f32::NAN;
        self.wait = 0;
        self.stopped_epoch = None;
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        let value = monitored(logs, &self.monitor, "EarlyStopping")?;
        if self.improved(value) {
            self.best = value;
            self.best_epoch = logs.epoch;
            self.wait = 0;
            if self.restore_best {
                self.best_weights = snapshot(ctl.net);
            }
            return Ok(());
        }
        self.wait += 1;
        if self.wait > self.patience {
            ctl.stop = true;
            self.stopped_epoch = Some(logs.epoch);
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        if self.restore_best && !self.best_weights.is_empty() {
            // The snapshot is of this very network, so this fails only if a callback swapped it.
            restore(ctl.net, &self.best_weights).map_err(|e| TrainError::Callback {
                callback: "EarlyStopping",
                reason: format!("cannot restore the best weights: {e}"),
            })?;
        }
        Ok(())
    }
}
