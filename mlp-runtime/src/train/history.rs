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
