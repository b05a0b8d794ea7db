//! Transfer learning, Géron's Fashion-MNIST experiment (Hands-On ML, ch. 11): model A
//! learns the 8 classes other than sandal and shirt; model B tells sandals from shirts
//! from only 200 training images, once on A's frozen (then fine-tuned) hidden layers and
//! once from scratch.
//!
//! ```text
//! cargo run --release --example transfer -- [--epochs-a 10] [--seed 42]
//! ```

use mlp::prelude::*;
use std::process::ExitCode;

network! {
    /// The hidden layers A and B share.
    pub Trunk<
        flatten(28, 28);
        dense(100, relu, init = he_normal);
        dense(100, relu, init = he_normal);
        dense(100, relu, init = he_normal);
    >
}
network! { pub ModelA< features: Trunk; dense(8, softmax) > }
network! { pub ModelB< features: Trunk; dense(1, sigmoid) > }

const SANDAL: u32 = 5;
const SHIRT: u32 = 6;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let missing = matches!(e.downcast_ref::<DataError>(), Some(DataError::NotFound { .. }));
            ExitCode::from(if missing { 2 } else { 1 })
        }
    }
}

fn flag(name: &str, default: u64) -> Result<u64, String> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).ok_or(format!("{name} needs a number")),
        None => Ok(default),
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let epochs_a = flag("--epochs-a", 10)? as usize;
    let seed = flag("--seed", 42)?;
    let quiet = |epochs| Fit::new().epochs(epochs).verbose(Verbosity::Silent);
    let (train, test) = fashion_mnist::load()?;

    // Task A: 8 classes, sandal and shirt left out, the rest renumbered 0..8.
    let relabel = |c: u32| if c > SHIRT { c - 2 } else { c };
    let not_b = |_: &[f32], c: u32| c != SANDAL && c != SHIRT;
    let train_a = train.filter(not_b)?.map_classes(relabel)?;
    let test_a = test.filter(not_b)?.map_classes(relabel)?;
    // Task B: sandal (0) or shirt (1), from the first 200 training images of the two.
    let is_b = |_: &[f32], c: u32| c == SANDAL || c == SHIRT;
    let to_b = |c: u32| u32::from(c == SHIRT);
    let train_b = train.filter(is_b)?.map_classes(to_b)?.split_at(200)?.0;
    let test_b = test.filter(is_b)?.map_classes(to_b)?;

    eprintln!("training model A on {} images of 8 classes for {epochs_a} epochs", train_a.len());
    let mut model_a =
        Model::compile(ModelA::seeded(seed), Sgd::new(0.01), SparseCategoricalCrossentropy::new());
    model_a.fit(&train_a, Fit::new().epochs(epochs_a))?;
    let acc_a = model_a.evaluate(&test_a)?.get("accuracy").unwrap_or(f32::NAN);
    let dir = std::env::temp_dir().join(format!("mlp-transfer-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path_a = dir.join("model_a.safetensors");
    model_a.net.save(&path_a)?;

    // B on A: a fresh B whose trunk is loaded from A's file (keys `features.*`), frozen
    // while the new head settles, then unfrozen with a lower rate (Géron: 4 + 16 epochs).
    let mut b_on_a = Model::compile(ModelB::seeded(seed), Sgd::new(0.1), BinaryCrossentropy::new());
    b_on_a.net.features.load_with(&path_a, &LoadOptions::new().prefix("features"))?;
    b_on_a.net.features.set_trainable(false);
    b_on_a.fit(&train_b, quiet(4))?;
    b_on_a.net.features.set_trainable(true);
    b_on_a.optimizer.set_learning_rate(1e-2);
    b_on_a.fit(&train_b, quiet(16))?;
    let acc_b_on_a = b_on_a.evaluate(&test_b)?.get("accuracy").unwrap_or(f32::NAN);

    // The same network from scratch, same data, same 20 epochs.
    let mut scratch = Model::compile(ModelB::seeded(seed), Sgd::new(0.1), BinaryCrossentropy::new());
    scratch.fit(&train_b, quiet(20))?;
    let acc_scratch = scratch.evaluate(&test_b)?.get("accuracy").unwrap_or(f32::NAN);
    std::fs::remove_dir_all(&dir)?;

    println!("model A test accuracy (8 classes): {acc_a:.4}");
    println!("model B from scratch test accuracy: {acc_scratch:.4}");
    println!("model B on A test accuracy: {acc_b_on_a:.4}");
    Ok(())
}
