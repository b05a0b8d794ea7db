//! The per-epoch record `fit` returns, like Keras' `History`.

/// The figures of one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLogs {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Named values: `loss`, `accuracy`, `val_loss`, `val_accuracy`, `lr`, ...
    pub values: Vec<(String, f32)>,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
}

impl EpochLogs {
    /// The value logged under `key`.
    pub fn get(&self, key: &str) -> Option<f32> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Every epoch's logs, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One entry per epoch trained.
    pub epochs: Vec<EpochLogs>,
}

impl History {
    /// The series of one key across epochs (Keras' `history.history["val_loss"]`).
    pub fn series(&self, key: &str) -> Vec<f32> {
        self.epochs.iter().filter_map(|e| e.get(key)).collect()
    }

    /// The last epoch's logs.
    pub fn last(&self) -> Option<&EpochLogs> {
        self.epochs.last()
    }
}

/// What a callback sees after each batch ([`Callback::on_batch_end`](super::Callback::on_batch_end)):
/// Keras 3's batch logs (the running means of the loss and metrics over the epoch so
/// far) plus the batch's own loss. Borrowed from `fit`'s buffers: nothing is allocated
/// per batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchLogs<'a> {
    /// 0-based index of the batch in its epoch, as in Keras.
    pub batch: usize,
    /// Samples in this batch (the last may be short).
    pub size: usize,
    /// This batch's mean loss.
    pub batch_loss: f32,
    /// The mean loss over the epoch's batches so far, this one included (Keras' `loss`).
    pub loss: f32,
    /// The model's metrics, in order.
    pub metrics: &'a [super::Metric],
    /// Each metric's value over the epoch so far, in the order of `metrics`.
    pub metric_values: &'a [f32],
}

impl BatchLogs<'_> {
    /// The value logged under `key`: `"loss"`, `"batch_loss"`, or a metric's name
    /// (`"accuracy"`).
    pub fn get(&self, key: &str) -> Option<f32> {
        match key {
            "loss" => Some(self.loss),
            "batch_loss" => Some(self.batch_loss),
            _ => self.metrics.iter().position(|m| m.name() == key).map(|i| self.metric_values[i]),
        }
    }
}
