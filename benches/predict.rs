//! Inference speed of model A: one sample, and 10,000 samples in batches of 1,000 (the
//! batch size `Model::predict` uses). `cargo bench --bench predict`.

#[path = "models.rs"]
mod models;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use models::*;
use std::hint::black_box;
use std::time::Duration;

fn predict(c: &mut Criterion) {
    mlp::kernel::set_threads(1);
    let data = fashion_like(10_000, 7);
    let mut g = c.benchmark_group("A/predict");
    g.sample_size(30).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    let one = first::<784>(&data, 1);
    let mut net = Plain::seeded(42);
    g.bench_function("single", |b| b.iter(|| black_box(net.predict(&one).as_slice()[0])));
    let mut model = model_a(42);
    let mut out = Vec::new();
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("10k_in_1000s", |b| b.iter(|| model.predict_into(&data, &mut out).unwrap()));
    g.finish();
}

criterion_group!(benches, predict);
criterion_main!(benches);
