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
mod history;
mod metrics;
mod progress;

pub use callbacks::{Callback, Control};
pub use error::{StepError, TrainError};
pub use history::{EpochLogs, History};
pub use metrics::Metric;
pub use progress::Verbosity;

use crate::batch::Batch;
use crate::data::{Dataset, TargetBuf};
use crate::layer::{Backward, Context, Layer, Param, Visitor};
use crate::loss::{Loss, Targets};
use crate::optim::clip::{clip_norm, clip_value, global_norm_scale, scale, sum_sq};
use crate::optim::{Clip, Optimizer};
use crate::rng::Rng;
use progress::Progress;
use std::time::Instant;

/// A network with its optimizer, loss and metrics: Keras' compiled model.
pub struct Model<N: Layer, O, L> {
    /// The network; its layers are public fields (`model.net.dense_0`).
    pub net: N,
    /// The optimizer.
    pub optimizer: O,
    /// The loss.
    pub loss: L,
    /// Metrics reported beside the loss (accuracy by default).
    pub metrics: Vec<Metric>,
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

/// Settings of one `fit` call, with Keras' defaults.
pub struct Fit<'a, N> {
    epochs: usize,
    batch_size: usize,
    shuffle: bool,
    validation_split: f64,
    validation_data: Option<&'a Dataset>,
    verbosity: Verbosity,
    seed: Option<u64>,
    callbacks: Vec<Box<dyn Callback<N> + 'a>>,
}

impl<N> Default for Fit<'_, N> {
    fn default() -> Self {
        Fit {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            validation_split: 0.0,
            validation_data: None,
            verbosity: Verbosity::default(),
            seed: None,
            callbacks: Vec::new(),
        }
    }
}

impl<'a, N> Fit<'a, N> {
    /// One epoch, batch size 32, shuffling, no validation, a progress bar.
    pub fn new() -> Self {
        Self::default()
    }
    /// Epochs to train in this call (continuing the model's count).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }
    /// Samples per step.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Shuffle the training samples before each epoch (default true).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }
    /// Keras' `validation_split`: the last `fraction` of the data, taken before shuffling.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = fraction;
        self
    }
    /// Keras' `validation_data`.
    pub fn validation_data(mut self, data: &'a Dataset) -> Self {
        self.validation_data = Some(data);
        self
    }
    /// How much to print on stderr.
    pub fn verbose(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }
    /// Reseeds the generator behind shuffling and dropout before training.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Adds a callback.
    pub fn callback(mut self, callback: impl Callback<N> + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
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
    /// Correct samples per metric (up to four metrics).
    pub correct: [usize; 4],
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
            ctx: Context::train(0),
            epoch: 0,
            x: Batch::default(),
            dy: Batch::default(),
            targets: TargetBuf::default(),
            order: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Replaces the metrics (at most four).
    pub fn with_metrics(mut self, metrics: &[Metric]) -> Self {
        self.metrics = metrics.iter().copied().take(4).collect();
        self
    }

    /// Reseeds the generator behind shuffling and dropout.
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
        if data.width() != I {
            return Err(TrainError::Shape {
                what: format!("{set} has {} features per sample; the network takes {I}", data.width()),
            });
        }
        let reason = match data.targets() {
            crate::data::Targets::Classes(c) => self.loss.check_targets(Targets::Classes(c), OUT),
            crate::data::Targets::Values { data: v, .. } => self.loss.check_targets(Targets::Values(v), OUT),
        };
        reason.map_err(|reason| TrainError::Targets { set, loss: self.loss.name(), reason })
    }

    /// Keras' `model.fit`: trains for `fit.epochs` more epochs and returns their logs.
    pub fn fit(&mut self, data: &Dataset, mut fit: Fit<'_, N>) -> Result<History, TrainError> {
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
        let split;
        let (train, valid) = if fit.validation_split > 0.0 {
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
            let what = if fit.validation_split > 0.0 {
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
        let mut callbacks = std::mem::take(&mut fit.callbacks);
        self.with_control(|ctl| callbacks.iter_mut().try_for_each(|c| c.on_train_begin(ctl)))?;
        self.order = train.indices();
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
            let (mut loss_sum, mut correct, mut seen) = (0.0f64, [0usize; 4], 0usize);
            let order = std::mem::take(&mut self.order);
            for (b, chunk) in order.chunks(fit.batch_size).enumerate() {
                train.fill_batch(chunk, &mut self.x)?;
                train.fill_targets(chunk, &mut self.targets)?;
                let stats = self.step_on_buffers().map_err(|e| e.at(epoch, b + 1))?;
                loss_sum += stats.loss as f64 * chunk.len() as f64;
                correct.iter_mut().zip(stats.correct).for_each(|(c, s)| *c += s);
                seen += chunk.len();
                let acc = (!self.metrics.is_empty()).then(|| correct[0] as f64 / seen as f64);
                progress.step(loss_sum / seen as f64, acc);
            }
            self.order = order;
            let mut values = vec![("loss".to_string(), (loss_sum / seen as f64) as f32)];
            for (m, c) in self.metrics.iter().zip(correct) {
                values.push((m.name(), (c as f64 / seen as f64) as f32));
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
                stop = ctl.stop;
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
    /// loss (penalties included) and metric counts.
    ///
    /// A NaN or infinite loss or gradient is an error, and then no trainable tensor has
    /// changed: the weights are as the previous step left them (Keras' `TerminateOnNaN`,
    /// checked before the update rather than after). Batch norm's running statistics have
    /// already taken the batch in, as its forward pass does in Keras.
    pub fn train_step(&mut self, x: &Batch<I>, targets: Targets<'_>) -> Result<StepStats, StepError> {
        let mut stats = StepStats { loss: 0.0, correct: [0; 4] };
        let fused = self.loss.fuses_with(self.net.output_activation());
        self.ctx.mode = crate::layer::Mode::Train;
        self.net.forward(x, &mut self.ctx);
        let out = self.net.output();
        self.dy.set_len(x.len());
        stats.loss = self.loss.loss_and_grad(out.as_slice(), OUT, targets, self.dy.as_mut_slice(), fused);
        for (c, m) in stats.correct.iter_mut().zip(&self.metrics) {
            *c = m.correct(out.as_slice(), OUT, targets);
        }
        if !stats.loss.is_finite() {
            return Err(StepError::NonFiniteLoss(stats.loss));
        }
        self.net.backward(x, &self.dy, Backward { input_grad: false, fused_output: fused });
        stats.loss += apply_update(&mut self.net, &mut self.optimizer)? as f32;
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
        let (mut loss_sum, mut correct) = (0.0f64, [0usize; 4]);
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

    /// Monte Carlo dropout (Géron, ch. 11): the mean output of `passes` inference passes
    /// with dropout kept on (batch norm still uses its moving statistics).
    /// `passes` must be at least 1.
    pub fn predict_mc_dropout(&mut self, data: &Dataset, passes: usize) -> Result<Vec<f32>, TrainError> {
        if passes == 0 {
            return Err(TrainError::Config("Monte Carlo dropout needs at least 1 pass, found 0".into()));
        }
        let mut mean = vec![0.0f32; data.len() * OUT];
        let mut out = std::mem::take(&mut self.out);
        for _ in 0..passes {
            self.run_inference(data, &mut out, true)?;
            mean.iter_mut().zip(&out).for_each(|(m, o)| *m += o);
        }
        self.out = out;
        let k = 1.0 / passes as f32;
        mean.iter_mut().for_each(|m| *m *= k);
        Ok(mean)
    }

    fn run_inference(
        &mut self,
        data: &Dataset,
        out: &mut Vec<f32>,
        mc_dropout: bool,
    ) -> Result<(), TrainError> {
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

/// Keras' regularization loss: `sum(l1 * |w| + l2 * w^2)` over penalized kernels.
fn penalty<N: Layer + ?Sized>(net: &mut N) -> f64 {
    let mut total = 0.0f64;
    crate::tensors::collect(net, |p| {
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for w in p.value.iter() {
                total += (p.l1 * w.abs()) as f64 + (p.l2 * w * w) as f64;
            }
        }
    });
    total
}

/// Adds penalty gradients, clips, updates every trainable tensor and zeroes all
/// gradients. Returns the penalty of the weights before the update.
///
/// Every gradient is checked before any tensor changes: if one holds a NaN or an
/// infinity, nothing is updated, all gradients are zeroed and the error names the
/// tensor, so the weights trained so far survive.
pub fn apply_update<N: Layer + ?Sized, O: Optimizer + ?Sized>(
    net: &mut N,
    optimizer: &mut O,
) -> Result<f64, StepError> {
    let clip = optimizer.clip().effective();
    // Pass 1: the finiteness check, penalty gradients (they are part of the loss, so
    // they are clipped with the rest) and, when asked for, the global norm.
    let mut pre =
        Prepare { penalty: 0.0, sum_sq: 0.0, global: clip.global_norm.is_some(), slot: 0, bad: None };
    net.visit(&mut pre);
    if let Some(bad) = pre.bad {
        crate::tensors::zero_grads(net);
        return Err(StepError::NonFiniteGradient { tensor: param_name(net, bad) });
    }
    let global_scale = match clip.global_norm {
        Some(max) => global_norm_scale(pre.sum_sq, max),
        None => 1.0,
    };
    optimizer.begin_step();
    net.visit(&mut Update { optimizer, clip, global_scale, slot: 0 });
    Ok(pre.penalty)
}

/// The full name of the `slot`-th trainable tensor in visit order (the slots of
/// [`Update`]); only called on the error path.
fn param_name<N: Layer + ?Sized>(net: &mut N, slot: usize) -> String {
    let (mut i, mut found) = (0, String::new());
    crate::tensors::for_each_tensor(net, |name, t| {
        if let crate::tensors::Tensor::Param(_) = t {
            if i == slot {
                found = name.to_owned();
            }
            i += 1;
        }
    });
    found
}

struct Prepare {
    penalty: f64,
    sum_sq: f64,
    global: bool,
    /// Slot numbering as in [`Update`], and the first slot whose gradient is not finite.
    slot: usize,
    bad: Option<usize>,
}

impl Visitor for Prepare {
    fn param(&mut self, _: &'static str, p: Param<'_>) {
        let slot = self.slot;
        self.slot += 1;
        if !p.trainable {
            return;
        }
        if p.l1 > 0.0 || p.l2 > 0.0 {
            for (g, w) in p.grad.iter_mut().zip(p.value.iter()) {
                self.penalty += (p.l1 * w.abs() + p.l2 * w * w) as f64;
                *g += 2.0 * p.l2 * w + p.l1 * w.signum() * f32::from(*w != 0.0);
            }
        }
        if self.bad.is_none() && !crate::finite::all_finite(p.grad) {
            self.bad = Some(slot);
        }
        if self.global {
            self.sum_sq += sum_sq(p.grad);
        }
    }
}

struct Update<'a, O: ?Sized> {
    optimizer: &'a mut O,
    clip: Clip,
    global_scale: f32,
    slot: usize,
}

impl<O: Optimizer + ?Sized> Visitor for Update<'_, O> {
    fn param(&mut self, _: &'static str, p: Param<'_>) {
        // Slots number every tensor, frozen or not, so freezing a layer never moves
        // another tensor's optimizer state.
        let slot = self.slot;
        self.slot += 1;
        if p.trainable {
            if let Some(max) = self.clip.norm {
                clip_norm(p.grad, max);
            }
            if self.global_scale != 1.0 {
                scale(p.grad, self.global_scale);
            }
            if let Some(v) = self.clip.value {
                clip_value(p.grad, v);
            }
            self.optimizer.update(slot, p.value, p.grad);
        }
        p.grad.fill(0.0);
    }
}
