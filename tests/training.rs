//! fit / evaluate / predict on small synthetic data: learning, determinism, freezing,
//! penalties, callbacks and errors.

use mlp::prelude::*;
use mlp::tensors::collect;
use rand::Rng as _;

network! { Blobs< input(4); dense(16, relu); batch_norm; dropout(0.1); dense(3, softmax) > }
network! { Frozen< input(4); dense(8, tanh); batch_norm; dense(3, softmax) > }
network! { Penalized< input(4); dense(8, tanh, l2 = 0.01, l1 = 0.001); dense(3, softmax) > }

/// Three Gaussian blobs in 4-D, one per class: learnable, not trivially.
fn blobs(n: usize, seed: u64) -> Dataset {
    let mut rng = mlp::rng::seeded(seed);
    let centers = [[2.0, 0.0, -1.0, 0.5], [-1.0, 2.0, 0.0, -0.5], [0.0, -2.0, 1.5, 0.0]];
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 3;
        for &m in &centers[c] {
            x.push(m + rng.random_range(-1.2f32..1.2));
        }
        y.push(c as u32);
    }
    Dataset::classification(x, 4, y).unwrap()
}

fn quiet<'a>() -> Fit<'a> {
    Fit::new().verbose(Verbosity::Silent)
}

fn weights<N: Layer>(net: &mut N) -> Vec<Vec<f32>> {
    collect(net, |p| p.value.to_vec())
}

#[test]
fn fit_learns_and_reports_history() {
    let (train, test) = (blobs(600, 1), blobs(300, 2));
    let mut model = Model::compile(Blobs::seeded(0), Adam::new(0.01), SparseCategoricalCrossentropy::new());
    let before = model.evaluate(&test).unwrap();
    let history = model.fit(&train, quiet().epochs(5).validation_split(0.2)).unwrap();
    assert_eq!(history.epochs.len(), 5);
    assert_eq!(model.epoch(), 5);
    let loss = history.series("loss");
    assert!(loss[4] < loss[0], "{loss:?}");
    assert_eq!(history.series("val_accuracy").len(), 5);
    let after = model.evaluate(&test).unwrap();
    assert!(after.loss() < before.loss());
    assert!(after.get("accuracy").unwrap() > 0.9, "{after:?}");
    let probs = model.predict(&test).unwrap();
    assert_eq!(probs.len(), 300 * 3);
    let classes = model.predict_classes(&test).unwrap();
    let correct = classes.iter().zip(test.classes().unwrap()).filter(|(a, b)| **a == **b as usize).count();
    assert!((correct as f32 / 300.0 - after.get("accuracy").unwrap()).abs() < 1e-6);
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let train = blobs(300, 3);
    let run = || {
        let mut model = Model::compile(
            Blobs::seeded(7),
            Sgd::new(0.05).momentum(0.9),
            SparseCategoricalCrossentropy::new(),
        )
        .seed(11);
        model.fit(&train, quiet().epochs(3).batch_size(16)).unwrap();
        weights(&mut model.net)
    };
    assert_eq!(run(), run());
    let mut other =
        Model::compile(Blobs::seeded(7), Sgd::new(0.05), SparseCategoricalCrossentropy::new()).seed(12);
    other.fit(&train, quiet().epochs(1)).unwrap();
    assert_ne!(run(), weights(&mut other.net));
}

#[test]
fn frozen_layers_stay_put_and_frozen_batch_norm_infers() {
    let train = blobs(200, 4);
    let mut model = Model::compile(Frozen::seeded(1), Adam::new(0.01), SparseCategoricalCrossentropy::new());
    model.net.dense_0.set_trainable(false);
    model.net.batch_norm_0.set_trainable(false);
    let dense_before = model.net.dense_0.weight().to_vec();
    let stats_before = model.net.batch_norm_0.running_mean().to_vec();
    let head_before = model.net.dense_1.weight().to_vec();
    model.fit(&train, quiet().epochs(2)).unwrap();
    assert_eq!(model.net.dense_0.weight(), &dense_before[..]);
    assert_eq!(model.net.batch_norm_0.running_mean(), &stats_before[..], "frozen batch norm must not update");
    assert_ne!(model.net.dense_1.weight(), &head_before[..]);
    // Unfrozen, it trains again.
    model.net.set_trainable(true);
    model.fit(&train, quiet().epochs(1)).unwrap();
    assert_ne!(model.net.dense_0.weight(), &dense_before[..]);
}

#[test]
fn penalties_follow_keras() {
    let data = blobs(30, 5);
    let mut model = Model::compile(Penalized::seeded(2), Sgd::new(0.0), SparseCategoricalCrossentropy::new());
    let w = model.net.dense_0.weight().to_vec();
    let penalty: f64 = w.iter().map(|w| 0.01 * (*w as f64).powi(2) + 0.001 * (w.abs() as f64)).sum();
    let with = model.evaluate(&data).unwrap().loss() as f64;
    // The same weights without the penalty.
    let data_loss = {
        let mut m = Model::compile(Penalized::seeded(2), Sgd::new(0.0), SparseCategoricalCrossentropy::new());
        m.net.dense_0 = m.net.dense_0.clone().with_l1(0.0).with_l2(0.0);
        m.evaluate(&data).unwrap().loss() as f64
    };
    assert!((with - data_loss - penalty).abs() < 1e-4, "{with} vs {data_loss} + {penalty}");
    // The gradient step includes 2 * l2 * w + l1 * sign(w): with SGD(lr) and no data
    // gradient difference, the penalized kernel shrinks toward zero faster.
    let mut a = Model::compile(Penalized::seeded(2), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let mut b = Model::compile(Penalized::seeded(2), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    b.net.dense_0 = b.net.dense_0.clone().with_l1(0.0).with_l2(0.0);
    a.fit(&data, quiet().epochs(1).batch_size(30).shuffle(false)).unwrap();
    b.fit(&data, quiet().epochs(1).batch_size(30).shuffle(false)).unwrap();
    let (wa, wb) = (a.net.dense_0.weight(), b.net.dense_0.weight());
    for ((wa, wb), w0) in wa.iter().zip(wb).zip(&w) {
        let want = wb - 0.1 * (2.0 * 0.01 * w0 + 0.001 * w0.signum());
        assert!((wa - want).abs() < 1e-5, "{wa} vs {want}");
    }
}

#[test]
fn a_nan_loss_stops_with_epoch_and_batch() {
    // A learning rate of 1e30: the first step leaves huge (finite) weights, the second
    // batch's squared error overflows.
    network! { Line< input(2); dense(2) > }
    let data = Dataset::regression(vec![1.0; 8], 2, vec![3.0; 8], 2).unwrap();
    let mut model = Model::compile(Line::seeded(1), Sgd::new(1e30), MeanSquaredError::new());
    let err = model.fit(&data, quiet().epochs(2).batch_size(1).shuffle(false)).unwrap_err();
    assert!(matches!(err, TrainError::NonFinite { epoch: 1, batch: 2, .. }), "{err}");
    assert!(err.to_string().contains("epoch 1, batch 2"), "{err}");
    assert!(weights(&mut model.net).iter().flatten().all(|w| w.is_finite()), "the bad step was not applied");
}

#[test]
fn data_that_turns_non_finite_stops_fit_evaluate_and_predict_naming_the_sample() {
    let mut data = blobs(100, 6);
    data.features_mut()[4 * 40 + 2] = f32::NAN; // sample 40, column 2
    let mut model = Model::compile(Frozen::seeded(1), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    let before = weights(&mut model.net);
    let err = model.fit(&data, quiet().epochs(2).shuffle(false).batch_size(100)).unwrap_err();
    assert!(matches!(err, TrainError::Data(DataError::NonFinite { sample: 40, column: 2, .. })), "{err:?}");
    assert!(err.to_string().contains("sample 40") && err.to_string().contains("column 2"), "{err}");
    assert_eq!(weights(&mut model.net), before, "the batch holding it was never trained on");
    assert!(matches!(model.evaluate(&data), Err(TrainError::Data(DataError::NonFinite { sample: 40, .. }))));
    assert!(matches!(model.predict(&data), Err(TrainError::Data(DataError::NonFinite { sample: 40, .. }))));
}

#[test]
fn wrong_data_is_an_error_not_a_panic() {
    let data = Dataset::classification(vec![0.0; 10], 5, vec![0, 1]).unwrap();
    let mut model = Model::compile(Frozen::seeded(1), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    let err = model.fit(&data, quiet()).unwrap_err();
    assert!(err.to_string().contains("5 features per sample; the network takes 4"), "{err}");
    let data = Dataset::classification(vec![0.0; 8], 4, vec![0, 7]).unwrap();
    let err = model.fit(&data, quiet()).unwrap_err();
    assert!(matches!(err, TrainError::Targets { .. }), "{err}");
    assert!(model.fit(&blobs(9, 1), quiet().batch_size(0)).is_err());
    assert!(model.fit(&blobs(9, 1), quiet().validation_split(1.0)).is_err());
}

/// Records the weights after every epoch.
struct Recorder(std::rc::Rc<std::cell::RefCell<Vec<Vec<Vec<f32>>>>>);

impl<N: Layer> Callback<N> for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }
    fn on_epoch_end(&mut self, _: &EpochLogs, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.0.borrow_mut().push(weights(ctl.net));
        Ok(())
    }
}

#[test]
fn early_stopping_stops_and_restores_the_best_weights() {
    let (train, valid) = (blobs(300, 7), blobs(90, 17));
    // A learning rate this high makes the validation loss jump around.
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(3.0), SparseCategoricalCrossentropy::new());
    // Lent, not moved: read after training.
    let mut stop = EarlyStopping::new("val_loss").patience(1).restore_best_weights(true);
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let fit = quiet().epochs(30).validation_data(&valid).callback(&mut stop).callback(Recorder(seen.clone()));
    let history = model.fit(&train, fit).unwrap();
    assert!(history.epochs.len() < 30, "ran all epochs");
    let val = history.series("val_loss");
    let best = (0..val.len()).min_by(|a, b| val[*a].total_cmp(&val[*b])).unwrap();
    assert_ne!(best + 1, val.len(), "the last epoch should not be the best here: {val:?}");
    assert_eq!(weights(&mut model.net), seen.borrow()[best], "best epoch's weights restored");
    assert_eq!((stop.best_epoch, stop.stopped_epoch), (best + 1, Some(val.len())));
}

#[test]
fn unlabeled_data_predicts_like_labelled_data_and_cannot_train() {
    let labelled = blobs(20, 2);
    let features = Dataset::unlabeled(labelled.features().to_vec(), 4).unwrap();
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    assert_eq!(model.predict(&features).unwrap(), model.predict(&labelled).unwrap());
    assert_eq!(model.predict_mc_dropout(&features, 2).unwrap().len(), 20 * 3);
    let err = model.fit(&features, quiet()).unwrap_err().to_string();
    assert!(err.starts_with("training data has no labels (Dataset::unlabeled)"), "{err}");
    let err = model.fit(&labelled, quiet().validation_data(&features)).unwrap_err().to_string();
    assert!(err.starts_with("validation data has no labels"), "{err}");
    assert_eq!(model.epoch(), 0);
}

#[test]
fn binary_crossentropy_on_a_softmax_is_refused_before_training() {
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.1), BinaryCrossentropy::new());
    let err = model.fit(&blobs(30, 1), quiet()).unwrap_err().to_string();
    assert!(err.starts_with("the loss `binary_crossentropy` does not fit the network's output"), "{err}");
    assert!(err.contains("3-wide softmax") && err.contains("SparseCategoricalCrossentropy"), "{err}");
    assert!(model.evaluate(&blobs(30, 1)).is_err());
    assert_eq!(model.epoch(), 0);
}

#[test]
fn one_set_of_fit_settings_trains_two_different_networks() {
    let train = blobs(60, 8);
    let settings = quiet().epochs(2).batch_size(16).seed(4);
    let mut a = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let mut b = Model::compile(Blobs::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let ha = a.fit(&train, settings.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hb = b.fit(&train, settings.clone().callback(CsvLogger::new(dir.path().join("log.csv"))));
    assert_eq!((ha.epochs.len(), hb.unwrap().epochs.len()), (2, 2));
    // The same settings again give the same run.
    let mut a2 = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    assert_eq!(a2.fit(&train, settings).unwrap().series("loss"), ha.series("loss"));
}

/// Records every batch it sees and stops training at batch `stop_at` of epoch 2.
#[derive(Default)]
struct Batches {
    seen: Vec<(usize, usize, usize, f32, f32, f32)>,
    begun: usize,
    stop_at: usize,
}

impl<N> Callback<N> for Batches {
    fn name(&self) -> &'static str {
        "Batches"
    }
    fn on_batch_begin(&mut self, _: usize, _: &mut Control<'_, N>) -> Result<(), TrainError> {
        self.begun += 1;
        Ok(())
    }
    fn on_batch_end(&mut self, logs: &BatchLogs<'_>, ctl: &mut Control<'_, N>) -> Result<(), TrainError> {
        let acc = logs.get("accuracy").unwrap();
        self.seen.push((ctl.epoch + 1, logs.batch, logs.size, logs.batch_loss, logs.loss, acc));
        ctl.stop = ctl.epoch + 1 == 2 && logs.batch == self.stop_at;
        Ok(())
    }
}

#[test]
fn batch_callbacks_see_running_means_and_may_stop_mid_epoch() {
    let train = blobs(100, 12);
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let mut cb = Batches { stop_at: 2, ..Batches::default() };
    let history = model.fit(&train, quiet().epochs(5).batch_size(32).callback(&mut cb)).unwrap();
    // Epoch 1: batches 0-3 (32, 32, 32, 4 samples); epoch 2 stops after batch 2.
    let batches: Vec<(usize, usize, usize)> = cb.seen.iter().map(|s| (s.0, s.1, s.2)).collect();
    assert_eq!(batches, [(1, 0, 32), (1, 1, 32), (1, 2, 32), (1, 3, 4), (2, 0, 32), (2, 1, 32), (2, 2, 32)]);
    assert_eq!(cb.begun, 7);
    assert_eq!((history.epochs.len(), model.epoch()), (2, 2));
    // The running mean is the size-weighted mean of the batch losses so far, and the
    // epoch's logged loss is the last running mean (for the stopped epoch too).
    for epoch in [1, 2] {
        let rows: Vec<_> = cb.seen.iter().filter(|s| s.0 == epoch).collect();
        let (mut sum, mut n) = (0.0f64, 0usize);
        for r in &rows {
            sum += r.3 as f64 * r.2 as f64;
            n += r.2;
            assert!((r.4 as f64 - sum / n as f64).abs() < 1e-5, "{r:?}");
            assert!((0.0..=1.0).contains(&r.5));
        }
        assert_eq!(history.series("loss")[epoch - 1], rows.last().unwrap().4);
        assert_eq!(history.series("accuracy")[epoch - 1], rows.last().unwrap().5);
    }
}

#[test]
fn lr_scheduler_and_plateau_change_the_rate() {
    let train = blobs(60, 8);
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let sched = LearningRateScheduler::new(|epoch, _| 0.1 * 0.5f32.powi(epoch as i32));
    let h = model.fit(&train, quiet().epochs(3).callback(sched)).unwrap();
    assert_eq!(h.series("lr"), [0.1, 0.05, 0.025]);
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.0), SparseCategoricalCrossentropy::new());
    // With lr 0 the loss never improves, so after `patience` epochs the rate is cut.
    model.optimizer.set_learning_rate(1e-9);
    let plateau = ReduceLrOnPlateauCallback::new("loss", ReduceLrOnPlateau::new().patience(1).factor(0.5));
    let h = model.fit(&train, quiet().epochs(4).shuffle(false).callback(plateau)).unwrap();
    let lr = h.series("lr");
    assert!(lr[3] < lr[0], "{lr:?}");
}

#[test]
fn csv_logger_writes_keras_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    let mut model = Model::compile(Frozen::seeded(3), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    model
        .fit(&blobs(60, 9), quiet().epochs(2).validation_split(0.25).callback(CsvLogger::new(&path)))
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,loss,accuracy,val_loss,val_accuracy,lr");
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("1,"));
}

#[test]
fn mc_dropout_averages_stochastic_passes() {
    network! { Mc< input(4); dense(32, relu); dropout(0.5); dense(3, softmax) > }
    let data = blobs(10, 10);
    let mut model = Model::compile(Mc::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    let plain = model.predict(&data).unwrap();
    let one = model.predict_mc_dropout(&data, 1).unwrap();
    let many = model.predict_mc_dropout(&data, 200).unwrap();
    assert_ne!(plain, one, "dropout must be on");
    let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>();
    assert!(dist(&many, &plain) < dist(&one, &plain), "averaging should approach the deterministic output");
    for s in many.chunks(3) {
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    // Every pass kept (Géron's y_probas, y_mean, y_std): the same passes as the mean alone
    // draws, from the same seed.
    let mut a = Model::compile(Mc::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new()).seed(5);
    let mut b = Model::compile(Mc::seeded(1), Sgd::new(0.1), SparseCategoricalCrossentropy::new()).seed(5);
    let mean = a.predict_mc_dropout(&data, 50).unwrap();
    let mc = b.predict_mc_dropout_passes(&data, 50).unwrap();
    assert_eq!((mc.passes(), mc.samples, mc.width), (50, 10, 3));
    assert!(mc.mean.iter().zip(&mean).all(|(x, y)| (x - y).abs() < 1e-5));
    assert!(mc.std.iter().any(|&s| s > 0.01), "dropout must spread the passes: {:?}", mc.std);
    for k in 0..50 {
        assert_ne!(mc.pass(k), &plain[..], "pass {k} had dropout off");
    }
    // The deviation of sample 0, class 0 by hand.
    let xs: Vec<f64> = (0..50).map(|k| mc.pass(k)[0] as f64).collect();
    let m = xs.iter().sum::<f64>() / 50.0;
    let sd = (xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 50.0).sqrt();
    assert!((mc.std[0] as f64 - sd).abs() < 1e-6, "{} vs {sd}", mc.std[0]);
    assert!(b.predict_mc_dropout_passes(&data, 0).is_err());
    // More than any process can hold is an error, not an abort.
    let err = b.predict_mc_dropout_passes(&data, usize::MAX / 8).unwrap_err().to_string();
    assert!(err.contains("more than this process can allocate"), "{err}");
}

#[test]
fn global_clipnorm_limits_the_step() {
    let data = blobs(30, 11);
    let mut model = Model::compile(
        Frozen::seeded(3),
        Sgd::new(1.0).global_clipnorm(1e-3),
        SparseCategoricalCrossentropy::new(),
    );
    let before = weights(&mut model.net);
    model.fit(&data, quiet().batch_size(30).shuffle(false)).unwrap();
    let after = weights(&mut model.net);
    let step: f64 = before
        .iter()
        .flatten()
        .zip(after.iter().flatten())
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(step <= 1.0001e-3, "step {step}");
    assert!(step > 0.5e-3, "step {step}");
}

#[test]
fn a_non_finite_gradient_after_a_good_step_stops_before_the_update() {
    // As below, but the bad sample comes second: its step's weight gradient overwrites the
    // one the first step spent, and the product that writes it must report the infinity.
    network! { Line< input(2); dense(2) > }
    let line = || {
        let mut net = Line::seeded(3);
        net.set_tensor("dense_0.weight", &[0.5, 0.0, -0.5, 0.0]).unwrap();
        net.set_tensor("dense_0.bias", &[0.0, 0.0]).unwrap();
        Model::compile(net, Adam::new(0.1), MeanSquaredError::new())
    };
    let data = Dataset::regression(vec![1.0, 0.0, 1.0, f32::MAX], 2, vec![-100.0; 4], 2).unwrap();
    let mut model = line();
    let err = model.fit(&data, quiet().batch_size(1).shuffle(false)).unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteGradient { tensor, epoch: 1, batch: 2 } if tensor == "dense_0.weight"),
        "{err:?}"
    );
    // The weights are those of the first step alone.
    let mut first = line();
    let good = Dataset::regression(vec![1.0, 0.0], 2, vec![-100.0; 2], 2).unwrap();
    first.fit(&good, quiet().batch_size(1)).unwrap();
    assert_eq!(weights(&mut model.net), weights(&mut first.net));
    assert!(weights(&mut model.net).iter().flatten().all(|w| w.is_finite()));
}

#[test]
fn a_non_finite_gradient_stops_before_the_update() {
    // Feature 1 is f32::MAX and the weights that read it are 0: the forward pass and the
    // loss stay finite, but dL/dW = dy * x overflows to infinity.
    network! { Line< input(2); dense(2) > }
    let data = Dataset::regression(vec![1.0, f32::MAX], 2, vec![-100.0, -100.0], 2).unwrap();
    let mut net = Line::seeded(3);
    net.set_tensor("dense_0.weight", &[0.5, 0.0, -0.5, 0.0]).unwrap();
    net.set_tensor("dense_0.bias", &[0.0, 0.0]).unwrap();
    let mut model = Model::compile(net, Adam::new(0.1), MeanSquaredError::new());
    let before = weights(&mut model.net);
    let err = model.fit(&data, quiet().epochs(3)).unwrap_err();
    assert!(
        matches!(&err, TrainError::NonFiniteGradient { tensor, epoch: 1, batch: 1 } if tensor == "dense_0.weight"),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("`dense_0.weight`") && err.to_string().contains("epoch 1, batch 1"),
        "{err}"
    );
    assert_eq!(weights(&mut model.net), before, "no update may be applied");
    assert_eq!(model.optimizer.iterations(), 0, "the optimizer did not step");
    // The gradients were cleared: a later step on good data starts clean.
    let good = Dataset::regression(vec![1.0, 1.0], 2, vec![0.0, 0.0], 2).unwrap();
    model.fit(&good, quiet()).unwrap();
    assert!(weights(&mut model.net).iter().flatten().all(|w| w.is_finite()));
}

#[test]
fn train_step_reports_a_non_finite_loss_and_leaves_the_weights() {
    network! { Line< input(2); dense(2) > }
    let mut model = Model::compile(Line::seeded(3), Sgd::new(0.1), MeanSquaredError::new());
    let before = weights(&mut model.net);
    let x = Batch::<2>::from_samples(&[1.0, 2.0]).unwrap();
    let err = model.train_step(&x, mlp::loss::Targets::Values(&[f32::INFINITY, 0.0])).unwrap_err();
    assert!(matches!(err, mlp::train::StepError::NonFiniteLoss(l) if !l.is_finite()), "{err:?}");
    assert_eq!(weights(&mut model.net), before);
}

#[test]
fn empty_evaluation_or_validation_data_is_an_error() {
    let mut model = Model::compile(Frozen::seeded(1), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    let empty = Dataset::classification(Vec::new(), 4, Vec::new()).unwrap();
    let err = model.evaluate(&empty).unwrap_err();
    assert!(err.to_string().contains("evaluation data is empty"), "{err}");
    let err = model.fit(&blobs(30, 1), quiet().validation_data(&empty)).unwrap_err();
    assert!(err.to_string().contains("validation data is empty"), "{err}");
    // So small a fraction of 30 samples is none of them.
    let err = model.fit(&blobs(30, 1), quiet().validation_split(1e-20)).unwrap_err();
    assert!(err.to_string().contains("leaves no validation data"), "{err}");
    assert_eq!(model.epoch(), 0, "nothing was trained");
}

#[test]
fn every_metric_is_logged_however_many() {
    // Five: `with_metrics` used to keep four and drop the rest from every log.
    let metrics = [Metric::Accuracy, Metric::TopK(1), Metric::TopK(2), Metric::TopK(3), Metric::TopK(4)];
    let (train, valid) = (blobs(60, 1), blobs(30, 2));
    let mut model = Model::compile(Frozen::seeded(1), Adam::new(0.01), SparseCategoricalCrossentropy::new())
        .with_metrics(&metrics);
    assert_eq!(model.metrics(), metrics);
    let history = model.fit(&train, quiet().epochs(2).validation_data(&valid)).unwrap();
    for name in metrics.iter().map(Metric::name) {
        assert_eq!(history.series(&name).len(), 2, "{name}");
        assert_eq!(history.series(&format!("val_{name}")).len(), 2, "val_{name}");
    }
    // Of three classes, the true one is always among the top four.
    assert_eq!(history.series("top_4_accuracy"), [1.0, 1.0]);
    let eval = model.evaluate(&valid).unwrap();
    assert_eq!(eval.values.len(), 1 + metrics.len(), "{eval:?}");
    assert_eq!(eval.get("top_4_accuracy"), Some(1.0));
    let mut x = Batch::<4>::default();
    train.fill_batch(&[0, 1, 2], &mut x).unwrap();
    model.train_step(&x, Targets::Classes(&train.classes().unwrap()[..3])).unwrap();
    assert_eq!(model.step_correct().len(), 5);
    assert_eq!(model.step_correct()[3..], [3, 3]);
}

type FrozenModel = Model<Frozen, Sgd, SparseCategoricalCrossentropy>;

fn fit_frozen(data: &Dataset, fit: Fit<'_>) -> (History, FrozenModel) {
    let mut model =
        Model::compile(Frozen::seeded(1), Sgd::new(0.05), SparseCategoricalCrossentropy::new()).seed(3);
    let history = model.fit(data, fit.epochs(2).batch_size(8)).unwrap();
    (history, model)
}

#[test]
fn validation_data_overrides_validation_split_as_in_keras() {
    let (train, valid) = (blobs(60, 1), blobs(30, 2));
    let (both, mut model) = fit_frozen(&train, quiet().validation_split(0.5).validation_data(&valid));
    let (data_only, _) = fit_frozen(&train, quiet().validation_data(&valid));
    // Trained on all 60 samples and validated on `valid`, exactly as without the split.
    assert_eq!(both.series("loss"), data_only.series("loss"));
    assert_eq!(both.series("val_loss"), data_only.series("val_loss"));
    assert_eq!(both.series("val_loss").last().copied(), Some(model.evaluate(&valid).unwrap().loss()));
    // Without validation data the split still holds the last half out.
    let (split_only, _) = fit_frozen(&train, quiet().validation_split(0.5));
    assert_ne!(split_only.series("loss"), data_only.series("loss"));
}

#[test]
fn mc_dropout_with_no_pass_is_an_error() {
    let mut model = Model::compile(Blobs::seeded(1), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    let err = model.predict_mc_dropout(&blobs(6, 1), 0).unwrap_err();
    assert!(err.to_string().contains("at least 1 pass"), "{err}");
}

network! { Decayed< input(4); dense(8, tanh); batch_norm; residual(relu)< dense(8, tanh); dense(8) >; dense(3, softmax) > }

/// Every tensor by its dotted key.
fn named(net: &Decayed) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    mlp::tensors::for_each_tensor_ref(net, |key, t| {
        if matches!(t, mlp::tensors::TensorRef::Param(_)) {
            out.push((key.to_string(), t.value().to_vec()));
        }
    });
    out
}

#[test]
fn weight_decay_leaves_out_excluded_keys_and_frozen_layers() {
    let data = blobs(30, 5);
    let (lr, wd) = (0.1f32, 0.5f32);
    // Keras: SGD(0.1, weight_decay=0.5), exclude_from_weight_decay(var_names=[...]).
    let excluded = ["bias", "batch_norm", "residual_0.dense_1"];
    let train = |wd: f32| {
        let opt = Sgd::new(lr).weight_decay(wd).exclude_from_weight_decay(excluded);
        let mut model = Model::compile(Decayed::seeded(1), opt, SparseCategoricalCrossentropy::new());
        model.net.dense_0.set_trainable(false);
        // One step on the whole set.
        model.fit(&data, quiet().batch_size(30).shuffle(false)).unwrap();
        named(&model.net)
    };
    let (before, plain, decayed) = (named(&Decayed::seeded(1)), train(0.0), train(wd));
    let mut decayed_keys = Vec::new();
    for (((key, w0), (_, p)), (_, d)) in before.iter().zip(&plain).zip(&decayed) {
        if key.starts_with("dense_0.") {
            assert!(w0 == p && w0 == d, "{key} is frozen");
        } else if d != p {
            // Decayed before the same gradient step: w0 * lr * wd less than without decay.
            for ((&w0, &p), &d) in w0.iter().zip(p).zip(d) {
                assert!((d - (p - w0 * lr * wd)).abs() < 1e-6, "{key}: {d} vs {p} - {w0} * lr * wd");
            }
            decayed_keys.push(key.as_str());
        }
    }
    // Left out: every bias, the batch norm, the residual's second dense (whose key
    // `residual_0.dense_1.weight` is matched across segments, while `dense_1.weight` is not).
    assert_eq!(decayed_keys, ["residual_0.dense_0.weight", "dense_1.weight"]);
}
