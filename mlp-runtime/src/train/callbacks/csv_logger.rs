//! Keras' `CSVLogger`.

use super::{Callback, Control};
use crate::train::{EpochLogs, TrainError};
use std::path::{Path, PathBuf};

/// Writes one line per epoch (`epoch,loss,accuracy,...`) to a CSV file. The whole file is
/// rewritten each epoch through the crate's atomic writer (temporary file, then rename), so
/// a crash never leaves a half-written log; a symlink at the path is followed and its target
/// replaced, and a path that is not a regular file (a device, a FIFO) is refused when
/// training starts. The log is small, so rewriting it costs nothing worth an append.
///
/// ```no_run
/// use mlp::prelude::*;
/// let log = CsvLogger::new("training.csv");
/// # let _ = log;
/// ```
#[derive(Debug)]
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
        crate::io::atomic::write(&self.path, self.text.as_bytes())
            .map_err(|source| TrainError::Io { path: self.path.clone(), source })
    }
}

impl<N> Callback<N> for CsvLogger {
    fn name(&self) -> &'static str {
        "CSVLogger"
    }

    fn on_train_begin(&mut self, _ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.text.clear();
        // A path that cannot take the log fails now, not after an epoch of training.
        crate::io::check_writable(&self.path)
            .map_err(|source| TrainError::Io { path: self.path.clone(), source })
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
