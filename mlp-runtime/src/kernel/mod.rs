//! The one matrix-product function every layer calls, so the kernel can be swapped here.
//!
//! Three paths, chosen per call by shape and layout:
//! - matrix-vector products (a batch of one) whose matrix has contiguous rows: fused
//!   dot products, AVX2 + FMA when the CPU has them (detected at run time);
//! - other matrix-vector products and rank-one updates (a batch of one's backward pass):
//!   a direct loop over contiguous columns with no packing, vectorized by LLVM (compiled
//!   twice, for AVX2 and for the baseline);
//! - everything else: matrixmultiply's packing kernel, single-threaded. With
//!   [`set_threads`] above 1, a product large enough to pay for it is split by columns of
//!   the result across a rayon pool of that size: the halves are independent, so results
//!   do not depend on the count.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

#[cfg(target_arch = "x86_64")]
mod x86;

static THREADS: AtomicUsize = AtomicUsize::new(1);
static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();

/// Below this many multiply-adds a product stays on one thread: the hand-off costs more.
const PARALLEL_MIN: usize = 4_000_000;
/// Uses up to `threads` threads for large products (1, the default, keeps everything on
/// the calling thread). The pool is built on first use; later calls may lower the count
/// but not raise it above the first.
pub fn set_threads(threads: usize) {
    THREADS.store(threads.max(1), Ordering::Relaxed);
}

/// The thread count in use.
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

fn pool() -> Option<&'static rayon::ThreadPool> {
    POOL.get_or_init(|| rayon::ThreadPoolBuilder::new().num_threads(threads()).build().ok()).as_ref()
}

thread_local! {
    // Products sent to matrixmultiply by this thread (see `packed_calls`).
    static PACKED_CALLS: Cell<usize> = const { Cell::new(0) };
    // Column-major copy of a small product's left operand when it is stored transposed,
    // so the inner loop runs over contiguous memory. Grows to the largest small operand
    // once, then is reused: no allocation after the first step.
    static PACK_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Products this thread has run through matrixmultiply so far. matrixmultiply allocates
/// its packing buffer inside each of them (exactly once per call), and nothing else in
/// this module allocates after warm-up, so the allocation test compares against this.
#[cfg(any(test, feature = "testing"))]
pub fn packed_calls() -> usize {
    PACKED_CALLS.with(Cell::get)
}

/// A read-only matrix operand: a slice with row and column strides.
#[derive(Clone, Copy)]
pub struct Mat<'a> {
    /// The elements.
    pub data: &'a [f32],
    /// Distance between consecutive rows.
    pub rs: usize,
    /// Distance between consecutive columns.
    pub cs: usize,
}

impl std::fmt::Debug for Mat<'_> {
    /// The shape of the operand, not its (possibly megabytes of) elements.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mat")
            .field("len", &self.data.len())
            .field("rs", &self.rs)
            .field("cs", &self.cs)
            .finish()
    }
}

impl<'a> Mat<'a> {
    /// A column-major matrix with `rows` rows.
    pub fn col_major(data: &'a [f32], rows: usize) -> Self {
        Mat { data, rs: 1, cs: rows }
    }
    /// The transpose of a column-major matrix with `rows` rows.
    pub fn col_major_t(data: &'a [f32], rows: usize) -> Self {
        Mat { data, rs: rows, cs: 1 }
    }
}

/// `C = alpha * A * B + beta * C` with `A` m×k, `B` k×n and `C` m×n column-major with
/// leading dimension `m`.
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    if m == 0 || n == 0 {
        return;
    }
    // Checked always: the kernel below reads through raw pointers.
    assert!(c.len() >= m * n, "gemm: C too short");
    assert!(k == 0 || a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "gemm: A too short");
    assert!(k == 0 || b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: B too short");
    if n == 1 && a.cs == 1 && b.rs == 1 {
        return gemv_rows(m, k, alpha, a, b.data, beta, c);
    }
    if n == 1 || k == 1 {
        return small_gemm(m, k, n, alpha, a, b, beta, c);
    }
    if n >= 2 && m * n * k >= PARALLEL_MIN && threads() > 1 {
        if let Some(pool) = pool() {
            return split(pool, m, k, n, alpha, a, b, beta, c);
        }
    }
    gemm_one(m, k, n, alpha, a, b, beta, c)
}

#[allow(clippy::too_many_arguments)]
fn split(
    pool: &rayon::ThreadPool,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) {
    let c0 = Out { ptr: c.as_mut_ptr(), ld: m };
    if m >= n {
        // Rows [0, h) and [h, m) of C: each thread packs half of A (at a forward pass's
        // small batch, A is the big weight matrix; splitting columns instead would make
        // both threads pack all of it). `h` is a multiple of 8, matrixmultiply's AVX tile.
        let h = (m / 2).next_multiple_of(8);
        if h >= m {
            return gemm_one(m, k, n, alpha, a, b, beta, c);
        }
        let a1 = Mat { data: &a.data[h * a.rs..], ..a };
        // SAFETY: `c` holds m×n elements (checked in `gemm`); rows [0, h) and [h, m) of the
        // column-major block are disjoint sets of elements, so the two products never touch
        // the same float, and `c`'s unique borrow outlives the join.
        let c1 = Out { ptr: unsafe { c0.ptr.add(h) }, ld: m };
        pool.join(
            // SAFETY: as above; each call stays inside its rows of `c` and inside `a`/`b`.
            move || unsafe { sgemm(h, k, n, alpha, a, b, beta, c0) },
            move || unsafe { sgemm(m - h, k, n, alpha, a1, b, beta, c1) },
        );
    } else {
        // Columns [0, h) and [h, n) of C: each thread packs half of B.
        let h = n / 2;
        let b1 = Mat { data: &b.data[h * b.cs..], ..b };
        // SAFETY: columns [0, h) and [h, n) are disjoint, contiguous ranges of `c`.
        let c1 = Out { ptr: unsafe { c0.ptr.add(h * m) }, ld: m };
        pool.join(
            // SAFETY: as above.
            move || unsafe { sgemm(m, k, h, alpha, a, b, beta, c0) },
            move || unsafe { sgemm(m, k, n - h, alpha, a, b1, beta, c1) },
        );
    }
}

/// Where a product writes: column-major, `ld` floats between columns.
#[derive(Clone, Copy)]
struct Out {
    ptr: *mut f32,
    ld: usize,
}

// SAFETY: `Out` only carries a pointer to a block of C from `split` to the pool thread
// that writes it; `split` hands each thread a disjoint set of elements and joins before
// the borrow of C ends.
unsafe impl Send for Out {}

/// Which path a product takes; [`gemm_via`] forces one, for the benches that tune the
/// thresholds between them.
#[cfg(any(test, feature = "testing"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// matrixmultiply (packing), on the calling thread.
    Packed,
    /// The unpacked loop over contiguous columns.
    Small,
    /// matrixmultiply, split by columns over two threads of the pool (needs
    /// `set_threads(2)` or more; falls back to `Packed` otherwise).
    Split,
}

/// [`gemm`] forced onto one path (same checks): for tuning benches, not for layers.
#[cfg(any(test, feature = "testing"))]
#[allow(clippy::too_many_arguments)]
pub fn gemm_via(
    path: Path,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= m * n, "gemm: C too short");
    assert!(k == 0 || a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "gemm: A too short");
    assert!(k == 0 || b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: B too short");
    match path {
        Path::Packed => gemm_one(m, k, n, alpha, a, b, beta, c),
        Path::Small => small_gemm(m, k, n, alpha, a, b, beta, c),
        Path::Split => match pool() {
            Some(pool) if n >= 2 && threads() > 1 => split(pool, m, k, n, alpha, a, b, beta, c),
            _ => gemm_one(m, k, n, alpha, a, b, beta, c),
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn gemm_one(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    // SAFETY: `c` is a unique borrow of at least m×n floats (checked by the caller), so
    // it does not alias `a` or `b`.
    unsafe { sgemm(m, k, n, alpha, a, b, beta, Out { ptr: c.as_mut_ptr(), ld: m }) }
}

/// matrixmultiply's `sgemm`, counted (see [`packed_calls`]).
///
/// # Safety
/// `a` and `b` must hold the m×k and k×n operands their strides describe (as `gemm`
/// checks), `c` must be valid for writes of the m×n block at `ld` apart, and no other
/// thread may touch those elements during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: Out) {
    PACKED_CALLS.with(|n| n.set(n.get() + 1));
    // SAFETY: the caller's contract is matrixmultiply's.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.ptr,
            1,
            c.ld as isize,
        )
    }
}

/// `y = alpha * A x + beta * y` where row `i` of `A` is `a.data[i * a.rs..][..k]`: the
/// forward pass of a dense layer on one sample (`A` is the stored kernel read
/// transposed, so each output is one contiguous dot product).
fn gemv_rows(m: usize, k: usize, alpha: f32, a: Mat, x: &[f32], beta: f32, y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were just detected; `gemm` checked that `a.data` holds
        // `(m - 1) * a.rs + k` floats (cs = 1), `x` `k` (rs = 1, n = 1) and `y` `m`.
        unsafe { x86::gemv_rows(m, k, alpha, a.data.as_ptr(), a.rs, x.as_ptr(), beta, y.as_mut_ptr()) };
        return;
    }
    gemv_rows_portable(m, k, alpha, a, x, beta, y)
}

fn gemv_rows_portable(m: usize, k: usize, alpha: f32, a: Mat, x: &[f32], beta: f32, y: &mut [f32]) {
    let x = &x[..k];
    for (i, out) in y[..m].iter_mut().enumerate() {
        let row = &a.data[i * a.rs..i * a.rs + k];
        // Eight partial sums: an order LLVM may vectorize (a single running sum may not
        // be reassociated).
        let mut acc = [0.0f32; 8];
        let (rc, xc) = (row.chunks_exact(8), x.chunks_exact(8));
        let tail: f32 = rc.remainder().iter().zip(xc.remainder()).map(|(r, v)| r * v).sum();
        for (r8, x8) in rc.zip(xc) {
            for l in 0..8 {
                acc[l] += r8[l] * x8[l];
            }
        }
        let dot = acc.iter().sum::<f32>() + tail;
        *out = if beta == 0.0 { alpha * dot } else { alpha * dot + beta * *out };
    }
}

/// Matrix-vector products and rank-one updates without packing: columns of `A`
/// contiguous (copied into a reused thread-local buffer first when `A` is stored
/// transposed).
///
/// Only for `n == 1` or `k == 1`: measured (`cargo bench --bench compare -- --kernel`),
/// matrixmultiply beats this loop on every other shape, even the 4-32-16-4 network's
/// (4×32×32: 0.5 us packed, 3.8 us here, since a 4-row column is too short to vectorize),
/// while at batch 1 packing costs 3-8x more than it saves.
#[allow(clippy::too_many_arguments)]
fn small_gemm(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    if a.rs == 1 {
        return small_dispatch(m, k, n, alpha, a.data, a.cs, b, beta, c);
    }
    PACK_A.with(|buf| {
        let mut buf = buf.borrow_mut();
        if buf.len() < m * k {
            buf.resize(m * k, 0.0);
        }
        for (p, col) in buf.chunks_exact_mut(m).take(k).enumerate() {
            for (i, v) in col.iter_mut().enumerate() {
                *v = a.data[i * a.rs + p * a.cs];
            }
        }
        small_dispatch(m, k, n, alpha, &buf[..m * k], m, b, beta, c)
    })
}

#[allow(clippy::too_many_arguments)]
fn small_dispatch(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_avx2_fma() {
        // SAFETY: AVX2 and FMA were just detected (the only condition of a safe
        // `#[target_feature]` function).
        return unsafe { x86::small_gemm(m, k, n, alpha, a, lda, b, beta, c) };
    }
    small_gemm_body(m, k, n, alpha, a, lda, b, beta, c)
}

/// `C = alpha * A * B + beta * C` with `A` column-major (`lda` apart) as a sequence of
/// `C[:, j] += (alpha * B[p, j]) * A[:, p]`: the innermost loop runs over contiguous
/// columns with no bounds checks (zipped slices), which LLVM vectorizes.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn small_gemm_body(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) {
    for (j, col) in c.chunks_exact_mut(m).take(n).enumerate() {
        if beta == 0.0 {
            col.fill(0.0);
        } else if beta != 1.0 {
            col.iter_mut().for_each(|x| *x *= beta);
        }
        for p in 0..k {
            let s = alpha * b.data[p * b.rs + j * b.cs];
            let acol = &a[p * lda..p * lda + m];
            for (x, &av) in col.iter_mut().zip(acol) {
                *x += s * av;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: Mat, b: Mat) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i + j * m] += a.data[i * a.rs + p * a.cs] * b.data[p * b.rs + j * b.cs];
                }
            }
        }
        c
    }

    #[test]
    fn split_products_match_the_definition() {
        set_threads(2);
        for &(m, k, n) in &[(300, 50, 20), (20, 50, 300), (9, 3, 5), (64, 7, 64), (5, 9, 2)] {
            let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
            let (am, bm) = (Mat::col_major_t(&a, k), Mat::col_major(&b, k));
            let want = naive(m, k, n, am, bm);
            let mut c = vec![f32::NAN; m * n];
            gemm_via(Path::Split, m, k, n, 1.0, am, bm, 0.0, &mut c);
            assert_eq!(c, want, "{m}x{k}x{n}");
        }
    }

    #[test]
    fn both_paths_match_the_definition() {
        for &(m, k, n) in &[
            (3, 4, 2),
            (40, 30, 20),
            (1, 50, 1),
            (7, 1, 9),
            (300, 784, 1),
            (10, 100, 1),
            (7, 37, 1),
            (5, 3, 1),
            (33, 17, 32),
            (784, 1, 30),
            (100, 300, 64),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5).collect();
            for (am, bm) in [
                (Mat::col_major(&a, m), Mat::col_major(&b, k)),
                (Mat::col_major_t(&a, k), Mat::col_major_t(&b, n)),
            ] {
                let want = naive(m, k, n, am, bm);
                let mut c = vec![1.0; m * n];
                gemm(m, k, n, 1.0, am, bm, 0.0, &mut c);
                assert_eq!(c, want, "{m}x{k}x{n}");
                gemm(m, k, n, 2.0, am, bm, 1.0, &mut c);
                let thrice: Vec<f32> = want.iter().map(|x| 3.0 * x).collect();
                assert_eq!(c, thrice);
                // The portable fallbacks, which AVX2 machines never reach through `gemm`.
                if n == 1 && am.cs == 1 {
                    let mut c = vec![f32::NAN; m];
                    gemv_rows_portable(m, k, 1.0, am, &b, 0.0, &mut c);
                    assert_eq!(c, want, "portable gemv {m}x{k}");
                }
                if am.rs == 1 {
                    let mut c = vec![f32::NAN; m * n];
                    small_gemm_body(m, k, n, 1.0, am.data, m, bm, 0.0, &mut c);
                    assert_eq!(c, want, "portable small {m}x{k}x{n}");
                }
            }
        }
    }
}
