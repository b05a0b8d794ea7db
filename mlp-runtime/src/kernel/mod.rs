//! The one matrix-product function every layer calls, and where its path is chosen.
//!
//! [`gemm`] picks, once per call, the instruction set ([`isa`]: AVX-512, AVX2 + FMA or
//! portable, detected at run time, `MLP_ISA` to override) and how many threads share the
//! product ([`threads`]); the loops and register tiles are written once (`tiles.rs`) over
//! a small vector trait (`simd.rs`) and instantiated per path (`portable.rs`, `avx2.rs`,
//! `avx512.rs`). The tiles read the layers' operands in place where a dimension is
//! contiguous, and copy panels into per-thread buffers where reuse pays; the buffers grow
//! once, so nothing is allocated per call after the first.
//!
//! Results do not depend on the thread count: threads split the elements of `C`, and each
//! element is computed by the same operations wherever it falls. They do depend on the
//! path (FMA rounds once, the portable path twice), within a few units in the last place.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod elementwise;
mod isa;
mod portable;
mod scratch;
mod simd;
// Without std there are no threads to share a product with: the same functions, one thread.
#[cfg_attr(not(feature = "std"), path = "one_thread.rs")]
mod team;
mod tiles;

pub(crate) use elementwise::{row_parts, zip_columns};
#[cfg(feature = "std")]
pub(crate) use elementwise::{sharing_for_batch, update_parts, vectorized, zip_parts, Grad};
pub use isa::Isa;
pub use team::{set_threads, threads};
use tiles::{Epilogue, Job};

/// Below this many multiply-adds per thread, a product is not split further: the parts
/// would cost more to hand out than they save (`cargo bench --bench compare -- --kernel`:
/// a batch of one's 300x784 forward product takes 20 us on one thread, 10-12 us on two).
const PART_MIN: usize = 100_000;

/// How many times a part must use each operand it reads or writes for the part to be
/// worth handing to another core (see `split`). Measured on model A (`cargo bench --bench
/// compare -- --profile A BATCH STEPS` at `MLP_THREADS` 1 and 2, medians of 5-6
/// interleaved runs): with 16, a batch-32 step takes 446-488 us on two threads against 718
/// on one and a batch-16 step 392 against 522, while a batch-1 step stays on one thread
/// (split regardless, it took 372 us against 228). It was 64, which kept batch 32 on one
/// thread: the kernel of the time took 0.85 ms a step split against 0.73 unsplit.
const REUSE: usize = 16;

#[cfg(any(test, feature = "testing"))]
thread_local! {
    // A path forced on this thread by `with_isa` (tests).
    static FORCED: std::cell::Cell<Option<Isa>> = const { std::cell::Cell::new(None) };
}

/// The instruction set products run on: `MLP_ISA` if set to a path this CPU supports,
/// else the widest it supports.
pub fn isa() -> Isa {
    #[cfg(any(test, feature = "testing"))]
    if let Some(isa) = FORCED.with(|f| f.get()) {
        return isa;
    }
    isa::process_isa()
}

/// Runs `f` with this thread's products on `isa` (which must be supported), so one test
/// can check every path the machine has; products split across threads carry the path
/// with them.
///
/// # Panics
/// If this CPU does not support `isa`.
#[cfg(any(test, feature = "testing"))]
pub fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    assert!(isa.supported(), "this CPU does not support the {isa} path");
    let before = FORCED.with(|c| c.replace(Some(isa)));
    let r = f();
    FORCED.with(|c| c.set(before));
    r
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

impl core::fmt::Debug for Mat<'_> {
    /// The shape of the operand, not its (possibly megabytes of) elements.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
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
/// leading dimension `m`; `beta == 0` overwrites `C` (NaN in it does not leak through).
#[allow(clippy::too_many_arguments)]
pub fn gemm(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: &mut [f32]) {
    gemm_split(threads(), m, k, n, alpha, a, b, beta, c, How::default())
}

/// `C = act(A * B + bias)`, with `bias` added to each column of `C` (`m` floats) and
/// `act` ReLU when `relu`, else nothing: a dense layer's forward pass in one pass over
/// its output. The same bits as [`gemm`] with `C` preset to the bias and `beta = 1`,
/// followed by the activation.
///
/// `inference`: `A` is a layer's weights, not written between calls (no training step
/// updates them), so the threads may share the product however few columns `B` has: each
/// keeps its rows of `A` in its own cache from call to call (see `split`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_bias(
    m: usize,
    k: usize,
    n: usize,
    a: Mat,
    b: Mat,
    bias: Option<&[f32]>,
    relu: bool,
    inference: bool,
    c: &mut [f32],
) {
    assert!(bias.is_none_or(|b| b.len() >= m), "gemm: bias too short");
    let how = How { then: Epilogue { bias, relu }, a_resident: inference, nonfinite: None };
    gemm_split(threads(), m, k, n, 1.0, a, b, 0.0, c, how)
}

/// [`gemm`] for a weight gradient: returns whether every element of `C` is finite
/// afterwards, so the update need not read the gradient again to check it. In the outer
/// form (`A` with contiguous columns, as a weight gradient's `x`) the tiles check the
/// elements in registers as they store them.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_finite(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) -> bool {
    let nonfinite = core::sync::atomic::AtomicBool::new(false);
    let how = How { nonfinite: Some(&nonfinite), ..How::default() };
    gemm_split(threads(), m, k, n, alpha, a, b, beta, c, how);
    !nonfinite.into_inner()
}

/// What a product does besides `alpha * A * B + beta * C`: its epilogue, whether `A`
/// stays in the threads' caches between calls ([`Job::a_resident`]), and a flag set if it
/// writes a NaN or an infinity to `C` ([`Job::nonfinite`]).
#[derive(Clone, Copy, Default)]
struct How<'a> {
    then: Epilogue<'a>,
    a_resident: bool,
    nonfinite: Option<&'a core::sync::atomic::AtomicBool>,
}

/// [`gemm`] with an explicit thread count (at most [`threads`] are used), epilogue and
/// residency of `A`.
#[allow(clippy::too_many_arguments)]
fn gemm_split(
    t: usize,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: &mut [f32],
    how: How,
) {
    let How { then, a_resident, nonfinite } = how;
    if m == 0 || n == 0 {
        return;
    }
    // Checked always: the tiles read through raw pointers.
    assert!(c.len() >= m * n, "gemm: C too short");
    assert!(k == 0 || a.data.len() > (m - 1) * a.rs + (k - 1) * a.cs, "gemm: A too short");
    assert!(k == 0 || b.data.len() > (k - 1) * b.rs + (n - 1) * b.cs, "gemm: B too short");
    if k == 0 {
        // An empty sum: C = beta * C, then the epilogue.
        for col in c[..m * n].chunks_exact_mut(m) {
            for (i, x) in col.iter_mut().enumerate() {
                *x = then.apply(if beta == 0.0 { 0.0 } else { *x * beta }, i);
            }
        }
        return flag_nonfinite(nonfinite, &c[..m * n]);
    }
    let job = Job { m, k, n, alpha, a, b, beta, c: c.as_mut_ptr(), then, a_resident, nonfinite };
    if job.direct() {
        run(&job, t);
        if a.rs != 1 {
            // The dot form does not check as it stores: a pass over `C`.
            flag_nonfinite(nonfinite, &c[..m * n]);
        }
        return;
    }
    let lease = scratch::lease(&tiles::WHOLE_A, m * k);
    // SAFETY: the lease is a buffer of at least m * k floats, used by nothing else while
    // it lives (until `run` returns).
    let buf = unsafe { core::slice::from_raw_parts_mut(lease.ptr(), m * k) };
    for (p, col) in buf.chunks_exact_mut(m).enumerate() {
        for (i, v) in col.iter_mut().enumerate() {
            *v = a.data[i * a.rs + p * a.cs];
        }
    }
    run(&Job { a: Mat::col_major(buf, m), ..job }, t)
}

/// Sets `flag` (if any) when `c` holds a NaN or an infinity.
fn flag_nonfinite(flag: Option<&core::sync::atomic::AtomicBool>, c: &[f32]) {
    if let Some(flag) = flag.filter(|_| c.iter().any(|x| !x.is_finite())) {
        flag.store(true, core::sync::atomic::Ordering::Relaxed);
    }
}

/// Splits `job` into parts for up to `t` threads and computes them on this thread's path.
fn run(job: &Job, t: usize) {
    let isa = isa();
    let grain = tiles::row_grain(job, registers(isa));
    let (rows, cols) = split(job, grain, t.min(threads()));
    let parts = rows * cols;
    let (rstep, cstep) = (job.m.div_ceil(rows), job.n.div_ceil(cols));
    // Part boundaries on tile boundaries, so every part's tiles are full where the whole
    // product's would be.
    let rstep = if rows > 1 { rstep.next_multiple_of(grain) } else { rstep };
    let cstep = if cols > 1 { cstep.next_multiple_of(tiles::NR) } else { cstep };
    let part = |p: usize| {
        // Blocks in reverse: the calling thread (part 0) takes the last block, the smallest
        // after rounding, since it also hands out the others and so starts first
        // (measured: it then waits for the helper a third less).
        let p = parts - 1 - p;
        let (r, c) = (p % rows, p / rows);
        let rr = (r * rstep).min(job.m)..((r + 1) * rstep).min(job.m);
        let cc = (c * cstep).min(job.n)..((c + 1) * cstep).min(job.n);
        if !rr.is_empty() && !cc.is_empty() {
            // SAFETY: `gemm` checked the operands' extents and `C`'s length; parts cover
            // disjoint blocks of `C`; the path is supported (`isa()` only returns those).
            unsafe { run_on(isa, job, rr, cc) }
        }
    };
    if parts == 1 {
        part(0)
    } else {
        team::run_parts(parts, &part)
    }
}

/// How many row blocks and column blocks to cut `C` into for `t` threads (row blocks on
/// multiples of `grain`): rows or columns, whichever moves less data, each part at least
/// [`PART_MIN`] multiply-adds and using each of its operands at least [`REUSE`] times. A
/// fixed function of the shape, the path and `t`, never of timing.
fn split(job: &Job, grain: usize, t: usize) -> (usize, usize) {
    let work = job.m * job.k.max(1) * job.n;
    let t = t.min(work / PART_MIN).max(1);
    if t == 1 {
        return (1, 1);
    }
    // Every operand a part reads or writes must be used at least REUSE times by it: a
    // training step's weights and gradients live in the calling thread's cache (it runs
    // the update), so a helper's share of them crosses between the cores each step, and
    // only pays when it is reused enough. Row blocks use their rows of A n times, all of B
    // m/t times, and each element of C k times; column blocks likewise. Rows of a
    // resident A (weights at inference) are reused by every later call on the same core.
    let a_reuse = if job.a_resident { usize::MAX } else { job.n };
    let rows_ok = job.m >= t * grain && (job.m / t).min(a_reuse).min(job.k) >= REUSE;
    let cols_ok = job.n >= t * tiles::NR && (job.n / t).min(job.m).min(job.k) >= REUSE;
    // Row blocks each read all of B and share a cache line of C at their boundary in
    // every column (written by both threads: it bounces between the cores); column
    // blocks each read all of A and share at most one line. Counted in floats, a shared
    // line costing about what streaming 100 floats does.
    let by_rows = job.k * job.n + 100 * job.n;
    let by_cols = job.m * job.k;
    if rows_ok && (!cols_ok || by_rows < by_cols) {
        (t, 1)
    } else if cols_ok {
        (1, t)
    } else {
        (1, 1)
    }
}

/// The vector registers of path `isa`, on which the tiles' shapes depend.
fn registers(isa: Isa) -> usize {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => <avx512::F32x16 as simd::Simd>::REGISTERS,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => <avx2::F32x8 as simd::Simd>::REGISTERS,
        _ => <portable::F32x4 as simd::Simd>::REGISTERS,
    }
}

/// The tiles of one block of `C` on path `isa`.
///
/// # Safety
/// `isa` must be supported; the rest is `tiles::run`'s contract.
unsafe fn run_on(isa: Isa, job: &Job, rows: core::ops::Range<usize>, cols: core::ops::Range<usize>) {
    // SAFETY: forwarded; each path's CPU features are `isa.supported()`.
    unsafe {
        match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => avx512::run(job, rows, cols),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => avx2::run(job, rows, cols),
            _ => portable::run(job, rows, cols),
        }
    }
}

/// [`gemm`] on `isa` with `threads` threads (at most the process's count): what the tests
/// and the kernel benchmark compare. Same checks as `gemm`.
///
/// # Panics
/// If this CPU does not support `isa`.
#[cfg(any(test, feature = "testing"))]
#[allow(clippy::too_many_arguments)]
pub fn gemm_on(
    isa: Isa,
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: &mut [f32],
) {
    with_isa(isa, || gemm_split(threads, m, k, n, alpha, a, b, beta, c, How::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `A * B` in f64, the reference every path is held to.
    fn reference(m: usize, k: usize, n: usize, a: Mat, b: Mat) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i + j * m] += a.data[i * a.rs + p * a.cs] as f64 * b.data[p * b.rs + j * b.cs] as f64;
                }
            }
        }
        c
    }

    /// Shapes of every layer product of the benchmark models at batch 1, 5 and 32, plus
    /// edges: one row, one column, `k` of 0 and 1, sizes around the tile widths.
    const SHAPES: &[(usize, usize, usize)] = &[
        (3, 4, 2),
        (1, 1, 1),
        (1, 50, 1),
        (7, 1, 9),
        (5, 0, 3),
        (10, 100, 1),
        (7, 37, 1),
        (300, 784, 1),
        (784, 1, 300),
        (300, 784, 5),
        (100, 300, 32),
        (300, 32, 100),
        (300, 100, 32),
        (33, 17, 32),
        (15, 9, 7),
        (16, 16, 6),
        (17, 31, 13),
        (31, 33, 12),
        (32, 4, 32),
        (4, 32, 16),
        (64, 300, 64),
        // Sums of more than one block of the outer form (KC terms), more than one block of
        // columns (NC), partial last blocks.
        (300, 784, 100),
        (40, 600, 130),
        (17, 257, 64),
    ];

    #[test]
    fn every_path_matches_the_reference_and_threads_change_no_bit() {
        for isa in Isa::supported_all() {
            for &(m, k, n) in SHAPES {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 23) as f32 * 0.1 - 1.1).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729) % 19) as f32 * 0.1 - 0.9).collect();
                // Every layout pair: the layers use (A^T, B), (A, B^T) and (A, B).
                for (am, bm) in [
                    (Mat::col_major(&a, m), Mat::col_major(&b, k)),
                    (Mat::col_major_t(&a, k), Mat::col_major(&b, k)),
                    (Mat::col_major(&a, m), Mat::col_major_t(&b, n)),
                    (Mat::col_major_t(&a, k), Mat::col_major_t(&b, n)),
                ] {
                    let want = reference(m, k, n, am, bm);
                    let scale: f64 = 1e-5 * (k as f64 + 1.0) * 1.2;
                    let what = format!("{isa} {m}x{k}x{n} a.rs {} b.rs {}", am.rs, bm.rs);
                    // beta 0 overwrites, even NaN.
                    let mut one = vec![f32::NAN; m * n];
                    gemm_on(isa, 1, m, k, n, 1.0, am, bm, 0.0, &mut one);
                    for (g, w) in one.iter().zip(&want) {
                        assert!((*g as f64 - w).abs() <= scale, "{what}: {g} vs {w}");
                    }
                    let mut two = vec![f32::NAN; m * n];
                    gemm_on(isa, 2, m, k, n, 1.0, am, bm, 0.0, &mut two);
                    assert_eq!(
                        one.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                        two.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                        "{what}: two threads"
                    );
                    // alpha and beta: 2 * AB + 1 * AB.
                    gemm_on(isa, 2, m, k, n, 2.0, am, bm, 1.0, &mut two);
                    for (g, w) in two.iter().zip(&want) {
                        assert!(
                            (*g as f64 - 3.0 * w).abs() <= 3.0 * scale,
                            "{what}, alpha 2 beta 1: {g} vs {}",
                            3.0 * w
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_dot_product_has_the_same_bits_in_every_tile() {
        // The forward layout's dot form: every tile shape (8 x 1, 6 x 4, 4 x 3 and their
        // edges) sums an element's lanes together with its tile's other elements; each
        // must get the bits of a product of its row and column alone. Terms of many
        // magnitudes, so a different order of the sums across lanes would show.
        for isa in Isa::supported_all() {
            for &(m, k, n) in &[(13, 300, 9), (9, 64, 1), (17, 100, 31), (8, 77, 4)] {
                let a: Vec<f32> =
                    (0..m * k).map(|i| ((i * 7919) % 23) as f32 * 0.37f32.powi((i % 9) as i32)).collect();
                let b: Vec<f32> = (0..k * n)
                    .map(|i| ((i * 104729) % 19) as f32 * 1.7f32.powi((i % 11) as i32) - 3.0)
                    .collect();
                let mut c = vec![f32::NAN; m * n];
                gemm_on(isa, 1, m, k, n, 1.0, Mat::col_major_t(&a, k), Mat::col_major(&b, k), 0.0, &mut c);
                for i in 0..m {
                    for j in 0..n {
                        let mut one = [f32::NAN];
                        let (row, col) = (&a[i * k..(i + 1) * k], &b[j * k..(j + 1) * k]);
                        gemm_on(
                            isa,
                            1,
                            1,
                            k,
                            1,
                            1.0,
                            Mat::col_major_t(row, k),
                            Mat::col_major(col, k),
                            0.0,
                            &mut one,
                        );
                        assert_eq!(
                            c[j * m + i].to_bits(),
                            one[0].to_bits(),
                            "{isa} {m}x{k}x{n} element ({i}, {j})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_epilogue_gives_the_bits_of_separate_passes() {
        // A dense layer's forward layout (A = W^T, B = x), in the dot form (k >= 64) and
        // the copied outer form (k < 64), on one and two threads; NaN through ReLU too; and
        // the outer form's layout with sums of several blocks.
        for isa in Isa::supported_all() {
            for &(m, k, n, outer) in &[
                (300, 784, 5, false),
                (33, 70, 13, false),
                (33, 40, 13, false),
                (32, 4, 32, false),
                (7, 1, 9, false),
                (300, 784, 256, false),
                (5, 0, 3, false),
                (40, 600, 130, true),
            ] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 23) as f32 * 0.1 - 1.1).collect();
                let mut b: Vec<f32> = (0..k * n).map(|i| ((i * 104729) % 19) as f32 * 0.1 - 0.9).collect();
                if k > 0 {
                    b[0] = f32::NAN;
                }
                let bias: Vec<f32> = (0..m).map(|i| (i % 7) as f32 * 0.3 - 1.0).collect();
                let am = if outer { Mat::col_major(&a, m) } else { Mat::col_major_t(&a, k) };
                let bm = Mat::col_major(&b, k);
                for relu in [false, true] {
                    // The product, then the bias, then ReLU, each a pass of its own.
                    let mut want = vec![f32::NAN; m * n];
                    with_isa(isa, || gemm_split(1, m, k, n, 1.0, am, bm, 0.0, &mut want, How::default()));
                    for col in want.chunks_exact_mut(m) {
                        for (x, b) in col.iter_mut().zip(&bias) {
                            *x += b;
                            if relu {
                                *x = x.max(0.0);
                            }
                        }
                    }
                    // Resident weights (inference) split products of few columns too.
                    for (t, a_resident) in [(1, false), (2, false), (2, true)] {
                        let mut got = vec![f32::NAN; m * n];
                        let how =
                            How { then: Epilogue { bias: Some(&bias), relu }, a_resident, nonfinite: None };
                        with_isa(isa, || gemm_split(t, m, k, n, 1.0, am, bm, 0.0, &mut got, how));
                        assert_eq!(
                            got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                            "{isa} {m}x{k}x{n} relu {relu} threads {t} resident {a_resident}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_product_reports_whether_it_wrote_a_nan_or_an_infinity() {
        /// `A` and `B` as a weight gradient's product reads them (`outer`), or a forward pass's.
        fn layout<'a>(
            outer: bool,
            a: &'a [f32],
            b: &'a [f32],
            m: usize,
            k: usize,
            n: usize,
        ) -> (Mat<'a>, Mat<'a>) {
            match outer {
                true => (Mat::col_major(a, m), Mat::col_major_t(b, n)),
                false => (Mat::col_major_t(a, k), Mat::col_major(b, k)),
            }
        }
        // The weight gradient's layout (A = x, B = dz^T: the outer form, checked in
        // registers) with partial row registers, one and several blocks of the sum, one
        // and several tiles of columns, split or not; and the forward pass's (A = W^T,
        // B = x: the dot form from k = 64, checked by a pass over C).
        for isa in Isa::supported_all() {
            for &(m, k, n) in &[(2, 1, 2), (37, 5, 3), (784, 32, 300), (40, 600, 13), (17, 0, 4), (33, 70, 5)]
            {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 23) as f32 * 0.1 - 1.1).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 104729) % 19) as f32 * 0.1 - 0.9).collect();
                for (outer, threads, beta) in [true, false]
                    .into_iter()
                    .flat_map(|o| [1, 2].into_iter().flat_map(move |t| [0.0, 1.0].map(|b| (o, t, b))))
                {
                    let what = format!("{isa} {m}x{k}x{n} outer {outer} threads {threads} beta {beta}");
                    let run = |a: &[f32], b: &[f32], c: &mut [f32]| {
                        let (am, bm) = layout(outer, a, b, m, k, n);
                        let nonfinite = core::sync::atomic::AtomicBool::new(false);
                        let how = How { nonfinite: Some(&nonfinite), ..How::default() };
                        with_isa(isa, || gemm_split(threads, m, k, n, 1.0, am, bm, beta, c, how));
                        !nonfinite.into_inner()
                    };
                    // Finite: true, and the bits of `gemm`.
                    let (am, bm) = layout(outer, &a, &b, m, k, n);
                    let mut want = vec![0.5; m * n];
                    gemm_on(isa, threads, m, k, n, 1.0, am, bm, beta, &mut want);
                    let mut got = vec![0.5; m * n];
                    assert!(run(&a, &b, &mut got), "{what}: finite");
                    assert_eq!(got, want, "{what}");
                    // A NaN or an infinity in either operand, or (beta 1) in C.
                    for bad in [f32::NAN, f32::INFINITY] {
                        if k > 0 {
                            let mut a2 = a.clone();
                            a2[a.len() - 1] = bad;
                            assert!(!run(&a2, &b, &mut vec![0.5; m * n]), "{what}: {bad} in A");
                            let mut b2 = b.clone();
                            b2[0] = bad;
                            assert!(!run(&a, &b2, &mut vec![0.5; m * n]), "{what}: {bad} in B");
                        }
                        let mut c = vec![0.5; m * n];
                        c[m * n / 2] = bad;
                        assert_eq!(run(&a, &b, &mut c), beta == 0.0, "{what}: {bad} in C");
                    }
                }
            }
        }
    }

    #[test]
    fn large_products_split_across_threads_and_match_one_thread() {
        // Big enough that `split` cuts them, on every path.
        for isa in Isa::supported_all() {
            for &(m, k, n, at) in &[
                (300, 784, 256, true),
                (784, 256, 300, false),
                (100, 300, 256, true),
                (784, 300, 256, false),
            ] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 31) % 17) as f32 * 0.01).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 13) % 11) as f32 * 0.01).collect();
                let am = if at { Mat::col_major_t(&a, k) } else { Mat::col_major(&a, m) };
                let bm = Mat::col_major(&b, k);
                let job = Job {
                    m,
                    k,
                    n,
                    alpha: 1.0,
                    a: am,
                    b: bm,
                    beta: 0.0,
                    c: core::ptr::null_mut(),
                    then: Epilogue::default(),
                    a_resident: false,
                    nonfinite: None,
                };
                assert!(split_2(&job) != (1, 1), "{m}x{k}x{n} is split");
                let mut one = vec![0.0; m * n];
                let mut two = vec![0.0; m * n];
                gemm_on(isa, 1, m, k, n, 1.0, am, bm, 0.0, &mut one);
                gemm_on(isa, 2, m, k, n, 1.0, am, bm, 0.0, &mut two);
                assert_eq!(one, two, "{isa} {m}x{k}x{n}");
                let want = reference(m, k, n, am, bm);
                assert!(
                    one.iter().zip(&want).all(|(g, w)| (*g as f64 - w).abs() < 1e-3),
                    "{isa} {m}x{k}x{n}"
                );
            }
        }
    }

    /// [`split`] for two threads on the widest path.
    fn split_2(job: &Job) -> (usize, usize) {
        split(job, tiles::row_grain(job, registers(Isa::best())), 2)
    }

    #[test]
    fn dot_form_blocks_start_on_the_paths_tile_rows() {
        let (w, x) = ([0.0f32; 300 * 784], [0.0f32; 784 * 32]);
        let job = |n| Job {
            m: 300,
            k: 784,
            n,
            alpha: 1.0,
            a: Mat::col_major_t(&w, 784),
            b: Mat::col_major(&x, 784),
            beta: 0.0,
            c: core::ptr::null_mut(),
            then: Epilogue::default(),
            a_resident: false,
            nonfinite: None,
        };
        // One column: 8-row tiles. More: 6 x 4 tiles with 32 registers, 4 x 3 with 16.
        assert_eq!(tiles::row_grain(&job(1), 32), 8);
        assert_eq!(tiles::row_grain(&job(32), 32), 6);
        assert_eq!(tiles::row_grain(&job(32), 16), 4);
        assert_eq!(tiles::row_grain(&job(3), 32), 4);
        let outer = Job { a: Mat::col_major(&w, 300), ..job(32) };
        assert_eq!(tiles::row_grain(&outer, 32), 32);
    }

    #[test]
    fn small_products_and_little_reuse_stay_on_one_thread() {
        let a = [0.0f32; 4];
        let job = |m, k, n| Job {
            m,
            k,
            n,
            alpha: 1.0,
            a: Mat::col_major(&a, 4),
            b: Mat::col_major(&a, 4),
            beta: 0.0,
            c: core::ptr::null_mut(),
            then: Epilogue::default(),
            a_resident: false,
            nonfinite: None,
        };
        assert_eq!(split_2(&job(4, 32, 32)), (1, 1));
        // Model A's first layer at batch 8: 1.9 M multiply-adds, but the weight gradient
        // sums 8 terms per element and the forward product uses each weight 8 times.
        assert_eq!(split_2(&job(784, 8, 300)), (1, 1));
        assert_eq!(split_2(&job(300, 784, 8)), (1, 1));
        assert_eq!(split_2(&job(300, 784, 1)), (1, 1));
        // At batch 32 they split: the forward product by rows, the weight gradient by
        // columns, so each thread has the same output units in both.
        assert_eq!(split_2(&job(300, 784, 32)), (2, 1));
        assert_eq!(split_2(&job(784, 32, 300)), (1, 2));
        // At inference the weights stay in each core's cache between calls: a batch of
        // one's first layer splits by rows; a product too small for two parts does not.
        let resident = |m, k, n| Job { a_resident: true, ..job(m, k, n) };
        assert_eq!(split_2(&resident(300, 784, 1)), (2, 1));
        assert_eq!(split_2(&resident(300, 784, 32)), (2, 1));
        assert_eq!(split_2(&resident(100, 300, 1)), (1, 1));
        assert_eq!(split_2(&resident(10, 100, 32)), (1, 1));
        // At batch 256 they split, by rows; a 100-row product by columns.
        assert_eq!(split_2(&job(784, 256, 300)), (2, 1));
        assert_eq!(split_2(&job(300, 784, 256)), (2, 1));
        assert_eq!(split_2(&job(100, 300, 256)), (1, 2));
    }
}
