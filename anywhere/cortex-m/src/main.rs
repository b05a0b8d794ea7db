//! The 4-32-16-4 network on a Cortex-M4F: declared with `network!`, its trained weights
//! embedded in flash with `include_bytes!` and loaded with mlp's no_std safetensors reader,
//! then a few fixed inputs classified one at a time, as readings from a sensor would be.
//!
//! It prints over semihosting (QEMU, or a debug probe on a board) one line per input,
//! `sample INDEX class CLASS p P0 P1 P2 P3`, then what it measured: the heap's high-water
//! mark, the allocations made once the first sample has run (none), and the stack's
//! high-water mark. check.sh compares the lines with expected.txt, which the host's std
//! runtime wrote from the same weights.

#![no_std]
#![no_main]

extern crate alloc;

mod model;

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use embedded_alloc::LlffHeap;
use mlp::io::{load_from_bytes, LoadOptions};
use mlp::prelude::*;
use model::{Tiny, INPUTS};

/// The trained weights (made on the host by the root's tests/cortex_m_weights.rs).
static WEIGHTS: &[u8] = include_bytes!("../model.safetensors");

/// The heap's size: what the run measures it needs (its high-water mark, reached while the
/// weights load: see the README) with about a kilobyte to spare. A heap too small fails
/// the run, loudly.
const HEAP_SIZE: usize = 12 * 1024;

/// The heap's memory, in .bss.
static mut HEAP_MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];

/// embedded-alloc's linked-list heap, counting what it hands out so that the README can say
/// how much heap the network needs.
#[global_allocator]
static HEAP: MeasuredHeap = MeasuredHeap {
    heap: LlffHeap::empty(),
    requested: AtomicUsize::new(0),
    peak_requested: AtomicUsize::new(0),
    peak_used: AtomicUsize::new(0),
    allocations: AtomicUsize::new(0),
};

struct MeasuredHeap {
    heap: LlffHeap,
    /// Bytes the program holds now, as it asked for them.
    requested: AtomicUsize,
    /// The most it ever held at once, as it asked for them.
    peak_requested: AtomicUsize,
    /// The most the allocator ever had handed out at once: sizes rounded up to its blocks.
    peak_used: AtomicUsize,
    /// Allocations so far.
    allocations: AtomicUsize,
}

// SAFETY: allocation is the linked-list heap's (which locks with a critical section); the
// counters only watch it. `realloc` is the default (allocate, copy, free), through these
// two, so it is counted too.
unsafe impl GlobalAlloc for MeasuredHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let ptr = unsafe { self.heap.alloc(layout) };
        if !ptr.is_null() {
            let now = self.requested.fetch_add(layout.size(), Relaxed) + layout.size();
            self.peak_requested.fetch_max(now, Relaxed);
            self.peak_used.fetch_max(self.heap.used(), Relaxed);
            self.allocations.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.requested.fetch_sub(layout.size(), Relaxed);
        // SAFETY: the caller's contract, forwarded.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[entry]
fn main() -> ! {
    paint_stack();
    // SAFETY: called once, before anything allocates, with memory only the heap uses.
    unsafe { HEAP.heap.init(&raw mut HEAP_MEMORY as usize, HEAP_SIZE) };

    // The seeded initial values are all replaced by the file's: the load is all or nothing,
    // and checks every name, shape and value first.
    let mut net = Tiny::seeded(0);
    if let Err(e) = load_from_bytes(&mut net, WEIGHTS, &LoadOptions::new()) {
        fail(format_args!("loading the weights: {e}"));
    }
    let held_after_load = HEAP.requested.load(Relaxed);

    // One batch of one sample, refilled for each reading: after the first prediction (which
    // sizes the layers' buffers), predicting allocates nothing.
    let mut x = Batch::<4>::zeros(1);
    let mut allocations_after_first = 0;
    for (i, input) in INPUTS.iter().enumerate() {
        if i == 1 {
            allocations_after_first = HEAP.allocations.load(Relaxed);
        }
        x.sample_mut(0).copy_from_slice(input);
        let p = net.predict(&x).sample(0);
        let class = mlp::batch::argmax(p);
        hprintln!("sample {} class {} p {} {} {} {}", i, class, p[0], p[1], p[2], p[3]);
    }
    let allocations_after_first = HEAP.allocations.load(Relaxed) - allocations_after_first;

    hprintln!("weights: {} bytes of safetensors in flash", WEIGHTS.len());
    hprintln!(
        "heap: high-water {} bytes requested, {} bytes in the allocator's blocks, of {}",
        HEAP.peak_requested.load(Relaxed),
        HEAP.peak_used.load(Relaxed),
        HEAP_SIZE
    );
    hprintln!(
        "heap: held {} bytes after loading (the network), {} after predicting",
        held_after_load,
        HEAP.requested.load(Relaxed)
    );
    hprintln!("allocations after the first sample: {}", allocations_after_first);
    hprintln!("stack: high-water {} bytes", stack_high_water());
    debug::exit(debug::EXIT_SUCCESS);
    // Reached only where nothing answers the exit call.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Reports a failure and ends the run with a failing status (QEMU exits with it).
fn fail(why: core::fmt::Arguments<'_>) -> ! {
    hprintln!("error: {}", why);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // An allocation the heap cannot serve lands here too ("memory allocation of N bytes
    // failed"): a heap that is too small fails the run instead of hanging it.
    fail(format_args!("panic: {info}"))
}

// The stack's high-water mark: the free stack is filled with a pattern at the start, and at
// the end the deepest word no longer holding it is as far as the stack grew. The stack runs
// from `_stack_start` (the top of RAM) down to `_stack_end` (the end of .bss, where the heap
// array is), both from cortex-m-rt's link.x. The words are addressed by number and accessed
// volatile, as memory outside every Rust object, like a register.
const PAINT: u32 = 0x5EA5_1DE5;
/// Room left unpainted below the stack pointer, for `paint_stack`'s own frame.
const PAINT_MARGIN: usize = 64;

unsafe extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
}

fn paint_stack() {
    let bottom = (&raw const _stack_end).addr();
    let limit = cortex_m::register::msp::read() as usize - PAINT_MARGIN;
    for addr in (bottom..limit).step_by(4) {
        // SAFETY: between the end of .bss and (below) the stack pointer: no object lives
        // there, nothing has run in it yet, and no interrupt is enabled.
        unsafe { core::ptr::with_exposed_provenance_mut::<u32>(addr).write_volatile(PAINT) };
    }
}

fn stack_high_water() -> usize {
    let (bottom, top) = ((&raw const _stack_end).addr(), (&raw const _stack_start).addr());
    // SAFETY: reads of RAM words between the end of .bss and the top of the stack.
    let untouched = (bottom..top)
        .step_by(4)
        .find(|&addr| unsafe { core::ptr::with_exposed_provenance::<u32>(addr).read_volatile() } != PAINT)
        .unwrap_or(top);
    top - untouched
}
