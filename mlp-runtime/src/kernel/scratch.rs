//! Scratch buffers the tiles copy panels into: grown to the largest size once, then
//! reused, so products allocate nothing after the first.
//!
//! With std each thread has its own. Without std there are no threads but there may be
//! interrupts: one buffer per process, taken with a flag; a product that finds it taken
//! (a network run from an interrupt handler inside another's product) uses a buffer of its
//! own for that call.

use alloc::vec::Vec;

/// A buffer lent for one use: a pointer to at least the floats asked for, valid while the
/// lease lives.
pub(crate) struct Lease {
    ptr: *mut f32,
    #[cfg(not(feature = "std"))]
    held: Held,
}

impl Lease {
    /// The start of the buffer.
    pub(crate) fn ptr(&self) -> *mut f32 {
        self.ptr
    }
}

#[cfg(feature = "std")]
mod imp {
    use super::{Lease, Vec};
    use std::cell::RefCell;
    use std::thread::LocalKey;

    /// One of this thread's buffers.
    pub(crate) type Scratch = LocalKey<RefCell<Vec<f32>>>;

    macro_rules! scratch {
        ($(#[$doc:meta])* $vis:vis static $name:ident;) => {
            thread_local! {
                $(#[$doc])*
                $vis static $name: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
            }
        };
    }
    pub(crate) use scratch;

    /// This thread's buffer `which`, at least `len` floats. The pointer stays valid until the
    /// next lease of the same buffer on this thread; no product takes one twice.
    pub(crate) fn lease(which: &'static Scratch, len: usize) -> Lease {
        which.with(|buf| {
            let mut buf = buf.borrow_mut();
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            Lease { ptr: buf.as_mut_ptr() }
        })
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use super::{Lease, Vec};
    use core::cell::UnsafeCell;
    use core::sync::atomic::{AtomicBool, Ordering};

    /// The process's buffer, and whether a product holds it.
    pub(crate) struct Scratch {
        busy: AtomicBool,
        buf: UnsafeCell<Vec<f32>>,
    }

    // SAFETY: `buf` is only touched by the holder of `busy` (set by a compare-exchange).
    unsafe impl Sync for Scratch {}

    impl Scratch {
        pub(crate) const fn new() -> Self {
            Scratch { busy: AtomicBool::new(false), buf: UnsafeCell::new(Vec::new()) }
        }
    }

    macro_rules! scratch {
        ($(#[$doc:meta])* $vis:vis static $name:ident;) => {
            $(#[$doc])*
            $vis static $name: $crate::kernel::scratch::Scratch = $crate::kernel::scratch::Scratch::new();
        };
    }
    pub(crate) use scratch;

    /// What a lease gives back when it ends.
    pub(crate) enum Held {
        /// The shared buffer: its flag is cleared.
        Shared(&'static AtomicBool),
        /// A buffer of its own (the shared one was taken): freed.
        Own(#[allow(dead_code)] Vec<f32>),
    }

    impl Drop for Lease {
        fn drop(&mut self) {
            if let Held::Shared(busy) = self.held {
                busy.store(false, Ordering::Release);
            }
        }
    }

    /// The buffer `which`, at least `len` floats, for as long as the lease lives.
    pub(crate) fn lease(which: &'static Scratch, len: usize) -> Lease {
        if which.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            // SAFETY: the flag was clear and is now ours: nothing else touches `buf` until
            // the lease ends.
            let buf = unsafe { &mut *which.buf.get() };
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            Lease { ptr: buf.as_mut_ptr(), held: Held::Shared(&which.busy) }
        } else {
            let mut own = alloc::vec![0.0; len];
            Lease { ptr: own.as_mut_ptr(), held: Held::Own(own) }
        }
    }
}

#[cfg(not(feature = "std"))]
use imp::Held;
#[cfg(not(feature = "std"))]
pub(crate) use imp::Scratch;
pub(crate) use imp::{lease, scratch};
