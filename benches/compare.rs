//! Our half of the side-by-side comparison with PyTorch (`scripts/compare.sh` runs it
//! beside `scripts/bench_pytorch.py` and prints one table). Not a criterion bench: it times
//! real 60,000-sample epochs, which criterion's sampling would make far too long, and it
//! prints the same JSON schema as `bench_pytorch.py`, so the two merge row by row.
//!
//! It is a `harness = false` bench target rather than an example so that it builds with the
//! optimized bench profile and is never compiled by `cargo test` (CI).
//!
//! ```text
//! cargo bench --bench compare -- --threads 1 [--models A,B,C,T] [--batch-sizes 32,256]
//!                                [--repeats 3] [--quick] [--real]
//! cargo bench --bench compare -- --kernel     # per-product timings of each kernel path (mlp-runtime/src/kernel/mod.rs)
//! ```
//!
//! Same protocol as `bench_pytorch.py`: per model and batch size, a warm-up epoch then
//! `repeats` timed epochs (median reported) of `Model::fit` (shuffle, gather, step) over
//! synthetic Fashion-MNIST-shaped data; single training steps at batch 1, 32 and 256
//! (median after 10 warm-up steps); models A's and B's prediction of one sample and of
//! 10,000 in batches of 1,000 (median, warm-up excluded). `--real` adds epochs of
//! `Model::fit` on the real Fashion-MNIST (A at batch 32, C at batch 256).

#[path = "models.rs"]
mod models;
#[path = "compare/report.rs"]
mod report;

use mlp::loss::Loss;
use mlp::optim::Optimizer;
use mlp::prelude::*;
use models::*;
use report::{cpu_seconds, loadavg, median, Predict, Row};
use std::hint::black_box;
use std::time::Instant;

const STEP_BATCHES: [usize; 3] = [1, 32, 256];

struct Args {
    threads: usize,
    models: Vec<String>,
    batch_sizes: Vec<usize>,
    repeats: usize,
    quick: bool,
    real: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        threads: 1,
        models: vec![],
        batch_sizes: vec![32, 256],
        repeats: 0,
        quick: false,
        real: false,
    };
    let mut models = "A,B,C,T".to_string();
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, f: &str| -> Result<usize, String> {
        v.and_then(|v| v.parse().ok()).ok_or(format!("{f} needs a number"))
    };
    while let Some(f) = it.next() {
        match f.as_str() {
            "--threads" => {
                // Set here, so a later `--profile` or `--kernel` runs with it.
                a.threads = num(it.next(), &f)?.max(1);
                mlp::kernel::set_threads(a.threads);
            }
            "--models" => models = it.next().ok_or("--models needs a list")?,
            "--batch-sizes" => {
                let v = it.next().ok_or("--batch-sizes needs a list")?;
                a.batch_sizes = v
                    .split(',')
                    .map(|s| s.parse().map_err(|_| format!("bad batch size {s}")))
                    .collect::<Result<_, _>>()?;
            }
            "--repeats" => a.repeats = num(it.next(), &f)?,
            "--quick" => a.quick = true,
            "--real" => a.real = true,
            "--locate-real" => {
                // The folder holding Fashion-MNIST, for the PyTorch side of `--real`.
                let source = mlp::data::fashion_mnist::source();
                match source.locate(&mlp::data::Search::from_env(&source.name)) {
                    Ok(files) => {
                        println!("{}", files[0].parent().unwrap_or(std::path::Path::new(".")).display())
                    }
                    Err(e) => {
                        eprintln!("compare: {e}");
                        std::process::exit(1);
                    }
                }
                std::process::exit(0);
            }
            "--profile" => {
                // `--profile MODEL BATCH STEPS`: only training steps, for perf or callgrind
                // (model P or PB: prediction passes of model A or B over BATCH samples; model F:
                // STEPS epochs of `Model::fit` with model A, FT with the tiny network).
                let model = it.next().ok_or("--profile needs a model")?;
                let batch = num(it.next(), &f)?;
                let steps = num(it.next(), &f)?;
                profile(&model, batch, steps);
                std::process::exit(0);
            }
            "--kernel" => {
                // `--kernel [FILTER]`: only the products whose label contains FILTER.
                kernel_report(it.next().as_deref().unwrap_or(""));
                std::process::exit(0);
            }
            // `cargo bench` passes this to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.repeats == 0 {
        a.repeats = if a.quick { 1 } else { 3 };
    }
    a.models = models.split(',').map(|m| m.trim().to_uppercase()).filter(|m| !m.is_empty()).collect();
    Ok(a)
}

fn bench_model<const I: usize, const OUT: usize, N, O, L>(
    name: &str,
    mut make: impl FnMut() -> Model<N, O, L>,
    data: &Dataset,
    epoch_batches: &[usize],
    args: &Args,
) -> Vec<Row>
where
    N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    let mut all: Vec<usize> = epoch_batches.iter().chain(&STEP_BATCHES).copied().collect();
    all.sort_unstable();
    all.dedup();
    let mut rows = Vec::new();
    for batch in all {
        let mut model = make();
        let mut row = Row::new(name, batch);
        if epoch_batches.contains(&batch) {
            if args.quick {
                // A short warm-up: the first 100 batches.
                let n = (100 * batch).min(data.len());
                let idx: Vec<usize> = (0..n).collect();
                let warm = data.subset(&idx).expect("indices in range");
                model.fit(&warm, quiet_fit(batch)).expect("warm-up");
            } else {
                model.fit(data, quiet_fit(batch)).expect("warm-up epoch");
            }
            timed_epochs(&mut model, data, batch, args.repeats, &mut row);
        }
        let x: Batch<I> = first(data, batch);
        let idx: Vec<usize> = (0..batch).collect();
        let mut targets = mlp::data::TargetBuf::default();
        data.fill_targets(&idx, &mut targets).expect("indices in range");
        let n = if batch >= 256 {
            if args.quick {
                20
            } else {
                100
            }
        } else if args.quick {
            50
        } else {
            500
        };
        let mut times = Vec::with_capacity(n);
        for k in 0..10 + n {
            let t0 = Instant::now();
            black_box(model.train_step(&x, targets.as_targets()).expect("a finite step"));
            if k >= 10 {
                times.push(t0.elapsed().as_secs_f64() * 1e6);
            }
        }
        row.step_us = Some(median(&mut times));
        let mut e = row.epoch_s_all.clone();
        eprintln!(
            "ours {name} batch {batch:3}: epoch {:.6} s (all {:?}), step {:.1} us",
            median(&mut e),
            row.epoch_s_all,
            row.step_us.unwrap()
        );
        rows.push(row);
    }
    rows
}

/// One silent epoch in batches of `batch`: how every timed `Model::fit` here runs.
fn quiet_fit(batch: usize) -> Fit<'static> {
    Fit::new().batch_size(batch).verbose(Verbosity::Silent)
}

/// Prediction of one sample through the generated `net.predict`, and of 10,000 samples in
/// batches of 1,000 through `Model::predict_into`.
/// `repeats` epochs of `Model::fit` at `batch`, each timed (wall and CPU) into `row`, and
/// after each one as many bare steps on one fixed batch (the loop `fit` is measured
/// against), timed as a whole: adjacent in time, so a noisy stretch of the machine hits
/// both alike.
fn timed_epochs<const I: usize, const OUT: usize, N, O, L>(
    model: &mut Model<N, O, L>,
    data: &Dataset,
    batch: usize,
    repeats: usize,
    row: &mut Row,
) where
    N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    row.epoch_steps = data.len().div_ceil(batch);
    let x: Batch<I> = first(data, batch.min(data.len()));
    let idx: Vec<usize> = (0..x.len()).collect();
    let mut targets = mlp::data::TargetBuf::default();
    data.fill_targets(&idx, &mut targets).expect("indices in range");
    for _ in 0..repeats {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        let h = model.fit(data, quiet_fit(batch)).expect("epoch");
        row.epoch_s_all.push(t0.elapsed().as_secs_f64());
        row.epoch_cpu.push(cpu_seconds() - c0);
        row.loss = h.series("loss").last().map(|v| *v as f64);
        let t0 = Instant::now();
        for _ in 0..row.epoch_steps {
            black_box(model.train_step(&x, targets.as_targets()).expect("a finite step"));
        }
        row.bare_epoch_s_all.push(t0.elapsed().as_secs_f64());
    }
}

fn predict<const OUT: usize, N, O, L>(
    name: &'static str,
    mut single: impl FnMut(&Batch<784>) -> f32,
    mut model: Model<N, O, L>,
    args: &Args,
) -> Predict
where
    N: Layer<Input = Batch<784>, Output = Batch<OUT>>,
    O: Optimizer,
    L: Loss,
{
    let data = fashion_like(10_000, 7);
    let one: Batch<784> = first(&data, 1);
    let calls = if args.quick { 200 } else { 2000 };
    let mut times = Vec::with_capacity(calls);
    for k in 0..200 + calls {
        let t0 = Instant::now();
        black_box(single(black_box(&one)));
        if k >= 200 {
            times.push(t0.elapsed().as_secs_f64() * 1e6);
        }
    }
    let single = median(&mut times);
    let mut out = Vec::new();
    let reps = if args.quick { 2 } else { 7 };
    let mut times = Vec::new();
    for k in 0..1 + reps {
        let t0 = Instant::now();
        model.predict_into(&data, &mut out).expect("width 784");
        black_box(&out);
        if k >= 1 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    let batch = median(&mut times);
    eprintln!("ours predict {name}: single {single:.1} us, 10k in batches of 1000 {batch:.1} ms");
    Predict { model: name, single_us: single, batch10k_ms: batch }
}

/// `--real`: epochs of `Model::fit` on the real Fashion-MNIST training set (the public
/// API end to end: loading once, then shuffle, gather, step per batch): A at batch 32 and
/// C at batch 256, each after one warm-up epoch.
fn real_rows(args: &Args) -> Vec<Row> {
    let (train, _) = match mlp::data::fashion_mnist::load() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("compare: --real: {e}");
            std::process::exit(1);
        }
    };
    fn epochs<const OUT: usize, N, O, L>(
        name: &str,
        mut model: Model<N, O, L>,
        data: &Dataset,
        batch: usize,
        args: &Args,
    ) -> Row
    where
        N: Layer<Input = Batch<784>, Output = Batch<OUT>>,
        O: Optimizer,
        L: Loss,
    {
        model.fit(data, quiet_fit(batch)).expect("warm-up epoch");
        let mut row = Row::new(name, batch);
        timed_epochs(&mut model, data, batch, args.repeats, &mut row);
        eprintln!("ours {name} batch {batch}: epochs {:?}", row.epoch_s_all);
        row
    }
    vec![epochs("A real", model_a(42), &train, 32, args), epochs("C real", model_c(42), &train, 256, args)]
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("compare: {e}");
            std::process::exit(2);
        }
    };
    mlp::kernel::set_threads(args.threads);
    let load_before = loadavg();
    let mut rows = Vec::new();
    let fashion = args.models.iter().any(|m| m != "T").then(|| fashion_like(60_000, 42));
    for m in &args.models {
        let b = &args.batch_sizes;
        match m.as_str() {
            "A" => rows.extend(bench_model(m, || model_a(42), fashion.as_ref().unwrap(), b, &args)),
            "B" => rows.extend(bench_model(m, || model_b(42), fashion.as_ref().unwrap(), b, &args)),
            "C" => rows.extend(bench_model(m, || model_c(42), fashion.as_ref().unwrap(), b, &args)),
            "T" => rows.extend(bench_model(m, || model_t(42), &tiny_data(10_000, 42), &[32], &args)),
            other => {
                eprintln!("compare: unknown model {other} (expected A, B, C or T)");
                std::process::exit(2);
            }
        }
    }
    if args.real {
        rows.extend(real_rows(&args));
    }
    let mut pred = Vec::new();
    if args.models.iter().any(|m| m == "A") {
        let mut net = Plain::seeded(42);
        pred.push(predict("A", |x| net.predict(x).as_slice()[0], model_a(42), &args));
    }
    if args.models.iter().any(|m| m == "B") {
        let mut net = BatchNormMlp::seeded(42);
        pred.push(predict("B", |x| net.predict(x).as_slice()[0], model_b(42), &args));
    }
    let report = report::json(args.threads, args.repeats, args.quick, load_before, rows, pred);
    println!("{}", serde_json::to_string_pretty(&report).expect("a JSON value prints"));
}

/// `--profile`: `steps` training steps of one model at one batch size and nothing else
/// (after two warm-up steps), so a profiler sees only the step.
fn profile(model: &str, batch: usize, steps: usize) {
    fn run<const I: usize, const OUT: usize, N, O, L>(
        mut m: Model<N, O, L>,
        data: &Dataset,
        batch: usize,
        steps: usize,
    ) where
        N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
        O: Optimizer,
        L: Loss,
    {
        let x: Batch<I> = first(data, batch);
        let idx: Vec<usize> = (0..batch).collect();
        let mut t = mlp::data::TargetBuf::default();
        data.fill_targets(&idx, &mut t).expect("indices in range");
        let t0 = Instant::now();
        for _ in 0..steps + 2 {
            black_box(m.train_step(&x, t.as_targets()).expect("a finite step"));
        }
        eprintln!("{:.1} us per step", t0.elapsed().as_secs_f64() * 1e6 / (steps + 2) as f64);
    }
    match model {
        // Prediction: `steps` passes of model A (P) or B (PB) over `batch` samples.
        "P" | "PB" => {
            fn passes<const OUT: usize, N, O, L>(mut m: Model<N, O, L>, batch: usize, steps: usize)
            where
                N: Layer<Input = Batch<784>, Output = Batch<OUT>>,
                O: Optimizer,
                L: Loss,
            {
                let data = fashion_like(batch, 1);
                let mut out = Vec::new();
                m.predict_into(&data, &mut out).expect("width 784");
                let mut times: Vec<f64> = (0..steps)
                    .map(|_| {
                        let t0 = Instant::now();
                        m.predict_into(&data, &mut out).expect("width 784");
                        black_box(&out);
                        t0.elapsed().as_secs_f64() * 1e6
                    })
                    .collect();
                times.sort_by(f64::total_cmp);
                eprintln!("{:.1} us per pass (fastest {:.1})", times[steps / 2], times[0]);
            }
            if model == "P" {
                passes(model_a(1), batch, steps)
            } else {
                passes(model_b(1), batch, steps)
            }
        }
        // `Model::fit`: STEPS epochs of model A over 60,000 samples (F) or of the tiny
        // network over 10,000 (FT), in batches of BATCH.
        "F" | "FT" => {
            fn epochs<const I: usize, const OUT: usize, N, O, L>(
                mut m: Model<N, O, L>,
                data: &Dataset,
                batch: usize,
                epochs: usize,
            ) where
                N: Layer<Input = Batch<I>, Output = Batch<OUT>>,
                O: Optimizer,
                L: Loss,
            {
                let t0 = Instant::now();
                m.fit(data, quiet_fit(batch).epochs(epochs)).expect("an epoch");
                let per = t0.elapsed().as_secs_f64() * 1e6 / (epochs * data.len().div_ceil(batch)) as f64;
                eprintln!("{per:.1} us per step, fit included");
            }
            if model == "F" {
                epochs(model_a(1), &fashion_like(60_000, 1), batch, steps)
            } else {
                epochs(model_t(1), &tiny_data(10_000, 1), batch, steps)
            }
        }
        "A" => run(model_a(1), &fashion_like(batch, 1), batch, steps),
        "B" => run(model_b(1), &fashion_like(batch, 1), batch, steps),
        "C" => run(model_c(1), &fashion_like(batch, 1), batch, steps),
        _ => run(model_t(1), &tiny_data(batch, 1), batch, steps),
    }
}

/// `--kernel`: the products of model A (batch 1, 32, 256) and of the tiny network (batch
/// 32), in microseconds per call: our kernel on each path this CPU supports (one thread),
/// on the widest path with two threads, and matrixmultiply (what the kernel used before,
/// one thread) for comparison. The numbers behind `PART_MIN` in
/// mlp-runtime/src/kernel/mod.rs.
fn kernel_report(filter: &str) {
    use mlp::kernel::{gemm_on, Isa, Mat};
    // (label, m, k, n, A stored transposed: the forward pass reads the kernel as W^T,
    // B transposed: the weight gradient reads dz^T)
    let mut shapes: Vec<(String, usize, usize, usize, bool, bool)> = Vec::new();
    for n in [1, 32, 256, 1000] {
        for (i, o) in [(784, 300), (300, 100), (100, 10)] {
            shapes.push((format!("A fwd {o}x{i} b{n}"), o, i, n, true, false));
            shapes.push((format!("A dW {i}x{o} b{n}"), i, n, o, false, true));
            if i != 784 {
                shapes.push((format!("A dx {i}x{o} b{n}"), i, o, n, false, false));
            }
        }
    }
    for (i, o) in [(4, 32), (32, 16), (16, 4)] {
        shapes.push((format!("T fwd {o}x{i} b32"), o, i, 32, true, false));
        shapes.push((format!("T dW {i}x{o} b32"), i, 32, o, false, true));
        if i != 4 {
            shapes.push((format!("T dx {i}x{o} b32"), i, o, 32, false, false));
        }
    }
    // Operands that stay in L1/L2: how close each form's tiles get to the CPU's peak.
    for (m, k, n) in [(64, 256, 60), (32, 256, 60)] {
        shapes.push((format!("probe outer {m}x{k}x{n}"), m, k, n, false, false));
        shapes.push((format!("probe dot {m}x{k}x{n}"), m, k, n, true, false));
    }
    let isas = Isa::supported_all();
    let best = Isa::best();
    mlp::kernel::set_threads(2);
    let head: Vec<String> = isas.iter().map(|i| format!("{i} 1t")).collect();
    println!(
        "| product (m x k x n) | GFLOP | {} | {best} 2t | matrixmultiply 1t | best GFLOP/s |",
        head.join(" | ")
    );
    println!("|---|---|{}---|---|---|", "---|".repeat(isas.len()));
    for (label, m, k, n, at, bt) in shapes.into_iter().filter(|s| s.0.contains(filter)) {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 13) as f32 * 0.01).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.01).collect();
        let mut c = vec![0.0f32; m * n];
        let am = if at { Mat::col_major_t(&a, k) } else { Mat::col_major(&a, m) };
        let bm = if bt { Mat::col_major_t(&b, n) } else { Mat::col_major(&b, k) };
        let time = |c: &mut Vec<f32>, f: &dyn Fn(&mut [f32])| {
            let reps = (20_000_000 / (m * k * n).max(1)).clamp(5, 20_000);
            let mut best = Vec::new();
            for _ in 0..7 {
                let t0 = Instant::now();
                for _ in 0..reps {
                    f(black_box(c.as_mut_slice()));
                }
                best.push(t0.elapsed().as_secs_f64() * 1e6 / reps as f64);
            }
            median(&mut best)
        };
        let ours: Vec<f64> = isas
            .iter()
            .map(|&isa| time(&mut c, &|c| gemm_on(isa, 1, m, k, n, 1.0, am, bm, 1.0, c)))
            .collect();
        let two = time(&mut c, &|c| gemm_on(best, 2, m, k, n, 1.0, am, bm, 1.0, c));
        let mm = time(&mut c, &|c| {
            // SAFETY: the operands hold the m×k, k×n and m×n blocks their strides describe.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    am.data.as_ptr(),
                    am.rs as isize,
                    am.cs as isize,
                    bm.data.as_ptr(),
                    bm.rs as isize,
                    bm.cs as isize,
                    1.0,
                    c.as_mut_ptr(),
                    1,
                    m as isize,
                )
            }
        });
        let flop = 2.0 * (m * k * n) as f64;
        let fastest = ours.iter().chain([&two]).fold(f64::INFINITY, |a, &b| a.min(b));
        let cols: Vec<String> = ours.iter().map(|t| format!("{t:.2}")).collect();
        println!(
            "| {label} ({m}x{k}x{n}) | {:.4} | {} | {two:.2} | {mm:.2} | {:.1} |",
            flop / 1e9,
            cols.join(" | "),
            flop / fastest / 1e3
        );
    }
}
