//! The tutorial's batch-norm network (the main job's `--model batchnorm`) as a WebAssembly
//! module: plain `extern "C"` exports that Node's and browsers' `WebAssembly` API call
//! directly, no wasm-bindgen and no JS glue to generate.
//!
//! The calls, in order (pointers are byte offsets into the exported `memory`; any call may
//! grow the memory, which detaches JS views of it, so make views after each call):
//!
//! 1. `weights_alloc(len) -> *mut u8`: room for a safetensors file of `len` bytes; copy the
//!    file there. `weights_load() -> i32` loads it (strictly: every tensor, no extras, the
//!    std loader's checks) and frees the buffer. With the `embed` feature,
//!    `weights_load_embedded()` loads the file embedded at build time instead.
//! 2. `input_alloc(n) -> *mut f32`: room for `n` images of `INPUT` (784) floats each, row by
//!    row, pixels / 255, as the data loader scales them.
//! 3. `predict(n) -> i32`: classifies them with the network's `predict`; then `output_ptr()`
//!    holds `n * CLASSES` probabilities (image by image) and `labels_ptr()` `n` class
//!    indices (u32), each the argmax of its image's probabilities.
//!
//! Every call returning `i32` returns [`OK`] (0) or an error code; `error_ptr()` and
//! `error_len()` then give the message as UTF-8. A panic traps (`unreachable`) after
//! keeping its message for `error_ptr()`; every later call returns [`TRAPPED`], since a
//! trap leaves the module's state half-updated.

#![no_std]

extern crate alloc;

#[cfg(not(all(target_family = "wasm", not(target_feature = "atomics"))))]
compile_error!("mlp-wasm is for single-threaded WebAssembly: cargo build --release --target wasm32v1-none");

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{RefCell, UnsafeCell};
use core::fmt::Write;

use mlp::batch::Batch;
use mlp::io::LoadOptions;

// The main job's own declaration (examples/fashion_mnist/models.rs), not a copy of it: the
// weight keys (`batch_norm_0.running_mean`, `dense_0.weight`, ...) cannot drift apart.
#[path = "../../../examples/fashion_mnist/models.rs"]
mod models;

use models::BatchNormMlp as Net;

/// Pixels per image (28 x 28).
pub const INPUT: usize = 784;
/// Fashion-MNIST's classes.
pub const CLASSES: usize = 10;

/// Success.
pub const OK: i32 = 0;
/// The weights did not load: not a safetensors file, or tensors missing, extra, of the
/// wrong shape or dtype, or not finite. The message names the tensor.
pub const BAD_WEIGHTS: i32 = 1;
/// `weights_load` before `weights_alloc`.
pub const NO_WEIGHTS_BUFFER: i32 = 2;
/// `predict` before weights loaded: the network would answer with its random start.
pub const NOT_LOADED: i32 = 3;
/// `predict(n)` with `n` not the count of the last `input_alloc`, or 0.
pub const BAD_COUNT: i32 = 4;
/// An earlier call panicked (see `error_ptr`); instantiate the module again.
pub const TRAPPED: i32 = 5;

/// The global allocator: grows the wasm memory on demand. Allocation happens when loading
/// and when the batch size changes, not per image.
#[global_allocator]
static ALLOC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A global for single-threaded wasm.
struct Global<T>(T);

// SAFETY: the compile_error! above limits this crate to wasm without the atomics feature:
// one thread, no interrupts, and no export calls another, so no value is reached from two
// places at once.
unsafe impl<T> Sync for Global<T> {}

/// The module's state between calls.
struct State {
    /// Built on first use (its random start is overwritten by the weights).
    net: Option<Net>,
    /// Whether weights have been loaded into `net`.
    loaded: bool,
    /// The safetensors bytes between `weights_alloc` and `weights_load`.
    weights: Option<Vec<u8>>,
    /// The images of the next `predict` (built on first use: `Batch` has no const
    /// constructor).
    input: Option<Batch<INPUT>>,
    /// The class of each image of the last `predict`.
    labels: Vec<u32>,
    /// The message of the last failed call.
    error: String,
}

static STATE: Global<RefCell<State>> = Global(RefCell::new(State {
    net: None,
    loaded: false,
    weights: None,
    input: None,
    labels: Vec::new(),
    error: String::new(),
}));

/// The message of a panic, kept outside `STATE` (which the panicking call may hold) in a
/// fixed buffer (the allocator may be what failed).
struct PanicText {
    bytes: [u8; 512],
    len: usize,
}

static PANIC: Global<UnsafeCell<Option<PanicText>>> = Global(UnsafeCell::new(None));

impl Write for PanicText {
    /// Keeps what fits (cut at a character boundary) and drops the rest.
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // SAFETY: one thread (see `Global`), and nothing else touches PANIC while it runs.
    let slot = unsafe { &mut *PANIC.0.get() };
    // The slot is filled before the message is written: a panic while writing it (a Display
    // impl that panics) finds it taken and traps at once instead of recursing.
    if slot.is_none() {
        let text = slot.insert(PanicText { bytes: [0; 512], len: 0 });
        let _ = write!(text, "mlp-wasm panicked: {info}");
    }
    core::arch::wasm32::unreachable()
}

/// Whether an earlier call panicked.
fn trapped() -> bool {
    // SAFETY: one thread; a shared read between calls.
    unsafe { (*PANIC.0.get()).is_some() }
}

/// Runs `f` on the state, unless an earlier call trapped; an error code from `f` keeps its
/// message for `error_ptr`.
fn with_state(f: impl FnOnce(&mut State) -> Result<(), (i32, String)>) -> i32 {
    if trapped() {
        return TRAPPED;
    }
    let mut state = STATE.0.borrow_mut();
    match f(&mut state) {
        Ok(()) => OK,
        Err((code, message)) => {
            state.error = message;
            code
        }
    }
}

/// A buffer of `len` bytes for a safetensors file, replacing any earlier one; null after a
/// trap.
#[no_mangle]
pub extern "C" fn weights_alloc(len: usize) -> *mut u8 {
    if trapped() {
        return core::ptr::null_mut();
    }
    let mut state = STATE.0.borrow_mut();
    let buf = state.weights.insert(alloc::vec![0; len]);
    buf.as_mut_ptr()
}

/// Loads the bytes given to `weights_alloc` into the network, and frees them.
#[no_mangle]
pub extern "C" fn weights_load() -> i32 {
    with_state(|state| {
        let bytes = state.weights.take().ok_or_else(|| {
            (
                NO_WEIGHTS_BUFFER,
                "no weights to load: call weights_alloc(len) and copy the file there first".to_string(),
            )
        })?;
        load(state, &bytes)
    })
}

/// Loads the weights embedded at build time (`embed` feature, file named by
/// `MLP_WASM_WEIGHTS`).
#[cfg(feature = "embed")]
#[no_mangle]
pub extern "C" fn weights_load_embedded() -> i32 {
    static EMBEDDED: &[u8] = include_bytes!(env!(
        "MLP_WASM_WEIGHTS",
        "the embed feature needs MLP_WASM_WEIGHTS=/absolute/path/model.safetensors at build time"
    ));
    with_state(|state| load(state, EMBEDDED))
}

/// Loads `bytes` into the network, all or nothing: a failed load keeps what was loaded
/// before.
fn load(state: &mut State, bytes: &[u8]) -> Result<(), (i32, String)> {
    let net = state.net.get_or_insert_with(|| Net::seeded(0));
    mlp::io::load_from_bytes(net, bytes, &LoadOptions::new()).map_err(|e| (BAD_WEIGHTS, e.to_string()))?;
    state.loaded = true;
    Ok(())
}

/// Room for `n` images of [`INPUT`] floats; null after a trap. The values are unspecified
/// until written.
#[no_mangle]
pub extern "C" fn input_alloc(n: usize) -> *mut f32 {
    if trapped() {
        return core::ptr::null_mut();
    }
    let mut state = STATE.0.borrow_mut();
    let input = state.input.get_or_insert_with(|| Batch::zeros(0));
    input.set_len(n);
    input.as_mut_slice().as_mut_ptr()
}

/// Classifies the `n` images in the input buffer.
#[no_mangle]
pub extern "C" fn predict(n: usize) -> i32 {
    with_state(|state| {
        let State { net, loaded, input, labels, .. } = state;
        let net = match net {
            Some(net) if *loaded => net,
            _ => return Err((NOT_LOADED, "no weights loaded: call weights_load first".to_string())),
        };
        let given = input.as_ref().map_or(0, |x| x.len());
        let input = match input {
            Some(x) if n > 0 && n == given => x,
            _ => {
                let why = alloc::format!("asked for {n} images; input_alloc last made room for {given}");
                return Err((BAD_COUNT, why));
            }
        };
        let out = net.predict(input);
        labels.clear();
        labels.extend((0..n).map(|i| mlp::batch::argmax(out.sample(i)) as u32));
        Ok(())
    })
}

/// The probabilities of the last `predict`: `n * CLASSES` floats, image by image.
#[no_mangle]
pub extern "C" fn output_ptr() -> *const f32 {
    if trapped() {
        return core::ptr::null();
    }
    let state = STATE.0.borrow();
    match &state.net {
        Some(net) => mlp::layer::Layer::output(net).as_slice().as_ptr(),
        None => core::ptr::null(),
    }
}

/// The classes of the last `predict`: `n` u32s.
#[no_mangle]
pub extern "C" fn labels_ptr() -> *const u32 {
    if trapped() {
        return core::ptr::null();
    }
    STATE.0.borrow().labels.as_ptr()
}

/// The message of the last failed call (UTF-8, `error_len()` bytes); a panic's message
/// after a trap.
#[no_mangle]
pub extern "C" fn error_ptr() -> *const u8 {
    // SAFETY: one thread; a shared read between calls.
    if let Some(text) = unsafe { &*PANIC.0.get() } {
        return text.bytes.as_ptr();
    }
    STATE.0.borrow().error.as_ptr()
}

/// The length in bytes of the message at `error_ptr()`.
#[no_mangle]
pub extern "C" fn error_len() -> usize {
    // SAFETY: as in `error_ptr`.
    if let Some(text) = unsafe { &*PANIC.0.get() } {
        return text.len;
    }
    STATE.0.borrow().error.len()
}

/// Pixels per image the network takes (784), so callers need not hard-code it.
#[no_mangle]
pub extern "C" fn input_width() -> usize {
    INPUT
}

/// Classes per image the network gives (10).
#[no_mangle]
pub extern "C" fn classes() -> usize {
    CLASSES
}
