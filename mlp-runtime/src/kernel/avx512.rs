//! The AVX-512 path for x86-64 (sixteen lanes; masked loads and stores for the edges),
//! chosen at run time where the CPU has AVX-512 F.

use super::simd::Simd;
use super::tiles::{self, Job};
use core::arch::x86_64::*;
use core::array::from_fn;

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
    const GROUP: usize = 16;
    #[inline(always)]
    unsafe fn sum_group(v: &[Self], out: &mut [f32]) {
        // SAFETY: the path's instructions are available (the trait's contract).
        let s = unsafe { sum16(from_fn(|x| v.get(x).map_or_else(|| _mm512_setzero_ps(), |v| v.0))) };
        out.copy_from_slice(&s[..out.len()]);
    }
}

/// The sums of sixteen registers' lanes, each by `_mm512_reduce_add_ps`'s tree (lane `i`
/// plus lane `i + 8`, then `i + 4`, `i + 2`, `i + 1`), sixteen at a time: 15 additions
/// and 30 shuffles instead of 16 times 4 and 4. Summed one by one, the sums were a large
/// share of a dot tile's time when the sum is short: with them left out (wrong results, a
/// measurement only), model A's `100x300` forward product at batch 256 took about 100 us
/// on one thread instead of 110-170.
#[inline(always)]
unsafe fn sum16(v: [__m512; 16]) -> [f32; 16] {
    // SAFETY: AVX-512 F is present (the caller's contract).
    unsafe {
        // Each step halves the lanes per register and doubles the registers per vector:
        // afterwards lane 4q + r holds the sum of register q + 4r.
        let l1: [__m512; 8] = from_fn(|j| {
            let (a, b) = (v[2 * j], v[2 * j + 1]);
            let lo = _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b);
            let hi = _mm512_shuffle_f32x4::<0b11_10_11_10>(a, b);
            _mm512_add_ps(lo, hi)
        });
        let l2: [__m512; 4] = from_fn(|j| {
            let (a, b) = (l1[2 * j], l1[2 * j + 1]);
            let lo = _mm512_shuffle_f32x4::<0b10_00_10_00>(a, b);
            let hi = _mm512_shuffle_f32x4::<0b11_01_11_01>(a, b);
            _mm512_add_ps(lo, hi)
        });
        let l3: [__m512; 2] = from_fn(|j| {
            let (a, b) = (_mm512_castps_pd(l2[2 * j]), _mm512_castps_pd(l2[2 * j + 1]));
            _mm512_add_ps(
                _mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)),
            )
        });
        let even = _mm512_shuffle_ps::<0b10_00_10_00>(l3[0], l3[1]);
        let odd = _mm512_shuffle_ps::<0b11_01_11_01>(l3[0], l3[1]);
        let s = _mm512_add_ps(even, odd);
        // Register i's sum is in lane 4 (i % 4) + i / 4.
        let mut lanes = [0.0f32; 16];
        _mm512_storeu_ps(lanes.as_mut_ptr(), s);
        from_fn(|i| lanes[4 * (i % 4) + i / 4])
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
