//! Minting into the caller's buffer, NUL-terminated.

use core::ffi::{c_char, c_int};

use stackjwt::Error;

use crate::codes::{
    STACKJWT_ERR_BUFFER_TOO_SMALL, STACKJWT_ERR_INVALID_ARGUMENT, STACKJWT_ERR_NULL_POINTER, STACKJWT_OK, code,
};
use crate::key::{key_ref, stackjwt_key};
use crate::{input, output};

/// Writes a token with `mint` into `out` (room for it and its NUL in `out_cap` bytes) and its
/// length into `*out_len`. When it does not fit, `*out_len` is the `out_cap` needed (the
/// token's length plus one) and `out` holds an empty string (when `out_cap` > 0).
///
/// # Safety
/// `out` must be NULL or point to `out_cap` writable bytes; `out_len` NULL or writable.
unsafe fn write_token(
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    mint: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
) -> c_int {
    // SAFETY: `out_cap` writable bytes at `out`, per the contract.
    let (Some(out), false) = (unsafe { output(out.cast(), out_cap) }, out_len.is_null()) else {
        return STACKJWT_ERR_NULL_POINTER;
    };
    let room = out_cap.saturating_sub(1);
    let (result, written) = match mint(out.get_mut(..room).unwrap_or_default()) {
        Ok(n) => (STACKJWT_OK, n),
        Err(Error::BufferTooSmall { needed }) => (STACKJWT_ERR_BUFFER_TOO_SMALL, needed.saturating_add(1)),
        Err(e) => (code(e), 0),
    };
    // The NUL after the token, or at the start when there is no token.
    let nul = if result == STACKJWT_OK { written } else { 0 };
    if let Some(b) = out.get_mut(nul) {
        *b = 0;
    }
    // SAFETY: not NULL (checked above) and writable, per the contract.
    unsafe { out_len.write(written) };
    result
}

/// Mints a Stream user token, byte-identical to the JS SDK's `createToken(user_id, exp, iat)`:
/// `exp` and `iat` are pointers to the values, NULL to leave the claim out (a value of 0
/// leaves it out too, as the SDK does). `user_id` must be UTF-8 (else
/// `STACKJWT_ERR_INVALID_ARGUMENT`) and non-empty (else `STACKJWT_ERR_EMPTY_USER_ID`).
///
/// The token is written to `out` followed by a NUL, and its length (without the NUL) to
/// `*out_len`. When `out_cap` is too small: `STACKJWT_ERR_BUFFER_TOO_SMALL`, `*out_len` is
/// the `out_cap` needed (length plus NUL), and no byte at or past `out_cap` is touched.
///
/// # Safety
/// `key` must point to an initialized key; `user_id` to `user_id_len` bytes; `exp` and `iat`
/// must be NULL or readable; `out` must point to `out_cap` writable bytes; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_user_token(
    key: *const stackjwt_key,
    user_id: *const c_char,
    user_id_len: usize,
    exp: *const u64,
    iat: *const u64,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: `user_id_len` readable bytes at `user_id`, per the contract.
    let Some(user_id) = (unsafe { input(user_id.cast(), user_id_len) }) else { return STACKJWT_ERR_NULL_POINTER };
    if out.is_null() || out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: an initialized key, per the contract.
    let key = match unsafe { key_ref(key) } {
        Ok(k) => k,
        Err(e) => return e,
    };
    let Ok(user_id) = core::str::from_utf8(user_id) else { return STACKJWT_ERR_INVALID_ARGUMENT };
    // SAFETY: NULL or readable, per the contract.
    let (exp, iat) = unsafe { (exp.as_ref().copied(), iat.as_ref().copied()) };
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, |buf| key.user_token(user_id, exp, iat, buf).map(str::len)) }
}

/// Mints a server token (`{"server":true}`) into `out`, as `stackjwt_user_token` does.
///
/// # Safety
/// `key` must point to an initialized key; `out` to `out_cap` writable bytes; `out_len` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_server_token(
    key: *const stackjwt_key,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> c_int {
    if out.is_null() || out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: an initialized key, per the contract.
    let key = match unsafe { key_ref(key) } {
        Ok(k) => k,
        Err(e) => return e,
    };
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, |buf| key.server_token(buf).map(str::len)) }
}

/// Mints a development token (signature `devtoken`, no key) for `user_id` into `out`, as
/// `stackjwt_user_token` does; byte-identical to the JS SDK's `DevToken` for ASCII ids.
///
/// # Safety
/// `user_id` must point to `user_id_len` bytes; `out` to `out_cap` writable bytes; `out_len`
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_dev_token(
    user_id: *const c_char,
    user_id_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> c_int {
    // SAFETY: `user_id_len` readable bytes at `user_id`, per the contract.
    let Some(user_id) = (unsafe { input(user_id.cast(), user_id_len) }) else { return STACKJWT_ERR_NULL_POINTER };
    if out.is_null() || out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    let Ok(user_id) = core::str::from_utf8(user_id) else { return STACKJWT_ERR_INVALID_ARGUMENT };
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, |buf| stackjwt::dev_token(user_id, buf).map(str::len)) }
}

#[cfg(test)]
mod tests {
    use core::ptr;

    use super::*;
    use crate::codes::*;
    use crate::key::{AlgArg, stackjwt_key_init_weak};

    const JOHN: &str =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MU";

    #[test]
    fn user_token_with_guards_on_both_sides() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init_weak(key.as_mut_ptr(), 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let key = key.as_ptr();
            for cap in 0..=JOHN.len() + 1 {
                let mut buf = [0xa5u8; 160];
                let mut len = 7usize;
                let out = buf.as_mut_ptr().add(8).cast::<c_char>();
                let r = stackjwt_user_token(key, c"john".as_ptr(), 4, ptr::null(), ptr::null(), out, cap, &mut len);
                if cap > JOHN.len() {
                    assert_eq!((r, len), (STACKJWT_OK, JOHN.len()));
                    assert_eq!(&buf[8..8 + len], JOHN.as_bytes());
                    assert_eq!(buf[8 + len], 0);
                } else {
                    assert_eq!((r, len), (STACKJWT_ERR_BUFFER_TOO_SMALL, JOHN.len() + 1), "cap {cap}");
                }
                assert!(buf[..8].iter().all(|&b| b == 0xa5), "byte before out touched");
                assert!(buf[8 + cap..].iter().all(|&b| b == 0xa5), "byte at or past out_cap touched (cap {cap})");
            }
            let mut buf = [0u8; 160];
            let mut len = 0;
            let out = buf.as_mut_ptr().cast::<c_char>();
            let id = c"john".as_ptr();
            assert_eq!(
                stackjwt_user_token(key, ptr::null(), 4, ptr::null(), ptr::null(), out, 160, &mut len),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_user_token(key, id, 4, ptr::null(), ptr::null(), ptr::null_mut(), 160, &mut len),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_user_token(key, id, 4, ptr::null(), ptr::null(), out, 160, ptr::null_mut()),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_user_token(ptr::null(), id, 4, ptr::null(), ptr::null(), out, 160, &mut len),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_user_token(key, id, 0, ptr::null(), ptr::null(), out, 160, &mut len),
                STACKJWT_ERR_EMPTY_USER_ID
            );
            assert_eq!(
                stackjwt_user_token(key, c"\xff".as_ptr(), 1, ptr::null(), ptr::null(), out, 160, &mut len),
                STACKJWT_ERR_INVALID_ARGUMENT
            );
            let (exp, iat) = (1_700_000_000u64, 0u64);
            assert_eq!(stackjwt_user_token(key, id, 4, &exp, &iat, out, 160, &mut len), STACKJWT_OK);
            let mut want = [0u8; 160];
            let rust = stackjwt::Key::new_weak(stackjwt::Algorithm::Hs256, b"secret").unwrap();
            assert_eq!(&buf[..len], rust.user_token("john", Some(exp), None, &mut want).unwrap().as_bytes());
            assert_eq!(stackjwt_server_token(key, out, 160, &mut len), STACKJWT_OK);
            assert_eq!(&buf[..len], rust.server_token(&mut want).unwrap().as_bytes());
            assert_eq!(stackjwt_dev_token(c"ab".as_ptr(), 2, out, 160, &mut len), STACKJWT_OK);
            assert_eq!(&buf[..len + 1], b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWIifQ==.devtoken\0");
            assert_eq!(stackjwt_dev_token(c"ab".as_ptr(), 2, out, 10, &mut len), STACKJWT_ERR_BUFFER_TOO_SMALL);
            assert_eq!(len, 71, "70 bytes and the NUL");
        }
    }
}
