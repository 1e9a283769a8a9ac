//! Verifying: split, check the header, check the MAC in constant time over the raw
//! `header.payload` bytes, and only then decode and parse the claims.

use serde::Deserialize;

use crate::Error;
use crate::algorithm::MAX_MAC_LEN;
use crate::base64;
use crate::claims::{Claims, RawClaims, Rules};
use crate::json::read::{self, Value};
use crate::key::Key;
use crate::sign::{DEV_SIGNATURE, HS256_HEADER};

/// The longest token [`Verifier::verify`] looks at, in bytes; longer ones are rejected before
/// any other work. Stream's tokens are around 150 bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The three segments of a compact token.
pub(crate) struct Parts<'t> {
    pub(crate) header: &'t [u8],
    pub(crate) payload: &'t [u8],
    pub(crate) signature: &'t [u8],
    /// `header.payload`, the bytes the MAC covers.
    pub(crate) signed: &'t [u8],
}

pub(crate) fn split(token: &[u8]) -> Result<Parts<'_>, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TokenTooLong);
    }
    // The first dot from the front and the last from the back; the payload between them
    // must have none.
    let d1 = token.iter().position(|&b| b == b'.').ok_or(Error::Malformed)?;
    let d2 = token.iter().rposition(|&b| b == b'.').ok_or(Error::Malformed)?;
    let signed = token.get(..d2).ok_or(Error::Malformed)?;
    let (header, dot_payload) = signed.split_at_checked(d1).ok_or(Error::Malformed)?;
    let payload = dot_payload.get(1..).ok_or(Error::Malformed)?;
    let signature = token.get(d2.saturating_add(1)..).ok_or(Error::Malformed)?;
    if header.is_empty() || payload.is_empty() || signature.is_empty() || payload.contains(&b'.') {
        return Err(Error::Malformed);
    }
    Ok(Parts { header, payload, signature, signed })
}

/// Checks a token's claims against a [`Key`], with Stream's rules.
///
/// The algorithm comes from the key; the header must name it. The MAC is compared in constant
/// time, on its base64url form (so a non-canonical signature encoding never matches), before
/// the claims are decoded. Defaults: no leeway, `exp` optional (Stream's tokens without `exp`
/// never expire), development tokens refused.
///
/// ```
/// use stackjwt::{Algorithm, Error, Key, Verifier};
///
/// let key = Key::new(Algorithm::Hs256, &[42; 32])?;
/// let mut buf = [0u8; 256];
/// let token = key.user_token("john", Some(2_000), Some(1_000), &mut buf)?;
///
/// let verifier = Verifier::new(&key).leeway(30).require_exp(true);
/// let mut scratch = [0u8; 256];
/// let claims = verifier.verify(token, 1_500, &mut scratch)?;
/// assert_eq!(claims.user_id(), Some("john"));
/// assert_eq!(verifier.verify(token, 2_030, &mut scratch), Err(Error::Expired));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Verifier<'k> {
    key: &'k Key,
    leeway: u64,
    require_exp: bool,
    allow_dev: bool,
}

impl<'k> Verifier<'k> {
    /// A verifier for tokens signed with `key`.
    #[must_use]
    pub const fn new(key: &'k Key) -> Self {
        Self { key, leeway: 0, require_exp: false, allow_dev: false }
    }

    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat` (default 0).
    #[must_use]
    pub const fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Whether a token without `exp` is rejected, with [`Error::MissingExp`] (default `false`).
    #[must_use]
    pub const fn require_exp(mut self, require: bool) -> Self {
        self.require_exp = require;
        self
    }

    /// Whether development tokens (signature `devtoken`, no MAC) are accepted, as Stream does
    /// when an app's auth checks are disabled (default `false`). Never turn this on in
    /// production.
    #[must_use]
    pub const fn allow_dev_tokens(mut self, allow: bool) -> Self {
        self.allow_dev = allow;
        self
    }

    /// Verifies `token` at time `now` (Unix seconds) and returns its claims, which borrow
    /// from `scratch`. A `scratch` as long as the token is always enough.
    ///
    /// # Errors
    /// Every rejection has its own [`Error`] variant: the token's shape ([`Error::TokenTooLong`],
    /// [`Error::Malformed`], [`Error::InvalidBase64`], [`Error::InvalidUtf8`],
    /// [`Error::InvalidJson`], [`Error::JsonTooDeep`], [`Error::DuplicateMember`]), its header
    /// ([`Error::AlgorithmNotAllowed`], [`Error::CriticalHeader`], [`Error::InvalidHeader`],
    /// [`Error::UnknownKid`]), its MAC ([`Error::SignatureMismatch`]), development tokens
    /// ([`Error::DevTokenNotAllowed`], [`Error::InvalidDevToken`]), the claims
    /// ([`Error::InvalidClaim`], [`Error::EmptyUserId`], [`Error::MissingSubject`],
    /// [`Error::MissingExp`]) and time ([`Error::Expired`], [`Error::NotYetValid`],
    /// [`Error::IssuedInFuture`]); [`Error::BufferTooSmall`] when `scratch` is too short.
    pub fn verify<'s>(&self, token: impl AsRef<[u8]>, now: u64, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        let (raw, dev, spare) = self.checked_claims(token.as_ref(), now, scratch)?;
        raw.finish(spare, dev)
    }

    /// Like [`verify`](Self::verify), with every same check, then deserializes the claims into
    /// `T` (with `serde-json-core`, after this crate's strict validation). Borrowed `&str`
    /// fields work for strings without escapes; use an owned fixed-capacity string (such as
    /// `heapless::String`) for fields that may contain escapes.
    ///
    /// ```
    /// use stackjwt::{Algorithm, Key, Verifier};
    /// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    /// struct Mine<'a> { user_id: &'a str, role: &'a str }
    ///
    /// let key = Key::new(Algorithm::Hs256, &[5; 32])?;
    /// let mut buf = [0u8; 256];
    /// let token = key.sign(&Mine { user_id: "john", role: "admin" }, &mut buf)?;
    /// let mut scratch = [0u8; 256];
    /// let mine: Mine<'_> = Verifier::new(&key).verify_as(token, 0, &mut scratch)?;
    /// assert_eq!(mine.role, "admin");
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`verify`](Self::verify), and [`Error::ClaimsNotDeserializable`] when the claims do
    /// not fit `T`.
    pub fn verify_as<'s, T: Deserialize<'s>>(
        &self,
        token: impl AsRef<[u8]>,
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<T, Error> {
        let (raw, _, spare) = self.checked_claims(token.as_ref(), now, scratch)?;
        serde_json_core::from_slice_escaped(raw.json().as_bytes(), spare)
            .map(|(value, _)| value)
            .map_err(|_| Error::ClaimsNotDeserializable)
    }

    /// Checks only the header and the MAC, and returns the decoded payload bytes (which need
    /// not be JSON): for JWS uses outside Stream's claims. No claim or time rule is applied,
    /// and development tokens are never accepted here.
    ///
    /// # Errors
    /// As [`verify`](Self::verify) for the token's shape, header and MAC.
    pub fn verify_payload<'s>(&self, token: impl AsRef<[u8]>, scratch: &'s mut [u8]) -> Result<&'s [u8], Error> {
        let parts = split(token.as_ref())?;
        self.check_signature(&parts, scratch)?;
        Ok(base64::decode_url(parts.payload, scratch)?)
    }

    /// [`verify`](Self::verify) at the system clock's time.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), and [`Error::ClockBeforeEpoch`].
    #[cfg(feature = "std")]
    pub fn verify_now<'s>(&self, token: impl AsRef<[u8]>, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        extern crate std;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| Error::ClockBeforeEpoch)?
            .as_secs();
        self.verify(token, now, scratch)
    }

    /// All checks; returns the raw claims, whether it is a dev token, and the unused scratch.
    fn checked_claims<'s>(
        &self,
        token: &[u8],
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<(RawClaims<'s>, bool, &'s mut [u8]), Error> {
        let parts = split(token)?;
        let dev = parts.signature == DEV_SIGNATURE;
        let len = if dev {
            if !self.allow_dev {
                return Err(Error::DevTokenNotAllowed);
            }
            if parts.header != HS256_HEADER {
                return Err(Error::InvalidDevToken);
            }
            base64::decode_lenient(parts.payload, scratch)?.len()
        } else {
            self.check_signature(&parts, scratch)?;
            base64::decode_url(parts.payload, scratch)?.len()
        };
        let (payload, spare) = scratch.split_at_mut(len);
        let json = core::str::from_utf8(payload).map_err(|_| Error::InvalidUtf8)?;
        let raw = RawClaims::parse(json)?;
        if dev && raw.has_server_member() {
            return Err(Error::InvalidDevToken);
        }
        raw.check(Rules { now, leeway: self.leeway, require_exp: self.require_exp })?;
        Ok((raw, dev, spare))
    }

    /// Checks the header (unless it is byte-identical to the key's own) and the MAC.
    fn check_signature(&self, parts: &Parts<'_>, scratch: &mut [u8]) -> Result<(), Error> {
        let mut tag = [0u8; MAX_MAC_LEN];
        let tag = if parts.header == self.key.header_segment() {
            // Our own header: already known valid, and its MAC state is precomputed.
            self.key.mac_after_header().mac(parts.payload, &mut tag)
        } else {
            self.check_header(parts.header, scratch)?;
            self.key.mac().mac(parts.signed, &mut tag)
        };
        if base64::ct_eq_encoded(tag, parts.signature) { Ok(()) } else { Err(Error::SignatureMismatch) }
    }

    /// Decodes and checks a header that is not the key's own.
    fn check_header(&self, segment: &[u8], scratch: &mut [u8]) -> Result<(), Error> {
        let json = base64::decode_url(segment, scratch)?;
        let json = core::str::from_utf8(json).map_err(|_| Error::InvalidUtf8)?;
        let mut alg_ok = false;
        read::object_members(json.as_bytes(), |key, value| {
            if key.eq_str("alg") {
                alg_ok = matches!(value, Value::String(s) if s.eq_str(self.key.algorithm().name()));
            } else if key.eq_str("crit") {
                return Err(Error::CriticalHeader);
            } else if key.eq_str("typ") {
                if !matches!(value, Value::String(_)) {
                    return Err(Error::InvalidHeader);
                }
            } else if key.eq_str("kid") {
                let Value::String(kid) = value else { return Err(Error::InvalidHeader) };
                if let Some(own) = self.key.kid()
                    && !kid.eq_str(own)
                {
                    return Err(Error::UnknownKid);
                }
            }
            Ok(())
        })?;
        if alg_ok { Ok(()) } else { Err(Error::AlgorithmNotAllowed) }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;

    #[test]
    fn split_finds_exactly_three_segments() {
        let p = split(b"a.b.c").unwrap();
        assert_eq!((p.header, p.payload, p.signature, p.signed), (&b"a"[..], &b"b"[..], &b"c"[..], &b"a.b"[..]));
        for bad in [&b"abc"[..], b"a.b", b"a.b.c.d", b".b.c", b"a..c", b"a.b.", b"..", b"...", b"a.b..c"] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
    }
}
