//! Verified claims: the registered ones Stream uses, type-checked, and the time rules.

use crate::Error;
use crate::error::{Claim, Segment};
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

/// A plain non-negative integer at the start of `input` (digits only, no leading zero, fits
/// `u64`); `rest` is set to what follows it.
#[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
fn canonical_u64<'a>(input: &'a [u8], rest: &mut &'a [u8]) -> Option<u64> {
    let digits = input.iter().position(|b| !b.is_ascii_digit()).unwrap_or(input.len());
    let (num, tail) = input.split_at(digits);
    if num.len() > 1 && num.first() == Some(&b'0') {
        return None;
    }
    *rest = tail;
    read::parse_u64(num)
}

impl<'a> RawClaims<'a> {
    /// Reads the registered claims of a claims object, checking each one's type.
    ///
    /// On 64-bit targets the shapes Stream mints take a one-pass reader first (speed); on
    /// smaller ones only the general reader is built (flash). Both give the same result.
    /// Not inlined: the reader's table is on the stack only while the claims are read, not
    /// under the MAC's state in the caller's frame.
    #[inline(never)]
    pub(crate) fn parse(json: &'a str) -> Result<Self, Error> {
        #[cfg(target_pointer_width = "64")]
        if let Some(c) = Self::parse_canonical(json) {
            return Ok(c);
        }
        Self::parse_general(json)
    }

    /// The shapes Stream's SDKs mint, recognized in one pass: `{"server":true}`, and an
    /// object of `"user_id":"<no escapes>"`, `"exp":<int>` and `"iat":<int>`, each at most
    /// once, in any order (JS: user_id, exp, iat; Go: exp, iat, user_id; Python: iat,
    /// user_id, exp), without whitespace. Anything else (whitespace, escapes, other members,
    /// repeats, numbers that do not fit or are not plain digits) returns `None` and takes the
    /// general reader, which gives the same result for these shapes and the precise error for
    /// everything else.
    #[cfg_attr(not(any(target_pointer_width = "64", fuzzing)), allow(dead_code))]
    pub(crate) fn parse_canonical(json: &'a str) -> Option<Self> {
        let mut c = Self { json, user_id: None, exp: 0, nbf: 0, iat: 0, present: 0, server: None };
        if json == r#"{"server":true}"# {
            c.server = Some(true);
            return Some(c);
        }
        let doc = json.as_bytes();
        let mut rest = doc.strip_prefix(b"{")?;
        loop {
            if let Some(after) = rest.strip_prefix(br#""user_id":""#) {
                let len = after.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
                let (id, tail) = after.split_at(len);
                if id.is_empty() || c.user_id.is_some() {
                    return None;
                }
                let start = doc.len().saturating_sub(after.len());
                c.user_id = Some(RawStr { bytes: id, start, escaped: false });
                rest = tail.strip_prefix(b"\"")?;
            } else if let Some(after) = rest.strip_prefix(br#""exp":"#) {
                c.exp = canonical_u64(after, &mut rest).filter(|_| c.present & EXP == 0)?;
                c.present |= EXP;
            } else if let Some(after) = rest.strip_prefix(br#""iat":"#) {
                c.iat = canonical_u64(after, &mut rest).filter(|_| c.present & IAT == 0)?;
                c.present |= IAT;
            } else {
                return None;
            }
            match rest {
                [b'}'] => return Some(c),
                [b',', more @ ..] => rest = more,
                _ => return None,
            }
        }
    }

    pub(crate) fn parse_general(json: &'a str) -> Result<Self, Error> {
        let mut c = Self { json, user_id: None, exp: 0, nbf: 0, iat: 0, present: 0, server: None };
        read::object_members(json.as_bytes(), Segment::Payload, |key, value| {
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
        })?;
        Ok(c)
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
    pub(crate) fn finish(self, spare: &'a mut [u8], dev: bool) -> Result<Claims<'a>, Error> {
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

    /// The one-pass reader agrees with the general one on the shapes it takes, and declines
    /// everything else.
    #[test]
    fn canonical_fast_path_matches_the_general_reader() {
        let taken = [
            r#"{"server":true}"#,
            r#"{"user_id":"john"}"#,
            r#"{"user_id":"jürgen","exp":1700000000}"#,
            r#"{"user_id":"a","iat":0}"#,
            r#"{"user_id":"a b/c","exp":18446744073709551615,"iat":1}"#,
            // Other SDKs' member orders: Go (sorted), Python, and any other.
            r#"{"exp":1700000000,"iat":1600000000,"user_id":"john"}"#,
            r#"{"iat":1600000000,"user_id":"john","exp":1700000000}"#,
            r#"{"user_id":"a","iat":1,"exp":2}"#,
            r#"{"exp":5}"#,
        ];
        for json in taken {
            let fast = RawClaims::parse_canonical(json).unwrap_or_else(|| panic!("declined {json}"));
            let general = RawClaims::parse_general(json).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{json}");
        }
        let declined = [
            r#"{"server":false}"#,
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
            r#"{"user_id":"a","nbf":1}"#,
            r#"{"user_id":"a","role":"x"}"#,
            r#"{"user_id":"a"}x"#,
            r#"{"user_id":"a"},"#,
            "{\"user_id\":\"a\u{1}\"}",
        ];
        for json in declined {
            assert!(RawClaims::parse_canonical(json).is_none(), "took {json}");
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
