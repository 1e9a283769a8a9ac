//! The signing and verifying key: secret policy, key id, and precomputed HMAC states.

use core::fmt;

use heapless::{String, Vec};

use crate::Error;
use crate::algorithm::{Algorithm, MacState};
use crate::base64::{self, Encoder};
use crate::json::write::{self, Sink};

/// The longest key id [`Key::with_kid`] accepts, in bytes.
pub const MAX_KID_LEN: usize = 64;

/// Room for the longest header segment: `{"alg":"HS256","typ":"JWT","kid":"<64 bytes>"}`.
const MAX_HEADER_SEGMENT_LEN: usize = header_segment_len(MAX_KID_LEN);

/// The length of a header segment minted for a key whose kid is `kid_len` bytes (0 for none).
pub(crate) const fn header_segment_len(kid_len: usize) -> usize {
    // {"alg":"HS256","typ":"JWT"} is 27 bytes; ,"kid":"..." adds 9 plus the kid.
    let json = if kid_len == 0 { 27 } else { kid_len.saturating_add(36) };
    base64::encoded_len(json)
}

/// An HMAC key for one [`Algorithm`], with an optional key id.
///
/// The secret's HMAC key schedule is computed once here, and so is the MAC state after the
/// key's own header segment, so each token costs only its payload's hashing. The secret itself
/// is not kept, but the precomputed states are as good as the secret: whoever reads them can
/// mint tokens. With the `zeroize` feature (on by default) they are wiped when the key is
/// dropped, and so is the copy of a state each token works on; clones are wiped like the
/// original. `Debug` prints the algorithm and kid only. A `Key` is `Send + Sync`: share one by
/// reference across threads.
///
/// ```
/// use stackjwt::{Algorithm, Error, Key};
///
/// let key = Key::new(Algorithm::Hs256, &[7u8; 32])?.with_kid("2026-11")?;
/// assert_eq!(key.kid(), Some("2026-11"));
/// assert_eq!(Key::new(Algorithm::Hs256, b"secret").unwrap_err(), Error::WeakSecret { min: 32 });
/// assert!(Key::new_weak(Algorithm::Hs256, b"secret").is_ok());
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct Key {
    alg: Algorithm,
    /// Keyed state before any input: for tokens whose header is not our own.
    mac: MacState,
    /// Keyed state after `header.`: for minting, and for verifying tokens with our header.
    after_header: MacState,
    /// Our header segment (base64url of the header JSON).
    header: Vec<u8, MAX_HEADER_SEGMENT_LEN>,
    kid: String<MAX_KID_LEN>,
}

impl Key {
    /// Makes a key from a secret at least as long as the hash output (32, 48 or 64 bytes), as
    /// RFC 7518 section 3.2 requires.
    ///
    /// # Errors
    /// [`Error::EmptySecret`] for an empty secret, [`Error::WeakSecret`] for a shorter one.
    #[inline(always)] // a constant `alg` then links only its own hash (see `MacState`)
    pub fn new(alg: Algorithm, secret: &[u8]) -> Result<Self, Error> {
        if !secret.is_empty() && secret.len() < alg.mac_len() {
            return Err(Error::WeakSecret { min: alg.mac_len() });
        }
        Self::new_weak(alg, secret)
    }

    /// Makes a key from a secret of any non-empty length: an explicit opt-in for legacy short
    /// secrets such as the `secret` of Stream's documentation.
    ///
    /// # Errors
    /// [`Error::EmptySecret`] for an empty secret.
    #[inline(always)] // a constant `alg` then links only its own hash (see `MacState`)
    pub fn new_weak(alg: Algorithm, secret: &[u8]) -> Result<Self, Error> {
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        let mac = MacState::new(alg, secret).ok_or(Error::EmptySecret)?;
        Ok(Self::from_state(alg, mac))
    }

    fn from_state(alg: Algorithm, mac: MacState) -> Self {
        let mut key = Self { alg, after_header: mac.clone(), mac, header: Vec::new(), kid: String::new() };
        key.rebuild_header();
        key
    }

    /// Adds a key id, written into minted headers as `"kid"` after `"typ"` and required to
    /// match when a token's header names one.
    ///
    /// # Errors
    /// [`Error::InvalidKid`] when `kid` is empty, longer than [`MAX_KID_LEN`] bytes, or has a
    /// character outside printable ASCII without `"` and `\` (so it needs no JSON escaping).
    pub fn with_kid(mut self, kid: &str) -> Result<Self, Error> {
        let ok = !kid.is_empty() && kid.bytes().all(|b| matches!(b, b'!'..=b'~') && b != b'"' && b != b'\\');
        if !ok {
            return Err(Error::InvalidKid);
        }
        self.kid = String::try_from(kid).map_err(|_| Error::InvalidKid)?;
        self.rebuild_header();
        Ok(self)
    }

    /// The key's algorithm.
    #[must_use]
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key id, if one was set.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        (!self.kid.is_empty()).then_some(self.kid.as_str())
    }

    pub(crate) fn header_segment(&self) -> &[u8] {
        &self.header
    }

    pub(crate) fn mac(&self) -> &MacState {
        &self.mac
    }

    pub(crate) fn mac_after_header(&self) -> &MacState {
        &self.after_header
    }

    fn rebuild_header(&mut self) {
        let mut seg = [0u8; MAX_HEADER_SEGMENT_LEN];
        let mut enc = Encoder::url(&mut seg);
        enc.put(b"{\"alg\":\"");
        enc.put(self.alg.name().as_bytes());
        enc.put(b"\",\"typ\":\"JWT\"");
        if !self.kid.is_empty() {
            enc.put(b",\"kid\":");
            write::string(&mut enc, &self.kid);
        }
        enc.put(b"}");
        let n = enc.finish();
        self.header.clear();
        // The buffer is sized for the longest kid, so this always fits.
        let _ = self.header.extend_from_slice(seg.get(..n).unwrap_or_default());
        let mut state = self.mac.clone();
        state.update(&self.header);
        state.update(b".");
        self.after_header = state;
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key").field("alg", &self.alg).field("kid", &self.kid()).finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    #[test]
    fn secret_policy() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let n = alg.mac_len();
            assert_eq!(Key::new(alg, &[]).unwrap_err(), Error::EmptySecret);
            assert_eq!(Key::new_weak(alg, &[]).unwrap_err(), Error::EmptySecret);
            assert_eq!(Key::new(alg, &[1; 64][..n - 1]).unwrap_err(), Error::WeakSecret { min: n });
            assert!(Key::new(alg, &[1; 64][..n]).is_ok());
            assert!(Key::new_weak(alg, b"s").is_ok());
        }
    }

    #[test]
    fn header_segments() {
        let k = Key::new(Algorithm::Hs256, &[0; 32]).unwrap();
        assert_eq!(k.header_segment(), b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
        let k = k.with_kid("2026-11").unwrap();
        let mut out = [0u8; 64];
        let json = crate::base64::decode_url(crate::Segment::Header, k.header_segment(), &mut out).unwrap();
        assert_eq!(json, br#"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#);
        assert_eq!(k.header_segment().len(), header_segment_len(7));
        let k = Key::new(Algorithm::Hs512, &[0; 64]).unwrap();
        let json = crate::base64::decode_url(crate::Segment::Header, k.header_segment(), &mut out).unwrap();
        assert_eq!(json, br#"{"alg":"HS512","typ":"JWT"}"#);
    }

    #[test]
    fn kid_rules() {
        let k = Key::new(Algorithm::Hs256, &[0; 32]).unwrap();
        for bad in ["", "a b", "a\"b", "a\\b", "é", &"k".repeat(MAX_KID_LEN + 1)] {
            assert_eq!(k.clone().with_kid(bad).unwrap_err(), Error::InvalidKid, "{bad}");
        }
        let long = "k".repeat(MAX_KID_LEN);
        assert_eq!(k.with_kid(&long).unwrap().header_segment().len(), MAX_HEADER_SEGMENT_LEN);
    }

    #[test]
    fn debug_prints_no_key_material() {
        let k = Key::new(Algorithm::Hs256, &[0xab; 32]).unwrap().with_kid("k1").unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, r#"Key { alg: Hs256, kid: Some("k1"), .. }"#);
    }

    #[test]
    fn key_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Key>();
    }
}
