//! Minting: user, server, custom-claims and development tokens, and their sizes.

use serde::Serialize;

use crate::Error;
use crate::algorithm::{Algorithm, MAX_MAC_LEN};
use crate::base64::{self, Encoder};
use crate::claims::RawClaims;
#[cfg(target_pointer_width = "64")]
use crate::json;
use crate::json::write::{Counter, Sink, SliceSink};
use crate::json::{ser, write};
use crate::key::{Key, header_segment_len};

/// The header segment of Stream's tokens and of every development token:
/// `{"alg":"HS256","typ":"JWT"}` in base64url.
pub(crate) const HS256_HEADER: &[u8] = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/// The signature segment of a development token.
pub(crate) const DEV_SIGNATURE: &[u8] = b"devtoken";

/// Writes user-token claims: `user_id`, `exp`, `iat` in that order, each omitted when `None`
/// or 0 (as the JS SDK's `if (exp)` does).
fn user_claims<S: Sink + ?Sized>(out: &mut S, user_id: &str, exp: Option<u64>, iat: Option<u64>) {
    out.put(b"{\"user_id\":");
    write::string(out, user_id);
    time_claim(out, b",\"exp\":", exp.filter(|&t| t != 0));
    time_claim(out, b",\"iat\":", iat.filter(|&t| t != 0));
    out.put(b"}");
}

fn time_claim<S: Sink + ?Sized>(out: &mut S, name: &[u8], value: Option<u64>) {
    if let Some(t) = value {
        out.put(name);
        write::unsigned64(out, t);
    }
}

const SERVER_CLAIMS: &[u8] = b"{\"server\":true}";

/// `{"server":true,"iat":` : a server token with its issue time.
const SERVER_IAT_PREFIX: &[u8] = b"{\"server\":true,\"iat\":";

impl Key {
    /// Mints a Stream user token: claims `user_id`, then `exp` and `iat` when given (Unix
    /// seconds). The output equals Stream's JS SDK's `createToken(user_id, exp, iat)` byte
    /// for byte, including its treatment of 0: like the SDK's `if (exp)`, `Some(0)` omits the
    /// claim just as `None` does (a token that expired in 1970 is never what was meant).
    ///
    /// ```
    /// use stackjwt::{Algorithm, Key};
    /// let key = Key::new_weak(Algorithm::Hs256, b"secret")?;
    /// let mut buf = [0u8; 256];
    /// let token = key.user_token("john", None, None, &mut buf)?;
    /// assert_eq!(token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiam9obiJ9.yrpLD2gUq_TIyxMKpDBHQO391KGCNrFl-RvMT-p90MU");
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyUserId`] for an empty `user_id`; [`Error::BufferTooSmall`] (with the exact
    /// length needed, see [`Key::user_token_len`]) when `buf` cannot hold the token.
    pub fn user_token<'b>(
        &self,
        user_id: &str,
        exp: Option<u64>,
        iat: Option<u64>,
        buf: &'b mut [u8],
    ) -> Result<&'b str, Error> {
        if user_id.is_empty() {
            return Err(Error::EmptyUserId);
        }
        #[cfg(target_pointer_width = "64")]
        if json::string_end(user_id.as_bytes()).is_none() {
            return self.plain_user_token(user_id, exp.filter(|&t| t != 0), iat.filter(|&t| t != 0), buf);
        }
        self.mint(buf, &mut |enc| {
            user_claims(enc, user_id, exp, iat);
            Ok(())
        })
    }

    /// [`user_token`](Self::user_token) for an id with nothing to escape, on 64-bit targets
    /// (speed). The claims are `{"user_id":"`, the id, and the rest; the first piece is 12
    /// bytes (a multiple of 3), so its encoding is a constant. The rest is written into a small
    /// array, with the id when it is short; a long id's whole groups of six bytes are encoded
    /// where they are, and only its last few bytes copied. Same bytes as the general path
    /// (tested).
    #[cfg(target_pointer_width = "64")]
    fn plain_user_token<'b>(
        &self,
        user_id: &str,
        exp: Option<u64>,
        iat: Option<u64>,
        buf: &'b mut [u8],
    ) -> Result<&'b str, Error> {
        /// `{"user_id":"` in base64url.
        const USER_ID: &[u8; 16] = b"eyJ1c2VyX2lkIjoi";
        /// Ids up to this long are copied into the array with the rest of the claims, so that
        /// all of it is encoded in one call.
        const SHORT_ID: usize = 48;
        let id = user_id.as_bytes();
        let (groups, last) = match id.len() {
            0..=SHORT_ID => (&[][..], id),
            _ => {
                let (groups, last) = id.as_chunks::<6>();
                (groups.as_flattened(), last)
            }
        };
        // The id (or its last bytes), `"`, `,"exp":N`, `,"iat":N` and `}`.
        let mut rest = [0u8; SHORT_ID + 1 + 2 * (7 + 20) + 1];
        let mut at = 0;
        put(&mut rest, &mut at, last);
        put(&mut rest, &mut at, b"\"");
        for (name, time) in [(b",\"exp\":", exp), (b",\"iat\":", iat)] {
            if let Some(t) = time {
                put(&mut rest, &mut at, name);
                let end = at.saturating_add(write::digits(t));
                write::decimal_exact(t, rest.get_mut(at..end).unwrap_or_default());
                at = end;
            }
        }
        put(&mut rest, &mut at, b"}");
        let rest = rest.get(..at).unwrap_or_default();
        let json_len = 12usize.saturating_add(groups.len()).saturating_add(rest.len());

        let header_len = self.header_segment_len();
        let needed = token_len(header_len, json_len, self.algorithm());
        let payload_start = header_len.saturating_add(1);
        let payload_len = base64::encoded_len(json_len);
        if buf.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        let too_small = Error::BufferTooSmall { needed };
        let payload = buf.get_mut(payload_start..payload_start.saturating_add(payload_len)).ok_or(too_small)?;
        let (head, payload) = payload.split_first_chunk_mut::<16>().ok_or(too_small)?;
        *head = *USER_ID;
        if groups.is_empty() {
            base64::encode_url(rest, payload)?;
        } else {
            let (middle, end) = payload.split_at_mut_checked(base64::encoded_len(groups.len())).ok_or(too_small)?;
            base64::encode_url(groups, middle)?;
            base64::encode_url(rest, end)?;
        }
        self.seal(buf, payload_len)
    }

    /// Mints a server token: claims `{"server":true}`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than [`server_token_len`].
    pub fn server_token<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.mint(buf, &mut |enc| {
            enc.put(SERVER_CLAIMS);
            Ok(())
        })
    }

    /// Mints a server token that says when it was issued: claims `{"server":true,"iat":N}`
    /// (in the order Stream's JS SDK writes them), so that an app-wide revocation
    /// ([`Verifier::revoked_before`](crate::Verifier::revoked_before)) revokes only server
    /// tokens issued before the cutoff. A server token without `iat` counts as issued at 0,
    /// so any cutoff revokes it.
    ///
    /// ```
    /// use stackjwt::{server_token_with_iat_len, Algorithm, Error, Key, Verifier};
    /// let key = Key::new(Algorithm::Hs256, &[4; 32])?;
    /// let mut buf = [0u8; server_token_with_iat_len(Algorithm::Hs256, 0, 1_700_000_000)];
    /// let token = key.server_token_with_iat(1_700_000_000, &mut buf)?;
    /// let mut scratch = [0u8; 128];
    /// let v = Verifier::new(&key).revoked_before(1_600_000_000);
    /// assert!(v.verify(token, 1_700_000_000, &mut scratch)?.is_server());
    /// let mut old = [0u8; 128];
    /// assert_eq!(v.verify(key.server_token(&mut old)?, 1_700_000_000, &mut scratch), Err(Error::Revoked));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than [`server_token_with_iat_len`].
    pub fn server_token_with_iat<'b>(&self, iat: u64, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        self.mint(buf, &mut |enc| {
            enc.put(SERVER_IAT_PREFIX);
            write::unsigned64(enc, iat);
            enc.put(b"}");
            Ok(())
        })
    }

    /// Mints a token with any claims that serialize to a JSON object, written compactly in
    /// field order with `JSON.stringify`'s string escaping.
    ///
    /// It mints only what [`Verifier::verify_as`](crate::Verifier::verify_as) accepts: the
    /// JSON is checked with the verifier's own strict reader before the MAC is computed, so
    /// claims with duplicate names (from `#[serde(flatten)]` or a map), nesting deeper than
    /// [`MAX_JSON_DEPTH`](crate::MAX_JSON_DEPTH), more than
    /// [`MAX_JSON_MEMBERS`](crate::MAX_JSON_MEMBERS) members, a registered claim of the
    /// wrong type (a negative or fractional `exp`, a non-string `user_id`), or neither a
    /// `user_id` nor `"server":true` are refused with the error the verifier would give.
    ///
    /// ```
    /// use stackjwt::{Algorithm, Key};
    /// #[derive(serde::Serialize)]
    /// struct Claims<'a> { user_id: &'a str, role: &'a str }
    ///
    /// let key = Key::new(Algorithm::Hs256, &[9; 32])?;
    /// let mut buf = [0u8; 256];
    /// let token = key.sign(&Claims { user_id: "john", role: "admin" }, &mut buf)?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::ClaimsNotSerializable`] when the claims are not a JSON object or fail to
    /// serialize; [`Error::BufferTooSmall`] with the exact length needed; then the verifier's
    /// errors for claims it would refuse: [`Error::DuplicateMember`], [`Error::JsonTooDeep`],
    /// [`Error::TooManyMembers`], [`Error::InvalidClaim`], [`Error::EmptyUserId`],
    /// [`Error::MissingSubject`].
    pub fn sign<'b, T: Serialize + ?Sized>(&self, claims: &T, buf: &'b mut [u8]) -> Result<&'b str, Error> {
        // On 64-bit targets claims of up to 256 bytes are written on the stack, checked there
        // and encoded into place in one pass (speed); longer ones, and all on smaller targets,
        // where the payload goes.
        #[cfg(target_pointer_width = "64")]
        {
            let mut stack = [0u8; 256];
            let mut sink = SliceSink { out: &mut stack, len: 0 };
            ser::to_sink(&mut sink, claims).map_err(|_| Error::ClaimsNotSerializable)?;
            let json_len = sink.len;
            if let Some(json) = stack.get(..json_len) {
                let payload_len = self.checked_claims_json(json, buf.len())?;
                let start = self.header_segment_len().saturating_add(1);
                let payload = buf.get_mut(start..start.saturating_add(payload_len)).unwrap_or_default();
                base64::encode_url(json, payload)?;
                return self.seal(buf, payload_len);
            }
        }
        let start = self.header_segment_len().saturating_add(1);
        // The JSON is written as is where the payload goes, checked, then encoded in place.
        let mut sink = SliceSink { out: buf.get_mut(start..).unwrap_or_default(), len: 0 };
        ser::to_sink(&mut sink, claims).map_err(|_| Error::ClaimsNotSerializable)?;
        let json_len = sink.len;
        let needed = token_len(self.header_segment_len(), json_len, self.algorithm());
        if buf.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        let json = buf.get(start..start.saturating_add(json_len)).unwrap_or_default();
        let payload_len = self.checked_claims_json(json, buf.len())?;
        // The JSON moves to where the token ends and is encoded forward from there.
        let token = buf.get_mut(start..needed).unwrap_or_default();
        let from = token.len().saturating_sub(json_len);
        token.copy_within(..json_len, from);
        base64::encode_url_moved(token, from, json_len);
        self.seal(buf, payload_len)
    }

    /// Checks serialized claims as [`sign`](Self::sign) does, in its order: room for the
    /// token in a buffer of `buf_len` bytes, a JSON object, UTF-8, then what the verifier
    /// would refuse. Returns the payload's encoded length.
    fn checked_claims_json(&self, json: &[u8], buf_len: usize) -> Result<usize, Error> {
        let needed = token_len(self.header_segment_len(), json.len(), self.algorithm());
        if buf_len < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        if json.first() != Some(&b'{') {
            return Err(Error::ClaimsNotSerializable);
        }
        let json = core::str::from_utf8(json).map_err(|_| Error::ClaimsNotSerializable)?;
        RawClaims::parse(json)?.check_subject()?;
        Ok(base64::encoded_len(json.len()))
    }

    /// The exact length of [`Key::user_token`]'s output for these arguments.
    ///
    /// ```
    /// # use stackjwt::{Algorithm, Key};
    /// let key = Key::new(Algorithm::Hs256, &[1; 32])?;
    /// let mut buf = [0u8; 256];
    /// let n = key.user_token_len("john", Some(1), None);
    /// assert_eq!(key.user_token("john", Some(1), None, &mut buf)?.len(), n);
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    #[must_use]
    pub fn user_token_len(&self, user_id: &str, exp: Option<u64>, iat: Option<u64>) -> usize {
        let mut c = Counter::default();
        user_claims(&mut c, user_id, exp, iat);
        token_len(self.header_segment_len(), c.0, self.algorithm())
    }

    /// Writes `header.payload.signature` into `buf`; `payload` writes the claims JSON.
    /// Not generic and not inlined: one copy in flash, and its locals stay off the stack of
    /// a caller that goes on to verify.
    #[inline(never)]
    fn mint<'b>(
        &self,
        buf: &'b mut [u8],
        payload: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
    ) -> Result<&'b str, Error> {
        let payload_len = self.encode_payload(buf, payload)?;
        self.seal(buf, payload_len)
    }

    /// Writes the encoded payload after room for the header; returns its length. Not
    /// inlined: the encoder is off the stack before the MAC's state goes on it.
    #[inline(never)]
    fn encode_payload(
        &self,
        buf: &mut [u8],
        payload: &mut dyn FnMut(&mut Encoder<'_>) -> Result<(), Error>,
    ) -> Result<usize, Error> {
        let payload_start = self.header_segment_len().saturating_add(1);
        let mut enc = Encoder::url(buf.get_mut(payload_start..).unwrap_or_default());
        payload(&mut enc)?;
        Ok(enc.finish())
    }

    /// Completes a token whose encoded payload (`payload_len` bytes) already stands after room
    /// for the header: writes the header, the dots and the signature. Not inlined: the MAC's
    /// state is on the stack only here, not under the payload writer's.
    #[inline(never)]
    fn seal<'b>(&self, buf: &'b mut [u8], payload_len: usize) -> Result<&'b str, Error> {
        let header_len = self.header_segment_len();
        let payload_start = header_len.saturating_add(1);
        let payload_end = payload_start.saturating_add(payload_len);
        let sig_len = self.algorithm().signature_len();
        let needed = payload_end.saturating_add(1).saturating_add(sig_len);
        let too_small = Error::BufferTooSmall { needed };
        let token = buf.get_mut(..needed).ok_or(too_small)?;
        let (signed, sig) = token.split_at_mut(payload_end);
        let (head, payload) = signed.split_at_mut(header_len);
        self.write_header_segment(head);
        let (dot, _) = payload.split_first_mut().ok_or(too_small)?;
        *dot = b'.';

        let mut tag: base64::PaddedMac = [0; MAX_MAC_LEN + 8];
        let mac_len = self.mac().mac(signed, &mut tag).len();
        let (dot, sig) = sig.split_first_mut().ok_or(too_small)?;
        *dot = b'.';
        base64::encode_mac(&tag, mac_len, sig);
        core::str::from_utf8(token).map_err(|_| too_small)
    }
}

/// Mints a Stream development token for `user_id`, byte-identical to the JS SDK's
/// `DevToken(user_id)` for ASCII ids: the HS256 header, the claims `{"user_id":...}` in
/// *standard* base64 with `=` padding, and the literal signature `devtoken`. No key is
/// involved; such tokens are accepted only by a verifier with
/// [`allow_dev_tokens(true)`](crate::Verifier::allow_dev_tokens).
///
/// Non-ASCII ids are written as UTF-8, as in every other token, so the token round-trips
/// through this crate's verifier. The JS SDK differs there: its base64 helper keeps only the
/// low byte of each UTF-16 code unit, so its dev tokens for ids outside Latin-1 are not valid
/// UTF-8 (and those for Latin-1 ids are Latin-1, not UTF-8); no verifier that requires UTF-8
/// JSON, this one included, accepts them.
///
/// ```
/// let mut buf = [0u8; 128];
/// let token = stackjwt::dev_token("ab", &mut buf)?;
/// assert_eq!(token, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWIifQ==.devtoken");
/// # Ok::<(), stackjwt::Error>(())
/// ```
///
/// # Errors
/// [`Error::EmptyUserId`] for an empty `user_id`; [`Error::BufferTooSmall`] with the exact
/// length needed.
pub fn dev_token<'b>(user_id: &str, buf: &'b mut [u8]) -> Result<&'b str, Error> {
    if user_id.is_empty() {
        return Err(Error::EmptyUserId);
    }
    let payload_start = HS256_HEADER.len().saturating_add(1);
    let mut enc = Encoder::standard(buf.get_mut(payload_start..).unwrap_or_default());
    user_claims(&mut enc, user_id, None, None);
    let payload_end = payload_start.saturating_add(enc.finish());
    let needed = payload_end.saturating_add(1).saturating_add(DEV_SIGNATURE.len());
    let too_small = Error::BufferTooSmall { needed };
    let token = buf.get_mut(..needed).ok_or(too_small)?;
    let (head, rest) = token.split_at_mut(HS256_HEADER.len());
    head.copy_from_slice(HS256_HEADER);
    let (dot, rest) = rest.split_first_mut().ok_or(too_small)?;
    *dot = b'.';
    let tail = rest.get_mut(payload_end.saturating_sub(payload_start)..).ok_or(too_small)?;
    let (dot, sig) = tail.split_first_mut().ok_or(too_small)?;
    *dot = b'.';
    sig.copy_from_slice(DEV_SIGNATURE);
    core::str::from_utf8(token).map_err(|_| too_small)
}

/// Writes `bytes` at `out[*at..]` (when they fit) and moves `at` past them. Inlined, so that
/// constant pieces become plain moves.
#[cfg(target_pointer_width = "64")]
#[inline(always)]
fn put(out: &mut [u8], at: &mut usize, bytes: &[u8]) {
    let end = at.saturating_add(bytes.len());
    if let Some(dst) = out.get_mut(*at..end) {
        dst.copy_from_slice(bytes);
    }
    *at = end;
}

const fn token_len(header_len: usize, json_len: usize, alg: Algorithm) -> usize {
    header_len
        .saturating_add(1)
        .saturating_add(base64::encoded_len(json_len))
        .saturating_add(1)
        .saturating_add(alg.signature_len())
}

/// The largest [`Key::user_token`] output for a `user_id` of `user_id_len` bytes, with `exp`
/// and `iat` of any value, for a key whose kid is `kid_len` bytes (0 for none). Use it to size
/// buffers at compile time; the bound assumes every byte of the id needs a six-byte escape.
///
/// ```
/// use stackjwt::{user_token_max_len, Algorithm};
/// const LEN: usize = user_token_max_len(Algorithm::Hs256, 0, 64);
/// let buf = [0u8; LEN];
/// # let _ = buf;
/// ```
#[must_use]
pub const fn user_token_max_len(alg: Algorithm, kid_len: usize, user_id_len: usize) -> usize {
    // {"user_id":"<6 per byte>","exp":<20>,"iat":<20>}
    let json = 11usize
        .saturating_add(2)
        .saturating_add(user_id_len.saturating_mul(6))
        .saturating_add(write::digits(u64::MAX).saturating_add(7).saturating_mul(2))
        .saturating_add(1);
    token_len(header_segment_len(kid_len), json, alg)
}

/// The exact length of [`Key::server_token`]'s output for a key whose kid is `kid_len`
/// bytes (0 for none).
///
/// ```
/// use stackjwt::{server_token_len, Algorithm};
/// assert_eq!(server_token_len(Algorithm::Hs256, 0), 101);
/// ```
#[must_use]
pub const fn server_token_len(alg: Algorithm, kid_len: usize) -> usize {
    token_len(header_segment_len(kid_len), SERVER_CLAIMS.len(), alg)
}

/// The exact length of [`Key::server_token_with_iat`]'s output for a key whose kid is
/// `kid_len` bytes (0 for none).
///
/// ```
/// use stackjwt::{server_token_with_iat_len, Algorithm};
/// assert_eq!(server_token_with_iat_len(Algorithm::Hs256, 0, 1_700_000_000), 124);
/// ```
#[must_use]
pub const fn server_token_with_iat_len(alg: Algorithm, kid_len: usize, iat: u64) -> usize {
    let json = SERVER_IAT_PREFIX.len().saturating_add(write::digits(iat)).saturating_add(1);
    token_len(header_segment_len(kid_len), json, alg)
}

/// The largest [`dev_token`] output for a `user_id` of `user_id_len` bytes.
#[must_use]
pub const fn dev_token_max_len(user_id_len: usize) -> usize {
    let json = 14usize.saturating_add(user_id_len.saturating_mul(6));
    HS256_HEADER
        .len()
        .saturating_add(1)
        .saturating_add(base64::padded_len(json))
        .saturating_add(1)
        .saturating_add(DEV_SIGNATURE.len())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;

    fn key(alg: Algorithm) -> Key {
        Key::new(alg, &[3; 64]).unwrap()
    }

    /// The fast user-token path (64-bit, ids without escapes) writes exactly what the general
    /// one does, for every algorithm, a kid or none, every id length across the six-byte steps
    /// of its encoder, and every combination of times; ids with escapes take the general path.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn plain_user_tokens_equal_the_general_path() {
        let mut n = 0;
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            for k in [key(alg), key(alg).with_kid("key-7").unwrap()] {
                for len in (1..60).chain(150..160) {
                    let id: std::string::String = "jürgen-0123456789".chars().cycle().take(len).collect();
                    for (exp, iat) in [
                        (None, None),
                        (Some(1), None),
                        (None, Some(1_700_000_000)),
                        (Some(u64::MAX), Some(10)),
                        // The longest claims: every byte of the small array used.
                        (Some(u64::MAX), Some(u64::MAX)),
                        (Some(0), Some(0)),
                    ] {
                        let (mut fast, mut general) = ([0u8; 512], [0u8; 512]);
                        let fast = k.user_token(&id, exp, iat, &mut fast).unwrap();
                        let general = k
                            .mint(&mut general, &mut |enc| {
                                user_claims(enc, &id, exp, iat);
                                Ok(())
                            })
                            .unwrap();
                        assert_eq!(fast, general, "{alg:?} {id} {exp:?} {iat:?}");
                        assert_eq!(fast.len(), k.user_token_len(&id, exp, iat));
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 3 * 2 * 69 * 6);
        let mut buf = [0u8; 256];
        let t = key(Algorithm::Hs256).user_token("a\"b\n", Some(5), None, &mut buf).unwrap();
        let mut scratch = [0u8; 256];
        let k = key(Algorithm::Hs256);
        let claims = crate::Verifier::new(&k).verify(t, 0, &mut scratch).unwrap();
        assert_eq!(claims.json(), r#"{"user_id":"a\"b\n","exp":5}"#);
    }

    #[test]
    fn buffer_too_small_says_how_much_and_never_truncates() {
        let k = key(Algorithm::Hs256);
        let mut big = [0u8; 512];
        let full = k.user_token("john", Some(1), Some(2), &mut big).unwrap().len();
        for n in 0..full {
            let mut small = [0u8; 512];
            assert_eq!(
                k.user_token("john", Some(1), Some(2), &mut small[..n]),
                Err(Error::BufferTooSmall { needed: full }),
                "len {n}"
            );
        }
        let mut exact = [0u8; 512];
        assert!(k.user_token("john", Some(1), Some(2), &mut exact[..full]).is_ok());
        let dev = dev_token("john", &mut big).unwrap().len();
        for n in 0..dev {
            assert_eq!(dev_token("john", &mut big[..n]), Err(Error::BufferTooSmall { needed: dev }));
        }
    }

    #[test]
    fn sizing_helpers_are_exact_or_upper_bounds() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let k = key(alg);
            let mut buf = [0u8; 1024];
            assert_eq!(k.server_token(&mut buf).unwrap().len(), server_token_len(alg, 0));
            let k = k.with_kid("abc").unwrap();
            assert_eq!(k.server_token(&mut buf).unwrap().len(), server_token_len(alg, 3));
            let id = "\u{1}\u{1}\u{1}";
            let worst = k.user_token(id, Some(u64::MAX), Some(u64::MAX), &mut buf).unwrap().len();
            assert_eq!(worst, user_token_max_len(alg, 3, id.len()));
            assert_eq!(worst, k.user_token_len(id, Some(u64::MAX), Some(u64::MAX)));
        }
        let mut buf = [0u8; 256];
        assert_eq!(dev_token("\u{1}\u{1}", &mut buf).unwrap().len(), dev_token_max_len(2));
    }

    #[test]
    fn empty_user_id_and_non_object_claims_are_errors() {
        let k = key(Algorithm::Hs256);
        let mut buf = [0u8; 256];
        assert_eq!(k.user_token("", None, None, &mut buf), Err(Error::EmptyUserId));
        assert_eq!(dev_token("", &mut buf), Err(Error::EmptyUserId));
        assert_eq!(k.sign(&5u8, &mut buf), Err(Error::ClaimsNotSerializable));
        assert_eq!(k.sign(&[1, 2], &mut buf), Err(Error::ClaimsNotSerializable));
        assert_eq!(k.sign(&"x", &mut buf), Err(Error::ClaimsNotSerializable));
    }

    #[test]
    fn zero_times_are_omitted_like_the_js_sdk() {
        let k = key(Algorithm::Hs256);
        let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
        for (exp, iat) in [(Some(0), None), (None, Some(0)), (Some(0), Some(0))] {
            assert_eq!(k.user_token("john", exp, iat, &mut a), k.user_token("john", None, None, &mut b));
            assert_eq!(k.user_token_len("john", exp, iat), k.user_token_len("john", None, None));
        }
        assert_eq!(k.user_token("john", Some(0), Some(5), &mut a), k.user_token("john", None, Some(5), &mut b));
        assert_eq!(k.user_token("john", Some(5), Some(0), &mut a), k.user_token("john", Some(5), None, &mut b));
    }

    #[test]
    fn server_token_with_iat_writes_server_then_iat() {
        for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            let k = key(alg).with_kid("k").unwrap();
            for iat in [0, 9, 10, 1_700_000_000, u64::MAX] {
                let mut buf = [0u8; 256];
                let n = server_token_with_iat_len(alg, 1, iat);
                let token = k.server_token_with_iat(iat, &mut buf).unwrap();
                assert_eq!(token.len(), n, "{alg:?} {iat}");
                let payload = token.split('.').nth(1).unwrap();
                let mut json = [0u8; 64];
                let json = base64::decode_url(crate::error::Segment::Payload, payload.as_bytes(), &mut json).unwrap();
                assert_eq!(core::str::from_utf8(json).unwrap(), std::format!(r#"{{"server":true,"iat":{iat}}}"#));
                let mut small = [0u8; 256];
                assert_eq!(k.server_token_with_iat(iat, &mut small[..n - 1]), Err(Error::BufferTooSmall { needed: n }));
            }
        }
    }
}
