//! Progress on stderr: an indicatif bar during each epoch and a Keras-style line after it.

use super::EpochLogs;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much `fit` prints (Keras' `verbose`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing.
    Silent,
    /// A progress bar during each epoch (when stderr is a terminal) and a line after it.
    #[default]
    Bar,
    /// One line per epoch.
    Lines,
}

pub(crate) struct Progress {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    epochs: usize,
}

impl Progress {
    pub fn new(verbosity: Verbosity, epochs: usize) -> Self {
        Progress { verbosity, bar: None, epochs }
    }

    pub fn epoch_begin(&mut self, epoch: usize, steps: usize) {
        if self.verbosity != Verbosity::Bar {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix} {pos:>5}/{len} {bar:20} {elapsed} - {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("━━─");
        bar.set_style(style);
        bar.set_prefix(format!("Epoch {epoch}/{}", self.epochs));
        self.bar = Some(bar);
    }

    /// After each step; the bar redraws itself at most a few times a second.
    pub fn step(&mut self, loss: f64, accuracy: Option<f64>) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if bar.position() % 50 == 0 {
                let msg = match accuracy {
                    Some(a) => format!("accuracy: {a:.4} - loss: {loss:.4}"),
                    None => format!("loss: {loss:.4}"),
                };
                bar.set_message(msg);
            }
        }
    }

    pub fn epoch_end(&mut self, logs: &EpochLogs, steps: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.verbosity == Verbosity::Silent {
            return;
        }
        let per_step = logs.seconds * 1e3 / steps.max(1) as f64;
        let mut line = format!(
            "Epoch {}/{} - {steps} steps - {:.1}s {:.2}ms/step",
            logs.epoch, self.epochs, logs.seconds, per_step
        );
        for (k, v) in &logs.values {
            line.push_str(&format!(" - {k}: {v:.4}"));
        }
        eprintln!("{line}");
    }
}
