//! Minting into the caller's buffer, NUL-terminated.

use core::ffi::{c_char, c_int};

use stackjwt::Error;

use core::mem::size_of;

use crate::codes::{
    STACKJWT_ERR_BUFFER_TOO_SMALL, STACKJWT_ERR_INVALID_ARGUMENT, STACKJWT_ERR_NULL_POINTER, STACKJWT_OK, code,
};
use crate::key::{STACKJWT_KEY_SIZE, key_ref, stackjwt_key};
use crate::{check_span, input, output, overlap};

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
    inputs: &[(*const u8, usize)],
    mint: impl FnOnce(&mut [u8]) -> Result<usize, Error>,
) -> c_int {
    if out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    if let Err(e) = check_span(out as usize, out_cap) {
        return e;
    }
    // An output over an input would be written while it is read: refused before any of it
    // becomes a slice.
    let all = inputs.iter().copied().chain([(out_len.cast_const().cast(), size_of::<usize>())]);
    if all.into_iter().any(|(p, n)| overlap(p, n, out.cast_const().cast(), out_cap)) {
        return STACKJWT_ERR_INVALID_ARGUMENT;
    }
    // SAFETY: `out_cap` writable bytes at `out` (the contract), a span checked above, apart
    // from every input (checked above).
    let out = match unsafe { output(out.cast(), out_cap) } {
        Ok(out) => out,
        Err(e) => return e,
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

/// The user id at `ptr`: UTF-8 without NUL (a NUL would end it early for every C reader of
/// the token's claims, `strlen` and `printf` included), else `STACKJWT_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// As [`input`]: `ptr` must point to `len` readable bytes that stay unchanged for `'a`.
unsafe fn user_id_arg<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, c_int> {
    // SAFETY: passed on, per this function's contract.
    let bytes = unsafe { input(ptr.cast(), len) }?;
    match core::str::from_utf8(bytes) {
        Ok(id) if !bytes.contains(&0) => Ok(id),
        _ => Err(STACKJWT_ERR_INVALID_ARGUMENT),
    }
}

/// Mints a Stream user token, byte-identical to the JS SDK's `createToken(user_id, exp, iat)`:
/// `exp` and `iat` are pointers to the values, NULL to leave the claim out (a value of 0
/// leaves it out too, as the SDK does). `user_id` must be UTF-8 without NUL (else
/// `STACKJWT_ERR_INVALID_ARGUMENT`) and non-empty (else `STACKJWT_ERR_EMPTY_USER_ID`).
///
/// The token is written to `out` followed by a NUL, and its length (without the NUL) to
/// `*out_len`. When `out_cap` is too small: `STACKJWT_ERR_BUFFER_TOO_SMALL`, `*out_len` is
/// the `out_cap` needed (length plus NUL), and no byte at or past `out_cap` is touched. A
/// `user_id` with a NUL byte, and an `out` that overlaps any input (`user_id`, `exp`, `iat`,
/// the key, `out_len`), are refused with `STACKJWT_ERR_INVALID_ARGUMENT`.
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
    if user_id.is_null() || out.is_null() || out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: an initialized key, per the contract.
    let key_ref = match unsafe { key_ref(key) } {
        Ok(k) => k,
        Err(e) => return e,
    };
    // SAFETY: `user_id_len` readable bytes at `user_id`, per the contract.
    let user_id = match unsafe { user_id_arg(user_id, user_id_len) } {
        Ok(id) => id,
        Err(e) => return e,
    };
    let inputs = [
        (user_id.as_ptr(), user_id.len()),
        (exp.cast(), if exp.is_null() { 0 } else { size_of::<u64>() }),
        (iat.cast(), if iat.is_null() { 0 } else { size_of::<u64>() }),
        (key.cast(), STACKJWT_KEY_SIZE),
    ];
    let mint = |buf: &mut [u8]| {
        // SAFETY: NULL or readable, per the contract; read only once `out` is known to be
        // apart from them.
        let (exp, iat) = unsafe { (exp.as_ref().copied(), iat.as_ref().copied()) };
        key_ref.user_token(user_id, exp, iat, buf).map(str::len)
    };
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, &inputs, mint) }
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
    let key_ref = match unsafe { key_ref(key) } {
        Ok(k) => k,
        Err(e) => return e,
    };
    let inputs = [(key.cast(), STACKJWT_KEY_SIZE)];
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, &inputs, |buf| key_ref.server_token(buf).map(str::len)) }
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
    if user_id.is_null() || out.is_null() || out_len.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: `user_id_len` readable bytes at `user_id`, per the contract.
    let user_id = match unsafe { user_id_arg(user_id, user_id_len) } {
        Ok(id) => id,
        Err(e) => return e,
    };
    let inputs = [(user_id.as_ptr(), user_id.len())];
    // SAFETY: the same `out`, `out_cap` and `out_len`, passed on.
    unsafe { write_token(out, out_cap, out_len, &inputs, |buf| stackjwt::dev_token(user_id, buf).map(str::len)) }
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

    /// Ids with a NUL, outputs over inputs, and absurd lengths are refused, and nothing is
    /// written.
    #[test]
    fn nul_ids_overlaps_and_lengths_are_refused() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        // SAFETY: (all calls below) pointers to live locals; the lengths are either theirs or
        // refused before they are used.
        unsafe {
            let kp = key.as_mut_ptr();
            assert_eq!(stackjwt_key_init_weak(kp, 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let k = kp.cast_const();
            let mut buf = [0x5au8; 64];
            let mut len = 7;
            let out = buf.as_mut_ptr().cast::<c_char>();
            let none = ptr::null();
            let nul = b"admin\0x".as_ptr().cast::<c_char>();
            assert_eq!(stackjwt_user_token(k, nul, 7, none, none, out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_dev_token(nul, 7, out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_dev_token(c"".as_ptr(), 1, out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert!(buf.iter().all(|&b| b == 0x5a) && len == 7, "nothing written");
            let out = buf.as_mut_ptr().cast::<c_char>();
            out.cast::<[u8; 4]>().write(*b"john");
            let id = out.cast_const();
            assert_eq!(stackjwt_user_token(k, id, 4, none, none, out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_dev_token(id, 4, out.add(3), 8, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_dev_token(id, 4, out.add(4), 60, &mut len), STACKJWT_ERR_BUFFER_TOO_SMALL);
            let mut times = [1_700_000_000u64; 8];
            let t = times.as_mut_ptr();
            let id = c"john".as_ptr();
            assert_eq!(stackjwt_user_token(k, id, 4, t, none, t.cast(), 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(
                stackjwt_user_token(k, id, 4, none, t.add(7), t.cast(), 64, &mut len),
                STACKJWT_ERR_INVALID_ARGUMENT
            );
            let key_out = kp.cast::<c_char>().add(100);
            assert_eq!(stackjwt_server_token(k, key_out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_user_token(k, id, 4, none, none, key_out, 64, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
            let mut words = [0usize; 16];
            let w = words.as_mut_ptr();
            assert_eq!(stackjwt_server_token(k, w.cast(), 128, w), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_server_token(k, w.add(1).cast(), 120, w), STACKJWT_OK, "out_len beside out");
            assert_eq!(
                stackjwt_user_token(k, id, usize::MAX, none, none, out, 64, &mut len),
                STACKJWT_ERR_INVALID_ARGUMENT
            );
            assert_eq!(stackjwt_dev_token(id, 4, out, usize::MAX, &mut len), STACKJWT_ERR_INVALID_ARGUMENT);
        }
    }
}
