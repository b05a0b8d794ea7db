//! Element-wise work cut into contiguous parts for the kernel's threads: an optimizer's
//! update of a tensor and its state, the checks and passes around it ([`zip_parts`]), and
//! passes over a batch by whole samples, such as batch norm's and the activations'
//! ([`zip_columns`]).
//!
//! Each element is computed by the same operations whichever part holds it, so results
//! do not depend on the thread count, as with [`gemm`](super::gemm).

use super::team;

/// Fewer elements than this per part and the hand-off costs more than the part saves (it
/// takes well under a microsecond). Measured against 16,384, alternating the two within one
/// process (20 blocks of 200 steps each, medians), batch 32 on two threads: model A's step
/// 161.8 -> 157.2 us, B's 262.3 -> 252.4, C's 344.6 -> 333.3 (a 300 x 100 layer's update
/// and a 300-unit layer's activations now split); one thread unchanged. Filling a batch
/// (copying rows from all over a data set) splits from the same size: 21 rows of 784.
const PART_MIN: usize = 8 * 1024;

/// Elements per cache line: part boundaries fall on multiples of it, so two parts share
/// at most the line their slices start unaligned in.
const LINE: usize = 16;

#[cfg(feature = "std")]
std::thread_local! {
    /// Whether [`zip_parts`] may share its work on this thread: set by
    /// [`sharing_for_batch`] around a training step's update.
    static SHARE: core::cell::Cell<bool> = const { core::cell::Cell::new(true) };
}

/// Runs `f`, a training step's update on a batch of `batch` samples, with [`zip_parts`]
/// sharing its work among threads only when the step's products were shared too (each
/// weight used at least `REUSE` times by the batch). Otherwise the weights and gradients
/// live in this thread's cache, and a helper's share of them would cross between the
/// cores twice a step: measured, model B at batch 1 on two threads took 560-840 us a step
/// in half the runs against 290-350 on one.
#[cfg(feature = "std")]
pub(crate) fn sharing_for_batch<R>(batch: usize, f: impl FnOnce() -> R) -> R {
    /// Puts the setting back when dropped, so a panic in `f` (a user's optimizer) that
    /// the caller catches does not leave this thread's later updates unshared.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            SHARE.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SHARE.with(|s| s.replace(batch >= super::REUSE)));
    f()
}

/// The parts `n` elements are cut into for `t` threads, at least `min` elements a part: a
/// fixed function of its arguments.
fn parts(n: usize, t: usize, min: usize) -> usize {
    t.min(n / min).max(1)
}

/// Calls `f` on contiguous parts of `muts` and `reads`, the parts shared among the
/// kernel's threads when each is large enough to pay for it. Like `zip`, the shortest
/// slice bounds the work: elements past its length are left alone (an optimizer given a
/// gradient shorter than its tensor updates what the gradient covers). `f` must treat
/// each element independently of the others: it sees one part at a time, in any order,
/// on any thread.
///
/// # Panics
/// A panic in `f` is re-raised here after every part finished.
// The optimizers and the trainer, its users, need std.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) fn zip_parts<const M: usize, const R: usize>(
    muts: [&mut [f32]; M],
    reads: [&[f32]; R],
    f: impl Fn([&mut [f32]; M], [&[f32]; R]) + Sync,
) {
    zip_parts_on(share(), LINE, muts, reads, f)
}

/// The threads [`zip_parts`] may use on this thread now (see [`sharing_for_batch`]).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
fn share() -> usize {
    #[cfg(feature = "std")]
    let t = if SHARE.with(|s| s.get()) { team::threads() } else { 1 };
    #[cfg(not(feature = "std"))]
    let t = team::threads();
    t
}

/// [`zip_parts`] over batches of samples `width` floats each (column-major matrices with
/// `width` rows): every part holds whole samples, so `f` can walk them with
/// `chunks_exact(width)` and know each element's feature.
pub(crate) fn zip_columns<const M: usize, const R: usize>(
    width: usize,
    muts: [&mut [f32]; M],
    reads: [&[f32]; R],
    f: impl Fn([&mut [f32]; M], [&[f32]; R]) + Sync,
) {
    zip_parts_on(team::threads(), width.max(1), muts, reads, f)
}

/// [`zip_parts`] for at most `t` threads, with parts starting on multiples of `grain`.
fn zip_parts_on<const M: usize, const R: usize>(
    t: usize,
    grain: usize,
    muts: [&mut [f32]; M],
    reads: [&[f32]; R],
    f: impl Fn([&mut [f32]; M], [&[f32]; R]) + Sync,
) {
    let n = muts.iter().map(|s| s.len()).chain(reads.iter().map(|s| s.len())).min().unwrap_or(0);
    let muts = muts.map(|s| &mut s[..n]);
    let reads = reads.map(|s| &s[..n]);
    let isa = super::isa();
    if parts(n, t.min(team::threads()), PART_MIN) == 1 {
        return vectorized(
            isa,
            #[inline(always)]
            || f(muts, reads),
        );
    }
    let ptrs = Disjoint(muts.map(|s| s.as_mut_ptr()));
    for_parts(t, grain, PART_MIN, n, &|start, end| {
        // SAFETY: each pointer is the start of a slice of `n` elements borrowed mutably for
        // the whole call (the parts finish before `for_parts` returns), and the parts'
        // ranges are disjoint, so no element is reachable from two parts.
        let mine = unsafe { slices(ptrs.starts(), start, end) };
        vectorized(
            isa,
            #[inline(always)]
            || f(mine, reads.map(|s| &s[start..end])),
        )
    });
}

/// Calls `part(start, end)` on the contiguous ranges `n` elements are cut into for at most
/// `t` threads (starting on multiples of `grain`, at least `min` elements each), shared
/// among the kernel's threads.
fn for_parts(t: usize, grain: usize, min: usize, n: usize, part: &(dyn Fn(usize, usize) + Sync)) {
    let parts = parts(n, t.min(team::threads()), min);
    if parts == 1 {
        return part(0, n);
    }
    let step = n.div_ceil(parts).next_multiple_of(grain);
    team::run_parts(parts, &|p| {
        // In reverse, as `kernel::run` hands out a product's blocks: the calling thread
        // (part 0) takes the last range. A layer's weights are stored one output unit
        // after another, and the forward product and the weight gradient give the calling
        // thread the last units too, so each core updates the weights it computes with.
        let p = parts - 1 - p;
        part((p * step).min(n), ((p + 1) * step).min(n))
    });
}

/// Calls `f(first, rows)` on contiguous parts of `dst`, whole rows of `width` floats
/// (`first`: the part's first row), shared among the kernel's threads from [`PART_MIN`]
/// floats a part: filling a batch, where each core then holds half the batch it is about
/// to read (for a helper, instead of all of it in the other core's cache), and drawing a
/// dropout mask.
pub(crate) fn row_parts(width: usize, dst: &mut [f32], f: impl Fn(usize, &mut [f32]) + Sync) {
    let (n, width) = (dst.len(), width.max(1));
    if parts(n, team::threads(), PART_MIN) == 1 {
        return f(0, dst);
    }
    let ptr = Disjoint([dst.as_mut_ptr()]);
    for_parts(team::threads(), width, PART_MIN, n, &|start, end| {
        // SAFETY: as in `zip_parts_on`: `dst` has `n` elements borrowed mutably for the
        // whole call, and the parts' ranges are disjoint.
        let [rows] = unsafe { slices(ptr.starts(), start, end) };
        f(start / width, rows)
    });
}

/// The gradient an optimizer's update reads: borrowed ([`Optimizer::update`]) or consumed,
/// left all zeros ([`Optimizer::update_and_zero`]).
///
/// [`Optimizer::update`]: crate::optim::Optimizer::update
/// [`Optimizer::update_and_zero`]: crate::optim::Optimizer::update_and_zero
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) enum Grad<'a> {
    Read(&'a [f32]),
    Consume(&'a mut [f32]),
}

/// Elements per chunk of a consumed gradient: `f` reads a chunk, which is zeroed at once,
/// while its lines are still in L1 (Adam's four 4 KiB chunks fit any L1 data cache).
#[cfg_attr(not(feature = "std"), allow(dead_code))]
const CHUNK: usize = 1024;

/// [`zip_parts`] for an optimizer's update of `muts` (the tensor and its state) from a
/// gradient. `f` gets the gradient's elements matching each part; a consumed gradient is
/// zeroed a chunk at a time right after `f` read it, instead of in a pass of its own over
/// the whole gradient afterwards (which reads it back from L2 or memory). `f` sees
/// shorter parts then, which changes nothing for an element-wise update.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) fn update_parts<const M: usize>(
    muts: [&mut [f32]; M],
    grad: Grad<'_>,
    f: impl Fn([&mut [f32]; M], &[f32]) + Sync,
) {
    update_parts_on(share(), muts, grad, f)
}

/// [`update_parts`] for at most `t` threads.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
fn update_parts_on<const M: usize>(
    t: usize,
    muts: [&mut [f32]; M],
    grad: Grad<'_>,
    f: impl Fn([&mut [f32]; M], &[f32]) + Sync,
) {
    let grad = match grad {
        Grad::Read(g) => return zip_parts_on(t, LINE, muts, [g], |m, [g]| f(m, g)),
        Grad::Consume(g) => g,
    };
    let n = muts.iter().map(|s| s.len()).min().unwrap_or(usize::MAX).min(grad.len());
    // Like zip, the work stops at the shortest slice; the gradient is zeroed whole.
    let (grad, rest) = grad.split_at_mut(n);
    rest.fill(0.0);
    let muts = muts.map(|s| &mut s[..n]);
    let isa = super::isa();
    if parts(n, t.min(team::threads()), PART_MIN) == 1 {
        return vectorized(
            isa,
            #[inline(always)]
            || consume(muts, grad, &f),
        );
    }
    let ptrs = Disjoint(muts.map(|s| s.as_mut_ptr()));
    let gptr = Disjoint([grad.as_mut_ptr()]);
    for_parts(t, LINE, PART_MIN, n, &|start, end| {
        // SAFETY: as in `zip_parts_on`: every slice has `n` elements borrowed mutably for
        // the whole call, and the parts' ranges are disjoint.
        let (mine, [g]) = unsafe { (slices(ptrs.starts(), start, end), slices(gptr.starts(), start, end)) };
        vectorized(
            isa,
            #[inline(always)]
            || consume(mine, g, &f),
        )
    });
}

/// `f` over a part of an update, a chunk at a time, each chunk of the gradient zeroed right
/// after `f` read it. Always inlined, like the closures around it: [`vectorized`] only
/// widens the code inlined into it.
#[inline(always)]
fn consume<const M: usize>(mut m: [&mut [f32]; M], g: &mut [f32], f: &impl Fn([&mut [f32]; M], &[f32])) {
    for start in (0..g.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(g.len());
        f(m.each_mut().map(|s| &mut s[start..end]), &g[start..end]);
        g[start..end].fill(0.0);
    }
}

/// Runs `f`, inlined into a function compiled for `isa`'s vectors (`isa()`, read on the
/// calling thread so every part takes the same path; a path the CPU lacks runs portable):
/// an update's or a check's loop then runs sixteen lanes wide on AVX-512 instead of
/// x86-64's baseline four. Element-wise IEEE operations give the same bits at any width
/// (Rust never fuses `a * b + c` on its own, and a sum stays in order), so every path
/// gives the same results (tested for the optimizers and the finiteness check).
///
/// Only code inlined into `f` is widened, and the compiler may keep a large closure apart:
/// the closures here are marked `#[inline(always)]`, and so must a caller's that holds a
/// large body. Measured: without it, Adam's update ran outside (perf of the tiny network:
/// 9.5% of its step in a closure at baseline width), and tanh, kept apart, took a tiny
/// step from 5.8 to 8.5 us.
#[inline(always)]
pub(crate) fn vectorized<R>(isa: super::Isa, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY (both): the CPU has the path's features, checked in the guard.
        match isa {
            super::Isa::Avx512 if isa.supported() => return unsafe { avx512(f) },
            super::Isa::Avx2 if isa.supported() => return unsafe { avx2(f) },
            _ => {}
        }
    }
    let _ = isa;
    f()
}

/// The starts of slices borrowed mutably, which parts of [`zip_parts`] cut disjoint ranges
/// from on other threads.
struct Disjoint<const M: usize>([*mut f32; M]);

impl<const M: usize> Disjoint<M> {
    /// The starts (a method, so a closure captures the whole `Sync` wrapper).
    fn starts(&self) -> [*mut f32; M] {
        self.0
    }
}

/// Elements `start..end` of the slices beginning at `starts`.
///
/// # Safety
/// `start..end` lies within each slice, the slices outlive `'a`, and no other reference
/// reaches these elements while the result lives.
unsafe fn slices<'a, const M: usize>(starts: [*mut f32; M], start: usize, end: usize) -> [&'a mut [f32]; M] {
    // SAFETY: the caller's contract.
    starts.map(|ptr| unsafe { core::slice::from_raw_parts_mut(ptr.add(start), end - start) })
}

// SAFETY: only used by `zip_parts_on`, whose parts reach disjoint elements through these.
unsafe impl<const M: usize> Sync for Disjoint<M> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_is_seen_once_whatever_the_thread_count() {
        for n in [0, 1, PART_MIN - 1, 2 * PART_MIN, 2 * PART_MIN + 17, 5 * PART_MIN + 3] {
            let reads: Vec<f32> = (0..n).map(|i| i as f32).collect();
            for t in [1, 2, 3] {
                let mut out = vec![0.0f32; n];
                let mut hits = vec![0.0f32; n];
                zip_parts_on(t, LINE, [&mut out, &mut hits], [&reads], |[out, hits], [x]| {
                    for ((o, h), x) in out.iter_mut().zip(hits.iter_mut()).zip(x) {
                        *o = x * 2.0;
                        *h += 1.0;
                    }
                });
                assert!(hits.iter().all(|&h| h == 1.0), "n {n}, t {t}");
                assert!(out.iter().zip(&reads).all(|(o, x)| *o == x * 2.0), "n {n}, t {t}");
            }
        }
    }

    #[test]
    fn a_consumed_gradient_updates_as_a_read_one_and_is_left_zero() {
        for n in [0, 5, CHUNK + 3, 2 * PART_MIN + CHUNK + 17] {
            let grad: Vec<f32> = (0..n + 3).map(|i| i as f32 + 1.0).collect();
            let update = |[w, m]: [&mut [f32]; 2], g: &[f32]| {
                for ((w, m), g) in w.iter_mut().zip(m.iter_mut()).zip(g) {
                    *m += g;
                    *w -= *m * 0.5;
                }
            };
            let (mut w_read, mut m_read) = (vec![1.0f32; n], vec![0.25f32; n + 1]);
            update_parts_on(1, [&mut w_read, &mut m_read], Grad::Read(&grad), update);
            for t in [1, 2, 3] {
                let (mut w, mut m, mut g) = (vec![1.0f32; n], vec![0.25f32; n + 1], grad.clone());
                update_parts_on(t, [&mut w, &mut m], Grad::Consume(&mut g), update);
                assert!(w == w_read && m == m_read, "n {n}, t {t}: as the read gradient's update");
                assert!(g.iter().all(|&g| g == 0.0), "n {n}, t {t}: every element zeroed, the tail too");
            }
        }
    }

    #[test]
    fn columns_stay_whole() {
        // 784 floats per sample, 300 samples: two parts, split between samples.
        let width = 784;
        let mut x = vec![0.0f32; width * 300];
        zip_parts_on(2, width, [&mut x], [], |[x], []| {
            assert_eq!(x.len() % width, 0, "a part of {} floats", x.len());
            for col in x.chunks_exact_mut(width) {
                col.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
            }
        });
        assert!(x.chunks_exact(width).all(|c| c.iter().enumerate().all(|(i, v)| *v == i as f32)));
    }

    #[test]
    #[cfg(feature = "std")]
    fn sharing_is_restored_after_a_panic() {
        let caught = std::panic::catch_unwind(|| sharing_for_batch(1, || panic!("an optimizer failed")));
        assert!(caught.is_err());
        assert!(SHARE.with(|s| s.get()), "the setting before the call is back");
    }

    #[test]
    fn parts_are_a_function_of_the_length_and_the_count() {
        assert_eq!(parts(PART_MIN * 2 - 1, 2, PART_MIN), 1);
        assert_eq!(parts(PART_MIN * 2, 2, PART_MIN), 2);
        assert_eq!(parts(PART_MIN * 10, 1, PART_MIN), 1);
        assert_eq!(parts(0, 4, PART_MIN), 1);
    }

    #[test]
    fn the_shortest_slice_bounds_the_work_like_zip() {
        for (t, n) in [(1, 5), (2, 2 * PART_MIN + 5)] {
            let mut long = vec![1.0f32; n + 3];
            let short = vec![2.0f32; n];
            zip_parts_on(t, LINE, [&mut long], [&short], |[w], [g]| {
                w.iter_mut().zip(g).for_each(|(w, g)| *w -= g);
            });
            assert!(long[..n].iter().all(|&w| w == -1.0) && long[n..] == [1.0; 3], "threads {t}");
        }
    }
}
