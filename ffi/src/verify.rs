//! Verifying a token into the caller's scratch, and checking webhook signatures.

use core::ffi::{c_char, c_int};
use core::ptr;

use stackjwt::{Error, Verifier};

use core::mem::size_of;

use crate::codes::{
    STACKJWT_ERR_INVALID_ARGUMENT, STACKJWT_ERR_NULL_POINTER, STACKJWT_ERR_SCRATCH_TOO_SMALL,
    STACKJWT_ERR_TOKEN_TOO_LONG, STACKJWT_ERR_USER_ID_HAS_NUL, STACKJWT_OK, code,
};
use crate::key::{STACKJWT_KEY_SIZE, key_ref, stackjwt_key};
use crate::{check_span, input, output, overlap};

/// The longest token verified, in bytes; longer ones are refused first.
pub const STACKJWT_MAX_TOKEN_LEN: usize = 4096;
/// A verify scratch of this many bytes is always enough, for every token.
pub const STACKJWT_VERIFY_SCRATCH_LEN: usize = 6144;

const _: () = assert!(STACKJWT_MAX_TOKEN_LEN == stackjwt::MAX_TOKEN_LEN);
const _: () = assert!(STACKJWT_VERIFY_SCRATCH_LEN == stackjwt::VERIFY_SCRATCH_LEN);

/// How to verify: the time, the tolerated clock skew, and two opt-ins, each exactly 0 (off) or
/// 1 (on): any other byte (a field left uninitialized) makes `stackjwt_verify` refuse with
/// `STACKJWT_ERR_INVALID_ARGUMENT` before any other work. Start from
/// `STACKJWT_VERIFY_OPTIONS_INIT` (all zero: no leeway, `exp` optional, no development tokens)
/// and set what you need.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct stackjwt_verify_options {
    /// The current time, Unix seconds.
    pub now: u64,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// 1: refuse tokens without `exp` (`STACKJWT_ERR_MISSING_EXP`); 0: accept them.
    pub require_exp: u8,
    /// 1: accept development tokens (signature `devtoken`, no MAC), never in production; 0:
    /// refuse them.
    pub allow_dev_tokens: u8,
}

/// The two opt-ins as booleans, if each byte is 0 or 1.
fn opt_ins(o: &stackjwt_verify_options) -> Option<(bool, bool)> {
    let flag = |b: u8| match b {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    };
    Some((flag(o.require_exp)?, flag(o.allow_dev_tokens)?))
}

/// A verified token's claims. `user_id` points into the caller's scratch, NUL-terminated
/// (`user_id_len` bytes without the NUL, none of them NUL), or is NULL when the token has
/// none (server tokens).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct stackjwt_claims {
    /// The user id, unescaped UTF-8, NUL-terminated; NULL when absent.
    pub user_id: *const c_char,
    /// Its length in bytes, without the NUL.
    pub user_id_len: usize,
    /// `exp`, when `has_exp`.
    pub exp: u64,
    /// `iat`, when `has_iat`.
    pub iat: u64,
    /// `nbf`, when `has_nbf`.
    pub nbf: u64,
    /// Whether the token has `exp`.
    pub has_exp: bool,
    /// Whether the token has `iat`.
    pub has_iat: bool,
    /// Whether the token has `nbf`.
    pub has_nbf: bool,
    /// A server token (`"server":true`).
    pub is_server: bool,
    /// A development token (only when allowed).
    pub is_dev: bool,
}

const NO_CLAIMS: stackjwt_claims = stackjwt_claims {
    user_id: ptr::null(),
    user_id_len: 0,
    exp: 0,
    iat: 0,
    nbf: 0,
    has_exp: false,
    has_iat: false,
    has_nbf: false,
    is_server: false,
    is_dev: false,
};

/// Verifies `token` with every check of the Rust `Verifier::verify` (algorithm from the key,
/// MAC in constant time before the claims, strict base64url and JSON, types, time). On
/// success fills `*claims`; on any other failure than a NULL pointer returns the error and
/// sets `*claims` to all zero (`user_id` NULL). `scratch` holds the decoded claims and the user id:
/// `STACKJWT_VERIFY_SCRATCH_LEN` bytes are always enough.
///
/// A token whose `user_id` holds a NUL (`\u0000`), which C would read as a shorter id, is
/// refused with `STACKJWT_ERR_USER_ID_HAS_NUL`. Options whose `require_exp` or
/// `allow_dev_tokens` is neither 0 nor 1, a `token_len` past what a slice may be, and a
/// `scratch` that overlaps the token, the key or `*claims` are refused with
/// `STACKJWT_ERR_INVALID_ARGUMENT`; a `token_len` over `STACKJWT_MAX_TOKEN_LEN` with
/// `STACKJWT_ERR_TOKEN_TOO_LONG`, before the token is read.
///
/// # Safety
/// `key` must point to an initialized key; `token` to `token_len` bytes; `options` and
/// `claims` must be valid; `scratch` must point to `scratch_cap` writable bytes, which the
/// claims' `user_id` then points into.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_verify(
    key: *const stackjwt_key,
    token: *const c_char,
    token_len: usize,
    options: *const stackjwt_verify_options,
    scratch: *mut u8,
    scratch_cap: usize,
    claims: *mut stackjwt_claims,
) -> c_int {
    // Every pointer is checked for NULL before anything is written.
    if key.is_null() || token.is_null() || options.is_null() || scratch.is_null() || claims.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: `options` is not NULL and points to a valid `stackjwt_verify_options`, per the
    // contract; every byte pattern of its fields is a valid value.
    let options = unsafe { options.read() };
    let result = match opt_ins(&options) {
        Some(flags) => {
            // SAFETY: passed on: the same pointers and lengths, checked for NULL above.
            unsafe { checked(key, token.cast(), token_len, &options, flags, scratch, scratch_cap, claims) }
        }
        None => Err(STACKJWT_ERR_INVALID_ARGUMENT),
    };
    // SAFETY: `claims` is not NULL (checked above) and writable, per the contract.
    unsafe { claims.write(result.unwrap_or(NO_CLAIMS)) };
    result.err().unwrap_or(STACKJWT_OK)
}

/// The checks of the arguments' lengths and places, then the verification.
///
/// # Safety
/// As `stackjwt_verify`, with no pointer NULL.
#[allow(clippy::too_many_arguments)] // the C function's arguments, passed on as they came
unsafe fn checked(
    key: *const stackjwt_key,
    token: *const u8,
    token_len: usize,
    options: &stackjwt_verify_options,
    (require_exp, allow_dev): (bool, bool),
    scratch: *mut u8,
    scratch_cap: usize,
    claims: *const stackjwt_claims,
) -> Result<stackjwt_claims, c_int> {
    // The library's first check, made before the length is used for anything.
    if token_len > STACKJWT_MAX_TOKEN_LEN {
        return Err(STACKJWT_ERR_TOKEN_TOO_LONG);
    }
    // SAFETY: `token_len` readable bytes at `token`, per the contract.
    let token = unsafe { input(token, token_len) }?;
    let scratch_start = scratch.cast_const();
    check_span(scratch_start as usize, scratch_cap)?;
    let read_while_scratch_is_written = [
        (token.as_ptr(), token.len()),
        (key.cast::<u8>(), STACKJWT_KEY_SIZE),
        (claims.cast::<u8>(), size_of::<stackjwt_claims>()),
    ];
    if read_while_scratch_is_written.iter().any(|&(p, n)| overlap(p, n, scratch_start, scratch_cap)) {
        return Err(STACKJWT_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: `scratch_cap` writable bytes at `scratch` (the contract), a span checked above,
    // overlapping no other argument (checked above).
    let scratch = unsafe { output(scratch, scratch_cap) }?;
    // SAFETY: an initialized key, per the contract (an uninitialized one is refused).
    let key = unsafe { key_ref(key) }?;
    let verifier = Verifier::new(key).leeway(options.leeway).require_exp(require_exp).allow_dev_tokens(allow_dev);
    verified(&verifier, token, options.now, scratch)
}

fn verified(v: &Verifier<'_>, token: &[u8], now: u64, scratch: &mut [u8]) -> Result<stackjwt_claims, c_int> {
    let base = scratch.as_ptr() as usize;
    let c = v.verify(token, now, &mut *scratch).map_err(code)?;
    let mut out = stackjwt_claims {
        user_id: ptr::null(),
        user_id_len: 0,
        exp: c.exp().unwrap_or(0),
        iat: c.iat().unwrap_or(0),
        nbf: c.nbf().unwrap_or(0),
        has_exp: c.exp().is_some(),
        has_iat: c.iat().is_some(),
        has_nbf: c.nbf().is_some(),
        is_server: c.is_server(),
        is_dev: c.is_dev(),
    };
    if c.user_id().is_some_and(|id| id.as_bytes().contains(&0)) {
        return Err(STACKJWT_ERR_USER_ID_HAS_NUL);
    }
    // Where the id is in the scratch: inside the payload (the byte after it is its closing
    // quote, no longer needed) or unescaped after it (shorter than its escaped form, so a
    // scratch of STACKJWT_VERIFY_SCRATCH_LEN always has a byte left for the NUL).
    let place = c.user_id().map(|id| ((id.as_ptr() as usize).wrapping_sub(base), id.len()));
    if let Some((start, len)) = place {
        let end = start.saturating_add(len);
        let nul = scratch.get_mut(end).ok_or(STACKJWT_ERR_SCRATCH_TOO_SMALL)?;
        *nul = 0;
        out.user_id = scratch.get(start..).unwrap_or_default().as_ptr().cast();
        out.user_id_len = len;
    }
    Ok(out)
}

/// Checks a webhook's `X-Signature` (hex HMAC-SHA256 of the raw body with the API secret; upper
/// or lower case) in constant time. `STACKJWT_OK`, `STACKJWT_ERR_SIGNATURE_MISMATCH`,
/// `STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE` (not 64 hex characters) or
/// `STACKJWT_ERR_ALGORITHM_NOT_ALLOWED` (not an HS256 key).
///
/// # Safety
/// `key` must point to an initialized key; `body` to `body_len` bytes; `x_signature` to
/// `x_signature_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn stackjwt_verify_webhook(
    key: *const stackjwt_key,
    body: *const u8,
    body_len: usize,
    x_signature: *const c_char,
    x_signature_len: usize,
) -> c_int {
    // SAFETY: readable bytes of the given lengths, per the contract.
    let (body, signature) =
        match (unsafe { input(body, body_len) }, unsafe { input(x_signature.cast(), x_signature_len) }) {
            (Ok(body), Ok(signature)) => (body, signature),
            (Err(e), _) | (_, Err(e)) => return e,
        };
    // SAFETY: an initialized key, per the contract.
    let key = match unsafe { key_ref(key) } {
        Ok(k) => k,
        Err(e) => return e,
    };
    key.verify_webhook(body, signature).map_or_else(|e: Error| code(e), |()| STACKJWT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::*;
    use crate::key::{AlgArg, stackjwt_key_init_weak};

    const JOHN: &str =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MU";
    const OPTIONS: stackjwt_verify_options =
        stackjwt_verify_options { now: 0, leeway: 0, require_exp: 0, allow_dev_tokens: 0 };

    #[test]
    fn verify_fills_claims_with_a_terminated_user_id() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        let mut scratch = [0u8; 256];
        let mut claims = NO_CLAIMS;
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init_weak(key.as_mut_ptr(), 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let key = key.as_ptr();
            let t = JOHN.as_ptr().cast::<c_char>();
            let s = scratch.as_mut_ptr();
            assert_eq!(stackjwt_verify(key, t, JOHN.len(), &OPTIONS, s, 256, &mut claims), STACKJWT_OK);
            assert_eq!(core::ffi::CStr::from_ptr(claims.user_id).to_str(), Ok("john"));
            assert_eq!((claims.user_id_len, claims.has_exp, claims.is_server, claims.is_dev), (4, false, false, false));
            // The payload alone is 18 bytes: the id's NUL replaces its closing quote.
            assert_eq!(stackjwt_verify(key, t, JOHN.len(), &OPTIONS, s, 18, &mut claims), STACKJWT_OK);
            assert_eq!(
                stackjwt_verify(key, t, JOHN.len(), &OPTIONS, s, 17, &mut claims),
                STACKJWT_ERR_SCRATCH_TOO_SMALL
            );
            assert!(claims.user_id.is_null());
            // The last signature character changed.
            let bad = *b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MA";
            let r = stackjwt_verify(key, bad.as_ptr().cast(), bad.len(), &OPTIONS, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_ERR_SIGNATURE_MISMATCH);
            assert_eq!(stackjwt_stream_code(r), 43);
            assert_eq!(stackjwt_verify(key, ptr::null(), 3, &OPTIONS, s, 256, &mut claims), STACKJWT_ERR_NULL_POINTER);
            assert_eq!(
                stackjwt_verify(key, t, JOHN.len(), ptr::null(), s, 256, &mut claims),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_verify(key, t, JOHN.len(), &OPTIONS, ptr::null_mut(), 256, &mut claims),
                STACKJWT_ERR_NULL_POINTER
            );
            assert_eq!(
                stackjwt_verify(key, t, JOHN.len(), &OPTIONS, s, 256, ptr::null_mut()),
                STACKJWT_ERR_NULL_POINTER
            );
            // An escaped id is unescaped after the payload and terminated there.
            let rust = stackjwt::Key::new_weak(stackjwt::Algorithm::Hs256, b"secret").unwrap();
            let mut buf = [0u8; 256];
            let esc = rust.user_token("a\"b", Some(5), None, &mut buf).unwrap();
            let r = stackjwt_verify(key, esc.as_ptr().cast(), esc.len(), &OPTIONS, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_OK);
            assert_eq!(core::ffi::CStr::from_ptr(claims.user_id).to_bytes(), b"a\"b");
            assert_eq!((claims.has_exp, claims.exp), (true, 5));
            let late = stackjwt_verify_options { now: 5, ..OPTIONS };
            assert_eq!(
                stackjwt_verify(key, esc.as_ptr().cast(), esc.len(), &late, s, 256, &mut claims),
                STACKJWT_ERR_EXPIRED
            );
        }
    }

    #[test]
    fn webhooks() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        let body = b"what do ya want for nothing?";
        let sig = b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init_weak(key.as_mut_ptr(), 0 as AlgArg, b"Jefe".as_ptr(), 4), STACKJWT_OK);
            let key = key.as_ptr();
            assert_eq!(stackjwt_verify_webhook(key, body.as_ptr(), body.len(), sig.as_ptr().cast(), 64), STACKJWT_OK);
            assert_eq!(
                stackjwt_verify_webhook(key, body.as_ptr(), 3, sig.as_ptr().cast(), 64),
                STACKJWT_ERR_SIGNATURE_MISMATCH
            );
            assert_eq!(
                stackjwt_verify_webhook(key, body.as_ptr(), body.len(), sig.as_ptr().cast(), 63),
                STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE
            );
            assert_eq!(
                stackjwt_verify_webhook(key, ptr::null(), 0, sig.as_ptr().cast(), 64),
                STACKJWT_ERR_NULL_POINTER
            );
        }
    }

    /// Option bytes other than 0 and 1 are refused before any other work (reading them as
    /// `bool` was undefined behaviour, and let development tokens through).
    #[test]
    fn option_bytes_are_zero_or_one() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        let mut scratch = [0u8; 256];
        let mut claims = NO_CLAIMS;
        let mut dev = [0u8; 128];
        let dev = stackjwt::dev_token("admin", &mut dev).unwrap();
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init_weak(key.as_mut_ptr(), 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let (key, t, s) = (key.as_ptr(), dev.as_ptr().cast::<c_char>(), scratch.as_mut_ptr());
            for byte in [0x02, 0x10, 0x80, 0xfe, 0xff] {
                let garbage = stackjwt_verify_options { allow_dev_tokens: byte, ..OPTIONS };
                let r = stackjwt_verify(key, t, dev.len(), &garbage, s, 256, &mut claims);
                assert_eq!(r, STACKJWT_ERR_INVALID_ARGUMENT, "{byte:#x}");
                assert!(claims.user_id.is_null());
                let garbage = stackjwt_verify_options { require_exp: byte, ..OPTIONS };
                // Refused before the key is looked at: a NULL-free but never-initialized key
                // would give the same code, so a verifiable token is used.
                let r = stackjwt_verify(key, JOHN.as_ptr().cast(), JOHN.len(), &garbage, s, 256, &mut claims);
                assert_eq!(r, STACKJWT_ERR_INVALID_ARGUMENT, "{byte:#x}");
            }
            let r = stackjwt_verify(key, t, dev.len(), &OPTIONS, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED);
            let allow = stackjwt_verify_options { allow_dev_tokens: 1, ..OPTIONS };
            assert_eq!(stackjwt_verify(key, t, dev.len(), &allow, s, 256, &mut claims), STACKJWT_OK);
            assert!(claims.is_dev);
            let strict = stackjwt_verify_options { require_exp: 1, ..OPTIONS };
            let r = stackjwt_verify(key, JOHN.as_ptr().cast(), JOHN.len(), &strict, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_ERR_MISSING_EXP);
        }
    }

    /// A verified id with a NUL is refused: C would read it as a shorter one.
    #[test]
    fn user_ids_with_nul_are_refused() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        let mut scratch = [0u8; 256];
        let mut claims = NO_CLAIMS;
        let rust = stackjwt::Key::new_weak(stackjwt::Algorithm::Hs256, b"secret").unwrap();
        let mut buf = [0u8; 256];
        let token = rust.user_token("admin\0x", None, None, &mut buf).unwrap();
        let mut dev = [0u8; 128];
        let dev = stackjwt::dev_token("admin\0", &mut dev).unwrap();
        // SAFETY: (all calls below) pointers to live locals of the stated lengths.
        unsafe {
            assert_eq!(stackjwt_key_init_weak(key.as_mut_ptr(), 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let (key, s) = (key.as_ptr(), scratch.as_mut_ptr());
            let r = stackjwt_verify(key, token.as_ptr().cast(), token.len(), &OPTIONS, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_ERR_USER_ID_HAS_NUL);
            assert_eq!((claims.user_id, claims.user_id_len), (ptr::null(), 0));
            let allow = stackjwt_verify_options { allow_dev_tokens: 1, ..OPTIONS };
            let r = stackjwt_verify(key, dev.as_ptr().cast(), dev.len(), &allow, s, 256, &mut claims);
            assert_eq!(r, STACKJWT_ERR_USER_ID_HAS_NUL);
        }
    }

    /// Overlapping buffers and lengths no slice may have are refused before a slice is made
    /// (miri checks that none is).
    #[test]
    fn overlaps_and_absurd_lengths_are_refused() {
        let mut key = core::mem::MaybeUninit::<stackjwt_key>::zeroed();
        let mut scratch = [0u8; 512];
        let mut claims = NO_CLAIMS;
        // SAFETY: (all calls below) pointers to live locals; the lengths are either theirs or
        // refused before they are used.
        unsafe {
            let kp = key.as_mut_ptr();
            assert_eq!(stackjwt_key_init_weak(kp, 0 as AlgArg, b"secret".as_ptr(), 6), STACKJWT_OK);
            let k = kp.cast_const();
            let n = JOHN.len();
            scratch[200..200 + n].copy_from_slice(JOHN.as_bytes());
            let s = scratch.as_mut_ptr();
            let inside = s.add(200).cast_const().cast::<c_char>();
            assert_eq!(stackjwt_verify(k, inside, n, &OPTIONS, s, 512, &mut claims), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_verify(k, inside, n, &OPTIONS, s, 201, &mut claims), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_verify(k, inside, n, &OPTIONS, s, 200, &mut claims), STACKJWT_OK);
            assert_eq!(core::ffi::CStr::from_ptr(claims.user_id).to_str(), Ok("john"));
            let t = JOHN.as_ptr().cast::<c_char>();
            let c = core::ptr::addr_of_mut!(claims);
            assert_eq!(stackjwt_verify(k, t, n, &OPTIONS, c.cast(), 8, c), STACKJWT_ERR_INVALID_ARGUMENT);
            let key_bytes = kp.cast::<u8>();
            assert_eq!(stackjwt_verify(k, t, n, &OPTIONS, key_bytes, 16, &mut claims), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_verify(k, t, usize::MAX, &OPTIONS, s, 512, &mut claims), STACKJWT_ERR_TOKEN_TOO_LONG);
            assert_eq!(stackjwt_verify(k, t, 4097, &OPTIONS, s, 512, &mut claims), STACKJWT_ERR_TOKEN_TOO_LONG);
            let huge = isize::MAX.unsigned_abs() + 1;
            assert_eq!(stackjwt_verify(k, t, n, &OPTIONS, s, huge, &mut claims), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_verify(k, t, n, &OPTIONS, s, usize::MAX, &mut claims), STACKJWT_ERR_INVALID_ARGUMENT);
            let body = b"{}".as_ptr();
            assert_eq!(stackjwt_verify_webhook(k, body, usize::MAX, c"x".as_ptr(), 1), STACKJWT_ERR_INVALID_ARGUMENT);
            assert_eq!(stackjwt_verify_webhook(k, body, 2, c"x".as_ptr(), huge), STACKJWT_ERR_INVALID_ARGUMENT);
        }
        assert_eq!(crate::check_span(usize::MAX - 3, 3), Ok(()));
        assert_eq!(crate::check_span(usize::MAX - 3, 4), Err(STACKJWT_ERR_INVALID_ARGUMENT));
        assert_eq!(crate::check_span(0, 0), Err(STACKJWT_ERR_NULL_POINTER));
        assert!(crate::overlap(ptr::without_provenance::<u8>(8), 4, ptr::without_provenance::<u8>(11), 1));
        assert!(!crate::overlap(ptr::without_provenance::<u8>(8), 4, ptr::without_provenance::<u8>(12), 1));
        assert!(!crate::overlap(ptr::without_provenance::<u8>(12), 1, ptr::without_provenance::<u8>(8), 4));
        assert!(
            !crate::overlap(ptr::without_provenance::<u8>(8), 0, ptr::without_provenance::<u8>(8), 4),
            "empty ranges share no byte"
        );
    }
}
