//! Same seed, same weights, whatever the thread count: the kernel splits the elements of a
//! product's result among threads and computes each element the same way on any of them.
//! Its own test binary, because the thread count is process-wide.

#[path = "../benches/models.rs"]
mod models;

use mlp::kernel::{set_threads, threads, with_isa, Isa};
use mlp::prelude::*;
use models::*;
use std::sync::Mutex;

/// Three steps of model A at batch 256 and 24 at batch 32 (their products are then split,
/// by rows and by columns), then every weight's bits and the predictions: of 768 samples,
/// of 32 and of one (at inference the first layer's product splits by rows even for one
/// sample).
fn train_a() -> Vec<u32> {
    let data = fashion_like(768, 3);
    let mut model = model_a(5);
    model.fit(&data, Fit::new().batch_size(256).verbose(Verbosity::Silent)).unwrap();
    model.fit(&data, Fit::new().batch_size(32).verbose(Verbosity::Silent)).unwrap();
    let predicted = model.predict(&data).unwrap();
    let few = model.predict(&fashion_like(32, 4)).unwrap();
    let one = model.predict(&fashion_like(1, 6)).unwrap();
    let net = &model.net;
    [net.dense_0.weight(), net.dense_1.weight(), net.dense_2.weight(), &predicted[..], &few[..], &one[..]]
        .iter()
        .flat_map(|w| w.iter().map(|v| v.to_bits()))
        .collect()
}

/// Held by each test here: the thread count is process-wide and tests run in parallel.
static THREADS: Mutex<()> = Mutex::new(());

#[test]
fn one_and_two_threads_train_to_the_same_bits_on_every_path() {
    let _one_at_a_time = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    for isa in Isa::supported_all() {
        set_threads(1);
        assert_eq!(threads(), 1);
        let one = with_isa(isa, train_a);
        set_threads(2);
        let two = with_isa(isa, train_a);
        assert_eq!(one, two, "{isa}: {} threads", threads());
    }
}

/// Every optimizer and variant, with the clipping and weight decay the trainer applies
/// element by element around the update.
fn every_optimizer() -> Vec<Box<dyn Optimizer>> {
    vec![
        Box::new(Sgd::new(0.1)),
        Box::new(Sgd::new(0.1).momentum(0.9).clipvalue(0.01)),
        Box::new(Sgd::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-2)),
        Box::new(RMSprop::new(0.01)),
        Box::new(RMSprop::new(0.01).momentum(0.5)),
        Box::new(RMSprop::new(0.01).centered(true)),
        Box::new(RMSprop::new(0.01).momentum(0.5).centered(true).global_clipnorm(0.5)),
        Box::new(Adagrad::new(0.1)),
        Box::new(Adam::new(1e-3)),
        Box::new(Adam::new(1e-3).amsgrad(true)),
        Box::new(AdamW::new(1e-3).weight_decay(0.1)),
        Box::new(Nadam::new(1e-3)),
        Box::new(Adamax::new(1e-3)),
    ]
}

/// The first layer's 235,200 weights are updated in two parts on two threads (and its
/// gradient checked and zeroed so): the same bits as on one, for every optimizer.
#[test]
fn every_optimizer_updates_to_the_same_bits_on_one_and_two_threads() {
    let _one_at_a_time = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let data = fashion_like(64, 3);
    let train = |i: usize| {
        let optimizer = every_optimizer().swap_remove(i);
        let name = optimizer.name();
        let mut model =
            Model::compile(Plain::seeded(5), optimizer, SparseCategoricalCrossentropy::new()).seed(5);
        model.fit(&data, Fit::new().batch_size(32).epochs(2).verbose(Verbosity::Silent)).unwrap();
        let bits: Vec<u32> = model.net.dense_0.weight().iter().map(|w| w.to_bits()).collect();
        (name, bits)
    };
    for i in 0..every_optimizer().len() {
        set_threads(1);
        let (name, one) = train(i);
        set_threads(2);
        let (_, two) = train(i);
        assert_eq!(one, two, "{name} (optimizer {i}): {} threads", threads());
    }
}

/// A user's optimizer, which implements `update` only: the trainer's `update_and_zero`
/// falls back to the trait's default.
struct HalfStep;

impl Optimizer for HalfStep {
    fn name(&self) -> &'static str {
        "half step"
    }
    fn learning_rate(&self) -> f32 {
        0.5
    }
    fn set_learning_rate(&mut self, _: f32) {}
    fn begin_step(&mut self) {}
    fn update(&mut self, _: usize, value: &mut [f32], grad: &[f32]) {
        value.iter_mut().zip(grad).for_each(|(w, g)| *w -= 0.5 * g);
    }
    fn iterations(&self) -> u64 {
        0
    }
    fn state(&self) -> Vec<(String, Vec<f32>)> {
        vec![]
    }
    fn set_state(&mut self, _: u64, _: &[(String, Vec<f32>)]) -> Result<(), OptimError> {
        Ok(())
    }
}

/// `update_and_zero`, which the trainer calls and the optimizers here fuse (the gradient
/// zeroed a chunk at a time as the update reads it, in parts on two threads), updates to
/// the bits `update` gives on one thread and the portable path, and leaves the gradient all
/// zeros: every optimizer, wrappers included, and a user's that has only `update`, on
/// every path this CPU has (the update loops are compiled for each path's vectors).
#[test]
fn update_and_zero_is_update_then_zeroing() {
    let _one_at_a_time = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let n = 100_003;
    let grad: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect();
    let all = || {
        let mut all = every_optimizer();
        all.push(Box::new(HalfStep));
        all
    };
    let bits = |w: &[f32]| w.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for i in 0..all().len() {
        set_threads(1);
        let mut read = all().swap_remove(i);
        let mut want = vec![0.5f32; n];
        for _ in 0..3 {
            read.begin_step();
            with_isa(Isa::Portable, || read.update(0, &mut want, &grad));
        }
        assert_ne!(want, vec![0.5f32; n], "{}: the weights moved", read.name());
        for (isa, t) in Isa::supported_all().into_iter().flat_map(|isa| [(isa, 1), (isa, 2)]) {
            set_threads(t);
            let mut consumed = all().swap_remove(i);
            let (mut w, mut g) = (vec![0.5f32; n], grad.clone());
            for _ in 0..3 {
                consumed.begin_step();
                g.copy_from_slice(&grad);
                with_isa(isa, || consumed.update_and_zero(0, &mut w, &mut g));
                assert!(g.iter().all(|&g| g == 0.0), "{} (optimizer {i}), {isa}, {t} threads", read.name());
            }
            assert_eq!(bits(&want), bits(&w), "{} (optimizer {i}), {isa}, {t} threads", read.name());
        }
    }
}

/// Trains `model()` two epochs at batch 256 and predicts: every tensor's bits and the
/// predictions'.
fn train_256<N, O, L>(model: impl Fn() -> Model<N, O, L>) -> Vec<u32>
where
    N: Layer<Input = Batch<784>, Output = Batch<10>>,
    O: Optimizer,
    L: Loss,
{
    let data = fashion_like(512, 3);
    let mut model = model();
    model.fit(&data, Fit::new().batch_size(256).epochs(2).verbose(Verbosity::Silent)).unwrap();
    let predicted = model.predict(&data).unwrap();
    let mut bits: Vec<u32> =
        mlp::tensors::snapshot(&model.net).iter().flatten().map(|v| v.to_bits()).collect();
    bits.extend(predicted.iter().map(|v| v.to_bits()));
    bits
}

/// Model B's batch norms (normalizing in training, the one-pass inference form, the input
/// gradient) and model C's ELU and softmax (forward and derivative) split their
/// element-wise passes by samples at batch 256 and in prediction.
#[test]
fn element_wise_passes_train_and_predict_to_the_same_bits_on_one_and_two_threads() {
    let _one_at_a_time = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    set_threads(1);
    let (b1, c1) = (train_256(|| model_b(5)), train_256(|| model_c(5)));
    set_threads(2);
    let (b2, c2) = (train_256(|| model_b(5)), train_256(|| model_c(5)));
    assert_eq!(b1, b2, "model B, {} threads", threads());
    assert_eq!(c1, c2, "model C, {} threads", threads());
}
