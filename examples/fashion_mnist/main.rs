//! The main job: the Fashion-MNIST models of Géron's *Hands-On Machine Learning*
//! (chapters 10-11), trained and evaluated like the Keras tutorial.
//!
//! ```text
//! cargo run --release --example fashion_mnist -- --model batchnorm --epochs 10
//! ```
//!
//! Progress goes to stderr; the last two lines on stdout are `test accuracy: 0.8712` and
//! `train seconds: 9.8`. Exit status 2 for bad usage or missing data, 1 for other errors.
//!
//! Every output path is checked before the data is loaded, so a typo costs no training.
//! After training the weights are saved (and exported with `--export model.onnx`) first,
//! then the two lines are printed, then the pictures are drawn: a picture that fails is
//! reported (exit status 1) and loses nothing else. A closed stdout (`... | head -0`) ends
//! the program quietly.

mod models;

use mlp::prelude::*;
use models::{BatchNormMlp, DropoutMlp, Plain, ResidualMlp};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "\
usage: fashion_mnist [--model plain|batchnorm|dropout|residual] [--epochs N] [--batch-size N]
                     [--optimizer sgd|adam|adamw|adamax|nadam|rmsprop|adagrad] [--lr RATE] [--seed N]
                     [--validation-split F] [--threads N] [--plot PATH] [--errors PATH]
                     [--save PATH] [--export PATH] [--quiet]

Trains one of Géron's Fashion-MNIST networks and prints its test accuracy.
Defaults: --model batchnorm --epochs 10 --batch-size 32 --seed 42, --threads all cores
(or MLP_THREADS); --plot writes SVG learning curves, --errors a grid of misclassified test
images, --save the trained weights (safetensors), --export the trained network as ONNX
(for onnxruntime, Triton, onnxruntime-web). The optimizer is SGD
(lr 0.01) for plain and batchnorm, Adam (lr 0.001) for dropout and residual.
The data comes from $MLP_DATA_DIR/fashion-mnist, the user cache, Debian's
dataset-fashion-mnist package, or a download into the cache.";

/// The command line.
struct Args {
    model: String,
    epochs: usize,
    batch_size: usize,
    optimizer: Option<String>,
    lr: Option<f32>,
    seed: u64,
    validation_split: f64,
    threads: Option<usize>,
    plot: Option<String>,
    errors: Option<String>,
    save: Option<String>,
    export: Option<String>,
    quiet: bool,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut a = Args {
        model: "batchnorm".into(),
        epochs: 10,
        batch_size: 32,
        optimizer: None,
        lr: None,
        seed: 42,
        validation_split: 0.0,
        threads: None,
        plot: None,
        errors: None,
        save: None,
        export: None,
        quiet: false,
    };
    fn value<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse().map_err(|_| format!("{flag}: cannot read `{v}`"))
    }
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--model" => a.model = value(&flag, it.next())?,
            "--epochs" => a.epochs = value(&flag, it.next())?,
            "--batch-size" => a.batch_size = value(&flag, it.next())?,
            "--optimizer" => a.optimizer = Some(value(&flag, it.next())?),
            "--lr" => a.lr = Some(value(&flag, it.next())?),
            "--seed" => a.seed = value(&flag, it.next())?,
            "--validation-split" => a.validation_split = value(&flag, it.next())?,
            "--threads" => a.threads = Some(value(&flag, it.next())?),
            "--plot" => a.plot = Some(value(&flag, it.next())?),
            "--errors" => a.errors = Some(value(&flag, it.next())?),
            "--save" => a.save = Some(value(&flag, it.next())?),
            "--export" => a.export = Some(value(&flag, it.next())?),
            "--quiet" => a.quiet = true,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if a.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    if a.lr.is_some_and(|lr| !(lr.is_finite() && lr >= 0.0)) {
        return Err(format!("--lr must be a finite number >= 0, found {}", a.lr.unwrap_or_default()));
    }
    if !(0.0..1.0).contains(&a.validation_split) {
        return Err(format!("--validation-split must be in [0, 1), found {}", a.validation_split));
    }
    if a.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    // The library reads MLP_THREADS itself (when --threads is absent); a value it would
    // ignore stops the example instead.
    if let Ok(v) = std::env::var("MLP_THREADS") {
        v.trim().parse::<usize>().ok().filter(|n| *n > 0).ok_or(format!("MLP_THREADS: cannot read `{v}`"))?;
    }
    Ok(Some(a))
}

/// The optimizer by its Keras name, with Keras' default learning rate unless given.
fn optimizer(name: &str, lr: Option<f32>) -> Result<Box<dyn Optimizer>, String> {
    Ok(match name {
        "sgd" => Box::new(Sgd::new(lr.unwrap_or(0.01))),
        "adam" => Box::new(Adam::new(lr.unwrap_or(1e-3))),
        "adamw" => Box::new(AdamW::new(lr.unwrap_or(1e-3))),
        "adamax" => Box::new(Adamax::new(lr.unwrap_or(1e-3))),
        "nadam" => Box::new(Nadam::new(lr.unwrap_or(1e-3))),
        "rmsprop" => Box::new(RMSprop::new(lr.unwrap_or(1e-3))),
        "adagrad" => Box::new(Adagrad::new(lr.unwrap_or(1e-3))),
        other => return Err(format!("unknown optimizer `{other}`")),
    })
}

/// Why the run failed, and so its exit status.
enum Failure {
    Usage(String),
    Other(String),
    /// Stdout was closed by its reader: end quietly, as `cat` and `ls` do.
    ClosedStdout,
}

/// Prints one line on stdout; a reader that went away is [`Failure::ClosedStdout`] rather
/// than `println!`'s panic.
fn say(line: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Failure::ClosedStdout,
        _ => Failure::Other(format!("stdout: {e}")),
    })
}

/// Checks that `path` can be written, before any work: a typo must not cost a training.
fn check_output(flag: &str, path: &str) -> Result<(), Failure> {
    mlp::io::check_writable(path).map_err(|e| Failure::Usage(format!("{flag} {path}: {e}")))
}

impl From<DataError> for Failure {
    fn from(e: DataError) -> Self {
        match e {
            DataError::NotFound { .. } => Failure::Usage(e.to_string()),
            e => Failure::Other(e.to_string()),
        }
    }
}

impl From<TrainError> for Failure {
    fn from(e: TrainError) -> Self {
        Failure::Other(e.to_string())
    }
}

fn main() -> ExitCode {
    let result = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => run(&args),
        Ok(None) => say(USAGE),
        Err(msg) => Err(Failure::Usage(format!("{msg}\n\n{USAGE}"))),
    };
    match result {
        Ok(()) | Err(Failure::ClosedStdout) => ExitCode::SUCCESS,
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    let default_optimizer = match args.model.as_str() {
        "plain" | "batchnorm" => "sgd",
        "dropout" | "residual" => "adam",
        other => {
            return Err(Failure::Usage(format!(
                "unknown model `{other}`; try plain, batchnorm, dropout or residual"
            )))
        }
    };
    let opt =
        optimizer(args.optimizer.as_deref().unwrap_or(default_optimizer), args.lr).map_err(Failure::Usage)?;
    let outputs = [
        ("--save", &args.save),
        ("--export", &args.export),
        ("--plot", &args.plot),
        ("--errors", &args.errors),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path {
            check_output(flag, path)?;
        }
    }
    // --threads, else MLP_THREADS, else every core (the library's default); products too
    // small to pay for a hand-off stay on one thread either way.
    if let Some(threads) = args.threads {
        mlp::kernel::set_threads(threads);
    }
    // Keras: (X_train, y_train), (X_test, y_test) = fashion_mnist.load_data(); X / 255.
    let (train, test) = fashion_mnist::load()?;
    match args.model.as_str() {
        "plain" => train_and_test(Plain::seeded(args.seed), opt, args, &train, &test),
        "batchnorm" => train_and_test(BatchNormMlp::seeded(args.seed), opt, args, &train, &test),
        "dropout" => train_and_test(DropoutMlp::seeded(args.seed), opt, args, &train, &test),
        _ => train_and_test(ResidualMlp::seeded(args.seed), opt, args, &train, &test),
    }
}

fn train_and_test<N: Network + Net<784, 10>>(
    net: N,
    optimizer: Box<dyn Optimizer>,
    args: &Args,
    train: &Dataset,
    test: &Dataset,
) -> Result<(), Failure> {
    let verbosity = if args.quiet { Verbosity::Silent } else { Verbosity::Bar };
    if !args.quiet {
        eprintln!("{}", N::summary());
        eprintln!("kernel: the {} path on {} thread(s)", mlp::kernel::isa(), mlp::kernel::threads());
    }
    // Keras: model.compile(loss="sparse_categorical_crossentropy", optimizer=..., metrics=["accuracy"])
    let mut model = Model::compile(net, optimizer, SparseCategoricalCrossentropy::new()).seed(args.seed);
    let start = Instant::now();
    // Keras: history = model.fit(X_train, y_train, epochs=10, batch_size=32)
    let fit = Fit::new()
        .epochs(args.epochs)
        .batch_size(args.batch_size)
        .validation_split(args.validation_split)
        .verbose(verbosity);
    let history = model.fit(train, fit)?;
    let seconds = start.elapsed().as_secs_f64();
    // What took the training to make comes first: the weights, then the two lines.
    if let Some(path) = &args.save {
        model.net.save(path).map_err(|e| Failure::Other(e.to_string()))?;
    }
    // The same network as ONNX, the class names in its metadata (written atomically too).
    if let Some(path) = &args.export {
        let opts = OnnxOptions::new().metadata("classes", fashion_mnist::CLASS_NAMES.join(","));
        model.export_onnx_with(path, &opts).map_err(|e| Failure::Other(format!("--export {path}: {e}")))?;
    }
    // Keras: model.evaluate(X_test, y_test)
    let accuracy = model.evaluate(test)?.get("accuracy").unwrap_or(f32::NAN);
    say(&format!("test accuracy: {accuracy:.4}"))?;
    say(&format!("train seconds: {seconds:.1}"))?;
    // Pictures last: each failure is reported and the other one is still drawn.
    let mut failed = Vec::new();
    if let Some(path) = &args.plot {
        if let Err(e) = mlp::plot::training_curves(&history, path) {
            failed.push(format!("--plot {path}: {e}"));
        }
    }
    if let Some(path) = &args.errors {
        if let Err(e) = misclassified(&mut model, test, path) {
            failed.push(format!("--errors {path}: {}", e.message()));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Other(failed.join("\nerror: ")))
    }
}

impl Failure {
    fn message(&self) -> &str {
        match self {
            Failure::Usage(m) | Failure::Other(m) => m,
            Failure::ClosedStdout => "stdout was closed",
        }
    }
}

/// A grid of the first misclassified test images, captioned with true and predicted class.
fn misclassified<N: Net<784, 10>>(
    model: &mut Model<N, Box<dyn Optimizer>, SparseCategoricalCrossentropy>,
    test: &Dataset,
    path: &str,
) -> Result<(), Failure> {
    let predicted = model.predict_classes(test)?;
    let (mut images, mut captions) = (Vec::new(), Vec::new());
    for (i, &p) in predicted.iter().enumerate() {
        let (Some(truth), Some(image)) = (test.class(i), test.sample(i)) else { continue };
        if truth as usize != p && images.len() < 24 {
            images.push(image);
            let name = |c: usize| fashion_mnist::CLASS_NAMES.get(c).copied().unwrap_or("?");
            captions.push(format!("true: {} / predicted: {}", name(truth as usize), name(p)));
        }
    }
    let rows = images.len().div_ceil(6);
    mlp::plot::image_grid(&images, rows, 6, (28, 28), &captions, path)
        .map_err(|e| Failure::Other(e.to_string()))
}
