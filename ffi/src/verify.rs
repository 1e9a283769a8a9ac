//! Verifying a token into the caller's scratch, and checking webhook signatures.

use core::ffi::{c_char, c_int};
use core::ptr;

use stackjwt::{Error, Verifier};

use crate::codes::{STACKJWT_ERR_NULL_POINTER, STACKJWT_ERR_SCRATCH_TOO_SMALL, STACKJWT_OK, code};
use crate::key::{key_ref, stackjwt_key};
use crate::{input, output};

/// The longest token verified, in bytes; longer ones are refused first.
pub const STACKJWT_MAX_TOKEN_LEN: usize = 4096;
/// A verify scratch of this many bytes is always enough, for every token.
pub const STACKJWT_VERIFY_SCRATCH_LEN: usize = 6144;

const _: () = assert!(STACKJWT_MAX_TOKEN_LEN == stackjwt::MAX_TOKEN_LEN);
const _: () = assert!(STACKJWT_VERIFY_SCRATCH_LEN == stackjwt::VERIFY_SCRATCH_LEN);

/// How to verify: the time, the tolerated clock skew, and two opt-ins.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct stackjwt_verify_options {
    /// The current time, Unix seconds.
    pub now: u64,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Refuse tokens without `exp` (`STACKJWT_ERR_MISSING_EXP`).
    pub require_exp: bool,
    /// Accept development tokens (signature `devtoken`, no MAC). Never in production.
    pub allow_dev_tokens: bool,
}

/// A verified token's claims. `user_id` points into the caller's scratch, NUL-terminated
/// (`user_id_len` bytes without the NUL), or is NULL when the token has none (server tokens).
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
    if key.is_null() || claims.is_null() {
        return STACKJWT_ERR_NULL_POINTER;
    }
    // SAFETY: `token_len` readable bytes at `token`, per the contract.
    let Some(token) = (unsafe { input(token.cast(), token_len) }) else { return STACKJWT_ERR_NULL_POINTER };
    // SAFETY: `options` is NULL or points to a valid `stackjwt_verify_options`, per the contract.
    let Some(options) = (unsafe { options.as_ref() }) else { return STACKJWT_ERR_NULL_POINTER };
    // SAFETY: `scratch_cap` writable bytes at `scratch`, unaliased, per the contract.
    let Some(scratch) = (unsafe { output(scratch, scratch_cap) }) else { return STACKJWT_ERR_NULL_POINTER };
    // SAFETY: an initialized key, per the contract (an uninitialized one is refused).
    let result = unsafe { key_ref(key) }.and_then(|key| verified(key, token, options, scratch));
    // SAFETY: `claims` is not NULL (checked above) and writable, per the contract.
    unsafe { claims.write(result.unwrap_or(NO_CLAIMS)) };
    result.err().unwrap_or(STACKJWT_OK)
}

fn verified(
    key: &stackjwt::Key,
    token: &[u8],
    o: &stackjwt_verify_options,
    scratch: &mut [u8],
) -> Result<stackjwt_claims, c_int> {
    let v = Verifier::new(key).leeway(o.leeway).require_exp(o.require_exp).allow_dev_tokens(o.allow_dev_tokens);
    let base = scratch.as_ptr() as usize;
    let c = v.verify(token, o.now, &mut *scratch).map_err(code)?;
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
    let (Some(body), Some(signature)) =
        (unsafe { input(body, body_len) }, unsafe { input(x_signature.cast(), x_signature_len) })
    else {
        return STACKJWT_ERR_NULL_POINTER;
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
        stackjwt_verify_options { now: 0, leeway: 0, require_exp: false, allow_dev_tokens: false };

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
}
