//! Training speed: single steps at batch 1, 32 and 256 and epoch slices at 32 and 256 for
//! models A, B and C, and the tiny 4-32-16-4 network's step and full epoch.
//!
//! `cargo bench --bench train`. An "epoch" here is `fit` over 6,000 synthetic samples (a
//! tenth of Fashion-MNIST, to keep bench time sane): multiply by 10 for a 60,000-sample
//! epoch, or read the samples/s criterion reports. `scripts/compare.sh` times real
//! 60,000-sample epochs beside PyTorch.

#[path = "models.rs"]
mod models;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mlp::loss::{Loss, Targets};
use mlp::optim::Optimizer;
use mlp::prelude::*;
use models::*;
use std::hint::black_box;
use std::time::Duration;

const EPOCH_SLICE: usize = 6_000;

fn steps<N, O, L>(c: &mut Criterion, name: &str, mut make: impl FnMut() -> Model<N, O, L>, data: &Dataset)
where
    N: Layer<Input = Batch<784>, Output = Batch<10>>,
    O: Optimizer,
    L: Loss,
{
    let mut g = c.benchmark_group(format!("{name}/step"));
    g.sample_size(20).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    for batch in [1, 32, 256] {
        let x: Batch<784> = first(data, batch);
        let classes = data.classes().unwrap()[..batch].to_vec();
        let mut model = make();
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |bench, _| {
            bench.iter(|| black_box(model.train_step(&x, Targets::Classes(&classes))))
        });
    }
    g.finish();
    let mut g = c.benchmark_group(format!("{name}/epoch6k"));
    g.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(EPOCH_SLICE as u64));
    for batch in [32, 256] {
        let mut model = make();
        g.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |bench, &batch| {
            bench.iter(|| {
                let fit = Fit::new().batch_size(batch).verbose(Verbosity::Silent);
                black_box(model.fit(data, fit).unwrap())
            })
        });
    }
    g.finish();
}

fn models_abc(c: &mut Criterion) {
    mlp::kernel::set_threads(1);
    let data = fashion_like(EPOCH_SLICE, 42);
    steps(c, "A", || model_a(42), &data);
    steps(c, "B", || model_b(42), &data);
    steps(c, "C", || model_c(42), &data);
}

fn tiny(c: &mut Criterion) {
    mlp::kernel::set_threads(1);
    let data = tiny_data(10_000, 42);
    let mut g = c.benchmark_group("T");
    g.sample_size(20).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let x: Batch<4> = first(&data, 32);
    let t = data.values().unwrap()[..32 * 4].to_vec();
    let mut model = model_t(42);
    g.bench_function("step/32", |bench| bench.iter(|| black_box(model.train_step(&x, Targets::Values(&t)))));
    let mut model = model_t(42);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("epoch10k/32", |bench| {
        bench.iter(|| {
            black_box(model.fit(&data, Fit::new().batch_size(32).verbose(Verbosity::Silent)).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, models_abc, tiny);
criterion_main!(benches);
