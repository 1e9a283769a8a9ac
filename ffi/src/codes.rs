//! Result codes: 0 for success, a stable negative number per error, and their messages.

use core::ffi::{c_char, c_int};

use stackjwt::Error;

/// Success.
pub const STACKJWT_OK: c_int = 0;
/// The secret is empty.
pub const STACKJWT_ERR_EMPTY_SECRET: c_int = -1;
/// The secret is shorter than the hash output; use `stackjwt_key_init_weak` to accept it.
pub const STACKJWT_ERR_WEAK_SECRET: c_int = -2;
/// The key id is empty, longer than 64 bytes, or not printable ASCII without `"` and `\`.
pub const STACKJWT_ERR_INVALID_KID: c_int = -3;
/// The user id is empty (when minting or in a token).
pub const STACKJWT_ERR_EMPTY_USER_ID: c_int = -4;
/// The output buffer is too small; `*out_len` says how large it must be.
pub const STACKJWT_ERR_BUFFER_TOO_SMALL: c_int = -5;
/// The verify scratch is too small (never with `STACKJWT_VERIFY_SCRATCH_LEN` bytes).
pub const STACKJWT_ERR_SCRATCH_TOO_SMALL: c_int = -6;
/// Custom claims could not be written as JSON.
pub const STACKJWT_ERR_CLAIMS_NOT_SERIALIZABLE: c_int = -7;
/// The token is longer than `STACKJWT_MAX_TOKEN_LEN` bytes.
pub const STACKJWT_ERR_TOKEN_TOO_LONG: c_int = -8;
/// The header segment is longer than any signer's (512 bytes).
pub const STACKJWT_ERR_HEADER_TOO_LONG: c_int = -9;
/// The token does not have exactly three non-empty segments.
pub const STACKJWT_ERR_MALFORMED: c_int = -10;
/// A segment is not canonical base64url without padding.
pub const STACKJWT_ERR_INVALID_BASE64: c_int = -11;
/// A decoded segment is not valid UTF-8.
pub const STACKJWT_ERR_INVALID_UTF8: c_int = -12;
/// A decoded segment is not exactly one JSON object.
pub const STACKJWT_ERR_INVALID_JSON: c_int = -13;
/// JSON nesting is deeper than 16.
pub const STACKJWT_ERR_JSON_TOO_DEEP: c_int = -14;
/// A JSON object has the same member name twice.
pub const STACKJWT_ERR_DUPLICATE_MEMBER: c_int = -15;
/// A JSON object and the objects around it have more than 32 members.
pub const STACKJWT_ERR_TOO_MANY_MEMBERS: c_int = -16;
/// The header's `alg` is missing, not a string, or not the key's algorithm (`none` included).
pub const STACKJWT_ERR_ALGORITHM_NOT_ALLOWED: c_int = -17;
/// The header has a `crit` member.
pub const STACKJWT_ERR_CRITICAL_HEADER: c_int = -18;
/// The header's `typ` or `kid` is not a string.
pub const STACKJWT_ERR_INVALID_HEADER: c_int = -19;
/// The header's `kid` does not name the key.
pub const STACKJWT_ERR_UNKNOWN_KID: c_int = -20;
/// The token has no `kid` and the key set has no default key.
pub const STACKJWT_ERR_MISSING_KID: c_int = -21;
/// A key set already holds a key with this kid.
pub const STACKJWT_ERR_DUPLICATE_KID: c_int = -22;
/// A key set is full.
pub const STACKJWT_ERR_KEY_SET_FULL: c_int = -23;
/// The signature does not match (Stream code 43).
pub const STACKJWT_ERR_SIGNATURE_MISMATCH: c_int = -24;
/// A development token was presented and they are not allowed.
pub const STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED: c_int = -25;
/// A development token is malformed.
pub const STACKJWT_ERR_INVALID_DEV_TOKEN: c_int = -26;
/// A registered claim (`exp`, `nbf`, `iat`, `user_id`, `server`) has the wrong type.
pub const STACKJWT_ERR_INVALID_CLAIM: c_int = -27;
/// The token has neither a `user_id` nor `"server":true`.
pub const STACKJWT_ERR_MISSING_SUBJECT: c_int = -28;
/// `exp` is required and missing.
pub const STACKJWT_ERR_MISSING_EXP: c_int = -29;
/// The token expired (Stream code 40).
pub const STACKJWT_ERR_EXPIRED: c_int = -30;
/// The token is not yet valid, `nbf` (Stream code 41).
pub const STACKJWT_ERR_NOT_YET_VALID: c_int = -31;
/// The token was issued in the future, `iat` (Stream code 42).
pub const STACKJWT_ERR_ISSUED_IN_FUTURE: c_int = -32;
/// The token was issued before a revocation cutoff.
pub const STACKJWT_ERR_REVOKED: c_int = -33;
/// The `stream-auth-type` is neither `jwt` nor `anonymous`.
pub const STACKJWT_ERR_UNKNOWN_AUTH_TYPE: c_int = -34;
/// `stream-auth-type: jwt` without a token.
pub const STACKJWT_ERR_MISSING_TOKEN: c_int = -35;
/// `stream-auth-type: anonymous` with a token.
pub const STACKJWT_ERR_UNEXPECTED_TOKEN: c_int = -36;
/// `Authorization` starts with `Bearer `.
pub const STACKJWT_ERR_BEARER_PREFIX: c_int = -37;
/// A webhook signature is not 64 hexadecimal characters.
pub const STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE: c_int = -38;
/// The claims do not deserialize into the requested type.
pub const STACKJWT_ERR_CLAIMS_NOT_DESERIALIZABLE: c_int = -39;
/// The system clock is before the Unix epoch.
pub const STACKJWT_ERR_CLOCK_BEFORE_EPOCH: c_int = -40;
/// The token verified, but its `user_id` holds a NUL byte (`\u0000`), which C would read as a
/// shorter id (another user's, perhaps): refused, 401-class. Only the C API refuses it.
pub const STACKJWT_ERR_USER_ID_HAS_NUL: c_int = -41;
/// There is no `stream-auth-type`.
pub const STACKJWT_ERR_MISSING_AUTH_TYPE: c_int = -42;
/// An error this version of the C API does not know by name (a newer library's).
pub const STACKJWT_ERR_OTHER: c_int = -99;
/// A required pointer is NULL; nothing was written.
pub const STACKJWT_ERR_NULL_POINTER: c_int = -100;
/// An argument is out of range: an unknown algorithm, a user id or kid that is not UTF-8, a
/// user id with a NUL byte, a verify option byte other than 0 or 1, a length no object can
/// have, buffers that overlap where one is written while another is read, or a key that was
/// never initialized (or was cleared, or failed to initialize).
pub const STACKJWT_ERR_INVALID_ARGUMENT: c_int = -101;

/// Every code with its message (lowercase, no period, static and NUL-terminated).
const MESSAGES: &[(c_int, &core::ffi::CStr)] = &[
    (STACKJWT_OK, c"ok"),
    (STACKJWT_ERR_EMPTY_SECRET, c"secret is empty"),
    (STACKJWT_ERR_WEAK_SECRET, c"secret shorter than the hash output (use stackjwt_key_init_weak to accept it)"),
    (STACKJWT_ERR_INVALID_KID, c"invalid key id"),
    (STACKJWT_ERR_EMPTY_USER_ID, c"user_id is empty"),
    (STACKJWT_ERR_BUFFER_TOO_SMALL, c"output buffer too small"),
    (STACKJWT_ERR_SCRATCH_TOO_SMALL, c"verify scratch too small"),
    (STACKJWT_ERR_CLAIMS_NOT_SERIALIZABLE, c"claims cannot be serialized as json"),
    (STACKJWT_ERR_TOKEN_TOO_LONG, c"token too long"),
    (STACKJWT_ERR_HEADER_TOO_LONG, c"header too long"),
    (STACKJWT_ERR_MALFORMED, c"malformed token"),
    (STACKJWT_ERR_INVALID_BASE64, c"invalid base64url"),
    (STACKJWT_ERR_INVALID_UTF8, c"invalid utf-8"),
    (STACKJWT_ERR_INVALID_JSON, c"invalid json"),
    (STACKJWT_ERR_JSON_TOO_DEEP, c"json nested too deep"),
    (STACKJWT_ERR_DUPLICATE_MEMBER, c"duplicate json member"),
    (STACKJWT_ERR_TOO_MANY_MEMBERS, c"too many json members"),
    (STACKJWT_ERR_ALGORITHM_NOT_ALLOWED, c"algorithm not allowed"),
    (STACKJWT_ERR_CRITICAL_HEADER, c"critical header not supported"),
    (STACKJWT_ERR_INVALID_HEADER, c"invalid header"),
    (STACKJWT_ERR_UNKNOWN_KID, c"unknown key id"),
    (STACKJWT_ERR_MISSING_KID, c"token has no key id and there is no default key"),
    (STACKJWT_ERR_DUPLICATE_KID, c"duplicate key id"),
    (STACKJWT_ERR_KEY_SET_FULL, c"key set full"),
    (STACKJWT_ERR_SIGNATURE_MISMATCH, c"signature mismatch"),
    (STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED, c"development tokens not allowed"),
    (STACKJWT_ERR_INVALID_DEV_TOKEN, c"invalid development token"),
    (STACKJWT_ERR_INVALID_CLAIM, c"invalid claim"),
    (STACKJWT_ERR_MISSING_SUBJECT, c"token has neither user_id nor server"),
    (STACKJWT_ERR_MISSING_EXP, c"token has no exp"),
    (STACKJWT_ERR_EXPIRED, c"token expired"),
    (STACKJWT_ERR_NOT_YET_VALID, c"token not yet valid"),
    (STACKJWT_ERR_ISSUED_IN_FUTURE, c"token issued in the future"),
    (STACKJWT_ERR_REVOKED, c"token revoked"),
    (STACKJWT_ERR_UNKNOWN_AUTH_TYPE, c"unknown stream-auth-type"),
    (STACKJWT_ERR_MISSING_TOKEN, c"missing token"),
    (STACKJWT_ERR_UNEXPECTED_TOKEN, c"token given for anonymous auth"),
    (STACKJWT_ERR_BEARER_PREFIX, c"authorization has a bearer prefix"),
    (STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE, c"invalid webhook signature encoding"),
    (STACKJWT_ERR_CLAIMS_NOT_DESERIALIZABLE, c"claims do not match the requested type"),
    (STACKJWT_ERR_CLOCK_BEFORE_EPOCH, c"system clock before unix epoch"),
    (STACKJWT_ERR_USER_ID_HAS_NUL, c"user_id contains a nul byte"),
    (STACKJWT_ERR_MISSING_AUTH_TYPE, c"missing stream-auth-type"),
    (STACKJWT_ERR_OTHER, c"other error"),
    (STACKJWT_ERR_NULL_POINTER, c"null pointer"),
    (STACKJWT_ERR_INVALID_ARGUMENT, c"invalid argument"),
];

/// The code of a library error.
pub(crate) const fn code(e: Error) -> c_int {
    match e {
        Error::EmptySecret => STACKJWT_ERR_EMPTY_SECRET,
        Error::WeakSecret { .. } => STACKJWT_ERR_WEAK_SECRET,
        Error::InvalidKid => STACKJWT_ERR_INVALID_KID,
        Error::EmptyUserId => STACKJWT_ERR_EMPTY_USER_ID,
        Error::BufferTooSmall { .. } => STACKJWT_ERR_BUFFER_TOO_SMALL,
        Error::ScratchTooSmall { .. } => STACKJWT_ERR_SCRATCH_TOO_SMALL,
        Error::ClaimsNotSerializable => STACKJWT_ERR_CLAIMS_NOT_SERIALIZABLE,
        Error::TokenTooLong => STACKJWT_ERR_TOKEN_TOO_LONG,
        Error::HeaderTooLong => STACKJWT_ERR_HEADER_TOO_LONG,
        Error::Malformed => STACKJWT_ERR_MALFORMED,
        Error::InvalidBase64 { .. } => STACKJWT_ERR_INVALID_BASE64,
        Error::InvalidUtf8 { .. } => STACKJWT_ERR_INVALID_UTF8,
        Error::InvalidJson { .. } => STACKJWT_ERR_INVALID_JSON,
        Error::JsonTooDeep { .. } => STACKJWT_ERR_JSON_TOO_DEEP,
        Error::DuplicateMember { .. } => STACKJWT_ERR_DUPLICATE_MEMBER,
        Error::TooManyMembers { .. } => STACKJWT_ERR_TOO_MANY_MEMBERS,
        Error::AlgorithmNotAllowed => STACKJWT_ERR_ALGORITHM_NOT_ALLOWED,
        Error::CriticalHeader => STACKJWT_ERR_CRITICAL_HEADER,
        Error::InvalidHeader => STACKJWT_ERR_INVALID_HEADER,
        Error::UnknownKid => STACKJWT_ERR_UNKNOWN_KID,
        Error::MissingKid => STACKJWT_ERR_MISSING_KID,
        Error::DuplicateKid => STACKJWT_ERR_DUPLICATE_KID,
        Error::KeySetFull => STACKJWT_ERR_KEY_SET_FULL,
        Error::SignatureMismatch => STACKJWT_ERR_SIGNATURE_MISMATCH,
        Error::DevTokenNotAllowed => STACKJWT_ERR_DEV_TOKEN_NOT_ALLOWED,
        Error::InvalidDevToken => STACKJWT_ERR_INVALID_DEV_TOKEN,
        Error::InvalidClaim { .. } => STACKJWT_ERR_INVALID_CLAIM,
        Error::MissingSubject => STACKJWT_ERR_MISSING_SUBJECT,
        Error::MissingExp => STACKJWT_ERR_MISSING_EXP,
        Error::Expired => STACKJWT_ERR_EXPIRED,
        Error::NotYetValid => STACKJWT_ERR_NOT_YET_VALID,
        Error::IssuedInFuture => STACKJWT_ERR_ISSUED_IN_FUTURE,
        Error::Revoked => STACKJWT_ERR_REVOKED,
        Error::UnknownAuthType => STACKJWT_ERR_UNKNOWN_AUTH_TYPE,
        Error::MissingAuthType => STACKJWT_ERR_MISSING_AUTH_TYPE,
        Error::MissingToken => STACKJWT_ERR_MISSING_TOKEN,
        Error::UnexpectedToken => STACKJWT_ERR_UNEXPECTED_TOKEN,
        Error::BearerPrefix => STACKJWT_ERR_BEARER_PREFIX,
        Error::InvalidWebhookSignature => STACKJWT_ERR_INVALID_WEBHOOK_SIGNATURE,
        Error::ClaimsNotDeserializable => STACKJWT_ERR_CLAIMS_NOT_DESERIALIZABLE,
        Error::ClockBeforeEpoch => STACKJWT_ERR_CLOCK_BEFORE_EPOCH,
        _ => STACKJWT_ERR_OTHER,
    }
}

/// The message of a result code: a static NUL-terminated string, never NULL (`"unknown error
/// code"` for a code that is none of the above).
#[unsafe(no_mangle)]
pub extern "C" fn stackjwt_error_message(code: c_int) -> *const c_char {
    MESSAGES.iter().find(|(c, _)| *c == code).map_or(c"unknown error code", |(_, m)| m).as_ptr()
}

/// The error code Stream's API uses for the same condition: 40 expired, 41 not yet valid,
/// 42 issued in the future, 43 signature mismatch; 0 for every other code.
#[unsafe(no_mangle)]
pub extern "C" fn stackjwt_stream_code(code: c_int) -> c_int {
    match code {
        STACKJWT_ERR_EXPIRED => 40,
        STACKJWT_ERR_NOT_YET_VALID => 41,
        STACKJWT_ERR_ISSUED_IN_FUTURE => 42,
        STACKJWT_ERR_SIGNATURE_MISMATCH => 43,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_and_has_a_message() {
        for (i, (a, _)) in MESSAGES.iter().enumerate() {
            for (b, _) in &MESSAGES[i + 1..] {
                assert_ne!(a, b);
            }
            assert!(*a <= 0);
        }
        // SAFETY: the pointers come from static C string literals.
        let text = |c| unsafe { core::ffi::CStr::from_ptr(stackjwt_error_message(c)) }.to_str().unwrap();
        assert_eq!(text(STACKJWT_ERR_EXPIRED), "token expired");
        assert_eq!(text(7), "unknown error code");
        assert_eq!(text(STACKJWT_ERR_NULL_POINTER), "null pointer");
    }

    /// Every library error has its own code (none falls through to `STACKJWT_ERR_OTHER`),
    /// and its message is the library's own wording, less any detail the code cannot carry.
    #[test]
    fn every_error_has_its_own_code_and_message() {
        extern crate std;
        use stackjwt::{Claim, Segment};
        let all = [
            Error::EmptySecret,
            Error::WeakSecret { min: 32 },
            Error::InvalidKid,
            Error::EmptyUserId,
            Error::BufferTooSmall { needed: 1 },
            Error::ScratchTooSmall { needed: 1 },
            Error::ClaimsNotSerializable,
            Error::TokenTooLong,
            Error::HeaderTooLong,
            Error::Malformed,
            Error::InvalidBase64 { segment: Segment::Payload },
            Error::InvalidUtf8 { segment: Segment::Payload },
            Error::InvalidJson { segment: Segment::Payload },
            Error::JsonTooDeep { segment: Segment::Payload },
            Error::DuplicateMember { segment: Segment::Payload },
            Error::TooManyMembers { segment: Segment::Payload },
            Error::AlgorithmNotAllowed,
            Error::CriticalHeader,
            Error::InvalidHeader,
            Error::UnknownKid,
            Error::MissingKid,
            Error::DuplicateKid,
            Error::KeySetFull,
            Error::SignatureMismatch,
            Error::DevTokenNotAllowed,
            Error::InvalidDevToken,
            Error::InvalidClaim { claim: Claim::Exp },
            Error::MissingSubject,
            Error::MissingExp,
            Error::Expired,
            Error::NotYetValid,
            Error::IssuedInFuture,
            Error::Revoked,
            Error::UnknownAuthType,
            Error::MissingAuthType,
            Error::MissingToken,
            Error::UnexpectedToken,
            Error::BearerPrefix,
            Error::InvalidWebhookSignature,
            Error::ClaimsNotDeserializable,
            Error::ClockBeforeEpoch,
        ];
        let codes: std::vec::Vec<c_int> = all.iter().map(|&e| code(e)).collect();
        for (i, (&e, &c)) in all.iter().zip(&codes).enumerate() {
            assert!(c < 0 && c != STACKJWT_ERR_OTHER, "{e:?}");
            assert!(!codes[i + 1..].contains(&c), "{e:?} shares its code");
            // SAFETY: a static C string.
            let message = unsafe { core::ffi::CStr::from_ptr(stackjwt_error_message(c)) }.to_str().unwrap();
            let rust = std::format!("{e}");
            // The same first word ("invalid exp claim" names the claim; the code cannot).
            assert_eq!(message.split(' ').next(), rust.split(' ').next(), "{e:?}");
        }
        assert_eq!(codes.len(), 41);
    }

    /// The codes agree with the library's own Stream codes and messages.
    #[test]
    fn codes_follow_the_library() {
        for e in [Error::Expired, Error::NotYetValid, Error::IssuedInFuture, Error::SignatureMismatch, Error::Malformed]
        {
            assert_eq!(stackjwt_stream_code(code(e)), e.stream_code().map_or(0, c_int::from));
        }
        assert_eq!(code(Error::BufferTooSmall { needed: 1 }), STACKJWT_ERR_BUFFER_TOO_SMALL);
        assert_eq!(code(Error::InvalidJson { segment: stackjwt::Segment::Header }), STACKJWT_ERR_INVALID_JSON);
    }
}
