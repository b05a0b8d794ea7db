//! Keras' `ReduceLROnPlateau` as a callback.

use super::{higher_is_better, monitored, Callback, Control};
use crate::optim::{PlateauMode, ReduceLrOnPlateau};
use crate::train::{EpochLogs, TrainError};

/// Multiplies the learning rate by `factor` when `monitor` stops improving (see
/// [`ReduceLrOnPlateau`] for the rule and Keras' defaults).
///
/// ```
/// use mlp::prelude::*;
/// let cb = ReduceLrOnPlateauCallback::new("val_loss", ReduceLrOnPlateau::new().factor(0.5).patience(5));
/// # let _ = cb;
/// ```
#[derive(Debug)]
pub struct ReduceLrOnPlateauCallback {
    monitor: String,
    rule: ReduceLrOnPlateau,
}

impl ReduceLrOnPlateauCallback {
    /// Watches `monitor` with `rule` (its mode is set from the key: max for accuracies).
    pub fn new(monitor: &str, rule: ReduceLrOnPlateau) -> Self {
        let mode = if higher_is_better(monitor) { PlateauMode::Max } else { PlateauMode::Min };
        ReduceLrOnPlateauCallback { monitor: monitor.to_string(), rule: rule.mode(mode) }
    }
}

impl<N> Callback<N> for ReduceLrOnPlateauCallback {
    fn name(&self) -> &'static str {
        "ReduceLROnPlateau"
    }

    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.rule.reset();
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        let value = monitored(logs, &self.monitor, "ReduceLROnPlateau")?;
        if let Some(lr) = self.rule.on_epoch_end(value, ctl.optimizer.learning_rate()) {
            ctl.optimizer.set_learning_rate(lr);
        }
        Ok(())
    }
}
