//! Keras' `CSVLogger`.

use super::{Callback, Control};
use crate::train::{EpochLogs, TrainError};
use std::path::{Path, PathBuf};

/// Writes one line per epoch (`epoch,loss,accuracy,...`) to a CSV file. The whole file is
/// rewritten through a temporary file and a rename each epoch, so a crash never leaves a
/// half-written log.
///
/// ```no_run
/// use mlp::prelude::*;
/// let log = CsvLogger::new("training.csv");
/// # let _ = log;
/// ```
pub struct CsvLogger {
    path: PathBuf,
    text: String,
}

impl CsvLogger {
    /// Logs to `path` (replaced when training starts).
    pub fn new(path: impl AsRef<Path>) -> Self {
        CsvLogger { path: path.as_ref().to_path_buf(), text: String::new() }
    }

    fn write(&self) -> Result<(), TrainError> {
        let io = |source| TrainError::Io { path: self.path.display().to_string(), source };
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(format!(".tmp-{}", std::process::id()));
        std::fs::write(&tmp, &self.text).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }
}

impl<N> Callback<N> for CsvLogger {
    fn name(&self) -> &'static str {
        "CSVLogger"
    }

    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.text.clear();
        Ok(())
    }

    fn on_epoch_end(&mut self, logs: &EpochLogs, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        if self.text.is_empty() {
            self.text.push_str("epoch");
            for (k, _) in &logs.values {
                self.text.push(',');
                self.text.push_str(k);
            }
            self.text.push('\n');
        }
        // Keras numbers epochs from 0 in its CSV.
        self.text.push_str(&(logs.epoch - 1).to_string());
        for (_, v) in &logs.values {
            self.text.push(',');
            self.text.push_str(&v.to_string());
        }
        self.text.push('\n');
        self.write()
    }
}
