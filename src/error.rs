//! The one error type: every rejection and every failure names its reason.

use core::fmt;

/// A registered claim whose value had the wrong type or range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Claim {
    /// `user_id`: must be a non-empty string.
    UserId,
    /// `exp`: must be a non-negative integer that fits `u64`.
    Exp,
    /// `nbf`: must be a non-negative integer that fits `u64`.
    Nbf,
    /// `iat`: must be a non-negative integer that fits `u64`.
    Iat,
    /// `server`: must be a boolean.
    Server,
}

impl Claim {
    /// The claim's name as it appears in the token.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::UserId => "user_id",
            Self::Exp => "exp",
            Self::Nbf => "nbf",
            Self::Iat => "iat",
            Self::Server => "server",
        }
    }
}

/// Which part of a token a decoding error was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Segment {
    /// The header (the first segment): checked before the MAC, so an attacker without the
    /// key can reach these errors.
    Header,
    /// The payload (the claims): decoded only after the MAC matched, or for an allowed
    /// development token.
    Payload,
}

impl Segment {
    /// `"header"` or `"payload"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Payload => "payload",
        }
    }
}

/// Everything that can go wrong when making a key, minting a token or verifying one.
///
/// `Display` gives lowercase words without a trailing period, fit for a gateway's log line;
/// [`Error::stream_code`] gives the error code Stream's API uses for the same condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The secret is empty.
    EmptySecret,
    /// The secret is shorter than the hash output (RFC 7518 section 3.2); use
    /// [`Key::new_weak`](crate::Key::new_weak) to accept it anyway.
    WeakSecret {
        /// The minimum length in bytes for this algorithm.
        min: usize,
    },
    /// The key id is empty, longer than [`MAX_KID_LEN`](crate::MAX_KID_LEN) bytes, or has a
    /// character outside printable ASCII (`!`..=`~`, without `"` and `\`).
    InvalidKid,
    /// The `user_id` is empty (Stream user ids are non-empty), when minting or in a token.
    EmptyUserId,
    /// The output buffer (for a token, a webhook signature or a JSON body) is too small;
    /// `needed` bytes would have been enough.
    BufferTooSmall {
        /// The buffer length that would have been enough.
        needed: usize,
    },
    /// The verify scratch is too small for this token: it needs at least `needed` bytes.
    /// A scratch of [`VERIFY_SCRATCH_LEN`](crate::VERIFY_SCRATCH_LEN) bytes is always enough,
    /// so with one this error never happens.
    ScratchTooSmall {
        /// A length the scratch needs at least (the step that failed; later steps may need
        /// more).
        needed: usize,
    },
    /// Custom claims could not be written as JSON (a map key that is not a string, or the
    /// claims' own `Serialize` implementation failed).
    ClaimsNotSerializable,
    /// The token is longer than [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN) bytes.
    TokenTooLong,
    /// The header segment is longer than [`MAX_HEADER_LEN`](crate::MAX_HEADER_LEN) bytes:
    /// no signer's header is, and it is refused before it is decoded.
    HeaderTooLong,
    /// The token does not have exactly three non-empty `.`-separated segments (the payload may
    /// not be empty either).
    Malformed,
    /// A segment is not canonical base64url without padding.
    InvalidBase64 {
        /// Which segment.
        segment: Segment,
    },
    /// A decoded segment is not valid UTF-8.
    InvalidUtf8 {
        /// Which segment.
        segment: Segment,
    },
    /// A decoded segment is not exactly one JSON object.
    InvalidJson {
        /// Which segment.
        segment: Segment,
    },
    /// JSON nesting is deeper than [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH).
    JsonTooDeep {
        /// Which segment.
        segment: Segment,
    },
    /// A JSON object has the same member name twice (after unescaping).
    DuplicateMember {
        /// Which segment.
        segment: Segment,
    },
    /// An object and the objects around it have more than
    /// [`MAX_JSON_MEMBERS`](crate::MAX_JSON_MEMBERS) members together: more than any token
    /// Stream uses could have.
    TooManyMembers {
        /// Which segment.
        segment: Segment,
    },
    /// The header's `alg` is missing, not a string, or not the key's algorithm (`none` included).
    AlgorithmNotAllowed,
    /// The header has a `crit` member; no extension is understood, so none is accepted.
    CriticalHeader,
    /// The header's `typ` or `kid` is not a string.
    InvalidHeader,
    /// The header's `kid` does not name the verifying key (or any key of the key set).
    UnknownKid,
    /// The token has no `kid`, and the key set it is checked against has no default key.
    MissingKid,
    /// A key set already holds a key with this kid.
    DuplicateKid,
    /// A key set is full.
    KeySetFull,
    /// The signature does not match the token (every bad MAC is this one variant).
    SignatureMismatch,
    /// A development token (signature `devtoken`) was presented, and dev tokens are not allowed.
    DevTokenNotAllowed,
    /// A development token is malformed: not the HS256 header, or it claims `server`.
    InvalidDevToken,
    /// A registered claim has the wrong type (for example a float, string or null `exp`).
    InvalidClaim {
        /// Which claim.
        claim: Claim,
    },
    /// The token has neither a `user_id` nor `"server":true`.
    MissingSubject,
    /// The verifier requires `exp` and the token has none.
    MissingExp,
    /// `now >= exp + leeway` (Stream code 40).
    Expired,
    /// `now + leeway < nbf` (Stream code 41).
    NotYetValid,
    /// `iat > now + leeway` (Stream code 42).
    IssuedInFuture,
    /// The token was issued (`iat`, or 0 without one) before a revocation cutoff.
    Revoked,
    /// The `stream-auth-type` is neither `jwt` nor `anonymous`.
    UnknownAuthType,
    /// There is no `stream-auth-type` (Stream's clients always send one: `jwt` with a token,
    /// `anonymous` without).
    MissingAuthType,
    /// `stream-auth-type: jwt` without a token in `Authorization`.
    MissingToken,
    /// `stream-auth-type: anonymous` with a token in `Authorization`.
    UnexpectedToken,
    /// `Authorization` starts with `Bearer `: Stream sends the bare token.
    BearerPrefix,
    /// A webhook signature is not 64 hexadecimal characters.
    InvalidWebhookSignature,
    /// The claims are valid but do not deserialize into the requested type.
    ClaimsNotDeserializable,
    /// The system clock is before the Unix epoch (only with the `std` feature).
    ClockBeforeEpoch,
}

impl Error {
    /// The same error, said of `segment` when it is a decoding error (the decoders report
    /// [`Segment::Payload`] until told otherwise).
    pub(crate) const fn in_segment(self, segment: Segment) -> Self {
        match self {
            Self::InvalidBase64 { .. } => Self::InvalidBase64 { segment },
            Self::InvalidUtf8 { .. } => Self::InvalidUtf8 { segment },
            Self::InvalidJson { .. } => Self::InvalidJson { segment },
            Self::JsonTooDeep { .. } => Self::JsonTooDeep { segment },
            Self::DuplicateMember { .. } => Self::DuplicateMember { segment },
            Self::TooManyMembers { .. } => Self::TooManyMembers { segment },
            other => other,
        }
    }

    /// The same error, with an output buffer that was too small named as the verify scratch,
    /// `offset` bytes into it.
    pub(crate) const fn in_scratch(self, offset: usize) -> Self {
        match self {
            Self::BufferTooSmall { needed } => Self::ScratchTooSmall { needed: needed.saturating_add(offset) },
            other => other,
        }
    }

    /// The error code Stream's API answers with for the same condition, where it has one:
    /// 40 expired, 41 not yet valid (`nbf`), 42 issued in the future (`iat`),
    /// 43 signature mismatch.
    ///
    /// ```
    /// assert_eq!(stackjwt::Error::Expired.stream_code(), Some(40));
    /// assert_eq!(stackjwt::Error::Malformed.stream_code(), None);
    /// ```
    #[must_use]
    pub const fn stream_code(self) -> Option<u16> {
        match self {
            Self::Expired => Some(40),
            Self::NotYetValid => Some(41),
            Self::IssuedInFuture => Some(42),
            Self::SignatureMismatch => Some(43),
            _ => None,
        }
    }
}

impl Error {
    /// Whether this is a refusal of a request's credentials (HTTP 401), as opposed to a
    /// problem of the caller's own setup (a small buffer, a weak secret, a full key set).
    #[must_use]
    pub const fn is_authentication_failure(self) -> bool {
        !matches!(
            self,
            Self::EmptySecret
                | Self::WeakSecret { .. }
                | Self::InvalidKid
                | Self::BufferTooSmall { .. }
                | Self::ScratchTooSmall { .. }
                | Self::ClaimsNotSerializable
                | Self::DuplicateKid
                | Self::KeySetFull
                | Self::ClockBeforeEpoch
        )
    }

    /// The HTTP status Stream's API answers with: 401 for authentication failures, 500 for
    /// the rest (which are the gateway's own faults).
    #[must_use]
    pub const fn http_status(self) -> u16 {
        if self.is_authentication_failure() { 401 } else { 500 }
    }

    /// The error as the JSON body Stream's API returns, for a gateway to send as is:
    /// `{"code":40,"message":"token expired","StatusCode":401}`. The code is
    /// [`stream_code`](Self::stream_code) where there is one, else Stream's generic 5
    /// ("authentication error") for authentication failures and -1 for internal errors.
    ///
    /// ```
    /// let mut out = [0u8; 128];
    /// let body = stackjwt::Error::Expired.stream_json(&mut out)?;
    /// assert_eq!(body, r#"{"code":40,"message":"token expired","StatusCode":401}"#);
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `out` cannot hold the body (128 bytes always can).
    pub fn stream_json(self, out: &mut [u8]) -> Result<&str, Error> {
        use crate::json::write::{self, Sink as _, SliceSink};
        let code: i32 = match (self.stream_code(), self.is_authentication_failure()) {
            (Some(c), _) => i32::from(c),
            (None, true) => 5,
            (None, false) => -1,
        };
        let mut sink = SliceSink { out, len: 0 };
        sink.put(b"{\"code\":");
        write::signed(&mut sink, i128::from(code));
        sink.put(b",\"message\":\"");
        let _ = fmt::write(&mut sink, format_args!("{self}"));
        sink.put(b"\",\"StatusCode\":");
        write::unsigned64(&mut sink, u64::from(self.http_status()));
        sink.put(b"}");
        let needed = sink.len;
        let body = sink.out.get(..needed).ok_or(Error::BufferTooSmall { needed })?;
        core::str::from_utf8(body).map_err(|_| Error::BufferTooSmall { needed })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match *self {
            Self::EmptySecret => "secret is empty",
            Self::WeakSecret { min } => {
                return write!(f, "secret shorter than {min} bytes (use new_weak to accept it)");
            }
            Self::InvalidKid => "invalid key id",
            Self::EmptyUserId => "user_id is empty",
            Self::BufferTooSmall { needed } => {
                return write!(f, "output buffer too small: {needed} bytes needed");
            }
            Self::ScratchTooSmall { needed } => {
                return write!(f, "verify scratch too small: at least {needed} bytes needed");
            }
            Self::ClaimsNotSerializable => "claims cannot be serialized as json",
            Self::TokenTooLong => "token too long",
            Self::HeaderTooLong => "header too long",
            Self::Malformed => "malformed token",
            Self::InvalidBase64 { segment } => return write!(f, "invalid base64url in {}", segment.name()),
            Self::InvalidUtf8 { segment } => return write!(f, "invalid utf-8 in {}", segment.name()),
            Self::InvalidJson { segment } => return write!(f, "invalid json in {}", segment.name()),
            Self::JsonTooDeep { segment } => return write!(f, "json nested too deep in {}", segment.name()),
            Self::DuplicateMember { segment } => return write!(f, "duplicate json member in {}", segment.name()),
            Self::TooManyMembers { segment } => return write!(f, "too many json members in {}", segment.name()),
            Self::AlgorithmNotAllowed => "algorithm not allowed",
            Self::CriticalHeader => "critical header not supported",
            Self::InvalidHeader => "invalid header",
            Self::UnknownKid => "unknown key id",
            Self::MissingKid => "token has no key id and there is no default key",
            Self::DuplicateKid => "duplicate key id",
            Self::KeySetFull => "key set full",
            Self::SignatureMismatch => "signature mismatch",
            Self::DevTokenNotAllowed => "development tokens not allowed",
            Self::InvalidDevToken => "invalid development token",
            Self::InvalidClaim { claim } => {
                return write!(f, "invalid {} claim", claim.name());
            }
            Self::MissingSubject => "token has neither user_id nor server",
            Self::MissingExp => "token has no exp",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::IssuedInFuture => "token issued in the future",
            Self::Revoked => "token revoked",
            Self::UnknownAuthType => "unknown stream-auth-type",
            Self::MissingAuthType => "missing stream-auth-type",
            Self::MissingToken => "missing token",
            Self::UnexpectedToken => "token given for anonymous auth",
            Self::BearerPrefix => "authorization has a bearer prefix",
            Self::InvalidWebhookSignature => "invalid webhook signature encoding",
            Self::ClaimsNotDeserializable => "claims do not match the requested type",
            Self::ClockBeforeEpoch => "system clock before unix epoch",
        };
        f.write_str(text)
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    #[test]
    fn only_time_and_signature_errors_have_stream_codes() {
        assert_eq!(Error::Expired.stream_code(), Some(40));
        assert_eq!(Error::NotYetValid.stream_code(), Some(41));
        assert_eq!(Error::IssuedInFuture.stream_code(), Some(42));
        assert_eq!(Error::SignatureMismatch.stream_code(), Some(43));
        assert_eq!(Error::MissingExp.stream_code(), None);
        assert_eq!(Error::AlgorithmNotAllowed.stream_code(), None);
    }

    /// Each decoding error keeps its kind and takes the segment it is said of; every other
    /// error passes through unchanged.
    #[test]
    fn errors_are_said_of_their_segment_and_buffer() {
        extern crate std;
        use Segment::{Header, Payload};
        let kinds: [fn(Segment) -> Error; 6] = [
            |segment| Error::InvalidBase64 { segment },
            |segment| Error::InvalidUtf8 { segment },
            |segment| Error::InvalidJson { segment },
            |segment| Error::JsonTooDeep { segment },
            |segment| Error::DuplicateMember { segment },
            |segment| Error::TooManyMembers { segment },
        ];
        for kind in kinds {
            assert_eq!(kind(Payload).in_segment(Header), kind(Header));
            assert_eq!(kind(Header).in_segment(Payload), kind(Payload));
            assert_eq!(kind(Header).in_scratch(7), kind(Header));
            assert_eq!(kind(Header).http_status(), 401);
            let text = std::format!("{}", kind(Header));
            assert!(text.ends_with(" in header"), "{text}");
            assert!(std::format!("{}", kind(Payload)).ends_with(" in payload"));
        }
        for other in [Error::Expired, Error::HeaderTooLong, Error::BufferTooSmall { needed: 3 }] {
            assert_eq!(other.in_segment(Header), other);
        }
        assert_eq!(Error::BufferTooSmall { needed: 3 }.in_scratch(7), Error::ScratchTooSmall { needed: 10 });
        assert_eq!(Error::Expired.in_scratch(7), Error::Expired);
        assert_eq!((Header.name(), Payload.name()), ("header", "payload"));
        assert_eq!(std::format!("{}", Error::HeaderTooLong), "header too long");
        assert_eq!(
            (Error::HeaderTooLong.http_status(), Error::ScratchTooSmall { needed: 1 }.http_status()),
            (401, 500)
        );
    }

    #[test]
    fn display_is_lowercase_without_period() {
        extern crate std;
        use std::string::ToString;
        let all = [
            Error::WeakSecret { min: 32 },
            Error::ScratchTooSmall { needed: 1 },
            Error::HeaderTooLong,
            Error::TooManyMembers { segment: Segment::Header },
            Error::BufferTooSmall { needed: 7 },
            Error::InvalidClaim { claim: Claim::Exp },
            Error::Expired,
            Error::SignatureMismatch,
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.ends_with('.'), "{s}");
            assert_eq!(s.chars().next().map(|c| c.is_lowercase()), Some(true), "{s}");
        }
        assert_eq!(Error::BufferTooSmall { needed: 7 }.to_string(), "output buffer too small: 7 bytes needed");
        assert_eq!(
            Error::ScratchTooSmall { needed: 9 }.to_string(),
            "verify scratch too small: at least 9 bytes needed"
        );
        assert_eq!(Error::InvalidJson { segment: Segment::Header }.to_string(), "invalid json in header");
        assert_eq!(
            Error::DuplicateMember { segment: Segment::Payload }.to_string(),
            "duplicate json member in payload"
        );
        assert_eq!(Error::InvalidClaim { claim: Claim::Exp }.to_string(), "invalid exp claim");
    }
}
