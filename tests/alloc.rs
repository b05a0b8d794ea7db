//! After a warm-up step, training steps and predictions allocate nothing in our code.
//!
//! A counting global allocator (this test binary's own) counts the allocations of the
//! current thread while a thread-local flag is set, so the test harness's other threads do
//! not disturb the count. Counting is not timing: nothing here measures speed.
//!
//! The product kernel included: its copy buffers are per thread and grow once, during the
//! warm-up, and its helper threads are started then too. The tests leave the thread count
//! at the process default (every core), so a product split across threads is counted as
//! well (the calling thread's share; the helpers allocate only their own buffers, once).

#[path = "../benches/models.rs"]
mod models;

use mlp::loss::Targets;
use mlp::prelude::*;
use models::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    // `const` initializers: no lazy initialization, no destructor, so touching them from
    // inside the allocator cannot allocate or recurse.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: during thread teardown the slots may be gone; nothing to count then.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every method forwards to the system allocator unchanged; counting only touches
// thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is forwarded as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn count(f: impl FnOnce()) -> usize {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    ALLOCS.with(|n| n.get())
}

fn assert_none(what: &str, allocs: usize) {
    assert_eq!(allocs, 0, "{what}: {allocs} allocations");
    eprintln!("{what}: no allocations");
}

#[test]
fn the_counter_sees_allocations_and_a_warm_product_makes_none() {
    assert_eq!(count(|| drop(std::hint::black_box(vec![1u8; 10]))), 1);
    // Products of each layout the layers use, at batch 256 (so they are split across
    // threads where the machine has two cores).
    let a = vec![1.0f32; 784 * 300];
    let b = vec![1.0f32; 784 * 300];
    let mut c = vec![0.0f32; 784 * 300];
    let products = |c: &mut [f32]| {
        use mlp::kernel::{gemm, Mat};
        gemm(300, 784, 256, 1.0, Mat::col_major_t(&a, 784), Mat::col_major(&b, 784), 0.0, c);
        gemm(784, 256, 300, 1.0, Mat::col_major(&a, 784), Mat::col_major_t(&b, 300), 1.0, c);
        gemm(784, 300, 256, 1.0, Mat::col_major(&a, 784), Mat::col_major(&b, 300), 0.0, c);
    };
    products(&mut c);
    assert_none("three products of model A's shapes at batch 256", count(|| products(&mut c)));
    assert_eq!(c[0], 300.0);
}

macro_rules! train_steps_allocate_nothing {
    ($name:ident, $model:expr, $label:literal) => {
        #[test]
        fn $name() {
            let data = fashion_like(64, 1);
            let classes: Vec<u32> = data.classes().unwrap()[..32].to_vec();
            let x: Batch<784> = first(&data, 32);
            let mut model = $model;
            // Warm-up: buffers take the batch size, optimizer state is created.
            model.train_step(&x, Targets::Classes(&classes)).unwrap();
            model.train_step(&x, Targets::Classes(&classes)).unwrap();
            let counts = count(|| {
                for _ in 0..3 {
                    std::hint::black_box(model.train_step(&x, Targets::Classes(&classes)).unwrap());
                }
            });
            assert_none(concat!($label, " train_step, batch 32"), counts);
        }
    };
}

train_steps_allocate_nothing!(model_a_train_step, model_a(1), "A");
train_steps_allocate_nothing!(model_b_train_step, model_b(1), "B");
train_steps_allocate_nothing!(model_c_train_step, model_c(1), "C");
// Exclusions are matched against each tensor's dotted key without building it.
train_steps_allocate_nothing!(
    model_b_with_weight_decay_train_step,
    Model::compile(
        BatchNormMlp::seeded(1),
        Sgd::new(0.01).weight_decay(1e-4).exclude_from_weight_decay(["bias", "batch_norm"]),
        SparseCategoricalCrossentropy::new()
    )
    .seed(1),
    "B with weight decay and exclusions"
);

#[test]
fn tiny_train_step_allocates_nothing() {
    let data = tiny_data(32, 1);
    let t: Vec<f32> = data.values().unwrap().to_vec();
    let x: Batch<4> = first(&data, 32);
    let mut model = model_t(1);
    model.train_step(&x, Targets::Values(&t)).unwrap();
    let counts = count(|| {
        for _ in 0..3 {
            std::hint::black_box(model.train_step(&x, Targets::Values(&t)).unwrap());
        }
    });
    assert_none("T train_step, batch 32", counts);
}

#[test]
fn predictions_allocate_nothing() {
    let data = fashion_like(32, 2);
    for n in [1, 32] {
        let x: Batch<784> = first(&data, n);
        let mut a = Plain::seeded(1);
        let mut b = BatchNormMlp::seeded(1);
        let mut c = DropoutMlp::seeded(1);
        a.predict(&x);
        b.predict(&x);
        c.predict(&x);
        let counts = count(|| {
            std::hint::black_box(a.predict(&x));
        });
        assert_none(&format!("A predict, batch {n}"), counts);
        let counts = count(|| {
            std::hint::black_box(b.predict(&x));
            std::hint::black_box(c.predict(&x));
        });
        assert_none(&format!("B and C predict, batch {n}"), counts);
    }
}

#[test]
fn chapter_11_layers_and_max_norm_allocate_nothing() {
    let data = fashion_like(32, 3);
    let x: Batch<784> = first(&data, 32);
    let dy = x.clone();
    let mut alpha = AlphaDropout::<784>::new(0.1);
    let mut prelu = PRelu::<784>::new();
    let mut bn = BatchNorm::<784>::new(0.99, 1e-3).without_center().without_scale();
    let mut passes = || {
        let mut ctx = Context::train(1);
        alpha.forward(&x, &mut ctx);
        alpha.backward(&x, &dy, Backward::FULL);
        prelu.forward(&x, &mut ctx);
        prelu.backward(&x, &dy, Backward::FULL);
        bn.forward(&x, &mut ctx);
        bn.backward(&x, &dy, Backward::FULL);
    };
    passes();
    assert_none("alpha dropout, PReLU and a bare batch norm, batch 32", count(&mut passes));
    // Max-norm runs inside every train step.
    let classes: Vec<u32> = data.classes().unwrap().to_vec();
    let dense = Dense::<784, 10>::new(Activation::Softmax, Init::GlorotUniform, &mut mlp::rng::seeded(1));
    let mut model =
        Model::compile(dense.with_max_norm(0.5), Sgd::new(0.1), SparseCategoricalCrossentropy::new());
    model.train_step(&x, Targets::Classes(&classes)).unwrap();
    let counts = count(|| {
        for _ in 0..3 {
            std::hint::black_box(model.train_step(&x, Targets::Classes(&classes)).unwrap());
        }
    });
    assert_none("dense with max-norm train_step, batch 32", counts);
}
