//! The AVX-512 path for x86-64 (sixteen lanes; masked loads and stores for the edges),
//! chosen at run time where the CPU has AVX-512 F.

use super::simd::Simd;
use super::tiles::{self, Job};
use core::arch::x86_64::*;

#[derive(Clone, Copy)]
pub(crate) struct F32x16(__m512);

/// Mask with the first `n` (at most 16) lanes set.
#[inline(always)]
fn first(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

// SAFETY: each method is one AVX-512 F intrinsic (or a short sequence); masked loads and
// stores touch only the lanes below `n`, and masked-off lanes never fault.
unsafe impl Simd for F32x16 {
    const LANES: usize = 16;
    const REGISTERS: usize = 32;
    #[inline(always)]
    unsafe fn zero() -> Self {
        F32x16(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        F32x16(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        F32x16(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize) -> Self {
        F32x16(unsafe { _mm512_maskz_loadu_ps(first(n), p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, n: usize) {
        unsafe { _mm512_mask_storeu_ps(p, first(n), self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        F32x16(unsafe { _mm512_fmadd_ps(self.0, b.0, acc.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        F32x16(unsafe { _mm512_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
}

/// Rows and columns `rows` × `cols` of the product, sixteen lanes with FMA.
///
/// # Safety
/// AVX-512 F must be present; the rest is [`tiles::run`]'s contract.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(crate) unsafe fn run(job: &Job, rows: core::ops::Range<usize>, cols: core::ops::Range<usize>) {
    // SAFETY: this function only runs where AVX-512 F is present; the rest is the caller's
    // contract.
    unsafe { tiles::run::<F32x16>(job, rows, cols) }
}
