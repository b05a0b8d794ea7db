//! The long runs behind the accuracy claim: the tutorial's models, trained as in Keras
//! (same model, optimizer, batch size 32, no validation split), test accuracy after the
//! epochs Keras 3 was measured at, averaged over three seeds.
//!
//! ```text
//! cargo run --release --example keras_parity            # all three models, ~200 epochs
//! cargo run --release --example keras_parity -- plain   # one model
//! ```

use mlp::prelude::*;

#[path = "fashion_mnist/models.rs"]
mod models;
use models::{BatchNormMlp, DropoutMlp, Plain};

const SEEDS: [u64; 3] = [1, 2, 3];

/// Test accuracy after each epoch in `marks`, for one seed.
fn accuracies<N: Net<784, 10>, O: Optimizer>(
    net: N,
    optimizer: O,
    seed: u64,
    marks: &[usize],
    train: &Dataset,
    test: &Dataset,
) -> Result<Vec<f32>, TrainError> {
    let mut model = Model::compile(net, optimizer, SparseCategoricalCrossentropy::new()).seed(seed);
    let mut out = Vec::new();
    for &mark in marks {
        // fit continues where the last call stopped, so this is one run of `mark` epochs.
        model.fit(train, Fit::new().epochs(mark - model.epoch()).verbose(Verbosity::Silent))?;
        out.push(model.evaluate(test)?.get("accuracy").unwrap_or(f32::NAN));
    }
    Ok(out)
}

fn report(name: &str, marks: &[usize], keras: &[f32], runs: &[Vec<f32>]) {
    for (i, (&mark, &k)) in marks.iter().zip(keras).enumerate() {
        let each: Vec<String> = runs.iter().map(|r| format!("{:.4}", r[i])).collect();
        let mean = runs.iter().map(|r| r[i]).sum::<f32>() / runs.len() as f32;
        println!(
            "{name:<10} epoch {mark:>2}: mean {mean:.4} (seeds: {}), Keras {k:.3}, difference {:+.1} points",
            each.join(" "),
            100.0 * (mean - k)
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let only = std::env::args().nth(1);
    let want = |name: &str| only.as_deref().is_none_or(|o| o == name);
    mlp::kernel::set_threads(1);
    let (train, test) = fashion_mnist::load()?;
    if want("plain") {
        let marks = [1, 5, 10, 30];
        let runs: Result<Vec<_>, _> = SEEDS
            .iter()
            .map(|&s| accuracies(Plain::seeded(s), Sgd::new(0.01), s, &marks, &train, &test))
            .collect();
        report("plain", &marks, &[0.789, 0.842, 0.859, 0.876], &runs?);
    }
    if want("batchnorm") {
        let marks = [3, 20];
        let runs: Result<Vec<_>, _> = SEEDS
            .iter()
            .map(|&s| accuracies(BatchNormMlp::seeded(s), Sgd::new(0.01), s, &marks, &train, &test))
            .collect();
        report("batchnorm", &marks, &[0.869, 0.876], &runs?);
    }
    if want("dropout") {
        let marks = [10];
        let runs: Result<Vec<_>, _> = SEEDS
            .iter()
            .map(|&s| accuracies(DropoutMlp::seeded(s), Adam::new(1e-3), s, &marks, &train, &test))
            .collect();
        report("dropout", &marks, &[0.871], &runs?);
    }
    Ok(())
}
