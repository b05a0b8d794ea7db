//! The one matrix-product function every layer calls, so the kernel can be swapped here.

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
    debug_assert!(c.len() >= m * n);
    debug_assert!(k == 0 || a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs);
    debug_assert!(k == 0 || b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs);
    if m * n * k <= SMALL {
        return small_gemm(m, k, n, alpha, a, b, beta, c);
    }
    // SAFETY: the asserts above (checked in debug builds, guaranteed by the callers'
    // shapes) keep every index inside the slices; `c` does not alias `a` or `b`.
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
