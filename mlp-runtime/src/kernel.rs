//! The one matrix-product function every layer calls, so the kernel can be swapped here.
//!
//! Products run on matrixmultiply's single-threaded kernel. With [`set_threads`] above 1,
//! a product large enough to pay for it is split by columns of the result across a rayon
//! pool of that size: the halves are independent, so results do not depend on the count.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    if m * n * k <= SMALL {
        return small_gemm(m, k, n, alpha, a, b, beta, c);
    }
    if n >= 2 && m * n * k >= PARALLEL_MIN && threads() > 1 {
        if let Some(pool) = pool() {
            // Columns [0, h) and [h, n) of C are independent products.
            let h = n / 2;
            let (c0, c1) = c.split_at_mut(h * m);
            let b1 = Mat { data: &b.data[h * b.cs..], rs: b.rs, cs: b.cs };
            pool.join(|| gemm_one(m, k, h, alpha, a, b, beta, c0), || gemm_one(m, k, n - h, alpha, a, b1, beta, c1));
            return;
        }
    }
    gemm_one(m, k, n, alpha, a, b, beta, c)
}

#[allow(clippy::too_many_arguments)]
fn gemm_one(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    // SAFETY: the asserts in `gemm` keep every index inside the slices (a split keeps
    // them too); `c` is a unique borrow, so it does not alias `a` or `b`.
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
            c.as_mut_ptr(),
            1,
            m as isize,
        )
    }
}

/// Below this many multiply-adds, packing costs more than it saves.
const SMALL: usize = 16 * 16 * 16;

#[allow(clippy::too_many_arguments)]
fn small_gemm(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    for j in 0..n {
        let col = &mut c[j * m..(j + 1) * m];
        if beta == 0.0 {
            col.fill(0.0);
        } else if beta != 1.0 {
            col.iter_mut().for_each(|x| *x *= beta);
        }
        for p in 0..k {
            let s = alpha * b.data[p * b.rs + j * b.cs];
            if s == 0.0 {
                continue;
            }
            for (i, x) in col.iter_mut().enumerate() {
                *x += s * a.data[i * a.rs + p * a.cs];
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
    fn both_paths_match_the_definition() {
        for &(m, k, n) in &[(3, 4, 2), (40, 30, 20), (1, 50, 1), (7, 1, 9)] {
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
            }
        }
    }
}
