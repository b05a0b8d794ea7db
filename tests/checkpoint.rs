//! Resuming from a checkpoint continues bit-identically; checkpoint callbacks write files.

use mlp::prelude::*;
use mlp::tensors::{collect, snapshot};
use rand::Rng as _;

network! { Net< input(4); dense(16, relu); batch_norm; dropout(0.2); dense(3, softmax) > }

fn blobs(n: usize) -> Dataset {
    let mut rng = mlp::rng::seeded(3);
    let x: Vec<f32> = (0..n * 4).map(|i| (i % 3) as f32 + rng.random_range(-1.0f32..1.0)).collect();
    let y: Vec<u32> = (0..n).map(|i| ((i * 4) % 3) as u32).collect();
    Dataset::classification(x, 4, y).unwrap()
}

fn quiet<'a>(epochs: usize) -> Fit<'a> {
    Fit::new().epochs(epochs).batch_size(16).verbose(Verbosity::Silent)
}

/// Four epochs straight, or two, a checkpoint, and two more in a fresh model: same weights.
fn resume_matches_a_straight_run<O: Optimizer>(optimizer: impl Fn() -> O) {
    let data = blobs(200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ckpt");

    let mut straight =
        Model::compile(Net::seeded(1), optimizer(), SparseCategoricalCrossentropy::new()).seed(5);
    straight.fit(&data, quiet(4)).unwrap();

    let mut first = Model::compile(Net::seeded(1), optimizer(), SparseCategoricalCrossentropy::new()).seed(5);
    first.fit(&data, quiet(2)).unwrap();
    first.save_checkpoint(&path).unwrap();

    // Another process: other initial weights, other seed; the checkpoint restores all.
    let mut resumed =
        Model::compile(Net::seeded(99), optimizer(), SparseCategoricalCrossentropy::new()).seed(77);
    resumed.load_checkpoint(&path).unwrap();
    assert_eq!(resumed.epoch(), 2);
    let h = resumed.fit(&data, quiet(2)).unwrap();
    assert_eq!(h.epochs[0].epoch, 3);
    assert_eq!(snapshot(&resumed.net), snapshot(&straight.net));
}

#[test]
fn resumed_training_is_bit_identical_to_an_uninterrupted_run() {
    resume_matches_a_straight_run(|| Adam::new(0.01));
}

#[test]
fn resumed_training_with_weight_decay_and_a_schedule_is_bit_identical() {
    // The decay is a setting, not state: the checkpoint needs nothing more.
    resume_matches_a_straight_run(|| {
        Adam::new(0.01)
            .weight_decay(0.05)
            .exclude_from_weight_decay(["batch_norm"])
            .with_schedule(ExponentialDecay::new(0.01, 5, 0.5))
    });
}

#[test]
fn a_checkpoint_of_another_optimizer_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adam.ckpt");
    let mut a = Model::compile(Net::seeded(1), Adam::new(0.01), SparseCategoricalCrossentropy::new());
    a.fit(&blobs(32), quiet(1)).unwrap();
    a.save_checkpoint(&path).unwrap();
    let mut b = Model::compile(Net::seeded(2), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    let before = collect(&mut b.net, |p| p.value.to_vec());
    let err = b.load_checkpoint(&path).unwrap_err();
    assert!(err.to_string().contains("adam"), "{err}");
    assert_eq!(collect(&mut b.net, |p| p.value.to_vec()), before);
    assert_eq!(b.epoch(), 0);
}

#[test]
fn model_checkpoint_keeps_the_best_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let best = dir.path().join("best.safetensors");
    let full = dir.path().join("last.ckpt");
    let data = blobs(120);
    let mut model = Model::compile(Net::seeded(1), Sgd::new(0.5), SparseCategoricalCrossentropy::new());
    let cb = ModelCheckpoint::new(&best).monitor("loss").save_best_only(true);
    let h = model.fit(&data, quiet(5).callback(cb).callback(ModelCheckpoint::new(&full).full(true))).unwrap();
    let losses = h.series("loss");
    let best_epoch = (0..5).min_by(|a, b| losses[*a].total_cmp(&losses[*b])).unwrap() + 1;
    assert!(best.exists() && full.exists());
    // The full checkpoint is the last epoch's and resumes there.
    let mut resumed = Model::compile(Net::seeded(3), Sgd::new(0.5), SparseCategoricalCrossentropy::new());
    resumed.load_checkpoint(&full).unwrap();
    assert_eq!(resumed.epoch(), 5);
    // The weight file loads into a fresh network.
    let mut net = Net::seeded(4);
    net.load(&best).unwrap();
    if best_epoch == 5 {
        assert_eq!(snapshot(&net), snapshot(&model.net));
    }
}
