//! Same seed, same weights, whatever the thread count: the kernel splits the elements of a
//! product's result among threads and computes each element the same way on any of them.
//! Its own test binary, because the thread count is process-wide.

#[path = "../benches/models.rs"]
mod models;

use mlp::kernel::{set_threads, threads, with_isa, Isa};
use mlp::prelude::*;
use models::*;

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

#[test]
fn one_and_two_threads_train_to_the_same_bits_on_every_path() {
    for isa in Isa::supported_all() {
        set_threads(1);
        assert_eq!(threads(), 1);
        let one = with_isa(isa, train_a);
        set_threads(2);
        let two = with_isa(isa, train_a);
        assert_eq!(one, two, "{isa}: {} threads", threads());
    }
}
