//! The product's loops and register tiles, written once over [`Simd`] and instantiated by
//! each path inside its own `#[target_feature]` function.
//!
//! Two forms, picked by the operands' layout:
//! - **outer** (`A`'s columns contiguous: the weight gradient, the input gradient): a tile
//!   of `2 × LANES` rows by 6 columns of `C` in registers, updated per `p` by two loads of
//!   `A`'s column and six broadcasts of `B`'s row, from panels copied into per-thread
//!   buffers where a panel serves more than one tile, the sum taken in blocks of `KC`
//!   terms and the columns in blocks of `NC`, so the panels stay in L1 and L2;
//! - **dot** (`A`'s rows and `B`'s columns contiguous: the forward pass, `W^T x`): a tile
//!   of 4 rows by 3 columns (6 by 4 on paths with 32 registers, 8 by 1 for a single
//!   column) of dot products, each a register of partial sums over `k`, summed across
//!   lanes at the end, all of a tile's registers together (`Simd::sums`).
//!
//! Every element of `C` is computed by the same operations in the same order wherever its
//! tile falls, so splitting the rows or columns of `C` among threads (see `team.rs`) does
//! not change a bit of the result.

use super::scratch::{lease, scratch, Lease};
use super::simd::Simd;
use super::Mat;
use core::array::from_fn;
use core::ops::Range;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// One product `C = alpha * A * B + beta * C`, shared by the threads computing its parts.
#[derive(Clone, Copy)]
pub(crate) struct Job<'a> {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub alpha: f32,
    pub a: Mat<'a>,
    pub b: Mat<'a>,
    pub beta: f32,
    /// `C`, column-major with leading dimension `m`.
    pub c: *mut f32,
    /// What each element of `C` gets after the product.
    pub then: Epilogue<'a>,
    /// `A` is the same read-only matrix call after call (a layer's weights at inference):
    /// a part's rows of it stay in its core's cache from one call to the next.
    pub a_resident: bool,
    /// Set when the product writes a NaN or an infinity to `C`: the outer form checks in
    /// registers as it stores the last block of the sum (before any epilogue); a product
    /// in the dot form is checked by `kernel::gemm` afterwards. A weight gradient's
    /// products use it, so the update's own check of that gradient can be skipped.
    pub nonfinite: Option<&'a AtomicBool>,
}

/// What the tiles apply to each element of `C` after `alpha * A * B + beta * C`, while it
/// is still in registers or L1: a dense layer's bias (one per row of `C`) and ReLU, so the
/// layer does not make two more passes over its output (memory-bound at large batches).
/// Same operations, so the same bits, as the separate passes.
#[derive(Clone, Copy, Default)]
pub(crate) struct Epilogue<'a> {
    /// Added to row `i` of `C`: at least `m` floats.
    pub bias: Option<&'a [f32]>,
    /// `max(x, 0)` after the bias (NaN becomes 0, like `Activation::Relu`).
    pub relu: bool,
}

impl Epilogue<'_> {
    /// `x` (element of row `i`) after the bias and ReLU.
    #[inline(always)]
    pub fn apply(&self, x: f32, i: usize) -> f32 {
        let x = match self.bias {
            Some(b) => x + b[i],
            None => x,
        };
        if self.relu {
            x.max(0.0)
        } else {
            x
        }
    }

    /// Whether it changes anything.
    pub fn is_some(&self) -> bool {
        self.bias.is_some() || self.relu
    }
}

// SAFETY: a `Job` is shared only by `team::run_parts`, which hands each thread a disjoint
// block of `C`'s elements and returns only after all of them finished.
unsafe impl Sync for Job<'_> {}

impl Job<'_> {
    /// Whether [`run`] can take this product as it is: `A`'s columns contiguous (outer
    /// form), or `A`'s rows and `B`'s columns contiguous and long enough for dot products
    /// to pay for their final sums across lanes (dot form). Otherwise `kernel::gemm`
    /// copies `A` column-major first.
    pub fn direct(&self) -> bool {
        self.a.rs == 1 || (self.a.cs == 1 && self.b.rs == 1 && self.k >= DOT_MIN_K)
    }
}

/// Below this `k`, the dot form's sums across lanes cost more than copying `A` (`--kernel`,
/// the tiny network's forward products: `32x4x32` 1.9 us as dots, 0.4 us copied; `16x32x32`
/// on AVX-512 0.9 us as dots, 0.43-0.59 copied). Model A's `10x100` products are no faster
/// copied at batch 1 or 32, so 100 stays above it.
const DOT_MIN_K: usize = 64;

/// Columns of `B` per block of the dot form: about 256 KiB of `B`, which then stays in
/// the L2 cache while every row of `A` passes over it.
const DOT_BLOCK_FLOATS: usize = 64 * 1024;

/// Computes the elements `rows × cols` of `C`.
///
/// # Safety
/// `V`'s instructions must be available; `job` must describe operands of the sizes its
/// strides imply (as `kernel::gemm` checks), with [`Job::direct`] true, and nothing else
/// may touch the elements `rows × cols` of `C` during the call.
#[inline(always)]
pub(crate) unsafe fn run<V: Simd>(job: &Job, rows: Range<usize>, cols: Range<usize>) {
    // A copy on this thread's own stack: the tiles re-read the job's fields, and the
    // original sits on the calling thread's stack, whose lines that thread keeps writing
    // (a helper reading it bounced a cache line between the cores on every tile; measured:
    // half the two-thread runs took twice as long, depending on where the stack fell).
    let job = &{ *job };
    // SAFETY (both): forwarded contract.
    if job.a.rs == 1 {
        unsafe { outer::<V>(job, rows, cols) }
    } else {
        unsafe { dot::<V>(job, rows, cols) }
    }
}

/// Columns per tile of the outer form (the dot form's 3 divides it).
pub(crate) const NR: usize = 6;

/// Rows per tile of `job`'s form on a path with `registers` vector registers: the outer
/// form's two registers of the widest path; the dot form's 8 for one column, `WIDE_R`
/// where it has 6 x 4 tiles, else 4. Threads' blocks start on multiples of it, so they cut
/// no tile, and halves stay even: at batch 32 on AVX-512, a 300-unit layer's forward
/// product splits 150/150 (on 8 rows it split 152/148, and a 100-unit layer's 56/44).
pub(crate) fn row_grain(job: &Job, registers: usize) -> usize {
    if job.a.rs == 1 {
        32
    } else if job.n == 1 {
        8
    } else if registers >= 32 && job.n >= WIDE_C {
        WIDE_R
    } else {
        4
    }
}

// A panel of `A` (the rows of one tile, `k` columns) copied contiguously, so a tile
// reused across many columns of `C` reads it from L1 in order.
scratch! { static PANEL; }
// `B`'s columns of one block, six at a time, each group `k` rows of six contiguous
// floats: what the tiles of every row panel read in order.
scratch! { static PANEL_B; }
// All of `A`, column-major, when the tiles cannot read it in place (see `Job::direct`):
// `kernel::gemm` copies it here before `run`.
scratch! { pub(crate) static WHOLE_A; }

#[inline(always)]
unsafe fn outer<V: Simd>(job: &Job, rows: Range<usize>, cols: Range<usize>) {
    let (l, k) = (V::LANES, job.k);
    // Copying the panel pays once it serves more than one tile; a batch of one's
    // products (one column) read `A` once, in place.
    let pack = cols.len() > NR;
    // Blocks of `KC` terms of the sum and `NC` columns: the tile's panel of `A` (2 * LANES
    // x KC floats) stays in L1 and the block of `B` (KC x NC) in L2 while every row panel
    // passes over it. A sum of at most KC terms is one block: the products of training's
    // gradients (k is the batch size, up to 256) run exactly as they did unblocked.
    let kc = k.min(KC);
    // Raw pointers into leased buffers, not closures under a thread-local's `with`:
    // closures do not inherit the caller's `#[target_feature]`s, so the tiles inside one
    // would not be vectorized. The leases live to the end of the product.
    let a_lease = pack.then(|| lease(&PANEL, 2 * l * kc));
    let a_panel = a_lease.as_ref().map_or(core::ptr::null_mut(), Lease::ptr);
    // Copying `B` pays once more than one row panel reads it (then its rows, read six
    // floats at a time at a stride, would keep more cache lines in L1 than it holds).
    let pack_b = rows.len() > 2 * l && cols.len() > 1;
    let nc = if pack_b { NC } else { cols.len() };
    let b_lease = pack_b.then(|| lease(&PANEL_B, nc.min(cols.len()).div_ceil(NR) * NR * kc));
    let mut jb = cols.start;
    while jb < cols.end {
        let je = (jb + nc).min(cols.end);
        let mut p0 = 0;
        while p0 < k {
            let p1 = (p0 + kc).min(k);
            let span = p1 - p0;
            let (b, brs, bcs) = match &b_lease {
                Some(lease) => {
                    let packed = lease.ptr();
                    // SAFETY: the block's columns jb..je and rows p0..p1 lie inside `B`
                    // (checked by `gemm`); the buffer holds a whole number of six-column
                    // groups of `kc` rows for NC columns.
                    unsafe { pack_b_block(job, jb..je, p0..p1, packed) };
                    // Column stride 0 marks the packed layout: each tile gets its group's base below.
                    (packed.cast_const(), NR, 0)
                }
                // SAFETY: row p0 of `B` is inside it.
                None => (unsafe { job.b.data.as_ptr().add(p0 * job.b.rs) }, job.b.rs, job.b.cs),
            };
            let mut i = rows.start;
            while i < rows.end {
                let h = (rows.end - i).min(2 * l);
                let nv = h.div_ceil(l);
                let (a, lda) = if pack {
                    // SAFETY: rows i..i + h and columns p0..p1 of `A` lie inside it; the
                    // panel holds 2 * LANES * kc floats, leased for this call.
                    unsafe { pack_a_panel(job, i, h, nv * l, p0..p1, a_panel) };
                    (a_panel.cast_const(), nv * l)
                } else {
                    // SAFETY: element (i, p0) is inside `A`.
                    (unsafe { job.a.data.as_ptr().add(i + p0 * job.a.cs) }, job.a.cs)
                };
                let full = pack || h == nv * l;
                let mut j = jb;
                while j < je {
                    let w = (je - j).min(NR);
                    let b = if bcs == 0 {
                        // SAFETY: the packed tile (j - jb) / NR lies inside PANEL_B.
                        (unsafe { b.add((j - jb) / NR * NR * span) }, brs, 1)
                    } else {
                        // SAFETY: column j is inside `B`.
                        (unsafe { b.add(j * bcs) }, brs, bcs)
                    };
                    let t = Tile { a, lda, b, i, h, j, k: span, first: p0 == 0, last: p1 == k };
                    macro_rules! widths {
                        ($nv:literal, $full:literal) => {
                            match w {
                                1 => outer_tile::<V, $nv, 1, $full>(job, t),
                                2 => outer_tile::<V, $nv, 2, $full>(job, t),
                                3 => outer_tile::<V, $nv, 3, $full>(job, t),
                                4 => outer_tile::<V, $nv, 4, $full>(job, t),
                                5 => outer_tile::<V, $nv, 5, $full>(job, t),
                                _ => outer_tile::<V, $nv, 6, $full>(job, t),
                            }
                        };
                    }
                    // SAFETY: rows i..i + h and columns j..j + w lie inside the caller's
                    // block; `a` holds `nv` registers per column when `full`, else `h` rows.
                    unsafe {
                        match (nv, full) {
                            (1, true) => widths!(1, true),
                            (1, false) => widths!(1, false),
                            (_, true) => widths!(2, true),
                            (_, false) => widths!(2, false),
                        }
                    }
                    j += w;
                }
                i += h;
            }
            p0 = p1;
        }
        jb = je;
    }
}

/// Terms of the sum per block of the outer form: a panel of `A` of two AVX-512 registers
/// by KC floats is 32 KiB, the L1 data cache of the CPUs we run on.
const KC: usize = 256;

/// Columns of `B` per block of the outer form (a multiple of [`NR`]): KC x NC floats of
/// `B`, 120 KiB, stay in L2 beside the panels.
const NC: usize = 120;

/// Rows i..i + h, columns `ps` of `A` (whose columns are contiguous), copied to `panel`
/// as `ps.len()` columns of `w` floats each (rows past `h` zero). Not inlined, and a plain
/// copy the compiler vectorizes: the tiles' function stays small.
///
/// # Safety
/// The rows and columns must lie inside `A`; `panel` must hold `w * ps.len()` floats, `w >= h`.
#[inline(never)]
unsafe fn pack_a_panel(job: &Job, i: usize, h: usize, w: usize, ps: Range<usize>, panel: *mut f32) {
    // SAFETY: forwarded contract.
    let out = unsafe { core::slice::from_raw_parts_mut(panel, w * ps.len()) };
    for (col, p) in out.chunks_exact_mut(w).zip(ps) {
        // SAFETY: rows i..i + h of column p are inside `A`.
        let from = unsafe { core::slice::from_raw_parts(job.a.data.as_ptr().add(i + p * job.a.cs), h) };
        col[..h].copy_from_slice(from);
        col[h..].fill(0.0);
    }
}

/// Columns `cols`, rows `ps` of `B`, copied to `packed` six columns at a time: each group
/// `ps.len()` rows of six contiguous floats (columns past the block's end zero).
///
/// # Safety
/// The rows and columns must lie inside `B`; `packed` must hold
/// `cols.len().div_ceil(NR) * NR * ps.len()` floats.
#[inline(never)]
unsafe fn pack_b_block(job: &Job, cols: Range<usize>, ps: Range<usize>, packed: *mut f32) {
    let (src, kc) = (job.b.data.as_ptr(), ps.len());
    let tiles = cols.len().div_ceil(NR);
    // SAFETY (whole body): element (p, j) of `B` for p in ps, j in cols is inside `B`;
    // t * NR * kc + q * NR + c < tiles * NR * kc, the buffer's length.
    unsafe {
        for t in 0..tiles {
            let j0 = cols.start + t * NR;
            let w = (cols.end - j0).min(NR);
            let dst = packed.add(t * NR * kc);
            for (q, p) in ps.clone().enumerate() {
                let row = src.add(p * job.b.rs + j0 * job.b.cs);
                let out = dst.add(q * NR);
                if job.b.cs == 1 && w == NR {
                    // A weight gradient's `dz^T`: the six floats are contiguous already.
                    core::ptr::copy_nonoverlapping(row, out, NR);
                    continue;
                }
                for c in 0..w {
                    *out.add(c) = *row.add(c * job.b.cs);
                }
                for c in w..NR {
                    *out.add(c) = 0.0;
                }
            }
        }
    }
}

/// Where one outer-form tile reads `A` and writes `C`.
#[derive(Clone, Copy)]
struct Tile {
    /// Column 0 of the tile's rows of `A`; column `p` at `a + p * lda`.
    a: *const f32,
    lda: usize,
    /// Element (p, c) of the tile's columns of `B` at `b.0 + p * b.1 + c * b.2`.
    b: (*const f32, usize, usize),
    /// First row of `C` and number of rows.
    i: usize,
    h: usize,
    /// First column of `C`.
    j: usize,
    /// Terms of the sum in this block (`A`'s columns from `a`, `B`'s rows from `b.0`).
    k: usize,
    /// The first block of the sum: `C` gets `beta * C` added, not the earlier blocks' sum.
    first: bool,
    /// The last block: the epilogue follows.
    last: bool,
}

/// `W` columns and `h` rows (`NV` registers, the last holding `h - (NV - 1) * LANES`
/// rows) of `C`. `FULL_A`: `A` holds `NV` whole registers per column (padded), so loads
/// need no mask.
#[inline(always)]
unsafe fn outer_tile<V: Simd, const NV: usize, const W: usize, const FULL_A: bool>(job: &Job, t: Tile) {
    let l = V::LANES;
    let lanes = |v: usize| if v + 1 < NV { l } else { t.h - v * l };
    // SAFETY (whole body): `A`'s column `p` holds the tile's rows at `t.a + p * t.lda`
    // (`NV` registers if FULL_A), `B`'s element (p, j + c) is at `t.b.0 + p * t.b.1 + c * t.b.2`,
    // and `C`'s column j + c holds rows i..i + h at `c + (j + c) * m + i`: all inside the
    // operands `gemm` checked (or the panel buffer).
    unsafe {
        let (b, brs, bcs) = t.b;
        let mut acc = [[V::zero(); NV]; W];
        for p in 0..t.k {
            let ap = t.a.add(p * t.lda);
            let av: [V; NV] = from_fn(|v| {
                if FULL_A || v + 1 < NV {
                    V::load(ap.add(v * l))
                } else {
                    V::load_part(ap.add(v * l), lanes(v))
                }
            });
            let bp = b.add(p * brs);
            for (c, acc) in acc.iter_mut().enumerate() {
                let bv = V::splat(*bp.add(c * bcs));
                for v in 0..NV {
                    acc[v] = av[v].mul_add(bv, acc[v]);
                }
            }
        }
        finish_tile::<V, NV, W>(job, t, acc);
    }
}

/// Writes a tile's sums to `C`: `alpha * acc` plus `beta * C` (the first block) or `C`
/// (later blocks), then the epilogue after the last block. A function of its own taking
/// the sums by value: written inline after the loop, the sums stayed addressable and the
/// compiler stored every register to the stack on every step of the loop (2x slower).
#[inline(always)]
unsafe fn finish_tile<V: Simd, const NV: usize, const W: usize>(job: &Job, t: Tile, acc: [[V; NV]; W]) {
    let l = V::LANES;
    let lanes = |v: usize| if v + 1 < NV { l } else { t.h - v * l };
    // SAFETY (whole body): `C`'s column j + c holds rows i..i + h at `c + (j + c) * m + i`,
    // inside the operand `gemm` checked.
    unsafe {
        let alpha = V::splat(job.alpha);
        // After the first block, `C` holds the earlier blocks' part of the sum: added as is.
        let (beta, add_c) = if t.first { (job.beta, job.beta != 0.0) } else { (1.0, true) };
        let beta = V::splat(beta);
        let whole = t.h == NV * l;
        // `x * 0` is 0 for a finite `x` and NaN otherwise, so this sum stays 0 unless an
        // element written is not finite (lanes past `h` hold zeros).
        let check = t.last && job.nonfinite.is_some();
        let (zero, mut nonfinite) = (V::zero(), V::zero());
        for (c, acc) in acc.iter().enumerate() {
            let col = job.c.add((t.j + c) * job.m + t.i);
            for (v, acc) in acc.iter().enumerate() {
                let out = col.add(v * l);
                let mut r = acc.mul(alpha);
                if whole || v + 1 < NV {
                    if add_c {
                        r = V::load(out).mul_add(beta, r);
                    }
                    r.store(out);
                } else {
                    if add_c {
                        r = V::load_part(out, lanes(v)).mul_add(beta, r);
                    }
                    r.store_part(out, lanes(v));
                }
                if check {
                    nonfinite = r.mul_add(zero, nonfinite);
                }
            }
            if t.last && job.then.is_some() {
                // Over the column just stored, still in L1; the loop vectorizes.
                let col = core::slice::from_raw_parts_mut(col, t.h);
                for (r, x) in col.iter_mut().enumerate() {
                    *x = job.then.apply(*x, t.i + r);
                }
            }
        }
        if let Some(flag) = job.nonfinite.filter(|_| check && nonfinite.sum() != 0.0) {
            flag.store(true, Relaxed);
        }
    }
}

/// The dot form's widest tile, rows by columns (see `dot`).
const WIDE_R: usize = 6;
const WIDE_C: usize = 4;

#[inline(always)]
unsafe fn dot<V: Simd>(job: &Job, rows: Range<usize>, cols: Range<usize>) {
    // A multiple of both tile widths, 3 and WIDE_C.
    let block = (DOT_BLOCK_FLOATS / job.k.max(1)).max(12) / 12 * 12;
    let mut jb = cols.start;
    while jb < cols.end {
        let je = (jb + block).min(cols.end);
        let mut i = rows.start;
        // A single column (a batch of one): eight rows at a time keep eight FMA chains
        // in flight while the weights stream through once.
        if je - jb == 1 {
            while i + 8 <= rows.end {
                // SAFETY: rows i..i + 8 and column jb lie inside the caller's block.
                unsafe { dot_tile::<V, 8, 1>(job, i, jb) };
                i += 8;
            }
        }
        // On a path with 32 registers, 6 x 4 tiles where the block has them: 24 sums for
        // 10 loads per step (4 x 3: 12 for 7). Measured (`--kernel 'A fwd'`, AVX-512, one
        // thread): 300x784 at batch 32 84 -> 76 us, 256 677 -> 602, 1000 2620 -> 2330. With
        // 16 registers the sums would not fit (AVX2 took 1.5x as long).
        if V::REGISTERS >= 32 && je - jb >= WIDE_C {
            while i + WIDE_R <= rows.end {
                let mut j = jb;
                while j + WIDE_C <= je {
                    // SAFETY: rows i..i + WIDE_R and columns j..j + WIDE_C lie inside the caller's block.
                    unsafe { dot_tile::<V, WIDE_R, WIDE_C>(job, i, j) };
                    j += WIDE_C;
                }
                while j < je {
                    let w = (je - j).min(3);
                    // SAFETY: as above, columns j..j + w (WIDE_R = 4 + 2 rows).
                    unsafe {
                        dot_small::<V>(job, i, 4, j, w);
                        dot_small::<V>(job, i + 4, 2, j, w);
                    }
                    j += w;
                }
                i += WIDE_R;
            }
        }
        while i < rows.end {
            let r = (rows.end - i).min(4);
            let mut j = jb;
            while j < je {
                let w = (je - j).min(3);
                // SAFETY: rows i..i + r and columns j..j + w lie inside the caller's block.
                unsafe { dot_small::<V>(job, i, r, j, w) };
                j += w;
            }
            i += r;
        }
        jb = je;
    }
}

/// A tile of the 4 x 3 family: `r` (1 to 4) rows from `i` by `w` (1 to 3) columns from `j`.
///
/// # Safety
/// Rows i..i + r and columns j..j + w of `C` lie inside the caller's block of a product
/// `kernel::gemm` checked.
#[inline(always)]
unsafe fn dot_small<V: Simd>(job: &Job, i: usize, r: usize, j: usize, w: usize) {
    // SAFETY: forwarded.
    unsafe {
        match (r, w) {
            (1, 1) => dot_tile::<V, 1, 1>(job, i, j),
            (1, 2) => dot_tile::<V, 1, 2>(job, i, j),
            (1, _) => dot_tile::<V, 1, 3>(job, i, j),
            (2, 1) => dot_tile::<V, 2, 1>(job, i, j),
            (2, 2) => dot_tile::<V, 2, 2>(job, i, j),
            (2, _) => dot_tile::<V, 2, 3>(job, i, j),
            (3, 1) => dot_tile::<V, 3, 1>(job, i, j),
            (3, 2) => dot_tile::<V, 3, 2>(job, i, j),
            (3, _) => dot_tile::<V, 3, 3>(job, i, j),
            (_, 1) => dot_tile::<V, 4, 1>(job, i, j),
            (_, 2) => dot_tile::<V, 4, 2>(job, i, j),
            (_, _) => dot_tile::<V, 4, 3>(job, i, j),
        }
    }
}

/// `R` rows by `C` columns of `C` from row `i`, column `j`, as dot products over `k`.
#[inline(always)]
unsafe fn dot_tile<V: Simd, const R: usize, const C: usize>(job: &Job, i: usize, j: usize) {
    let (k, l) = (job.k, V::LANES);
    let main = k - k % l;
    // SAFETY (whole body): row i + r of `A` is `k` floats at `a + (i + r) * rs`, column
    // j + c of `B` `k` floats at `b + (j + c) * cs`, element (i + r, j + c) of `C` at
    // `c + (j + c) * m + i + r`: all inside the operands `gemm` checked.
    unsafe {
        let a: [*const f32; R] = from_fn(|r| job.a.data.as_ptr().add((i + r) * job.a.rs));
        let b: [*const f32; C] = from_fn(|c| job.b.data.as_ptr().add((j + c) * job.b.cs));
        let mut acc = [[V::zero(); C]; R];
        let mut p = 0;
        while p < main {
            let bv: [V; C] = from_fn(|c| V::load(b[c].add(p)));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = V::load(a[r].add(p));
                for c in 0..C {
                    acc[c] = av.mul_add(bv[c], acc[c]);
                }
            }
            p += l;
        }
        if p < k {
            let t = k - p;
            let bv: [V; C] = from_fn(|c| V::load_part(b[c].add(p), t));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = V::load_part(a[r].add(p), t);
                for c in 0..C {
                    acc[c] = av.mul_add(bv[c], acc[c]);
                }
            }
        }
        finish_dots::<V, R, C>(job, i, j, acc);
    }
}

/// Writes a dot tile's sums to `C`, with `alpha`, `beta` and the epilogue.
///
/// # Safety
/// As [`dot_tile`].
#[inline(always)]
unsafe fn finish_dots<V: Simd, const R: usize, const C: usize>(
    job: &Job,
    i: usize,
    j: usize,
    acc: [[V; C]; R],
) {
    // Through memory (`black_box`): when the compiler saw the sums' shuffles take the
    // registers straight from the loop, it kept a third of the accumulators on the stack
    // instead, loading and storing them on every step (AVX-512, 6 x 4 tiles: 1.4x
    // slower). Stored once per tile, the loop keeps all of them in registers.
    // SAFETY: the path's instructions are available (the caller's contract).
    let dots = unsafe { V::sums(core::hint::black_box(acc)) };
    for (r, dots) in dots.iter().enumerate() {
        for (c, &dot) in dots.iter().enumerate() {
            // SAFETY: element (i + r, j + c) of `C` is inside the caller's block.
            unsafe {
                let out = job.c.add((j + c) * job.m + i + r);
                let x = if job.beta == 0.0 { job.alpha * dot } else { job.alpha * dot + job.beta * *out };
                *out = job.then.apply(x, i + r);
            }
        }
    }
}
