//! The C API of stackjwt: Stream Chat tokens minted and verified from C on caller buffers,
//! with no heap.
//!
//! Every function returns [`STACKJWT_OK`] (0) or a negative error code (`STACKJWT_ERR_*`, one
//! per Rust [`stackjwt::Error`] variant, plus [`STACKJWT_ERR_NULL_POINTER`] and
//! [`STACKJWT_ERR_INVALID_ARGUMENT`]); outputs go through pointers; nothing is allocated. A
//! NULL pointer where one is required is refused before anything is written. Lengths are
//! trusted as far as they can be checked: a `*_len` longer than the memory behind its pointer
//! is the caller's bug, as in every C API, but a length no object can have (over `PTRDIFF_MAX`,
//! or running past the end of the address space) is refused before it is used, and so are
//! buffers that overlap where one is written and another read.
//!
//! `unsafe` lives in this crate only, at the boundary: each block turns a C pointer into a
//! Rust reference or slice and says why that is sound. The library behind it never panics;
//! on bare metal a panic would stop in a loop (no unwinding crosses into C on any target).
#![cfg_attr(target_os = "none", no_std)]
// The boundary is raw pointers by nature; each block has its `// SAFETY:` note.
#![allow(unsafe_code)]
// C names, as the header spells them.
#![allow(non_camel_case_types)]

mod codes;
mod key;
mod mint;
mod verify;
mod wipe;

use core::ffi::c_int;

pub use codes::*;
pub use key::{
    AlgArg, STACKJWT_KEY_SIZE, stackjwt_alg, stackjwt_key, stackjwt_key_clear, stackjwt_key_init,
    stackjwt_key_init_weak, stackjwt_key_set_kid,
};
pub use mint::{stackjwt_dev_token, stackjwt_server_token, stackjwt_user_token};
pub use verify::{
    STACKJWT_MAX_TOKEN_LEN, STACKJWT_VERIFY_SCRATCH_LEN, stackjwt_claims, stackjwt_verify, stackjwt_verify_options,
    stackjwt_verify_webhook,
};

/// `len` bytes at `ptr`: `STACKJWT_ERR_NULL_POINTER` for a NULL pointer,
/// `STACKJWT_ERR_INVALID_ARGUMENT` for a length no object can have (over `isize::MAX`, or
/// running past the end of the address space), checked before any slice is made.
///
/// # Safety
/// Unless refused, `ptr` must point to `len` readable bytes that stay unchanged for `'a`.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], c_int> {
    check_span(ptr as usize, len)?;
    // SAFETY: not NULL, `len` fits an object (checked just above), and the caller promises
    // `len` readable bytes for `'a`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` writable bytes at `ptr`, refused as [`input`] refuses.
///
/// # Safety
/// Unless refused, `ptr` must point to `len` writable bytes used by nothing else for `'a`.
unsafe fn output<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], c_int> {
    check_span(ptr as usize, len)?;
    // SAFETY: not NULL, `len` fits an object (checked just above), and the caller promises
    // `len` writable, unaliased bytes for `'a`.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// Whether `len` bytes at address `start` can be one object: not NULL, at most `isize::MAX`
/// bytes, not wrapping around the address space (what `slice::from_raw_parts` requires).
fn check_span(start: usize, len: usize) -> Result<(), c_int> {
    if start == 0 {
        return Err(STACKJWT_ERR_NULL_POINTER);
    }
    match (isize::try_from(len), start.checked_add(len)) {
        (Ok(_), Some(_)) => Ok(()),
        _ => Err(STACKJWT_ERR_INVALID_ARGUMENT),
    }
}

/// Whether the byte ranges `[a, a + a_len)` and `[b, b + b_len)` share a byte (ranges already
/// checked by [`check_span`], so the ends do not wrap).
fn overlap(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> bool {
    let (a, b) = (a as usize, b as usize);
    a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // Unreachable from any input (the library has no panicking path); a firmware watchdog
    // resets a device stuck here.
    loop {
        core::hint::spin_loop();
    }
}
