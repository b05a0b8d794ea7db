//! After a warm-up step, training steps and predictions allocate nothing in our code.
//!
//! A counting global allocator (this test binary's own) counts the allocations of the
//! current thread while a thread-local flag is set, so the test harness's other threads do
//! not disturb the count. Counting is not timing: nothing here measures speed.
//!
//! The product kernel is the one place allowed to allocate: if it is matrixmultiply, that
//! crate allocates its packing buffer inside every call it packs for.
//! [`mlp::kernel::packed_calls`] counts those calls, so each check asserts the allocations
//! of a step equal the kernel's own (zero when the kernel allocates nothing).

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

/// Allocations made by `f` on this thread, and how many of them the kernel accounts for.
fn count(f: impl FnOnce()) -> (usize, usize) {
    let kernel_before = mlp::kernel::packed_calls();
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    (ALLOCS.with(|n| n.get()), mlp::kernel::packed_calls() - kernel_before)
}

fn assert_none_but_kernel(what: &str, (allocs, kernel): (usize, usize)) {
    assert_eq!(
        allocs, kernel,
        "{what}: {allocs} allocations, of which the product kernel accounts for {kernel}"
    );
    eprintln!("{what}: {allocs} allocations, all inside the product kernel");
}

#[test]
fn the_counter_sees_allocations_and_the_kernel_accounts_for_its_own() {
    let (n, _) = count(|| drop(std::hint::black_box(vec![1u8; 10])));
    assert_eq!(n, 1);
    // One big product through the kernel: whatever it allocates, it reports.
    let a = vec![1.0f32; 300 * 784];
    let b = vec![1.0f32; 784 * 32];
    let mut c = vec![0.0f32; 300 * 32];
    let (allocs, kernel) = count(|| {
        mlp::kernel::gemm(
            300,
            784,
            32,
            1.0,
            mlp::kernel::Mat::col_major(&a, 300),
            mlp::kernel::Mat::col_major(&b, 784),
            0.0,
            &mut c,
        )
    });
    assert_eq!(allocs, kernel);
    assert_eq!(c[0], 784.0);
}

macro_rules! train_steps_allocate_nothing {
    ($name:ident, $model:expr, $label:literal) => {
        #[test]
        fn $name() {
            mlp::kernel::set_threads(1);
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
            assert_none_but_kernel(concat!($label, " train_step, batch 32"), counts);
        }
    };
}

train_steps_allocate_nothing!(model_a_train_step, model_a(1), "A");
train_steps_allocate_nothing!(model_b_train_step, model_b(1), "B");
train_steps_allocate_nothing!(model_c_train_step, model_c(1), "C");

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
    assert_none_but_kernel("T train_step, batch 32", counts);
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
        assert_none_but_kernel(&format!("A predict, batch {n}"), counts);
        let counts = count(|| {
            std::hint::black_box(b.predict(&x));
            std::hint::black_box(c.predict(&x));
        });
        assert_none_but_kernel(&format!("B and C predict, batch {n}"), counts);
    }
}
