//! Verified claims: the registered ones Stream uses, type-checked, and the time rules.

use crate::Error;
use crate::error::{Claim, Segment};
use crate::json;
use crate::json::read::{self, RawStr, Value};

/// The claims of a verified token, borrowed from the caller's scratch buffer.
///
/// Only tokens that passed every check are turned into `Claims`. Unknown claims are ignored
/// here; [`Claims::json`] gives the whole (validated) claims object, and
/// [`Verifier::verify_as`](crate::Verifier::verify_as) deserializes custom claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claims<'a> {
    json: &'a str,
    user_id: Option<&'a str>,
    exp: Option<u64>,
    nbf: Option<u64>,
    iat: Option<u64>,
    server: bool,
    dev: bool,
}

impl<'a> Claims<'a> {
    /// The `user_id` claim (unescaped), if the token has one.
    #[must_use]
    pub const fn user_id(&self) -> Option<&'a str> {
        self.user_id
    }

    /// The `exp` claim: expiry, in Unix seconds.
    #[must_use]
    pub const fn exp(&self) -> Option<u64> {
        self.exp
    }

    /// The `iat` claim: issue time, in Unix seconds.
    #[must_use]
    pub const fn iat(&self) -> Option<u64> {
        self.iat
    }

    /// The `nbf` claim: not-before time, in Unix seconds.
    #[must_use]
    pub const fn nbf(&self) -> Option<u64> {
        self.nbf
    }

    /// Whether this is a server token (`"server":true`).
    #[must_use]
    pub const fn is_server(&self) -> bool {
        self.server
    }

    /// Whether this is a development token (signature `devtoken`, accepted only when the
    /// verifier allows them).
    #[must_use]
    pub const fn is_dev(&self) -> bool {
        self.dev
    }

    /// The claims object as JSON text, exactly as it was in the token.
    #[must_use]
    pub const fn json(&self) -> &'a str {
        self.json
    }

    /// Whether the token expires within `margin` seconds of `now` (or already has): the time
    /// for a device minting its own tokens to make a new one before the server answers with
    /// code 40. Tokens without `exp` never expire.
    ///
    /// ```
    /// # use stackjwt::{Algorithm, Key, Verifier};
    /// let key = Key::new(Algorithm::Hs256, &[1; 32])?;
    /// let mut buf = [0u8; 256];
    /// let token = key.user_token("john", Some(1_000), None, &mut buf)?;
    /// let mut scratch = [0u8; 256];
    /// let claims = Verifier::new(&key).verify(token, 900, &mut scratch)?;
    /// assert!(!claims.expires_within(900, 60));
    /// assert!(claims.expires_within(900, 100));
    /// # Ok::<(), stackjwt::Error>(())
    /// ```
    #[must_use]
    pub const fn expires_within(&self, now: u64, margin: u64) -> bool {
        match self.exp {
            Some(exp) => now.saturating_add(margin) >= exp,
            None => false,
        }
    }
}

/// Claims read from JSON but not yet unescaped or time-checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawClaims<'a> {
    json: &'a str,
    user_id: Option<RawStr<'a>>,
    exp: u64,
    nbf: u64,
    iat: u64,
    /// Which of `exp`, `nbf` and `iat` the token has ([`EXP`], [`NBF`], [`IAT`]): flags
    /// instead of three `Option<u64>`, 23 bytes less in each frame that holds the claims.
    present: u8,
    /// `Some` when a `server` member is present at all.
    server: Option<bool>,
}

const EXP: u8 = 1;
const NBF: u8 = 2;
const IAT: u8 = 4;

/// The time and presence rules a verifier applies.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    pub(crate) now: u64,
    pub(crate) leeway: u64,
    pub(crate) require_exp: bool,
}

fn time(claim: Claim, v: Value<'_>) -> Result<u64, Error> {
    match v {
        Value::Number(raw) => read::parse_u64(raw).ok_or(Error::InvalidClaim { claim }),
        _ => Err(Error::InvalidClaim { claim }),
    }
}

/// Most members a claims object may have, besides the registered ones, for the one-pass
/// reader to take it (their names are compared pairwise for duplicates); objects with more
/// go to the general reader. Stream Video's call tokens have two (`call_cids`, `role`).
const FLAT_OTHERS: usize = 8;

/// A string without escapes or control characters at the start of `s` (just after its
/// opening quote): its content and what follows the closing quote.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
fn plain_string(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let (content, tail) = s.split_at_checked(json::string_end(s)?)?;
    Some((content, tail.strip_prefix(b"\"")?))
}

/// The value of eight ASCII digits (the first in the lowest byte), by halving: pairs, then
/// fours, then the eight.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
const fn eight_digits(w: u64) -> u64 {
    let pairs = ((w & 0x0f0f_0f0f_0f0f_0f0f).wrapping_mul(10 << 8 | 1)) >> 8;
    let fours = ((pairs & 0x00ff_00ff_00ff_00ff).wrapping_mul(100 << 16 | 1)) >> 16;
    ((fours & 0x0000_ffff_0000_ffff).wrapping_mul(10_000 << 32 | 1)) >> 32
}

/// Whether all eight bytes of `w` are ASCII digits (bytes of UTF-8 text: at most 0xf4, so
/// adding 6 carries out of none).
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
const fn all_digits(w: u64) -> bool {
    const HIGH_NIBBLES: u64 = u64::from_le_bytes([0xf0; 8]);
    const THREES: u64 = u64::from_le_bytes([0x33; 8]);
    (w & HIGH_NIBBLES) | ((w.wrapping_add(u64::from_le_bytes([0x06; 8])) & HIGH_NIBBLES) >> 4) == THREES
}

/// A canonical non-negative integer of at most 19 digits (so it fits `u64` unchecked) at the
/// start of `input`: digits only, no leading zero. `rest` is set to what follows it. Longer
/// numbers return `None` (the general reader takes them, up to `u64::MAX`).
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
fn canonical_u64<'a>(input: &'a [u8], rest: &mut &'a [u8]) -> Option<u64> {
    const MAX_DIGITS: usize = 19;
    let (mut value, mut len) = match input.first_chunk::<8>().map(|w| u64::from_le_bytes(*w)) {
        Some(w) if all_digits(w) => (eight_digits(w), 8),
        _ => (0, 0),
    };
    for &b in input.get(len..).unwrap_or_default() {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(b & 0x0f));
        len = len.saturating_add(1);
    }
    if len == 0 || len > MAX_DIGITS || (len > 1 && input.first() == Some(&b'0')) {
        return None;
    }
    *rest = input.get(len..).unwrap_or_default();
    Some(value)
}

/// Skips a member value the claims do not use, when it is flat and plain: a string without
/// escapes, an integer, `true`, `false`, `null`, or an array of those. Returns what follows.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
fn skip_flat_value(value: &[u8]) -> Option<&[u8]> {
    let Some(mut rest) = value.strip_prefix(b"[") else { return skip_scalar(value) };
    if let Some(after) = rest.strip_prefix(b"]") {
        return Some(after);
    }
    loop {
        match skip_scalar(rest)? {
            [b',', more @ ..] => rest = more,
            [b']', after @ ..] => return Some(after),
            _ => return None,
        }
    }
}

/// Skips a plain scalar: a string without escapes, an integer (`-`, no leading zero, no
/// fraction or exponent), `true`, `false` or `null`.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
fn skip_scalar(value: &[u8]) -> Option<&[u8]> {
    match value {
        [b'"', s @ ..] => plain_string(s).map(|(_, rest)| rest),
        [b't', b'r', b'u', b'e', rest @ ..] | [b'n', b'u', b'l', b'l', rest @ ..] => Some(rest),
        [b'f', b'a', b'l', b's', b'e', rest @ ..] => Some(rest),
        _ => {
            let digits = value.strip_prefix(b"-").unwrap_or(value);
            let len = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
            let (num, rest) = digits.split_at(len);
            let canonical = num == b"0" || num.first().is_some_and(|&d| d != b'0');
            (canonical && !matches!(rest.first(), Some(b'.' | b'e' | b'E'))).then_some(rest)
        }
    }
}

/// A member of a claims object, as the one-pass reader sorts it by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member<'a> {
    /// `exp`, `nbf` or `iat` (the flag).
    Time(u8),
    UserId,
    Server,
    /// Any other name (without its quotes).
    Other(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member whose name starts `rest` (at its opening quote) and its value (after the
    /// colon). The names the claims use are recognized from the first word of `rest` (no scan
    /// for the closing quote); others are read as strings without escapes.
    #[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
    fn read(rest: &'a [u8]) -> Option<(Self, &'a [u8])> {
        // Const evaluation: an out-of-range index would fail the build, not a run.
        #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
        const fn word(s: &[u8]) -> u64 {
            let mut w = [0u8; 8];
            let mut i = 0;
            while i < s.len() && i < 8 {
                w[i] = s[i];
                i += 1;
            }
            u64::from_le_bytes(w)
        }
        const SIX: u64 = 0x0000_ffff_ffff_ffff;
        const EXP_: u64 = word(b"\"exp\":");
        const NBF_: u64 = word(b"\"nbf\":");
        const IAT_: u64 = word(b"\"iat\":");
        const USER_ID: u64 = word(b"\"user_id");
        const SERVER: u64 = word(b"\"server\"");
        if let Some((w, after)) = rest.split_first_chunk::<8>() {
            let w = u64::from_le_bytes(*w);
            let short = rest.get(6..).unwrap_or_default();
            match w & SIX {
                EXP_ => return Some((Self::Time(EXP), short)),
                NBF_ => return Some((Self::Time(NBF), short)),
                IAT_ => return Some((Self::Time(IAT), short)),
                _ => {}
            }
            if w == USER_ID
                && let Some(value) = after.strip_prefix(b"\":")
            {
                return Some((Self::UserId, value));
            }
            if w == SERVER
                && let Some(value) = after.strip_prefix(b":")
            {
                return Some((Self::Server, value));
            }
        }
        // The fallback of the word tests above. For `user_id` and `server` it never decides
        // anything: their words reach through the closing quote, so a member that fails the
        // colon test above (`"user_id" :`, say) fails the same test here and goes to the
        // general reader. It is kept so that the word tests stay a pure fast path.
        let (name, after) = plain_string(rest.strip_prefix(b"\"")?)?;
        let value = after.strip_prefix(b":")?;
        let member = match name {
            b"exp" => Self::Time(EXP),
            b"nbf" => Self::Time(NBF),
            b"iat" => Self::Time(IAT),
            b"user_id" => Self::UserId,
            b"server" => Self::Server,
            _ => Self::Other(name),
        };
        Some((member, value))
    }
}

impl<'a> RawClaims<'a> {
    /// Claims of `json` not read yet: no member seen.
    pub(crate) const fn new(json: &'a str) -> Self {
        Self { json, user_id: None, exp: 0, nbf: 0, iat: 0, present: 0, server: None }
    }

    /// Reads the registered claims of a claims object, checking each one's type.
    pub(crate) fn parse(json: &'a str) -> Result<Self, Error> {
        let mut c = Self::new(json);
        c.read()?;
        Ok(c)
    }

    /// [`parse`](Self::parse) in place, into claims made by [`new`](Self::new): the verifier
    /// checks them where they are read, and never moves them through a `Result` (a copy of
    /// fields just stored one by one costs a store-forwarding stall per copy).
    ///
    /// On 64-bit targets a one-pass reader takes the shapes SDKs mint first (speed); on
    /// smaller ones only the general reader is built (flash). Both give the same result.
    /// Not inlined: the reader's table is on the stack only while the claims are read, not
    /// under the MAC's state in the caller's frame.
    #[inline(never)]
    pub(crate) fn read(&mut self) -> Result<(), Error> {
        #[cfg(target_pointer_width = "64")]
        if self.read_flat().is_some() {
            return Ok(());
        }
        *self = Self::new(self.json);
        self.read_general()
    }

    /// The one-pass reader's claims of `json` (tests and fuzzing compare them with the
    /// general reader's).
    #[cfg_attr(not(any(test, fuzzing)), allow(dead_code))]
    pub(crate) fn parse_flat(json: &'a str) -> Option<Self> {
        let mut c = Self::new(json);
        c.read_flat()?;
        Some(c)
    }

    /// The general reader's claims of `json`.
    #[cfg_attr(not(any(test, fuzzing)), allow(dead_code))]
    pub(crate) fn parse_general(json: &'a str) -> Result<Self, Error> {
        let mut c = Self::new(json);
        c.read_general()?;
        Ok(c)
    }

    /// The one-pass reader: a claims object without whitespace whose names have no escapes,
    /// whose `user_id` is a non-empty string without escapes, whose `exp`, `nbf` and `iat`
    /// are plain integers of at most 19 digits and `server` a boolean, each at most once, in
    /// any order (JS: user_id, exp, iat; Go: exp, iat, user_id; Python: iat, user_id, exp),
    /// and whose other members (at most [`FLAT_OTHERS`], with distinct names) have flat plain
    /// values ([`skip_flat_value`]: Stream Video's `call_cids` and `role`). Anything else
    /// returns `None` and takes the general reader, which gives the same result for these
    /// shapes and the precise error for everything else.
    #[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
    fn read_flat(&mut self) -> Option<()> {
        let c = self;
        // Where the other members' names are (start, end), for the duplicate check.
        let mut others = [(0u16, 0u16); FLAT_OTHERS];
        let mut n_others = 0usize;
        let doc = c.json.as_bytes();
        let mut rest = doc.strip_prefix(b"{")?;
        loop {
            let (member, value) = Member::read(rest)?;
            if let Member::Time(flag) = member {
                if c.present & flag != 0 {
                    return None;
                }
                let t = canonical_u64(value, &mut rest)?;
                match flag {
                    EXP => c.exp = t,
                    NBF => c.nbf = t,
                    _ => c.iat = t,
                }
                c.present |= flag;
            } else if member == Member::UserId {
                let content = value.strip_prefix(b"\"")?;
                let (id, tail) = plain_string(content)?;
                if id.is_empty() || c.user_id.is_some() {
                    return None;
                }
                let start = doc.len().saturating_sub(content.len());
                c.user_id = Some(RawStr { bytes: id, start, escaped: false });
                rest = tail;
            } else if member == Member::Server {
                let (b, tail) = match value {
                    [b't', b'r', b'u', b'e', tail @ ..] => (true, tail),
                    [b'f', b'a', b'l', b's', b'e', tail @ ..] => (false, tail),
                    _ => return None,
                };
                if c.server.replace(b).is_some() {
                    return None;
                }
                rest = tail;
            } else if let Member::Other(name) = member {
                let end = doc.len().saturating_sub(value.len()).saturating_sub(2);
                let span = (u16::try_from(end.saturating_sub(name.len())).ok()?, u16::try_from(end).ok()?);
                let seen = others.get(..n_others).unwrap_or_default();
                let name_at = |(a, b): (u16, u16)| doc.get(usize::from(a)..usize::from(b)).unwrap_or_default();
                if seen.iter().any(|&other| name_at(other) == name) {
                    return None;
                }
                *others.get_mut(n_others)? = span;
                n_others = n_others.saturating_add(1);
                rest = skip_flat_value(value)?;
            }
            match rest {
                [b'}'] => return Some(()),
                [b',', more @ ..] => rest = more,
                _ => return None,
            }
        }
    }

    fn read_general(&mut self) -> Result<(), Error> {
        let c = self;
        read::object_members(c.json.as_bytes(), Segment::Payload, |key, value| {
            if key.eq_str("user_id") {
                match value {
                    Value::String(s) if s.bytes.is_empty() => return Err(Error::EmptyUserId),
                    Value::String(s) => c.user_id = Some(s),
                    _ => return Err(Error::InvalidClaim { claim: Claim::UserId }),
                }
            } else if key.eq_str("exp") {
                (c.exp, c.present) = (time(Claim::Exp, value)?, c.present | EXP);
            } else if key.eq_str("nbf") {
                (c.nbf, c.present) = (time(Claim::Nbf, value)?, c.present | NBF);
            } else if key.eq_str("iat") {
                (c.iat, c.present) = (time(Claim::Iat, value)?, c.present | IAT);
            } else if key.eq_str("server") {
                match value {
                    Value::Bool(b) => c.server = Some(b),
                    _ => return Err(Error::InvalidClaim { claim: Claim::Server }),
                }
            }
            Ok(())
        })
    }

    pub(crate) const fn json(&self) -> &'a str {
        self.json
    }

    /// A time claim, if the token has it.
    const fn if_present(&self, flag: u8, value: u64) -> Option<u64> {
        if self.present & flag != 0 { Some(value) } else { None }
    }

    pub(crate) const fn exp(&self) -> Option<u64> {
        self.if_present(EXP, self.exp)
    }

    pub(crate) const fn nbf(&self) -> Option<u64> {
        self.if_present(NBF, self.nbf)
    }

    pub(crate) const fn iat(&self) -> Option<u64> {
        self.if_present(IAT, self.iat)
    }

    pub(crate) fn is_server(&self) -> bool {
        self.server == Some(true)
    }

    /// The unescaped `user_id`, written to `out` only when it has escapes.
    pub(crate) fn user_id_into<'b>(&self, out: &'b mut [u8]) -> Result<Option<&'b str>, Error>
    where
        'a: 'b,
    {
        self.user_id.map(|raw| raw.unescape(self.json, out)).transpose()
    }

    pub(crate) const fn has_server_member(&self) -> bool {
        self.server.is_some()
    }

    /// The Stream profile: a `user_id` or `"server":true`.
    pub(crate) fn check_subject(&self) -> Result<(), Error> {
        if self.user_id.is_none() && self.server != Some(true) {
            return Err(Error::MissingSubject);
        }
        Ok(())
    }

    /// Applies the Stream profile and the time rules.
    pub(crate) fn check(&self, r: Rules) -> Result<(), Error> {
        self.check_subject()?;
        match self.exp() {
            None if r.require_exp => return Err(Error::MissingExp),
            Some(exp) if r.now >= exp.saturating_add(r.leeway) => return Err(Error::Expired),
            _ => {}
        }
        let late_now = r.now.saturating_add(r.leeway);
        if self.nbf().is_some_and(|nbf| late_now < nbf) {
            return Err(Error::NotYetValid);
        }
        if self.iat().is_some_and(|iat| iat > late_now) {
            return Err(Error::IssuedInFuture);
        }
        Ok(())
    }

    /// The final claims, unescaping `user_id` into `spare` when it has escapes.
    pub(crate) fn finish(&self, spare: &'a mut [u8], dev: bool) -> Result<Claims<'a>, Error> {
        Ok(Claims {
            json: self.json,
            user_id: self.user_id_into(spare)?,
            exp: self.exp(),
            nbf: self.nbf(),
            iat: self.iat(),
            server: self.is_server(),
            dev,
        })
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;

    const RULES: Rules = Rules { now: 1000, leeway: 0, require_exp: false };

    fn check(json: &str, r: Rules) -> Result<(), Error> {
        RawClaims::parse(json)?.check(r)
    }

    /// Whitespace before a name's colon: the one-pass reader declines, the general reader
    /// reads the claim (a `user_id` or `server` never passes as an unknown member).
    #[test]
    fn whitespace_before_a_colon_still_names_the_claim() {
        for json in
            ["{\"user_id\" :\"a\"}", "{\"user_id\"\t:\"a\",\"exp\":5000}", "{\"exp\":5000,\"user_id\"\n :\"a\"}"]
        {
            let c = RawClaims::parse(json).unwrap();
            assert_eq!(c.user_id.map(|id| id.bytes), Some(&b"a"[..]), "{json:?}");
            assert!(c.check(RULES).is_ok(), "{json:?}");
        }
        for json in ["{\"server\" :true}", "{\"iat\":1,\"server\"\r\n: true}"] {
            let c = RawClaims::parse(json).unwrap();
            assert!(c.is_server(), "{json:?}");
        }
        assert_eq!(check("{\"server\" :false}", RULES), Err(Error::MissingSubject));
    }

    /// The one-pass reader agrees with the general one on the shapes it takes, and declines
    /// everything else.
    #[test]
    fn one_pass_reader_matches_the_general_reader() {
        let taken = [
            r#"{"server":true}"#,
            r#"{"user_id":"john"}"#,
            r#"{"user_id":"jürgen","exp":1700000000}"#,
            r#"{"user_id":"a","iat":0}"#,
            r#"{"user_id":"a b/c","exp":1844674407370955161,"iat":1}"#,
            // Other SDKs' member orders: Go (sorted), Python, and any other.
            r#"{"exp":1700000000,"iat":1600000000,"user_id":"john"}"#,
            r#"{"iat":1600000000,"user_id":"john","exp":1700000000}"#,
            r#"{"user_id":"a","iat":1,"exp":2}"#,
            r#"{"exp":5}"#,
            r#"{"server":false}"#,
            r#"{"server":true,"iat":1700000000}"#,
            r#"{"user_id":"a","nbf":1}"#,
            r#"{"user_id":"a","exp":1234567,"nbf":12345678,"iat":123456789}"#,
            r#"{"user_id":"a","exp":9999999999999999999}"#,
            // Members the claims do not use, with flat plain values (Stream Video's call token).
            r#"{"user_id":"a","call_cids":["default:call-1","livestream:town-hall"],"role":"user","iat":1,"exp":2}"#,
            r#"{"user_id":"a","role":"x"}"#,
            r#"{"user_id":"a","n":-0,"m":0,"k":-12,"t":true,"f":false,"z":null,"e":[],"l":[1,"x",null,-3]}"#,
            r#"{"user_id":"a","role":"x","roles":"y","rol":"z"}"#,
            r#"{"user_id":"a","a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0}"#,
            // Names that start like the ones the claims use, read from the first word, and
            // names as long as `server` or `user_id` that are neither.
            r#"{"user_id":"a","user_idx":1,"expx":2,"server2":3,"ex":4,"iat_":5,"serve":6}"#,
            r#"{"user_id":"a","abcdef":true,"abcdefg":"x","zzzzzz":false}"#,
            r#"{"abcdefg":1,"server":true}"#,
            r#"{"exp":5,"user_id":"a"}"#,
            r#"{"user_id":"a","exp":5}"#,
        ];
        for json in taken {
            let fast = RawClaims::parse_flat(json).unwrap_or_else(|| panic!("declined {json}"));
            let general = RawClaims::parse_general(json).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{json}");
        }
        let declined = [
            r#"{"user_id" :"a"}"#,
            r#"{"server" :true}"#,
            r#"{"user_id"	:"a","exp":1}"#,
            r#"{"exp":1,"server"
:true}"#,
            r#"{ "user_id":"a"}"#,
            r#"{"user_id":"a" }"#,
            r#"{"user_id":""}"#,
            r#"{"user_id":"a\"b"}"#,
            r#"{"user_id":"a\u0062"}"#,
            r#"{"user_id":"a","exp":01}"#,
            r#"{"user_id":"a","exp":1.5}"#,
            r#"{"user_id":"a","exp":-1}"#,
            r#"{"user_id":"a","exp":}"#,
            r#"{"user_id":"a","exp":18446744073709551616}"#,
            r#"{"user_id":"a","exp":1,"exp":2}"#,
            r#"{"iat":1,"user_id":"a","iat":2}"#,
            r#"{"user_id":"a","exp":1,"user_id":"b"}"#,
            r#"{"user_id":"a",}"#,
            r#"{,"user_id":"a"}"#,
            r#"{"user_id":"a""exp":1}"#,
            "{}",
            "{",
            r#"{"user_id":"a","exp":10000000000000000000}"#,
            r#"{"user_id":"a b/c","exp":18446744073709551615,"iat":1}"#,
            r#"{"user_id":"a","exp":00000000}"#,
            r#"{"user_id":"a","exp":0123456789}"#,
            r#"{"user_id":"a","exp":12345678.5}"#,
            r#"{"server":true,"server":true}"#,
            r#"{"server":1}"#,
            r#"{"user_id":"a","nbf":1,"nbf":1}"#,
            r#"{"user_id":"a","role":"x","role":"x"}"#,
            r#"{"user_id":"a","r\u006fle":"x"}"#,
            r#"{"user_id":"a","role":"x\n"}"#,
            r#"{"user_id":"a","role":{"x":1}}"#,
            r#"{"user_id":"a","role":[[1]]}"#,
            r#"{"user_id":"a","role":[1,]}"#,
            r#"{"user_id":"a","role":[1 ]}"#,
            r#"{"user_id":"a","role":[1}"#,
            r#"{"user_id":"a","n":01}"#,
            r#"{"user_id":"a","n":-}"#,
            r#"{"user_id":"a","n":1.5}"#,
            r#"{"user_id":"a","n":1e5}"#,
            r#"{"user_id":"a","n":1E5}"#,
            r#"{"user_id":"a","n":truex}"#,
            r#"{"user_id":"a","n":nul}"#,
            r#"{"user_id":"a","n":"x}"#,
            r#"{"user_id":"a","a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0}"#,
            r#"{"user_id":"a"}x"#,
            r#"{"user_id":"a"},"#,
            "{\"user_id\":\"a\u{1}\"}",
        ];
        for json in declined {
            assert!(RawClaims::parse_flat(json).is_none(), "took {json}");
        }
    }

    /// Members read by name, from the first word and, for what is left shorter than a word,
    /// from the name read out.
    #[test]
    fn members_are_sorted_by_name() {
        for (rest, want) in [
            (&b"\"exp\":"[..], Member::Time(EXP)),
            (b"\"nbf\":", Member::Time(NBF)),
            (b"\"iat\":", Member::Time(IAT)),
            (b"\"user_id\":", Member::UserId),
            (b"\"server\":", Member::Server),
            (b"\"exp\":1700000000}", Member::Time(EXP)),
            (b"\"user_id\":\"a\"}", Member::UserId),
            (b"\"server\":true}", Member::Server),
            (b"\"ab\":", Member::Other(b"ab")),
            (b"\"abcdef\":true}", Member::Other(b"abcdef")),
            (b"\"abcdefg\":1}", Member::Other(b"abcdefg")),
        ] {
            let (member, value) = Member::read(rest).unwrap();
            assert_eq!(member, want, "{:?}", core::str::from_utf8(rest));
            assert_eq!(rest.len() - value.len(), rest.iter().position(|&b| b == b':').unwrap() + 1);
        }
        assert_eq!(Member::read(b"\"a\\b\":1}"), None);
        assert_eq!(Member::read(b"\"ab\"1}"), None);
    }

    /// The word-at-a-time helpers agree with byte-by-byte definitions: the end of a string's
    /// plain content at every position and for every byte, and digit runs of every length.
    #[test]
    fn word_helpers_match_byte_definitions() {
        for b in 0..=255u8 {
            for at in 0..20 {
                let mut s = [b'x'; 20];
                s[at] = b;
                let want = s.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
                assert_eq!(json::string_end(&s), want, "byte {b} at {at}");
            }
            let w = u64::from_le_bytes([b'5', b'5', b'5', b, b'5', b'5', b'5', b'5']);
            assert_eq!(all_digits(w), b.is_ascii_digit() || b == b'5', "byte {b}");
        }
        for digits in
            ["0", "7", "10", "1234567", "12345678", "99999999", "123456789", "1700000000", "9999999999999999999"]
        {
            for tail in ["", ",", "}", "x"] {
                let input = format!("{digits}{tail}");
                let mut rest: &[u8] = b"unset";
                assert_eq!(canonical_u64(input.as_bytes(), &mut rest), digits.parse().ok(), "{input}");
                assert_eq!(rest, tail.as_bytes(), "{input}");
            }
        }
        for n in [0u64, 1, 9, 10, 99_999_999, 12_345_678, 87_654_321, 10_000_000] {
            let text = format!("{n:08}");
            assert_eq!(eight_digits(u64::from_le_bytes(text.as_bytes().try_into().unwrap())), n);
        }
        let mut rest: &[u8] = b"";
        for bad in ["", "x", "-1", "01", "00000000", "012345678", "10000000000000000000"] {
            assert_eq!(canonical_u64(bad.as_bytes(), &mut rest), None, "{bad}");
        }
    }

    #[test]
    fn claim_types_are_checked() {
        use Claim::*;
        for (json, claim) in [
            (r#"{"user_id":"a","exp":1.0}"#, Exp),
            (r#"{"user_id":"a","exp":"5"}"#, Exp),
            (r#"{"user_id":"a","exp":null}"#, Exp),
            (r#"{"user_id":"a","exp":-1}"#, Exp),
            (r#"{"user_id":"a","exp":1e3}"#, Exp),
            (r#"{"user_id":"a","exp":18446744073709551616}"#, Exp),
            (r#"{"user_id":"a","nbf":true}"#, Nbf),
            (r#"{"user_id":"a","iat":[1]}"#, Iat),
            (r#"{"user_id":5}"#, UserId),
            (r#"{"user_id":null}"#, UserId),
            (r#"{"server":"true"}"#, Server),
            (r#"{"server":1}"#, Server),
            (r#"{"user_id":"a","\u0065xp":0.5}"#, Exp),
        ] {
            assert_eq!(check(json, RULES), Err(Error::InvalidClaim { claim }), "{json}");
        }
        assert_eq!(check(r#"{"user_id":""}"#, RULES), Err(Error::EmptyUserId));
    }

    #[test]
    fn subject_rules() {
        assert_eq!(check(r#"{}"#, RULES), Err(Error::MissingSubject));
        assert_eq!(check(r#"{"server":false}"#, RULES), Err(Error::MissingSubject));
        assert_eq!(check(r#"{"server":true}"#, RULES), Ok(()));
        assert_eq!(check(r#"{"user_id":"a","role":{"x":[1,2]}}"#, RULES), Ok(()));
    }

    #[test]
    fn time_rules_at_the_boundaries() {
        let r = |now, leeway| Rules { now, leeway, require_exp: false };
        let exp = r#"{"user_id":"a","exp":1000}"#;
        assert_eq!(check(exp, r(999, 0)), Ok(()));
        assert_eq!(check(exp, r(1000, 0)), Err(Error::Expired));
        assert_eq!(check(exp, r(1029, 30)), Ok(()));
        assert_eq!(check(exp, r(1030, 30)), Err(Error::Expired));
        let nbf = r#"{"user_id":"a","nbf":1000}"#;
        assert_eq!(check(nbf, r(999, 0)), Err(Error::NotYetValid));
        assert_eq!(check(nbf, r(1000, 0)), Ok(()));
        assert_eq!(check(nbf, r(970, 30)), Ok(()));
        assert_eq!(check(nbf, r(969, 30)), Err(Error::NotYetValid));
        let iat = r#"{"user_id":"a","iat":1000}"#;
        assert_eq!(check(iat, r(999, 0)), Err(Error::IssuedInFuture));
        assert_eq!(check(iat, r(1000, 0)), Ok(()));
        assert_eq!(check(iat, r(970, 30)), Ok(()));
        // No overflow at the edges.
        let max = r#"{"user_id":"a","exp":18446744073709551615,"nbf":18446744073709551615,"iat":18446744073709551615}"#;
        assert_eq!(check(max, r(u64::MAX, u64::MAX)), Err(Error::Expired));
        assert_eq!(check(max, r(u64::MAX - 1, u64::MAX)), Ok(()));
        assert_eq!(check(max, r(0, 0)), Err(Error::NotYetValid));
        let zero = r#"{"user_id":"a","exp":0}"#;
        assert_eq!(check(zero, r(0, 0)), Err(Error::Expired));
    }

    #[test]
    fn require_exp_is_its_own_error() {
        let r = Rules { require_exp: true, ..RULES };
        assert_eq!(check(r#"{"user_id":"a"}"#, r), Err(Error::MissingExp));
        assert_eq!(check(r#"{"user_id":"a","exp":5}"#, r), Err(Error::Expired));
        assert_eq!(check(r#"{"user_id":"a","exp":5000}"#, r), Ok(()));
    }

    #[test]
    fn finish_unescapes_user_id() {
        let raw = RawClaims::parse(r#"{"user_id":"j\u00fcrgen","exp":7,"server":true}"#).unwrap();
        let mut spare = [0u8; 16];
        let c = raw.finish(&mut spare, false).unwrap();
        assert_eq!(c.user_id(), Some("jürgen"));
        assert_eq!(c.exp(), Some(7));
        assert!(c.is_server());
        assert!(!c.is_dev());
        assert!(c.expires_within(0, 7));
        assert!(!c.expires_within(0, 6));
    }
}
