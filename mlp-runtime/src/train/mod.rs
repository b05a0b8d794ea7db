//! Keras' `compile` / `fit` / `evaluate` / `predict`.
//!
//! ```
//! use mlp::prelude::*;
//!
//! network! { Xor< input(2); dense(8, tanh); dense(1, sigmoid) > }
//!
//! // Keras: model.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
//! let mut model = Model::compile(Xor::seeded(1), Adam::new(0.05), BinaryCrossentropy::new());
//! let x = vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
//! let data = Dataset::classification(x, 2, vec![0, 1, 1, 0]).unwrap();
//! // Keras: model.fit(x, y, epochs=300, batch_size=4, verbose=0)
//! let history = model.fit(&data, Fit::new().epochs(300).batch_size(4).verbose(Verbosity::Silent)).unwrap();
//! assert!(history.series("loss").last().unwrap() < &0.1);
//! assert_eq!(model.evaluate(&data).unwrap().get("accuracy"), Some(1.0));
//! ```

pub mod callbacks;
mod checkpoint;
mod error;
mod fit;
mod history;
mod mc_dropout;
mod metrics;
#[cfg(feature = "onnx")]
mod onnx;
mod progress;
mod update;

pub use callbacks::{Callback, Control};
pub use error::{StepError, TrainError};
pub use fit::{Fit, FitWithCallbacks};
pub use history::{BatchLogs, EpochLogs, History};
pub use mc_dropout::McDropout;
pub use metrics::Metric;
pub use progress::Verbosity;
pub(crate) use update::apply_update;

use crate::batch::Batch;
use crate::data::{Dataset, TargetBuf, TargetData};
use crate::layer::{Backward, Context, Layer};
use crate::loss::{Loss, Targets};
use crate::optim::Optimizer;
use crate::rng::Rng;
use progress::Progress;
use std::time::Instant;
use update::penalty;

/// A network with its optimizer, loss and metrics: Keras' compiled model.
pub struct Model<N: Layer, O, L> {
    /// The network; its layers are public fields (`model.net.dense_0`).
    pub net: N,
    /// The optimizer.
    pub optimizer: O,
    /// The loss.
    pub loss: L,
    /// Metrics reported beside the loss (accuracy by default); see [`Model::with_metrics`].
    metrics: Vec<Metric>,
    /// Correct samples per metric in the last training step, one slot per metric.
    correct: Vec<usize>,
    /// Mode and generator for forward passes; the generator also shuffles.
    ctx: Context,
    /// Epochs completed, over every `fit` call.
    epoch: usize,
    x: N::Input,
    dy: N::Output,
    targets: TargetBuf,
    order: Vec<usize>,
    out: Vec<f32>,
}

impl<N: Layer, O: Optimizer, L: Loss> std::fmt::Debug for Model<N, O, L> {
    /// The configuration, not the weights or buffers (`net` is printed by its type).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("net", &std::any::type_name::<N>())
            .field("optimizer", &self.optimizer.name())
            .field("learning_rate", &self.optimizer.learning_rate())
            .field("loss", &self.loss.name())
            .field("metrics", &self.metrics)
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

/// Loss and metrics over a data set, as `evaluate` returns them.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// `("loss", ..)` then one entry per metric.
    pub values: Vec<(String, f32)>,
}

impl Evaluation {
    /// The value of `key` (`"loss"`, `"accuracy"`, ...).
    pub fn get(&self, key: &str) -> Option<f32> {
        self.values.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
    /// The loss.
    pub fn loss(&self) -> f32 {
        self.get("loss").unwrap_or(f32::NAN)
    }
}

/// Figures of one training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Mean loss of the batch, penalties included.
    pub loss: f32,
}

impl<N: crate::layer::Network, O, L> Model<N, O, L> {
    /// Keras' `model.summary()`: the network's layers, output widths and parameter counts,
    /// with frozen layers' parameters counted as non-trainable
    /// ([`Network::runtime_summary`](crate::layer::Network::runtime_summary)); before
    /// anything is frozen, the same table as `MyNet::summary()`. Print it with `{}`.
    pub fn summary(&self) -> crate::summary::Summary {
        self.net.runtime_summary()
    }
}

impl<N, O, L, const I: usize, const OUT: usize> Model<N, O, L>
where
    N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    /// Keras' `model.compile(optimizer, loss, metrics=["accuracy"])`. The generator behind
    /// shuffling and dropout starts from seed 0; see [`Model::seed`].
    pub fn compile(net: N, optimizer: O, loss: L) -> Self {
        Model {
            net,
            optimizer,
            loss,
            metrics: vec![Metric::Accuracy],
            correct: vec![0],
            ctx: Context::train(0),
            epoch: 0,
            x: Batch::default(),
            dy: Batch::default(),
            targets: TargetBuf::default(),
            order: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Replaces the metrics, Keras' `metrics=[...]`: any number, reported in this order.
    #[must_use]
    pub fn with_metrics(mut self, metrics: &[Metric]) -> Self {
        self.metrics = metrics.to_vec();
        self.correct = vec![0; metrics.len()];
        self
    }

    /// The metrics reported beside the loss, in order.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Correct samples per metric (in the order of [`Model::metrics`]) in the batch of
    /// the last [`Model::train_step`].
    pub fn step_correct(&self) -> &[usize] {
        &self.correct
    }

    /// Reseeds the generator behind shuffling and dropout.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.ctx.rng = crate::rng::seeded(seed);
        self
    }

    /// Epochs completed so far.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// The generator behind shuffling and dropout (for checkpoints).
    pub fn rng(&self) -> &Rng {
        &self.ctx.rng
    }

    fn check_data(&self, data: &Dataset, set: &'static str) -> Result<(), TrainError> {
        let output = self.loss.check_output(self.net.output_activation(), OUT);
        output.map_err(|e| TrainError::Output { loss: self.loss.name(), reason: e.to_string() })?;
        if data.width() != I {
            return Err(TrainError::Shape {
                what: format!("{set} has {} features per sample; the network takes {I}", data.width()),
            });
        }
        let reason = match data.targets() {
            TargetData::Classes(c) => self.loss.check_targets(Targets::Classes(c), OUT),
            TargetData::Values { data: v, .. } => self.loss.check_targets(Targets::Values(v), OUT),
            TargetData::Unlabeled(_) => {
                return Err(TrainError::Shape {
                    what: format!(
                        "{set} has no labels (Dataset::unlabeled): fit and evaluate need \
                         Dataset::classification or Dataset::regression; predict takes unlabelled data"
                    ),
                });
            }
        };
        reason.map_err(|e| TrainError::Targets { set, loss: self.loss.name(), reason: e.to_string() })
    }

    /// Keras' `model.fit`: trains for `fit.epochs` more epochs and returns their logs.
    ///
    /// With [`Fit::validation_data`], that set validates every epoch and
    /// [`Fit::validation_split`] is ignored, as in Keras.
    pub fn fit<'a>(
        &mut self,
        data: &Dataset,
        fit: impl Into<FitWithCallbacks<'a, N>>,
    ) -> Result<History, TrainError> {
        crate::opt_level::warn_if_unoptimized();
        let FitWithCallbacks { settings: fit, mut callbacks } = fit.into();
        if fit.batch_size == 0 {
            return Err(TrainError::Config("batch size must be at least 1".into()));
        }
        if !(0.0..1.0).contains(&fit.validation_split) {
            return Err(TrainError::Config(format!(
                "validation_split must be in [0, 1), found {}",
                fit.validation_split
            )));
        }
        self.optimizer.validate().map_err(|e| TrainError::Config(e.to_string()))?;
        // Keras: validation_data, when given, overrides validation_split.
        let use_split = fit.validation_data.is_none() && fit.validation_split > 0.0;
        let split;
        let (train, valid) = if use_split {
            split = data.split_last(fit.validation_split)?;
            (&split.0, Some(&split.1))
        } else {
            (data, fit.validation_data)
        };
        self.check_data(train, "training data")?;
        if let Some(v) = valid {
            self.check_data(v, "validation data")?;
        }
        if train.is_empty() {
            return Err(TrainError::Shape { what: "training data is empty".into() });
        }
        if valid.is_some_and(Dataset::is_empty) {
            let what = if use_split {
                format!(
                    "validation_split {} of {} samples leaves no validation data; raise it or drop it",
                    fit.validation_split,
                    data.len()
                )
            } else {
                "validation data is empty".into()
            };
            return Err(TrainError::Shape { what });
        }
        if let Some(seed) = fit.seed {
            self.ctx.rng = crate::rng::seeded(seed);
        }
        let last_epoch = self.epoch + fit.epochs;
        let steps = train.len().div_ceil(fit.batch_size);
        let mut progress = Progress::new(fit.verbosity, last_epoch);
        let mut history = History::default();
        self.with_control(|ctl| callbacks.iter_mut().try_for_each(|c| c.on_train_begin(ctl)))?;
        self.order = train.indices();
        // Sized once per call: the steps below add into it without allocating.
        let mut correct = vec![0usize; self.metrics.len()];
        let mut running = vec![0.0f32; self.metrics.len()];
        // Per-batch hooks only when there is a callback to call.
        let per_batch = !callbacks.is_empty();
        for _ in 0..fit.epochs {
            let epoch = self.epoch + 1;
            let mut stop = false;
            self.with_control(|ctl| callbacks.iter_mut().try_for_each(|c| c.on_epoch_begin(epoch, ctl)))?;
            let start = Instant::now();
            progress.epoch_begin(epoch, steps);
            if fit.shuffle {
                // From the identity each epoch, so the order depends on the generator's
                // state alone and a resumed run shuffles as the uninterrupted one did.
                self.order.iter_mut().enumerate().for_each(|(i, o)| *o = i);
                crate::data::shuffle(&mut self.order, &mut self.ctx.rng);
            }
            let (mut loss_sum, mut seen) = (0.0f64, 0usize);
            correct.fill(0);
            let order = std::mem::take(&mut self.order);
            for (b, chunk) in order.chunks(fit.batch_size).enumerate() {
                if per_batch {
                    self.with_control(|ctl| callbacks.iter_mut().try_for_each(|c| c.on_batch_begin(b, ctl)))?;
                }
                train.fill_batch(chunk, &mut self.x)?;
                train.fill_targets(chunk, &mut self.targets)?;
                // The next batch's rows load while this step computes.
                let next = (b + 1) * fit.batch_size;
                train.prefetch(&order[next.min(order.len())..(next + fit.batch_size).min(order.len())]);
                let stats = self.step_on_buffers().map_err(|e| e.at(epoch, b + 1))?;
                loss_sum += stats.loss as f64 * chunk.len() as f64;
                correct.iter_mut().zip(&self.correct).for_each(|(c, s)| *c += s);
                seen += chunk.len();
                let acc = (!self.metrics.is_empty()).then(|| correct[0] as f64 / seen as f64);
                progress.step(loss_sum / seen as f64, acc);
                if per_batch {
                    running.iter_mut().zip(&correct).for_each(|(r, c)| *r = (*c as f64 / seen as f64) as f32);
                    // Lent out of `self` while the callbacks hold `self` through `Control`
                    // (a move of the Vec, no allocation).
                    let metrics = std::mem::take(&mut self.metrics);
                    let logs = BatchLogs {
                        batch: b,
                        size: chunk.len(),
                        batch_loss: stats.loss,
                        loss: (loss_sum / seen as f64) as f32,
                        metrics: &metrics,
                        metric_values: &running,
                    };
                    let r = self.with_control(|ctl| {
                        let r = callbacks.iter_mut().try_for_each(|c| c.on_batch_end(&logs, ctl));
                        stop |= ctl.stop;
                        r
                    });
                    self.metrics = metrics;
                    r?;
                    if stop {
                        break;
                    }
                }
            }
            self.order = order;
            let mut values = vec![("loss".to_string(), (loss_sum / seen as f64) as f32)];
            for (m, c) in self.metrics.iter().zip(&correct) {
                values.push((m.name(), (*c as f64 / seen as f64) as f32));
            }
            if let Some(v) = valid {
                let eval = self.evaluate_with(v, fit.batch_size.max(256))?;
                values.extend(eval.values.into_iter().map(|(k, v)| (format!("val_{k}"), v)));
            }
            values.push(("lr".to_string(), self.optimizer.learning_rate()));
            let logs = EpochLogs { epoch, values, seconds: start.elapsed().as_secs_f64() };
            self.epoch = epoch;
            progress.epoch_end(&logs, steps);
            self.with_control(|ctl| {
                let r = callbacks.iter_mut().try_for_each(|c| c.on_epoch_end(&logs, ctl));
                stop |= ctl.stop;
                r
            })?;
            history.epochs.push(logs);
            if stop {
                break;
            }
        }
        self.with_control(|ctl| callbacks.iter_mut().try_for_each(|c| c.on_train_end(ctl)))?;
        Ok(history)
    }

    fn with_control<R>(&mut self, f: impl FnOnce(&mut Control<'_, N>) -> R) -> R {
        let mut ctl = Control {
            net: &mut self.net,
            optimizer: &mut self.optimizer,
            rng: &self.ctx.rng,
            epoch: self.epoch,
            stop: false,
        };
        f(&mut ctl)
    }

    /// One training step on a batch: forward, loss, backward, update. Returns the batch's
    /// loss (penalties included); [`Model::step_correct`] then holds its metric counts.
    ///
    /// A NaN or infinite loss or gradient is an error, and then no trainable tensor has
    /// changed: the weights are as the previous step left them (Keras' `TerminateOnNaN`,
    /// checked before the update rather than after). Batch norm's running statistics have
    /// already taken the batch in, as its forward pass does in Keras.
    pub fn train_step(&mut self, x: &Batch<I>, targets: Targets<'_>) -> Result<StepStats, StepError> {
        let mut stats = StepStats { loss: 0.0 };
        let fused = self.loss.fuses_with(self.net.output_activation());
        self.ctx.mode = crate::layer::Mode::Train;
        self.net.forward(x, &mut self.ctx);
        let out = self.net.output();
        self.dy.set_len(x.len());
        stats.loss = self.loss.loss_and_grad(out.as_slice(), OUT, targets, self.dy.as_mut_slice(), fused);
        // `correct` has one slot per metric: `compile` and `with_metrics`, the only
        // writers of `metrics`, size it.
        for (c, m) in self.correct.iter_mut().zip(&self.metrics) {
            *c = m.correct(out.as_slice(), OUT, targets);
        }
        if !stats.loss.is_finite() {
            return Err(StepError::NonFiniteLoss(stats.loss));
        }
        self.net.backward(x, &self.dy, Backward { input_grad: false, fused_output: fused });
        let (net, optimizer) = (&mut self.net, &mut self.optimizer);
        stats.loss += crate::kernel::sharing_for_batch(x.len(), || apply_update(net, optimizer))? as f32;
        Ok(stats)
    }

    fn step_on_buffers(&mut self) -> Result<StepStats, StepError> {
        let x = std::mem::take(&mut self.x);
        let targets = std::mem::take(&mut self.targets);
        let stats = self.train_step(&x, targets.as_targets());
        self.x = x;
        self.targets = targets;
        stats
    }

    /// Keras' `model.evaluate`: loss (penalties included) and metrics in inference mode.
    pub fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, TrainError> {
        crate::opt_level::warn_if_unoptimized();
        self.evaluate_with(data, 256)
    }

    fn evaluate_with(&mut self, data: &Dataset, batch_size: usize) -> Result<Evaluation, TrainError> {
        self.check_data(data, "evaluation data")?;
        // A loss and accuracy of 0 over no samples would look like the best epoch ever.
        if data.is_empty() {
            return Err(TrainError::Shape {
                what: "evaluation data is empty: there is nothing to evaluate".into(),
            });
        }
        let mut ctx = Context::infer();
        let (mut loss_sum, mut correct) = (0.0f64, vec![0usize; self.metrics.len()]);
        let all: Vec<usize> = data.indices();
        for chunk in all.chunks(batch_size.max(1)) {
            data.fill_batch(chunk, &mut self.x)?;
            data.fill_targets(chunk, &mut self.targets)?;
            self.net.forward(&self.x, &mut ctx);
            let out = self.net.output().as_slice();
            let t = self.targets.as_targets();
            loss_sum += self.loss.loss_sum(out, OUT, t);
            for (c, m) in correct.iter_mut().zip(&self.metrics) {
                *c += m.correct(out, OUT, t);
            }
        }
        let n = data.len() as f64;
        let loss = loss_sum / n + penalty(&mut self.net);
        let mut values = vec![("loss".to_string(), loss as f32)];
        for (m, c) in self.metrics.iter().zip(correct) {
            values.push((m.name(), (c as f64 / n) as f32));
        }
        Ok(Evaluation { values })
    }

    /// Keras' `model.predict`: the outputs of every sample, end to end (`OUT` floats each).
    pub fn predict(&mut self, data: &Dataset) -> Result<Vec<f32>, TrainError> {
        let mut out = Vec::new();
        self.predict_into(data, &mut out)?;
        Ok(out)
    }

    /// Like [`Model::predict`], into a buffer the caller reuses.
    pub fn predict_into(&mut self, data: &Dataset, out: &mut Vec<f32>) -> Result<(), TrainError> {
        self.run_inference(data, out, false)
    }

    /// The arg-max class of every sample.
    pub fn predict_classes(&mut self, data: &Dataset) -> Result<Vec<usize>, TrainError> {
        let mut out = std::mem::take(&mut self.out);
        self.run_inference(data, &mut out, false)?;
        let classes = out.chunks_exact(OUT).map(crate::batch::argmax).collect();
        self.out = out;
        Ok(classes)
    }

    fn run_inference(
        &mut self,
        data: &Dataset,
        out: &mut Vec<f32>,
        mc_dropout: bool,
    ) -> Result<(), TrainError> {
        // Every prediction (`predict*`, Monte Carlo dropout) comes through here.
        crate::opt_level::warn_if_unoptimized();
        if data.width() != I {
            return Err(TrainError::Shape {
                what: format!("the data has {} features per sample; the network takes {I}", data.width()),
            });
        }
        out.clear();
        let all: Vec<usize> = data.indices();
        self.ctx.mode = crate::layer::Mode::Infer;
        self.ctx.mc_dropout = mc_dropout;
        for chunk in all.chunks(1000) {
            data.fill_batch(chunk, &mut self.x)?;
            self.net.forward(&self.x, &mut self.ctx);
            out.extend_from_slice(self.net.output().as_slice());
        }
        self.ctx.mode = crate::layer::Mode::Train;
        self.ctx.mc_dropout = false;
        Ok(())
    }
}
