//! Saving and resuming training: weights, optimizer state, epoch count and generator,
//! so a resumed run continues bit-identically.

use super::{Model, TrainError};
use crate::batch::Batch;
use crate::io::{load_checkpoint, save_checkpoint, CheckpointState};
use crate::layer::Layer;
use crate::loss::Loss;
use crate::optim::Optimizer;
use crate::tensors::{restore, snapshot};
use std::path::Path;

impl<N, O, L, const I: usize, const OUT: usize> Model<N, O, L>
where
    N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    /// Writes a checkpoint: every tensor, the optimizer's state, the epochs done and the
    /// generator behind shuffling and dropout (atomically: temporary file, then rename).
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let state = CheckpointState::of(self.epoch, &self.optimizer, &self.ctx.rng);
        Ok(save_checkpoint(path, &self.net, &state)?)
    }

    /// Restores a checkpoint written by [`Model::save_checkpoint`]; the next `fit`
    /// continues exactly where that run was. Nothing changes if the file does not fit.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let path = path.as_ref();
        // The weights are loaded before the optimizer state is checked; keep a copy so a
        // mismatch changes nothing.
        let before = snapshot(&self.net);
        let state = load_checkpoint(path, &mut self.net)?;
        if let Err(reason) = state.restore_optimizer(&mut self.optimizer) {
            // `before` is a snapshot of this network, so putting it back cannot fail; were
            // it to, the error says so beside the checkpoint's.
            let reason = reason.to_string();
            let reason = match restore(&mut self.net, &before) {
                Ok(()) => reason,
                Err(e) => format!("{reason}; the weights could not be put back either: {e}"),
            };
            return Err(TrainError::Checkpoint { path: path.to_path_buf(), reason });
        }
        self.epoch = state.epoch;
        self.ctx.rng = state.rng.restore();
        Ok(())
    }
}
