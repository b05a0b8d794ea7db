//! The kernel's threads: how many (`set_threads`, `MLP_THREADS`, the default), and the
//! helpers that compute parts of one product beside the calling thread.
//!
//! A product of a batch-32 step takes 5-150 us, so handing half of it to another core
//! must cost well under a microsecond. A general pool (rayon) parks its threads and
//! wakes them through the OS, which costs tens of microseconds on the virtual machines
//! we measure on; so each helper spins for a short while after its last part ([`SPIN`],
//! long enough to span the gaps between the products of a step) and only then parks. The calling thread always computes the first part itself.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper spins for its next part before it parks.
const SPIN: Duration = Duration::from_micros(1000);

/// The explicit `set_threads` value (0: none).
static SET: AtomicUsize = AtomicUsize::new(0);

/// The cores this process may use.
pub(super) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Uses `threads` threads for products large enough to pay for the hand-off, clamped to
/// the cores this process may use (at least 1). Overrides `MLP_THREADS` and the default
/// for the whole process, at once.
///
/// Results do not depend on the count: threads split the elements of a product's result,
/// and each element is computed the same way whichever thread computes it.
pub fn set_threads(threads: usize) {
    SET.store(threads.clamp(1, cores()), Relaxed);
}

/// The thread count in use: the last [`set_threads`], else `MLP_THREADS`, else every
/// core this process may use; always between 1 and that number of cores.
pub fn threads() -> usize {
    match SET.load(Relaxed) {
        0 => env_threads().unwrap_or_else(cores),
        n => n,
    }
}

/// `MLP_THREADS`, clamped to the cores; a value that is not a positive number is reported
/// once on stderr and ignored.
fn env_threads() -> Option<usize> {
    static ENV: OnceLock<Option<usize>> = OnceLock::new();
    *ENV.get_or_init(|| {
        let v = std::env::var("MLP_THREADS").ok()?;
        match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Some(n.min(cores())),
            _ => {
                eprintln!("mlp: MLP_THREADS={v:?} ignored: expected a positive number of threads");
                None
            }
        }
    })
}

/// One part of a product: `task(part)` for `part` in 1..parts.
#[derive(Clone, Copy)]
struct Task {
    // A `&(dyn Fn(usize) + Sync)` of the caller's stack, with its lifetime erased; valid
    // while the slot is `POSTED` (the caller waits for `IDLE` before it returns).
    f: *const (dyn Fn(usize) + Sync),
    part: usize,
}

/// What an unused slot's task points at.
static NOTHING: fn(usize) = |_| {};

const IDLE: u8 = 0;
const POSTED: u8 = 1;

/// A helper's mailbox, on cache lines of its own: the helper polls it, so anything else
/// sharing its line (a neighbour on the heap that the calling thread writes) would bounce
/// between the cores on every write.
#[repr(align(128))]
struct Slot {
    state: AtomicU8,
    task: UnsafeCell<Task>,
    /// The helper is parked or about to park: the poster must unpark it.
    sleepy: AtomicBool,
    /// A part panicked (reported by the caller).
    panicked: AtomicBool,
    thread: OnceLock<Option<Thread>>,
}

// SAFETY: `task` is written only by the team's holder while `state` is IDLE and read only
// by the helper after it saw POSTED (Acquire/Release on `state` order the two); the
// closure it points at is `Sync`, so calling it from the helper is sound.
unsafe impl Sync for Slot {}
// SAFETY: as above; a slot moves between threads only inside the `OnceLock` that holds it.
unsafe impl Send for Slot {}

struct Team {
    /// Held by the thread whose product the helpers are computing.
    busy: AtomicBool,
    slots: Vec<Slot>,
}

fn team() -> &'static Team {
    static TEAM: OnceLock<Team> = OnceLock::new();
    TEAM.get_or_init(|| Team {
        busy: AtomicBool::new(false),
        slots: (0..cores().saturating_sub(1))
            .map(|_| Slot {
                state: AtomicU8::new(IDLE),
                task: UnsafeCell::new(Task { f: &NOTHING, part: 0 }),
                sleepy: AtomicBool::new(false),
                panicked: AtomicBool::new(false),
                thread: OnceLock::new(),
            })
            .collect(),
    })
}

/// The helper thread behind slot `s`, started on first use (`None` if the OS refused).
fn helper(s: usize) -> Option<&'static Thread> {
    let slot = &team().slots[s];
    slot.thread
        .get_or_init(|| {
            std::thread::Builder::new()
                .name(format!("mlp-kernel-{}", s + 1))
                .spawn(move || serve(&team().slots[s]))
                .ok()
                .map(|h| h.thread().clone())
        })
        .as_ref()
}

fn serve(slot: &Slot) {
    loop {
        let mut since = Instant::now();
        let mut spins = 0u32;
        while slot.state.load(Acquire) != POSTED {
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || since.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            slot.sleepy.store(true, SeqCst);
            if slot.state.load(SeqCst) != POSTED {
                std::thread::park();
            }
            slot.sleepy.store(false, SeqCst);
            since = Instant::now();
        }
        // SAFETY: POSTED was seen with Acquire, so the task written before it is visible,
        // and the poster keeps `f` alive until this thread stores IDLE.
        let task = unsafe { *slot.task.get() };
        let f = unsafe { &*task.f };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(task.part))).is_err() {
            slot.panicked.store(true, Relaxed);
        }
        slot.state.store(IDLE, Release);
    }
}

/// Runs `f(0)`, …, `f(parts - 1)`: part 0 on this thread, the others on helpers when the
/// helpers are free, else all here in order. Returns when all parts are done.
///
/// `f` must be correct whichever thread runs a part and in any order (the parts write
/// disjoint data).
pub(super) fn run_parts(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    let team = team();
    let helpers = parts.saturating_sub(1).min(team.slots.len());
    if helpers == 0 || team.busy.compare_exchange(false, true, Acquire, Relaxed).is_err() {
        // Another thread's product holds the helpers (tests, or a user's own threads). Every
        // part runs even if one panics, as with helpers; the first panic is then re-raised.
        let mut first = None;
        for p in 0..parts {
            if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(p))) {
                first.get_or_insert(payload);
            }
        }
        if let Some(payload) = first {
            std::panic::resume_unwind(payload);
        }
        return;
    }
    // SAFETY: the erased lifetime is restored by waiting below for every posted part.
    let erased: *const (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
    let mut posted = 0;
    for (s, slot) in team.slots.iter().enumerate().take(helpers) {
        let Some(thread) = helper(s) else { break };
        // SAFETY: the slot is IDLE (every post is waited for before `busy` is released),
        // so its helper does not read `task` now.
        unsafe { *slot.task.get() = Task { f: erased, part: s + 1 } };
        slot.state.store(POSTED, SeqCst);
        if slot.sleepy.swap(false, SeqCst) {
            thread.unpark();
        }
        posted += 1;
    }
    // Caught, so the helpers are waited for even then: they read `f` from this stack.
    let mine = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        f(0);
        // Parts no helper took (a thread failed to start) run here.
        (posted + 1..parts).for_each(f);
    }));
    let mut panicked = false;
    for slot in &team.slots[..posted] {
        let mut spins = 0u32;
        while slot.state.load(Acquire) != IDLE {
            spins = spins.wrapping_add(1);
            if spins < 1 << 16 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        panicked |= slot.panicked.swap(false, Relaxed);
    }
    team.busy.store(false, Release);
    if let Err(payload) = mine {
        std::panic::resume_unwind(payload);
    }
    assert!(!panicked, "a part of a matrix product panicked on a kernel thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_part_is_reported_after_every_part_finished() {
        let done = AtomicUsize::new(0);
        for bad in [0, 1] {
            done.store(0, Relaxed);
            let r = std::panic::catch_unwind(|| {
                run_parts(2, &|p| {
                    if p == bad {
                        panic!("part {p}");
                    }
                    done.fetch_add(1, Relaxed);
                })
            });
            assert!(r.is_err(), "part {bad}'s panic reaches the caller");
            assert_eq!(done.load(Relaxed), 1, "the other part ran");
        }
        // The team is free again.
        run_parts(2, &|_| {});
    }

    #[test]
    fn every_part_runs_once() {
        let hits: Vec<AtomicUsize> = (0..5).map(|_| AtomicUsize::new(0)).collect();
        for _ in 0..1000 {
            run_parts(5, &|p| {
                hits[p].fetch_add(1, Relaxed);
            });
        }
        assert!(hits.iter().all(|h| h.load(Relaxed) == 1000));
    }

    #[test]
    fn counts_are_clamped_to_the_cores() {
        let before = SET.load(Relaxed);
        set_threads(1000);
        assert_eq!(threads(), cores());
        set_threads(0);
        assert_eq!(threads(), 1);
        SET.store(before, Relaxed);
    }
}
