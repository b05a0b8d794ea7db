//! The AVX2 + FMA path for x86-64, chosen at run time (users do not build with
//! `target-cpu=native`, so the baseline binary only assumes SSE2).

use super::simd::Simd;
use super::tiles::{self, Job};
use core::arch::x86_64::*;
use core::array::from_fn;

#[derive(Clone, Copy)]
pub(crate) struct F32x8(__m256);

/// Lane mask with the first `n` lanes set, for `vmaskmovps`.
#[inline(always)]
unsafe fn first(n: usize) -> __m256i {
    // SAFETY: AVX2 is present (the trait's contract).
    unsafe { _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)) }
}

// SAFETY: each method is one or a few AVX/AVX2/FMA intrinsics; masked loads and stores
// touch only the lanes below `n`.
unsafe impl Simd for F32x8 {
    const LANES: usize = 8;
    const REGISTERS: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self {
        F32x8(unsafe { _mm256_setzero_ps() })
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self {
        F32x8(unsafe { _mm256_set1_ps(x) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        F32x8(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize) -> Self {
        F32x8(unsafe { _mm256_maskload_ps(p, first(n)) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, n: usize) {
        unsafe { _mm256_maskstore_ps(p, first(n), self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, acc: Self) -> Self {
        F32x8(unsafe { _mm256_fmadd_ps(self.0, b.0, acc.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        F32x8(unsafe { _mm256_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn sum(self) -> f32 {
        unsafe {
            let s = _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
            _mm_cvtss_f32(s)
        }
    }
    const GROUP: usize = 8;
    #[inline(always)]
    unsafe fn sum_group(v: &[Self], out: &mut [f32]) {
        // SAFETY: the path's instructions are available (the trait's contract).
        let s = unsafe { sum8(from_fn(|x| v.get(x).map_or_else(|| _mm256_setzero_ps(), |v| v.0))) };
        out.copy_from_slice(&s[..out.len()]);
    }
}

/// The sums of eight registers' lanes, each by [`F32x8::sum`]'s tree (lane `i` plus lane
/// `i + 4`, then `i + 2`, `i + 1`), eight at a time: 7 additions and 14 shuffles
/// instead of 8 times 3 and 3.
#[inline(always)]
unsafe fn sum8(v: [__m256; 8]) -> [f32; 8] {
    // SAFETY: AVX2 is present (the caller's contract).
    unsafe {
        // Each step halves the lanes per register and doubles the registers per vector:
        // afterwards lane 4q + r holds the sum of register q + 2r.
        let l1: [__m256; 4] = from_fn(|j| {
            let (a, b) = (v[2 * j], v[2 * j + 1]);
            let lo = _mm256_permute2f128_ps::<0x20>(a, b);
            let hi = _mm256_permute2f128_ps::<0x31>(a, b);
            _mm256_add_ps(lo, hi)
        });
        let l2: [__m256; 2] = from_fn(|j| {
            let (a, b) = (_mm256_castps_pd(l1[2 * j]), _mm256_castps_pd(l1[2 * j + 1]));
            _mm256_add_ps(
                _mm256_castpd_ps(_mm256_unpacklo_pd(a, b)),
                _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)),
            )
        });
        let even = _mm256_shuffle_ps::<0b10_00_10_00>(l2[0], l2[1]);
        let odd = _mm256_shuffle_ps::<0b11_01_11_01>(l2[0], l2[1]);
        let s = _mm256_add_ps(even, odd);
        // Register i's sum is in lane 4 (i % 2) + i / 2.
        let mut lanes = [0.0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), s);
        from_fn(|i| lanes[4 * (i % 2) + i / 2])
    }
}

/// Rows and columns `rows` × `cols` of the product, eight lanes with FMA.
///
/// # Safety
/// AVX2 and FMA must be present; the rest is [`tiles::run`]'s contract.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn run(job: &Job, rows: core::ops::Range<usize>, cols: core::ops::Range<usize>) {
    // SAFETY: this function only runs where AVX2 and FMA are present, so the vector type's
    // instructions are available; the rest is the caller's contract.
    unsafe { tiles::run::<F32x8>(job, rows, cols) }
}
