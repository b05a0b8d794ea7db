//! The rest of Géron's chapter 11 ("Training Deep Neural Networks") on Fashion-MNIST, each
//! technique as the book writes it in Keras:
//!
//! - a self-normalizing network: 20 SELU layers (`repeat`), LeCun initialization, alpha
//!   dropout before the output, on standardized inputs (alpha dropout after each of the 20
//!   layers does not learn in 2 epochs at this rate: 19.9% here, 19.9% in Keras 3);
//! - max-norm regularization (`kernel_constraint=MaxNorm(1.)`), with the largest row norm
//!   of each hidden kernel after training;
//! - PReLU against ReLU, same network otherwise;
//! - Monte Carlo dropout: the mean and standard deviation of 100 passes for a few test images.
//!
//! ```text
//! cargo run --release --example chapter_11 -- [--epochs 5] [--seed 42]
//! ```

use mlp::prelude::*;
use std::process::ExitCode;

network! {
    /// Géron's self-normalizing network, 20 hidden layers deep.
    pub SeluNet<
        flatten(28, 28);
        repeat(20)< dense(100, selu, init = lecun_normal) >;
        alpha_dropout(0.1);
        dense(10, softmax)
    >
}

network! {
    /// `Dense(100, activation="relu", kernel_initializer="he_normal", kernel_constraint=MaxNorm(1.))`
    pub MaxNormNet<
        flatten(28, 28);
        dense(300, relu, init = he_normal, max_norm = 1.0);
        dense(100, relu, init = he_normal, max_norm = 1.0);
        dense(10, softmax)
    >
}

network! {
    pub PreluNet<
        flatten(28, 28);
        dense(300, prelu, init = he_normal);
        dense(100, prelu, init = he_normal);
        dense(10, softmax)
    >
}

network! {
    pub ReluNet<
        flatten(28, 28);
        dense(300, relu, init = he_normal);
        dense(100, relu, init = he_normal);
        dense(10, softmax)
    >
}

network! {
    /// Géron's dropout model, used for Monte Carlo dropout.
    pub DropoutNet<
        flatten(28, 28);
        dropout(0.2);
        dense(100, relu, init = he_normal);
        dropout(0.2);
        dense(100, relu, init = he_normal);
        dropout(0.2);
        dense(10, softmax)
    >
}

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

/// `model.fit(train, epochs=epochs, validation_split=0.1)`, then the test accuracy.
fn train<N, O, L>(
    model: &mut Model<N, O, L>,
    train: &Dataset,
    test: &Dataset,
    epochs: usize,
) -> Result<f32, TrainError>
where
    N: Net<784, 10>,
    O: Optimizer,
    L: Loss,
{
    let settings = Fit::new().epochs(epochs).validation_split(0.1).verbose(Verbosity::Silent);
    model.fit(train, settings)?;
    Ok(model.evaluate(test)?.get("accuracy").unwrap_or(f32::NAN))
}

/// The largest L2 norm of a unit's incoming weights: a row of the `[out, in]` kernel.
fn largest_row_norm(weight: &[f32], inputs: usize) -> f32 {
    weight.chunks_exact(inputs).map(|row| row.iter().map(|w| w * w).sum::<f32>().sqrt()).fold(0.0, f32::max)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let epochs = flag("--epochs", 5)? as usize;
    let seed = flag("--seed", 42)?;
    let sgd = || Sgd::new(0.01).momentum(0.9);
    let loss = SparseCategoricalCrossentropy::new;
    let (train_set, test_set) = fashion_mnist::load()?;
    println!("{epochs} epochs each, seed {seed}, test accuracy on Fashion-MNIST's 10,000 test images\n");

    // Self-normalizing: SELU needs standardized inputs (Géron: `(X - mean) / std`, the
    // training set's statistics for both sets).
    let (mut train_std, mut test_std) = (train_set.clone(), test_set.clone());
    let scaler = Standardizer::fit(&train_std);
    scaler.apply(&mut train_std)?;
    scaler.apply(&mut test_std)?;
    let mut selu = Model::compile(SeluNet::seeded(seed), Sgd::new(1e-3).momentum(0.9), loss());
    let acc = train(&mut selu, &train_std, &test_std, epochs)?;
    println!(
        "SELU, 20 x dense(100, selu, lecun_normal), alpha_dropout(0.1), SGD(1e-3, momentum 0.9): {:.2}%",
        acc * 100.0
    );

    let mut max_norm = Model::compile(MaxNormNet::seeded(seed), sgd(), loss());
    let acc = train(&mut max_norm, &train_set, &test_set, epochs)?;
    let net = &max_norm.net;
    println!(
        "max_norm = 1.0, 300-100 ReLU, SGD(0.01, momentum 0.9): {:.2}%; largest row norms {:.6} (dense_0), {:.6} (dense_1), {:.4} (dense_2, unconstrained)",
        acc * 100.0,
        largest_row_norm(net.dense_0.weight(), 784),
        largest_row_norm(net.dense_1.weight(), 300),
        largest_row_norm(net.dense_2.weight(), 100),
    );

    let mut prelu = Model::compile(PreluNet::seeded(seed), sgd(), loss());
    let acc_prelu = train(&mut prelu, &train_set, &test_set, epochs)?;
    let mut relu = Model::compile(ReluNet::seeded(seed), sgd(), loss());
    let acc_relu = train(&mut relu, &train_set, &test_set, epochs)?;
    let slopes = prelu.net.prelu_0.get_tensor("weight").unwrap_or_default();
    let mean_slope = slopes.iter().sum::<f32>() / slopes.len().max(1) as f32;
    println!(
        "PReLU vs ReLU, 300-100, SGD(0.01, momentum 0.9): {:.2}% vs {:.2}%; prelu_0's slopes learned to a mean of {mean_slope:.4}",
        acc_prelu * 100.0,
        acc_relu * 100.0
    );

    let mut dropout = Model::compile(DropoutNet::seeded(seed), sgd(), loss());
    let acc = train(&mut dropout, &train_set, &test_set, epochs)?;
    let few = test_set.split_at(3)?.0;
    let mc = dropout.predict_mc_dropout_passes(&few, 100)?;
    let plain = dropout.predict(&few)?;
    println!(
        "dropout(0.2) x 3, SGD(0.01, momentum 0.9): {:.2}%; Monte Carlo dropout, 100 passes:",
        acc * 100.0
    );
    let labels = few.classes().unwrap_or_default();
    for (i, label) in labels.iter().enumerate() {
        let row = |v: &[f32]| v[i * 10..(i + 1) * 10].to_vec();
        let (mean, std, once) = (row(&mc.mean), row(&mc.std), row(&plain));
        let top = (0..10).max_by(|&a, &b| mean[a].total_cmp(&mean[b])).unwrap_or(0);
        println!(
            "  test image {i} (class {label}): class {top} with mean {:.3} +- std {:.3} (without MC dropout: {:.3})",
            mean[top], std[top], once[top]
        );
    }
    Ok(())
}
