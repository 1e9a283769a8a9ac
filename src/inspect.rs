//! Reading a token without verifying it, for debugging tools.

use crate::Error;
use crate::base64;
use crate::error::Segment;
use crate::json::read;
use crate::sign::DEV_SIGNATURE;
use crate::verify::{Parts, split};

/// A token's header and claims, decoded **without any verification**.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unverified<'s> {
    /// The header JSON, as in the token.
    pub header: &'s str,
    /// The claims JSON, as in the token.
    pub claims: &'s str,
    /// Whether the signature segment is the development-token literal `devtoken`.
    pub dev: bool,
}

/// Decodes a token's header and claims **without checking the signature, the algorithm or
/// any claim**: for debugging tools such as `stackjwt decode`, never for authentication.
/// Both must still be strict JSON objects; a development token's payload may use standard
/// base64 with padding. Returns text borrowed from `scratch`
/// ([`VERIFY_SCRATCH_LEN`](crate::VERIFY_SCRATCH_LEN), or as long as the token, is enough).
///
/// ```
/// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.devtoken";
/// let mut scratch = [0u8; 128];
/// let t = stackjwt::decode_unverified(token, &mut scratch)?;
/// assert_eq!((t.header, t.claims, t.dev), (r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"user_id":"john"}"#, true));
/// # Ok::<(), stackjwt::Error>(())
/// ```
///
/// # Errors
/// [`Error::TokenTooLong`], [`Error::HeaderTooLong`], [`Error::Malformed`],
/// [`Error::InvalidBase64`], [`Error::InvalidUtf8`], [`Error::InvalidJson`],
/// [`Error::JsonTooDeep`], [`Error::DuplicateMember`], [`Error::TooManyMembers`] (each saying
/// which segment), or [`Error::ScratchTooSmall`] for a short `scratch`.
pub fn decode_unverified<'s>(token: impl AsRef<[u8]>, scratch: &'s mut [u8]) -> Result<Unverified<'s>, Error> {
    let Parts { header, payload, signature, .. } = split(token.as_ref())?;
    let dev = signature == DEV_SIGNATURE;
    let header_len = base64::decode_url(Segment::Header, header, scratch).map_err(|e| e.in_scratch(0))?.len();
    let (header, rest) = scratch.split_at_mut(header_len);
    let claims = if dev {
        base64::decode_lenient(payload, rest)
    } else {
        base64::decode_url(Segment::Payload, payload, rest).map(|d| &*d)
    };
    let claims = claims.map_err(|e| e.in_scratch(header_len))?;
    let header = core::str::from_utf8(header).map_err(|_| Error::InvalidUtf8 { segment: Segment::Header })?;
    let claims = core::str::from_utf8(claims).map_err(|_| Error::InvalidUtf8 { segment: Segment::Payload })?;
    read::object_members(header.as_bytes(), Segment::Header, |_, _| Ok(()))?;
    read::object_members(claims.as_bytes(), Segment::Payload, |_, _| Ok(()))?;
    Ok(Unverified { header, claims, dev })
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    #[test]
    fn decodes_without_verifying_but_stays_strict() {
        let mut scratch = [0u8; 256];
        // A signature that verifies nowhere still decodes.
        let t = "eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoiam9obiJ9.AAAA";
        let u = decode_unverified(t, &mut scratch).unwrap();
        assert_eq!((u.header, u.claims, u.dev), (r#"{"alg":"none"}"#, r#"{"user_id":"john"}"#, false));
        assert_eq!(decode_unverified("a.b", &mut scratch), Err(Error::Malformed));
        assert_eq!(
            decode_unverified("eyJ9.eyJ9.x", &mut scratch),
            Err(Error::InvalidJson { segment: Segment::Header })
        );
        let bad_payload = "eyJhbGciOiJub25lIn0.eyJ9.AAAA";
        assert_eq!(decode_unverified(bad_payload, &mut scratch), Err(Error::InvalidJson { segment: Segment::Payload }));
        assert_eq!(
            decode_unverified("eyJ.eyJ9.x", &mut scratch),
            Err(Error::InvalidBase64 { segment: Segment::Header })
        );
        let dev = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWIifQ==.devtoken";
        assert_eq!(decode_unverified(dev, &mut scratch).unwrap().claims, r#"{"user_id":"ab"}"#);
        // 27 header bytes fit, the 16 claims bytes after them do not.
        assert_eq!(decode_unverified(dev, &mut scratch[..30]), Err(Error::ScratchTooSmall { needed: 43 }));
        assert_eq!(decode_unverified(dev, &mut scratch[..10]), Err(Error::ScratchTooSmall { needed: 27 }));
    }
}
