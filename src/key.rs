//! The signing and verifying key: secret policy, key id, and precomputed HMAC states.

use core::fmt;

use crate::Error;
use crate::algorithm::{Algorithm, MacState};
use crate::base64::{self, Encoder};
use crate::json::write::{self, Sink as _};

/// The longest key id [`Key::with_kid`] accepts, in bytes.
pub const MAX_KID_LEN: usize = 64;

/// Room for the longest header JSON: `{"alg":"HS256","typ":"JWT","kid":"<64 bytes>"}`.
const MAX_HEADER_JSON_LEN: usize = header_json_len(MAX_KID_LEN);

/// The length of the header JSON minted for a key whose kid is `kid_len` bytes (0 for none).
const fn header_json_len(kid_len: usize) -> usize {
    // {"alg":"HS256","typ":"JWT"} is 27 bytes; ,"kid":"..." adds 9 plus the kid.
    if kid_len == 0 { 27 } else { kid_len.saturating_add(36) }
}

/// The length of a header segment minted for a key whose kid is `kid_len` bytes (0 for none).
pub(crate) const fn header_segment_len(kid_len: usize) -> usize {
    base64::encoded_len(header_json_len(kid_len))
}

/// The secret held in a secret file's `contents`: every trailing CR and LF dropped, nothing
/// else (leading and inner bytes, spaces and tabs included, belong to the secret). The
/// `stackjwt` command, `stackjwt-authz` and the NGINX module all read secret files with it, so
/// one file gives one key everywhere, whether it was written by `echo` (one `\n`), an editor
/// on Windows (`\r\n`) or by hand (several).
///
/// ```
/// assert_eq!(stackjwt::secret_from_file(b"s3cret\r\n\n"), b"s3cret");
/// assert_eq!(stackjwt::secret_from_file(b" s3cret \t\n"), b" s3cret \t");
/// ```
#[must_use]
pub fn secret_from_file(contents: &[u8]) -> &[u8] {
    let end = contents.iter().rposition(|&b| b != b'\n' && b != b'\r').map_or(0, |i| i.saturating_add(1));
    contents.get(..end).unwrap_or_default()
}

/// An HMAC key for one [`Algorithm`], with an optional key id.
///
/// The secret's HMAC key schedule is computed once here: the key keeps the two hash states
/// after HMAC's inner and outer pad blocks, and each token costs only the hashing of its own
/// `header.payload`. The secret itself is not kept, but the precomputed states are as good as
/// the secret: whoever reads them can mint tokens. With the `zeroize` feature (on by default) they are wiped when the key is
/// dropped, and so is the copy of a state each token works on; clones are wiped like the
/// original. `Debug` prints the algorithm and kid only. A `Key` is `Send + Sync`: share one by
/// reference across threads.
///
/// Size: the two hash states (64 bytes for HS256, 128 for HS384/HS512, in one enum sized for
/// the larger), the kid (up to [`MAX_KID_LEN`] bytes) and the algorithm: 216 bytes on 32-bit
/// targets (thumbv6m/v7m/v7em, riscv32; the Cortex-M program prints it) and on 64-bit ones. The
/// header segment is not stored: without a kid it is one of three constants, and with one it
/// is encoded when a token is minted (about 40 bytes of base64).
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
    /// Keyed HMAC state (no input yet).
    mac: MacState,
    kid: Kid,
    alg: Algorithm,
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
        Self::keyed(alg, secret, MacState::keying(alg))
    }

    /// The key for `secret`, keyed by `keying` (the algorithm's own). Not inlined: the key is
    /// built in its caller's slot, with no temporary copy in the caller's frame.
    #[inline(never)]
    fn keyed(alg: Algorithm, secret: &[u8], keying: fn(&[u8]) -> Option<MacState>) -> Result<Self, Error> {
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        let mac = keying(secret).ok_or(Error::EmptySecret)?;
        Ok(Self { mac, kid: Kid { bytes: [0; MAX_KID_LEN], len: 0 }, alg })
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
        let mut bytes = [0; MAX_KID_LEN];
        bytes.get_mut(..kid.len()).ok_or(Error::InvalidKid)?.copy_from_slice(kid.as_bytes());
        self.kid = Kid { bytes, len: u8::try_from(kid.len()).map_err(|_| Error::InvalidKid)? };
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
        (!self.kid.is_empty()).then(|| self.kid.as_str())
    }

    /// The length of this key's header segment.
    pub(crate) fn header_segment_len(&self) -> usize {
        header_segment_len(self.kid.len())
    }

    /// Writes this key's header segment into `out`, which must be exactly
    /// [`header_segment_len`](Self::header_segment_len) long.
    pub(crate) fn write_header_segment(&self, out: &mut [u8]) {
        if self.kid.is_empty() {
            // Every algorithm's header segment is 36 bytes: a fixed-size move, not memcpy.
            if let (Ok(dst), Ok(src)) =
                (<&mut [u8; 36]>::try_from(&mut *out), <&[u8; 36]>::try_from(self.alg.header_segment()))
            {
                *dst = *src;
            }
        } else {
            self.write_kid_header_segment(out);
        }
    }

    /// [`write_header_segment`](Self::write_header_segment) for a key with a kid. Not inlined:
    /// its buffer is on the stack only for keys that have a kid.
    #[inline(never)]
    fn write_kid_header_segment(&self, out: &mut [u8]) {
        let mut json = [0u8; MAX_HEADER_JSON_LEN];
        let json = self.header_json(&mut json);
        let mut enc = Encoder::url(out);
        enc.put(json);
        enc.finish();
    }

    /// This key's header JSON, written into `buf`.
    fn header_json<'b>(&self, buf: &'b mut [u8; MAX_HEADER_JSON_LEN]) -> &'b [u8] {
        let mut sink = write::SliceSink { out: buf, len: 0 };
        sink.put(b"{\"alg\":\"");
        sink.put(self.alg.name().as_bytes());
        sink.put(b"\",\"typ\":\"JWT\"");
        if !self.kid.is_empty() {
            // A kid needs no escaping (`with_kid` checks).
            sink.put(b",\"kid\":\"");
            sink.put(self.kid.as_bytes());
            sink.put(b"\"");
        }
        sink.put(b"}");
        let len = sink.len;
        sink.out.get(..len).unwrap_or_default()
    }

    /// Whether `segment` is byte for byte a header this key accepts without reading it: the
    /// one it mints, and for a key without kid the forms other SDKs mint
    /// ([`Algorithm::known_header_segments`]).
    ///
    /// On 32-bit targets a key with a kid has no such header (flash: its header would be
    /// encoded to be compared): its tokens' headers are read, to the same result.
    pub(crate) fn is_own_header(&self, segment: &[u8]) -> bool {
        if self.kid.is_empty() {
            // On 64-bit targets compared word by word, by the two lengths the known segments
            // have (no memcmp call); on smaller ones with memcmp (flash).
            let known = self.alg.known_header_segments();
            #[cfg(target_pointer_width = "64")]
            return match (segment.len(), known) {
                (36, [minted, php, _]) => same::<36>(segment, minted) || same::<36>(segment, php),
                (20, [_, _, ruby]) => same::<20>(segment, ruby),
                _ => false,
            };
            #[cfg(not(target_pointer_width = "64"))]
            return known.contains(&segment);
        }
        cfg!(target_pointer_width = "64")
            && segment.len() == self.header_segment_len()
            && self.is_own_kid_header(segment)
    }

    /// [`is_own_header`](Self::is_own_header) for a key with a kid, for a segment of the
    /// right length. Not inlined, as `write_kid_header_segment`.
    #[inline(never)]
    fn is_own_kid_header(&self, segment: &[u8]) -> bool {
        let mut ours = [0u8; base64::encoded_len(MAX_HEADER_JSON_LEN)];
        let ours = ours.get_mut(..segment.len()).unwrap_or_default();
        self.write_header_segment(ours);
        segment == ours
    }

    pub(crate) const fn mac(&self) -> &MacState {
        &self.mac
    }
}

/// Whether `a` and `b` are both exactly `N` bytes long and equal: word by word, then byte by
/// byte (a slice or array comparison of this size calls memcmp).
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
fn same<const N: usize>(a: &[u8], b: &[u8]) -> bool {
    let ((a_words, a_tail), (b_words, b_tail)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    a.len() == N
        && b.len() == N
        && a_words.iter().zip(b_words).all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y))
        && a_tail.iter().zip(b_tail).all(|(x, y)| x == y)
}

/// A key id: printable ASCII, in a fixed array that is all initialized (zeros past the id),
/// so moving a key never carries stale bytes in spare capacity.
#[derive(Clone)]
struct Kid {
    bytes: [u8; MAX_KID_LEN],
    len: u8,
}

impl Kid {
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len()).unwrap_or_default()
    }

    fn as_str(&self) -> &str {
        // `with_kid` stores printable ASCII only.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    const fn len(&self) -> usize {
        self.len as usize
    }

    const fn is_empty(&self) -> bool {
        self.len == 0
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
    fn secret_files_lose_every_trailing_cr_and_lf_and_nothing_else() {
        let cases: [(&[u8], &[u8]); 9] = [
            (b"secret", b"secret"),
            (b"secret\n", b"secret"),
            (b"secret\n\n", b"secret"),
            (b"secret\r\n", b"secret"),
            (b"secret\r\n\r\n\r", b"secret"),
            (b"\nsec\nret\n", b"\nsec\nret"),
            (b" secret \t\n", b" secret \t"),
            (b"\r\n\n", b""),
            (b"", b""),
        ];
        for (contents, secret) in cases {
            assert_eq!(secret_from_file(contents), secret, "{contents:?}");
        }
    }

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

    /// The header segment a key writes, decoded.
    fn header_json(k: &Key) -> std::vec::Vec<u8> {
        let mut seg = std::vec![0u8; k.header_segment_len()];
        k.write_header_segment(&mut seg);
        assert!(k.is_own_header(&seg));
        let mut out = [0u8; 128];
        crate::base64::decode_url(crate::Segment::Header, &seg, &mut out).unwrap().to_vec()
    }

    #[test]
    fn header_segments() {
        let k = Key::new(Algorithm::Hs256, &[0; 32]).unwrap();
        assert_eq!(header_json(&k), br#"{"alg":"HS256","typ":"JWT"}"#);
        assert_eq!(
            header_json(&k.clone().with_kid("2026-11").unwrap()),
            br#"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#
        );
        assert_eq!(header_json(&Key::new(Algorithm::Hs384, &[0; 48]).unwrap()), br#"{"alg":"HS384","typ":"JWT"}"#);
        assert_eq!(header_json(&Key::new(Algorithm::Hs512, &[0; 64]).unwrap()), br#"{"alg":"HS512","typ":"JWT"}"#);
        for kid_len in 1..=MAX_KID_LEN {
            let k = k.clone().with_kid(&"k".repeat(kid_len)).unwrap();
            let json = header_json(&k);
            assert_eq!(json.len(), header_json_len(kid_len));
            assert_eq!(k.header_segment_len(), base64::encoded_len(json.len()));
        }
    }

    #[test]
    fn known_headers_are_what_sdks_mint() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let a = alg.name();
            let forms = [
                format!(r#"{{"alg":"{a}","typ":"JWT"}}"#),
                format!(r#"{{"typ":"JWT","alg":"{a}"}}"#),
                format!(r#"{{"alg":"{a}"}}"#),
            ];
            let key = Key::new_weak(alg, b"k").unwrap();
            let with_kid = key.clone().with_kid("k1").unwrap();
            for (segment, json) in alg.known_header_segments().iter().zip(&forms) {
                let mut out = [0u8; 64];
                let decoded = crate::base64::decode_url(crate::Segment::Header, segment, &mut out).unwrap();
                assert_eq!(decoded, json.as_bytes());
                assert!(key.is_own_header(segment), "{json}");
                // A key with a kid reads every header (its kid must be checked).
                assert!(!with_kid.is_own_header(segment), "{json}");
            }
            assert_eq!(alg.header_segment(), alg.known_header_segments()[0]);
        }
    }

    #[test]
    fn own_headers_are_recognized_exactly() {
        let plain = Key::new(Algorithm::Hs256, &[0; 32]).unwrap();
        let kid = plain.clone().with_kid("2026-11").unwrap();
        let other_kid = plain.clone().with_kid("2026-12").unwrap();
        let hs512 = Key::new(Algorithm::Hs512, &[0; 64]).unwrap();
        let seg = |k: &Key| {
            let mut s = std::vec![0u8; k.header_segment_len()];
            k.write_header_segment(&mut s);
            s
        };
        for (a, b) in [(&plain, &kid), (&kid, &other_kid), (&plain, &hs512), (&kid, &plain)] {
            assert!(!a.is_own_header(&seg(b)));
        }
        let mut truncated = seg(&kid);
        truncated.pop();
        assert!(!kid.is_own_header(&truncated));
        assert!(!kid.is_own_header(b""));
    }

    #[test]
    fn kid_rules() {
        let k = Key::new(Algorithm::Hs256, &[0; 32]).unwrap();
        for bad in ["", "a b", "a\"b", "a\\b", "é", &"k".repeat(MAX_KID_LEN + 1)] {
            assert_eq!(k.clone().with_kid(bad).unwrap_err(), Error::InvalidKid, "{bad}");
        }
        let long = "k".repeat(MAX_KID_LEN);
        assert_eq!(k.with_kid(&long).unwrap().kid(), Some(long.as_str()));
    }

    #[test]
    fn debug_prints_no_key_material() {
        let k = Key::new(Algorithm::Hs256, &[0xab; 32]).unwrap().with_kid("k1").unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, r#"Key { alg: Hs256, kid: Some("k1"), .. }"#);
    }

    #[test]
    fn key_size_is_the_documented_one() {
        // The same on 32-bit targets, where the Cortex-M program prints it (the states' u64
        // words align the key to 8 there too).
        assert_eq!(core::mem::size_of::<Key>(), 216);
    }

    #[test]
    fn key_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Key>();
    }
}
