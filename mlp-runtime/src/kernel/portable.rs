//! The portable path: four floats in an array, which LLVM turns into whatever vectors the
//! baseline target has (an SSE register on x86-64, a NEON register on aarch64, a `v128` on
//! wasm with `simd128`). Four, not eight: the tiles' accumulators then fit the sixteen
//! registers of SSE2 (with eight lanes they took 24 and were spilled: 3x slower).
//! Multiply and add round separately, so results differ from the FMA paths in the last bits.

use super::simd::Simd;
use super::tiles::{self, Job};

#[derive(Clone, Copy)]
pub(crate) struct F32x4([f32; 4]);

// SAFETY: plain Rust on an array; the pointer methods touch exactly the lanes they name.
unsafe impl Simd for F32x4 {
    const LANES: usize = 4;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        F32x4([0.0; 4])
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        F32x4([x; 4])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 4 readable floats at `p`.
        F32x4(unsafe { p.cast::<[f32; 4]>().read_unaligned() })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize) -> Self {
        let mut v = [0.0; 4];
        for (l, x) in v.iter_mut().enumerate().take(n) {
            // SAFETY: `l < n`, and the caller guarantees `n` readable floats.
            *x = unsafe { *p.add(l) };
        }
        F32x4(v)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 4 writable floats at `p`.
        unsafe { p.cast::<[f32; 4]>().write_unaligned(self.0) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, n: usize) {
        for (l, x) in self.0.iter().enumerate().take(n) {
            // SAFETY: `l < n`, and the caller guarantees `n` writable floats.
            unsafe { *p.add(l) = *x };
        }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        F32x4(core::array::from_fn(|l| acc.0[l] + self.0[l] * b.0[l]))
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        F32x4(core::array::from_fn(|l| self.0[l] * b.0[l]))
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        let v = self.0;
        (v[0] + v[2]) + (v[1] + v[3])
    }
}

/// Rows and columns `rows` × `cols` of the product, on the portable path.
///
/// # Safety
/// As [`tiles::run`].
pub(crate) unsafe fn run(job: &Job, rows: core::ops::Range<usize>, cols: core::ops::Range<usize>) {
    // SAFETY: the portable path needs no CPU feature; the rest is the caller's contract.
    unsafe { tiles::run::<F32x4>(job, rows, cols) }
}
