//! Verifying: split, check the header, check the MAC in constant time over the raw
//! `header.payload` bytes, and only then decode and parse the claims.

use core::fmt;

use serde::Deserialize;

use crate::Error;
use crate::algorithm::MAX_MAC_LEN;
use crate::base64;
use crate::claims::{Claims, RawClaims, Rules};
use crate::error::Segment;
use crate::json::de::{self, DeError};
use crate::json::read::{self, Value};
use crate::key::Key;
use crate::keyset::{KeySet, KeySource};
use crate::revoke::Revocations;
use crate::sign::{DEV_SIGNATURE, HS256_HEADER};

/// The longest token [`Verifier::verify`] looks at, in bytes; longer ones are rejected before
/// any other work. Stream's tokens are around 150 bytes.
pub const MAX_TOKEN_LEN: usize = 4096;

/// The longest header segment accepted, in bytes; a longer one is refused with
/// [`Error::HeaderTooLong`] before it is decoded. The longest header this crate mints (with a
/// [`MAX_KID_LEN`](crate::MAX_KID_LEN) kid) is 136 bytes; the cap leaves room for the other
/// registered header parameters other signers add (`cty`, `x5t`, `jku`...).
pub const MAX_HEADER_LEN: usize = 512;

/// The largest decoded payload of a token of at most [`MAX_TOKEN_LEN`] bytes.
const MAX_PAYLOAD_LEN: usize = MAX_TOKEN_LEN / 4 * 3;

/// A verify scratch of this many bytes is always enough, for every token and every verify
/// path ([`Verifier::verify`], [`verify_as`](Verifier::verify_as),
/// [`verify_payload`](Verifier::verify_payload), [`authenticate`](Verifier::authenticate),
/// [`decode_unverified`](crate::decode_unverified)): with it no input yields
/// [`Error::ScratchTooSmall`], so every refusal is an authentication failure (HTTP 401).
///
/// The bound: a token of [`MAX_TOKEN_LEN`] bytes decodes to at most 3,072 payload bytes, and
/// what is unescaped next to them (the `user_id`, or the longest escaped string of custom
/// claims) is shorter than the payload; so twice that, 6,144 bytes. The header is decoded
/// into the same scratch before the payload (at most 384 bytes, see [`MAX_HEADER_LEN`]). A
/// smaller scratch works for smaller tokens: one twice the payload of your longest token is
/// enough.
pub const VERIFY_SCRATCH_LEN: usize = 2 * MAX_PAYLOAD_LEN;

/// The three segments of a compact token.
pub(crate) struct Parts<'t> {
    pub(crate) header: &'t [u8],
    pub(crate) payload: &'t [u8],
    pub(crate) signature: &'t [u8],
    /// `header.payload`, the bytes the MAC covers.
    pub(crate) signed: &'t [u8],
}

/// The positions of the first two dots of `token`, and whether it has a third: in one pass,
/// eight bytes at a time on 64-bit targets ([`dots_by_word`]), byte by byte on smaller ones
/// (flash).
fn dots(token: &[u8]) -> Dots {
    #[cfg(target_pointer_width = "64")]
    return dots_by_word(token);
    #[cfg(not(target_pointer_width = "64"))]
    return dots_by_byte(token);
}

/// Where a token's dots are: the first two, and whether there are more.
#[derive(Debug, PartialEq, Eq)]
struct Dots {
    first: Option<usize>,
    second: Option<usize>,
    more: bool,
}

impl Dots {
    fn add(&mut self, at: usize) {
        match (self.first, self.second) {
            (None, _) => self.first = Some(at),
            (Some(_), None) => self.second = Some(at),
            _ => self.more = true,
        }
    }
}

/// The position of the first dot of `s`, eight bytes at a time (the lowest byte the zero-byte
/// test flags is always a real one).
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
fn first_dot(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);
    let (words, tail) = s.as_chunks::<8>();
    for (i, w) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*w) ^ DOTS;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            let byte = usize::try_from(found.trailing_zeros() / 8).unwrap_or(0);
            return Some(i.saturating_mul(8).saturating_add(byte));
        }
    }
    let start = s.len().saturating_sub(tail.len());
    tail.iter().position(|&b| b == b'.').map(|p| start.saturating_add(p))
}

/// [`dots`] byte by byte.
#[cfg_attr(all(target_pointer_width = "64", not(test)), allow(dead_code))]
fn dots_by_byte(token: &[u8]) -> Dots {
    let mut at = token.iter().enumerate().filter(|&(_, &b)| b == b'.').map(|(i, _)| i);
    Dots { first: at.next(), second: at.next(), more: at.next().is_some() }
}

/// [`dots`] sixteen bytes at a time: two words tested at once for a zero byte of `word ^
/// "........"` (a test that may also flag a byte above a real dot, never a word without one),
/// then, only for words that hold a dot, each word's exact mask of dots (so several dots in a
/// word are all found); the last bytes one by one.
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
fn dots_by_word(token: &[u8]) -> Dots {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LOWS: u64 = u64::from_ne_bytes([0x7f; 8]);
    const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);
    let mut d = Dots { first: None, second: None, more: false };
    let mut exact = |x: u64, at: usize| {
        // A byte's high bit ends up set iff the byte is non-zero; inverted, iff it is a dot.
        let mut found = !(((x & LOWS).wrapping_add(LOWS)) | x | LOWS);
        while found != 0 {
            let byte = usize::try_from(found.trailing_zeros() / 8).unwrap_or(0);
            d.add(at.saturating_add(byte));
            found &= found.wrapping_sub(1);
        }
    };
    let (pairs, rest) = token.as_chunks::<16>();
    for (i, pair) in pairs.iter().enumerate() {
        let (a, b) = pair.split_at(8);
        let x = u64::from_le_bytes(a.try_into().unwrap_or_default()) ^ DOTS;
        let y = u64::from_le_bytes(b.try_into().unwrap_or_default()) ^ DOTS;
        if (x.wrapping_sub(ONES) & !x | y.wrapping_sub(ONES) & !y) & HIGHS != 0 {
            let at = i.saturating_mul(16);
            exact(x, at);
            exact(y, at.saturating_add(8));
        }
    }
    let mut at = token.len().saturating_sub(rest.len());
    let (words, tail) = rest.as_chunks::<8>();
    for w in words {
        exact(u64::from_le_bytes(*w) ^ DOTS, at);
        at = at.saturating_add(8);
    }
    for (i, _) in tail.iter().enumerate().filter(|&(_, &b)| b == b'.') {
        d.add(at.saturating_add(i));
    }
    d
}

pub(crate) fn split(token: &[u8]) -> Result<Parts<'_>, Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Error::TokenTooLong);
    }
    // One pass: the first dot, the next, and none after it.
    let Dots { first: Some(d1), second: Some(d2), more: false } = dots(token) else {
        return Err(Error::Malformed);
    };
    let header = token.get(..d1).ok_or(Error::Malformed)?;
    let signed = token.get(..d2).ok_or(Error::Malformed)?;
    let payload = signed.get(d1.saturating_add(1)..).ok_or(Error::Malformed)?;
    let signature = token.get(d2.saturating_add(1)..).ok_or(Error::Malformed)?;
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(Error::Malformed);
    }
    if header.len() > MAX_HEADER_LEN {
        return Err(Error::HeaderTooLong);
    }
    Ok(Parts { header, payload, signature, signed })
}

/// Checks tokens against a [`Key`] (or a [`KeySet`], for key rotation), with Stream's rules.
///
/// The algorithm comes from the key; the header must name it. The signature segment is
/// decoded strictly (so a non-canonical encoding never matches) and compared with the MAC in
/// constant time, before the claims are decoded. Defaults: no leeway, `exp` optional (Stream's
/// tokens without `exp` never expire), development tokens refused.
///
/// A verifier is `Copy`, `Send` and `Sync`: configure one and share it between threads (or
/// keep it in a server's state) for as long as its key lives.
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
#[derive(Clone, Copy)]
pub struct Verifier<'k, K: KeySource<'k> = &'k Key> {
    keys: K,
    leeway: u64,
    require_exp: bool,
    /// How a development token's payload is read, once they are allowed. The options a
    /// program may never turn on are function pointers set by their setters, so a program
    /// that never allows development tokens or never revokes links none of their code.
    dev: Option<ReadDev>,
    revoked_before: Option<u64>,
    revocations: Option<&'k (dyn Revocations + Sync)>,
    /// The revocation check, once a cutoff is set.
    revocation: Option<CheckRevocation>,
}

/// Reads a development token's payload into the scratch; returns its length.
type ReadDev = fn(&Parts<'_>, &mut [u8]) -> Result<usize, Error>;

/// Applies the revocation cutoffs to verified claims.
type CheckRevocation =
    fn(Option<u64>, Option<&(dyn Revocations + Sync)>, &RawClaims<'_>, &mut [u8]) -> Result<(), Error>;

impl<'k, K: KeySource<'k>> fmt::Debug for Verifier<'k, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("leeway", &self.leeway)
            .field("require_exp", &self.require_exp)
            .field("allow_dev", &self.dev.is_some())
            .field("revoked_before", &self.revoked_before)
            .field("revocations", &self.revocations.is_some())
            .finish()
    }
}

impl<'k> Verifier<'k> {
    /// A verifier for tokens signed with `key`. A token whose header names a `kid` must name
    /// this key's, when it has one.
    #[must_use]
    pub const fn new(key: &'k Key) -> Self {
        Self::from_keys(key)
    }
}

impl<'k, const N: usize> Verifier<'k, &'k KeySet<N>> {
    /// A verifier for tokens signed with any key of `keys` (key rotation): the header's `kid`
    /// picks the key, and a token is never tried against another; a token without `kid` uses
    /// the set's default key. Each key keeps its own algorithm.
    #[must_use]
    pub const fn with_keys(keys: &'k KeySet<N>) -> Self {
        Self::from_keys(keys)
    }
}

impl<'k, K: KeySource<'k>> Verifier<'k, K> {
    const fn from_keys(keys: K) -> Self {
        Self {
            keys,
            leeway: 0,
            require_exp: false,
            dev: None,
            revoked_before: None,
            revocations: None,
            revocation: None,
        }
    }

    /// App-wide revocation: tokens issued (`iat`, or 0 without one) before `cutoff` (Unix
    /// seconds) are refused with [`Error::Revoked`]; server tokens included.
    #[must_use]
    pub const fn revoked_before(mut self, cutoff: u64) -> Self {
        self.revoked_before = Some(cutoff);
        self.revocation = Some(check_revocation);
        self
    }

    /// Per-user revocation: a user token issued (`iat`, or 0 without one) before that user's
    /// cutoff is refused with [`Error::Revoked`]. Server tokens are subject to the app-wide
    /// cutoff only.
    #[must_use]
    pub const fn revocations(mut self, per_user: &'k (dyn Revocations + Sync)) -> Self {
        self.revocations = Some(per_user);
        self.revocation = Some(check_revocation);
        self
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
        self.dev = if allow { Some(read_dev_payload) } else { None };
        self
    }

    /// Verifies `token` at time `now` (Unix seconds) and returns its claims, which borrow
    /// from `scratch`. A `scratch` of [`VERIFY_SCRATCH_LEN`] bytes is always enough.
    ///
    /// # Errors
    /// Every rejection has its own [`Error`] variant: the token's shape ([`Error::TokenTooLong`],
    /// [`Error::Malformed`], [`Error::InvalidBase64`], [`Error::InvalidUtf8`],
    /// [`Error::InvalidJson`], [`Error::JsonTooDeep`], [`Error::DuplicateMember`]), its header
    /// ([`Error::AlgorithmNotAllowed`], [`Error::CriticalHeader`], [`Error::InvalidHeader`],
    /// [`Error::UnknownKid`]), its MAC ([`Error::SignatureMismatch`]), development tokens
    /// ([`Error::DevTokenNotAllowed`], [`Error::InvalidDevToken`]), the claims
    /// ([`Error::InvalidClaim`], [`Error::EmptyUserId`], [`Error::MissingSubject`],
    /// [`Error::MissingExp`]), time ([`Error::Expired`], [`Error::NotYetValid`],
    /// [`Error::IssuedInFuture`]) and revocation ([`Error::Revoked`]);
    /// [`Error::ScratchTooSmall`] when `scratch` is shorter than this token needs (never
    /// with [`VERIFY_SCRATCH_LEN`] bytes).
    #[inline]
    pub fn verify<'s>(&self, token: impl AsRef<[u8]>, now: u64, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        self.verify_token(token.as_ref(), now, scratch)
    }

    /// [`verify`](Self::verify) for bytes: one copy of the code whatever the token's type.
    ///
    /// Its two halves are not inlined, so that the token's parts and the MAC's frames, and then
    /// the claims reader's, are on the stack one after the other, never on top of each other.
    fn verify_token<'s>(&self, token: &[u8], now: u64, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        let (len, dev) = self.authentic_payload(token, scratch, self.dev)?;
        self.verified_claims(scratch, len, dev, now)
    }

    /// The claims of an authentic payload (the first `len` bytes of `scratch`), checked and
    /// with `user_id` unescaped.
    #[inline(never)]
    fn verified_claims<'s>(&self, scratch: &'s mut [u8], len: usize, dev: bool, now: u64) -> Result<Claims<'s>, Error> {
        self.checked_claims(scratch, len, dev, now, |raw, spare| raw.finish(spare, dev).map_err(|e| e.in_scratch(len)))
    }

    /// Like [`verify`](Self::verify), with every same check, then deserializes the claims into
    /// `T` (with this crate's own serde deserializer, after its strict validation). Borrowed `&str`
    /// fields work for strings without escapes; use an owned fixed-capacity string (such as
    /// `heapless::String`) for fields that may contain escapes.
    ///
    /// Development tokens are refused here even when the verifier allows them
    /// ([`Error::DevTokenNotAllowed`]): their claims are not signed, and custom claims must
    /// never come back looking as if they were. Use [`verify`](Self::verify), whose
    /// [`Claims::is_dev`] says so, or [`authenticate`](Self::authenticate).
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
    /// As [`verify`](Self::verify) (with [`Error::DevTokenNotAllowed`] for every development
    /// token), and [`Error::ClaimsNotDeserializable`] when the claims do not fit `T`.
    pub fn verify_as<'s, T: Deserialize<'s>>(
        &self,
        token: impl AsRef<[u8]>,
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<T, Error> {
        let (len, _) = self.authentic_payload(token.as_ref(), scratch, None)?;
        self.checked_claims(scratch, len, false, now, |raw, spare| {
            de::from_validated(raw.json(), spare).map_err(|e| match e {
                // Each escaped string is unescaped into the rest of the scratch; none is
                // longer than the payload.
                DeError::ScratchTooSmall => Error::ScratchTooSmall { needed: len.saturating_mul(2) },
                DeError::Mismatch => Error::ClaimsNotDeserializable,
            })
        })
    }

    /// Checks only the header and the MAC, and returns the decoded payload bytes (which need
    /// not be JSON): for JWS uses outside Stream's claims. No claim or time rule is applied,
    /// and development tokens are never accepted here.
    ///
    /// # Errors
    /// As [`verify`](Self::verify) for the token's shape, header and MAC.
    pub fn verify_payload<'s>(&self, token: impl AsRef<[u8]>, scratch: &'s mut [u8]) -> Result<&'s [u8], Error> {
        let parts = split(token.as_ref())?;
        check_signature(self.key_of(parts.header, scratch)?, &parts)?;
        Ok(base64::decode_url(Segment::Payload, parts.payload, scratch).map_err(|e| e.in_scratch(0))?)
    }

    /// [`verify`](Self::verify) at the system clock's time.
    ///
    /// # Errors
    /// As [`verify`](Self::verify), and [`Error::ClockBeforeEpoch`].
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn verify_now<'s>(&self, token: impl AsRef<[u8]>, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        extern crate std;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|_| Error::ClockBeforeEpoch)?
            .as_secs();
        self.verify(token, now, scratch)
    }

    /// Splits the token, checks its header and MAC (or, with `dev`, that it is a development
    /// token), and decodes the payload into the start of `scratch`; returns the payload's
    /// length and whether it is a development token.
    #[inline(never)]
    fn authentic_payload(
        &self,
        token: &[u8],
        scratch: &mut [u8],
        dev: Option<ReadDev>,
    ) -> Result<(usize, bool), Error> {
        #[cfg(target_pointer_width = "64")]
        if let Some((key, parts)) = self.parts_by_key(token) {
            let decoded = check_signature(key, &parts)
                .and_then(|()| base64::decode_url(Segment::Payload, parts.payload, scratch).map(|d| d.len()))
                .map_err(|e| e.in_scratch(0));
            // A token that fails here may have had more dots than it was taken to have: then
            // its error is the one the full split gives, as on the general path.
            return decoded.map(|len| (len, false)).map_err(|e| split(token).err().unwrap_or(e));
        }
        let parts = split(token)?;
        let is_dev = parts.signature == DEV_SIGNATURE;
        let decoded = if is_dev {
            match dev {
                Some(read) => read(&parts, scratch),
                None => return Err(Error::DevTokenNotAllowed),
            }
        } else {
            // The key first (decoding the header when it is no key's own), then the MAC: the
            // header reader's frame and the MAC's are never on the stack together.
            check_signature(self.key_of(parts.header, scratch)?, &parts)?;
            base64::decode_url(Segment::Payload, parts.payload, scratch).map(|d| d.len())
        };
        Ok((decoded.map_err(|e| e.in_scratch(0))?, is_dev))
    }

    /// The parts of a token whose header segment is a key's own, found without reading the
    /// payload (64-bit targets, speed): the first dot ends the header, which selects the key,
    /// whose algorithm fixes the signature's length, so the second dot must be just before
    /// it. The payload's own characters are checked by its decoding, after the MAC; a token
    /// that fails there is split again for the precise error ([`split`]'s, as before). When
    /// the token has exactly two dots these are the parts [`split`] finds; tokens of any
    /// other shape (a header no key owns, development tokens) return `None`.
    #[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
    fn parts_by_key<'t>(&self, token: &'t [u8]) -> Option<(&'k Key, Parts<'t>)> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let head = token.get(..token.len().min(MAX_HEADER_LEN.saturating_add(1)))?;
        let d1 = first_dot(head)?;
        let header = token.get(..d1)?;
        let key = self.keys.own_header_key(header)?;
        let d2 = token.len().checked_sub(key.algorithm().signature_len().saturating_add(1))?;
        if d2 <= d1.saturating_add(1) || token.get(d2) != Some(&b'.') {
            return None;
        }
        let parts = Parts {
            header,
            payload: token.get(d1.saturating_add(1)..d2)?,
            signature: token.get(d2.saturating_add(1)..)?,
            signed: token.get(..d2)?,
        };
        Some((key, parts))
    }

    /// Reads the claims of an authentic payload (the first `len` bytes of `scratch`), applies
    /// the Stream profile, the time rules and revocation, and hands them with the scratch
    /// after the payload to `then`. The claims are read where they stay: moved through a
    /// `Result`, a struct just stored field by field is copied in wider loads, which wait on
    /// store forwarding (a few percent of a verify).
    #[inline(always)]
    fn checked_claims<'s, R>(
        &self,
        scratch: &'s mut [u8],
        len: usize,
        is_dev: bool,
        now: u64,
        then: impl FnOnce(&RawClaims<'s>, &'s mut [u8]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let (payload, spare) = scratch.split_at_mut_checked(len).ok_or(Error::ScratchTooSmall { needed: len })?;
        let json = core::str::from_utf8(payload).map_err(|_| Error::InvalidUtf8 { segment: Segment::Payload })?;
        let mut raw = RawClaims::new(json);
        raw.read()?;
        self.check_raw_claims(&raw, is_dev, now, spare, len)?;
        then(&raw, spare)
    }

    /// The checks of [`checked_claims`](Self::checked_claims), out of its generic body: one
    /// copy for both of its callers.
    fn check_raw_claims(
        &self,
        raw: &RawClaims<'_>,
        is_dev: bool,
        now: u64,
        spare: &mut [u8],
        len: usize,
    ) -> Result<(), Error> {
        if is_dev && raw.has_server_member() {
            return Err(Error::InvalidDevToken);
        }
        raw.check(Rules { now, leeway: self.leeway, require_exp: self.require_exp })?;
        if let Some(check) = self.revocation {
            check(self.revoked_before, self.revocations, raw, spare).map_err(|e| e.in_scratch(len))?;
        }
        Ok(())
    }

    /// The key that checks a token with this header segment: a key whose own header it is
    /// (known valid, not decoded again), else the one the decoded header selects.
    fn key_of(&self, header: &[u8], scratch: &mut [u8]) -> Result<&'k Key, Error> {
        match self.keys.own_header_key(header) {
            Some(key) => Ok(key),
            None => self.header_key(header, scratch),
        }
    }

    /// Decodes and checks a header that is no key's own, and returns the key it selects.
    /// Not inlined: its JSON reader's table is on the stack only for such headers, never
    /// under the MAC's state.
    #[inline(never)]
    fn header_key(&self, segment: &[u8], scratch: &mut [u8]) -> Result<&'k Key, Error> {
        let json = base64::decode_url(Segment::Header, segment, scratch).map_err(|e| e.in_scratch(0))?;
        let json = core::str::from_utf8(json).map_err(|_| Error::InvalidUtf8 { segment: Segment::Header })?;
        let (mut alg, mut kid) = (None, None);
        read::object_members(json.as_bytes(), Segment::Header, |name, value| {
            if name.eq_str("alg") {
                alg = Some(value);
            } else if name.eq_str("crit") {
                return Err(Error::CriticalHeader);
            } else if name.eq_str("typ") {
                if !matches!(value, Value::String(_)) {
                    return Err(Error::InvalidHeader);
                }
            } else if name.eq_str("kid") {
                let Value::String(k) = value else { return Err(Error::InvalidHeader) };
                kid = Some(k);
            }
            Ok(())
        })?;
        let is_header_kid = kid.map(|kid| move |own: &str| kid.eq_str(own));
        let key = self.keys.key_for(is_header_kid.as_ref().map(|f| f as &dyn Fn(&str) -> bool))?;
        // The algorithm comes from the key; the header must name exactly it.
        match alg {
            Some(Value::String(a)) if a.eq_str(key.algorithm().name()) => Ok(key),
            _ => Err(Error::AlgorithmNotAllowed),
        }
    }
}

/// Compares the MAC of `key` with the signature segment: the segment (public) is strictly
/// decoded into an array and compared with the MAC's words in constant time
/// ([`MacState::matches`](crate::algorithm::MacState)), so no table is indexed by the expected
/// MAC, which is never written out as bytes. A segment that is no canonical encoding of a MAC
/// is refused without computing one. Not inlined: its arrays and the MAC's state leave the
/// stack before the claims are read.
#[inline(never)]
fn check_signature(key: &Key, parts: &Parts<'_>) -> Result<(), Error> {
    let mut given = [0u8; MAX_MAC_LEN];
    let mac_len = key.algorithm().mac_len();
    let given = base64::decode_signature(parts.signature, mac_len, &mut given);
    if given.is_some_and(|given| key.mac().matches(parts.signed, given)) {
        Ok(())
    } else {
        Err(Error::SignatureMismatch)
    }
}

/// A development token's payload, read the way Stream's servers read it (standard or url
/// alphabet, padded or not) under the one header they are minted with. Set by
/// [`Verifier::allow_dev_tokens`].
fn read_dev_payload(parts: &Parts<'_>, scratch: &mut [u8]) -> Result<usize, Error> {
    if parts.header != HS256_HEADER {
        return Err(Error::InvalidDevToken);
    }
    base64::decode_lenient(parts.payload, scratch).map(<[u8]>::len)
}

/// The revocation cutoffs: app-wide for every token, per user for user tokens (whose id is
/// unescaped into `spare` when needed). Set by [`Verifier::revoked_before`] and
/// [`Verifier::revocations`]; verifiers without them pay one branch.
#[cold]
#[inline(never)]
fn check_revocation(
    revoked_before: Option<u64>,
    revocations: Option<&(dyn Revocations + Sync)>,
    raw: &RawClaims<'_>,
    spare: &mut [u8],
) -> Result<(), Error> {
    let issued = raw.iat().unwrap_or(0);
    if revoked_before.is_some_and(|cutoff| issued < cutoff) {
        return Err(Error::Revoked);
    }
    if let (false, Some(per_user)) = (raw.is_server(), revocations)
        && let Some(id) = raw.user_id_into(spare)?
        && per_user.revoked_before(id).is_some_and(|cutoff| issued < cutoff)
    {
        return Err(Error::Revoked);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;

    /// Every position in words and tails, every byte value around it (the zero-byte trick
    /// must not be fooled by 0x2f/0x2d or high bytes), one to four dots, some in one word.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn dots_by_word_match_a_plain_search() {
        let mut n = 0;
        for len in 0..40usize {
            for at in 0..=len {
                // A gap of 8 puts dots at the same offset of both words of a pair.
                for gap in [1, 3, 8, 9] {
                    for fill in [b'a', 0x2d, 0x2f, 0xae, 0x00, 0xff, 0x2e ^ 0x80, 0x2e ^ 0x01] {
                        let mut s = std::vec![fill; len];
                        for k in 0..4 {
                            if at + k * gap < len && (k < 2 || gap != 9) {
                                s[at + k * gap] = b'.';
                            }
                        }
                        let positions: std::vec::Vec<usize> = (0..len).filter(|&i| s[i] == b'.').collect();
                        let want = Dots {
                            first: positions.first().copied(),
                            second: positions.get(1).copied(),
                            more: positions.len() > 2,
                        };
                        assert_eq!(dots_by_word(&s), want, "{s:?}");
                        assert_eq!(first_dot(&s), want.first, "{s:?}");
                        assert_eq!(dots_by_byte(&s), want, "{s:?}");
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, (1..=40).sum::<usize>() * 4 * 8);
    }

    #[test]
    fn split_finds_exactly_three_segments() {
        let p = split(b"a.b.c").unwrap();
        assert_eq!((p.header, p.payload, p.signature, p.signed), (&b"a"[..], &b"b"[..], &b"c"[..], &b"a.b"[..]));
        for bad in [&b"abc"[..], b"a.b", b"a.b.c.d", b".b.c", b"a..c", b"a.b.", b"..", b"...", b"a.b..c"] {
            assert_eq!(split(bad).err(), Some(Error::Malformed), "{bad:?}");
        }
    }

    /// Tokens the split by key takes apart wrongly (more dots than two, an empty payload)
    /// get the full split's error, even when their MAC is right: the MAC of `h.p1.p2`
    /// under the key, or a signature segment that happens to be as long as the key's.
    #[test]
    fn the_split_by_key_gives_the_full_splits_errors() {
        use crate::Algorithm;
        use std::string::String;
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let v = Verifier::new(&key);
        let mut scratch = [0u8; 512];
        let sign = |signed: &str| {
            let mut tag = [0u8; MAX_MAC_LEN];
            let mac = key.mac().mac(signed.as_bytes(), &mut tag);
            let mut sig = [0u8; 100];
            let sig = base64::encode_url(mac, &mut sig).unwrap();
            std::format!("{signed}.{}", core::str::from_utf8(sig).unwrap())
        };
        let mut buf = [0u8; 256];
        let good = String::from(key.user_token("john", Some(5_000), None, &mut buf).unwrap());
        assert!(v.verify(&good, 1, &mut scratch).is_ok());
        let (header, rest) = good.split_once('.').unwrap();
        let (payload, _) = rest.split_once('.').unwrap();
        let (p1, p2) = payload.split_at(8);
        for signed in
            [std::format!("{header}.{p1}.{p2}"), std::format!("{header}."), std::format!("{header}.{payload}.")]
        {
            let token = sign(&signed);
            assert_eq!(v.verify(&token, 1, &mut scratch).err(), Some(Error::Malformed), "{token}");
        }
        let forged = std::format!("{header}.{p1}.{p2}.{}", &good[good.len() - 43..]);
        assert_eq!(v.verify(&forged, 1, &mut scratch).err(), Some(Error::Malformed));
        let dotted_sig =
            std::format!("{header}.{payload}.{}.{}", &good[good.len() - 43..good.len() - 20], &good[good.len() - 19..]);
        assert_eq!(v.verify(&dotted_sig, 1, &mut scratch).err(), Some(Error::Malformed));
        // A rightly signed token just over the length cap is refused for its length.
        let mut long = std::vec![0u8; MAX_TOKEN_LEN * 2];
        let id = "x".repeat(2_900);
        let id_of = |extra: usize| std::format!("{id}{}", "y".repeat(extra));
        let over = (0..200).find(|&extra| key.user_token_len(&id_of(extra), None, None) > MAX_TOKEN_LEN).unwrap();
        let token = String::from(key.user_token(&id_of(over), None, None, &mut long).unwrap());
        assert!(token.len() > MAX_TOKEN_LEN && token.len() <= MAX_TOKEN_LEN + 2);
        let mut big = std::vec![0u8; MAX_TOKEN_LEN];
        assert_eq!(v.verify(&token, 1, &mut big).err(), Some(Error::TokenTooLong));
    }

    /// What 32-bit targets do for a key with a kid (no own-header shortcut there): the header
    /// reader selects the key for the header it mints, and refuses it for another kid.
    #[test]
    fn a_kid_header_read_selects_its_key() {
        use crate::Algorithm;
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap().with_kid("k1").unwrap();
        let mut segment = [0u8; 128];
        let segment = &mut segment[..key.header_segment_len()];
        key.write_header_segment(segment);
        let mut scratch = [0u8; 256];
        let chosen = Verifier::new(&key).header_key(segment, &mut scratch).unwrap();
        assert!(core::ptr::eq(chosen, &key));
        let other = Key::new(Algorithm::Hs256, &[7; 32]).unwrap().with_kid("k2").unwrap();
        assert_eq!(Verifier::new(&other).header_key(segment, &mut scratch).err(), Some(Error::UnknownKid));
    }

    /// The length caps at their exact boundaries.
    #[test]
    fn split_caps_token_and_header_length() {
        let token = |header: usize, total: usize| {
            let mut t = [b'a'; MAX_TOKEN_LEN + 1];
            t[header] = b'.';
            t[total - 2] = b'.';
            t
        };
        let at = token(MAX_HEADER_LEN, MAX_TOKEN_LEN);
        assert_eq!(split(&at[..MAX_TOKEN_LEN]).map(|p| p.header.len()).ok(), Some(MAX_HEADER_LEN));
        assert_eq!(split(&token(MAX_HEADER_LEN, MAX_TOKEN_LEN + 1)).err(), Some(Error::TokenTooLong));
        let over = token(MAX_HEADER_LEN + 1, MAX_TOKEN_LEN);
        assert_eq!(split(&over[..MAX_TOKEN_LEN]).err(), Some(Error::HeaderTooLong));
    }
}
