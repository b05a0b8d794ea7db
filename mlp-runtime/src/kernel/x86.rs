//! AVX2 + FMA kernels for x86-64, chosen at run time (users do not build with
//! `target-cpu=native`, so the baseline binary only assumes SSE2).

use std::arch::x86_64::*;

/// True when the AVX2 + FMA kernels may run; `is_x86_feature_detected!` caches its answer,
/// so this is a load and a test.
#[inline]
pub fn has_avx2_fma() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// Sums the eight lanes of `v`.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

/// `y[i] = alpha * dot(a[i * lda ..][..k], x[..k]) + beta * y[i]` for `i < m`, with
/// `beta == 0` meaning "overwrite" (NaN in `y` does not leak through).
///
/// Four rows at a time share each load of `x`, and each row keeps two accumulators, so
/// eight independent FMA chains hide the FMA latency; the weights stream through once,
/// which is what bounds a matrix-vector product.
///
/// # Safety
/// AVX2 and FMA must be available; `a` must hold `(m - 1) * lda + k` floats, `x` `k`,
/// `y` `m`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemv_rows(
    m: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    x: *const f32,
    beta: f32,
    y: *mut f32,
) {
    // SAFETY (whole body): every pointer offset below stays inside the extents the caller
    // guarantees: rows `i..i + 4 <= m`, columns `p..p + 16 <= k` or `p < k`.
    unsafe {
        let k16 = k - k % 16;
        let mut i = 0;
        let finish = |i: usize, dot: f32| {
            let out = y.add(i);
            *out = if beta == 0.0 { alpha * dot } else { alpha * dot + beta * *out };
        };
        while i + 4 <= m {
            let r = [a.add(i * lda), a.add((i + 1) * lda), a.add((i + 2) * lda), a.add((i + 3) * lda)];
            let mut acc = [_mm256_setzero_ps(); 8];
            let mut p = 0;
            while p < k16 {
                let x0 = _mm256_loadu_ps(x.add(p));
                let x1 = _mm256_loadu_ps(x.add(p + 8));
                for (q, row) in r.iter().enumerate() {
                    acc[2 * q] = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(p)), x0, acc[2 * q]);
                    acc[2 * q + 1] = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(p + 8)), x1, acc[2 * q + 1]);
                }
                p += 16;
            }
            for (q, row) in r.iter().enumerate() {
                let mut dot = hsum(_mm256_add_ps(acc[2 * q], acc[2 * q + 1]));
                for t in k16..k {
                    dot += *row.add(t) * *x.add(t);
                }
                finish(i + q, dot);
            }
            i += 4;
        }
        while i < m {
            let row = a.add(i * lda);
            let (mut a0, mut a1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
            let mut p = 0;
            while p < k16 {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(p)), _mm256_loadu_ps(x.add(p)), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(row.add(p + 8)), _mm256_loadu_ps(x.add(p + 8)), a1);
                p += 16;
            }
            let mut dot = hsum(_mm256_add_ps(a0, a1));
            for t in k16..k {
                dot += *row.add(t) * *x.add(t);
            }
            finish(i, dot);
            i += 1;
        }
    }
}

/// [`super::small_gemm_body`] compiled for AVX2 + FMA: the same source, so the same
/// operations in the same order and the same results; LLVM vectorizes its contiguous
/// inner loop eight lanes wide instead of four. Safe code: calling it needs `unsafe` only
/// because the caller must have detected AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub fn small_gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: super::Mat,
    beta: f32,
    c: &mut [f32],
) {
    super::small_gemm_body(m, k, n, alpha, a, lda, b, beta, c)
}
