//! Wiping what key setup leaves on the stack.
//!
//! A key is built by value and then copied into the caller's storage: Rust promises nothing
//! about the temporaries on the way (the built key, the `Result` around it, the hash
//! functions' working states), and each of them is as good as the secret. So the work is done
//! in a function of its own ([`scrubbed`]), and once it has returned the stack it used is
//! overwritten: [`scrub`] runs in the same place with a frame at least as deep, zeroed with
//! volatile writes the compiler cannot leave out.

use core::mem::MaybeUninit;
use core::sync::atomic::{Ordering, compiler_fence};

/// Bytes of stack zeroed after key setup: more than building a key and setting its kid use
/// below the caller's frame, for every algorithm (the tests scan the stack for the keyed
/// states after [`scrubbed`] and find none).
pub(crate) const SCRUB_BYTES: usize = 2048;

/// Runs `work` in a frame of its own, then zeroes the stack it used.
#[inline(never)]
pub(crate) fn scrubbed<T>(work: impl FnOnce() -> T) -> T {
    let result = run(work);
    scrub();
    result
}

/// `work`, never inlined into [`scrubbed`], so its frame and its callees' frames lie where
/// [`scrub`]'s frame will be.
#[inline(never)]
fn run<T>(work: impl FnOnce() -> T) -> T {
    work()
}

/// Zeroes [`SCRUB_BYTES`] of stack below the caller's frame.
#[inline(never)]
fn scrub() {
    let mut area = MaybeUninit::<[u8; SCRUB_BYTES]>::uninit();
    let base = area.as_mut_ptr().cast::<u8>();
    for i in 0..SCRUB_BYTES {
        // SAFETY: `i < SCRUB_BYTES`, inside `area`, a local of exactly that size; the writes
        // are volatile so that the compiler keeps them although `area` is never read.
        unsafe { base.add(i).write_volatile(0) };
    }
    compiler_fence(Ordering::SeqCst);
}
