//! A strict JSON reader for headers and claims.
//!
//! It validates the whole document against RFC 8259 (one object, nothing after it, no BOM, no
//! comments, no single quotes, numbers and escapes by the grammar, no lone surrogates), bounds
//! nesting at [`MAX_DEPTH`], rejects duplicate member names in every object (compared after
//! unescaping), and hands the top-level members to a visitor. The input must already be valid
//! UTF-8. Recursion is bounded by `MAX_DEPTH`; nothing here can panic or loop without end.

use crate::Error;

/// Deepest nesting of objects and arrays accepted, the top-level object counting as 1.
pub const MAX_DEPTH: usize = 16;

/// A top-level member's value. Nested values are validated but not exposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// String content between the quotes, still escaped.
    String(RawStr<'a>),
    /// Number text exactly as written.
    Number(&'a [u8]),
    Bool(bool),
    Null,
    Array,
    Object,
}

/// String content between the quotes, validated but still escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawStr<'a>(pub(crate) &'a [u8]);

impl<'a> RawStr<'a> {
    /// Whether the unescaped string equals `s`.
    pub(crate) fn eq_str(self, s: &str) -> bool {
        if !self.0.contains(&b'\\') {
            return self.0 == s.as_bytes();
        }
        Unescaped::new(self.0).eq(s.bytes())
    }

    fn eq_raw(self, other: RawStr<'_>) -> bool {
        if !self.0.contains(&b'\\') && !other.0.contains(&b'\\') {
            return self.0 == other.0;
        }
        Unescaped::new(self.0).eq(Unescaped::new(other.0))
    }

    /// The unescaped string: borrowed when there is nothing to unescape, else written to `out`.
    pub(crate) fn unescape(self, out: &'a mut [u8]) -> Result<&'a str, Error> {
        let bytes = if self.0.contains(&b'\\') {
            let mut n = 0usize;
            for b in Unescaped::new(self.0) {
                let slot = out.get_mut(n).ok_or(Error::BufferTooSmall { needed: Unescaped::new(self.0).count() })?;
                *slot = b;
                n = n.saturating_add(1);
            }
            out.get(..n).unwrap_or_default()
        } else {
            self.0
        };
        core::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8)
    }
}

/// Unescaped UTF-8 bytes of validated string content.
struct Unescaped<'a> {
    rest: &'a [u8],
    buf: [u8; 4],
    pos: u8,
    len: u8,
}

impl<'a> Unescaped<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Self { rest, buf: [0; 4], pos: 0, len: 0 }
    }

    fn hex4(&mut self) -> Option<u32> {
        let (digits, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        digits.iter().try_fold(0u32, |acc, &d| Some((acc << 4) | char::from(d).to_digit(16)?))
    }
}

impl Iterator for Unescaped<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.pos < self.len {
            let b = self.buf.get(usize::from(self.pos)).copied();
            self.pos = self.pos.saturating_add(1);
            return b;
        }
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        if b != b'\\' {
            return Some(b);
        }
        let (&e, rest) = self.rest.split_first()?;
        self.rest = rest;
        let c = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let cp = if (0xd800..0xdc00).contains(&hi) {
                    // Validated input: a low surrogate escape follows.
                    self.rest = self.rest.get(2..)?;
                    let low = self.hex4()?.checked_sub(0xdc00)?;
                    let high = hi.checked_sub(0xd800)?.checked_shl(10)?;
                    0x10000u32.checked_add(high)?.checked_add(low)?
                } else {
                    hi
                };
                char::from_u32(cp)?
            }
            other => char::from(other),
        };
        let n = c.encode_utf8(&mut self.buf).len();
        // n is 1..=4.
        self.len = u8::try_from(n).unwrap_or(0);
        self.pos = 1;
        self.buf.first().copied()
    }
}

/// Validates `doc` as exactly one JSON object and calls `visit` with each top-level member.
pub(crate) fn object_members<'a>(
    doc: &'a [u8],
    mut visit: impl FnMut(RawStr<'a>, Value<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut p = Parser { s: doc, pos: 0 };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(Error::InvalidJson);
    }
    p.object(1, Some(&mut visit))?;
    p.ws();
    if p.pos == doc.len() { Ok(()) } else { Err(Error::InvalidJson) }
}

type Visitor<'v, 'a> = &'v mut dyn FnMut(RawStr<'a>, Value<'a>) -> Result<(), Error>;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    fn eat(&mut self, b: u8) -> Result<(), Error> {
        if self.peek() == Some(b) {
            self.bump();
            Ok(())
        } else {
            Err(Error::InvalidJson)
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, Error> {
        match self.peek().ok_or(Error::InvalidJson)? {
            b'{' => self.object(depth.saturating_add(1), None).map(|()| Value::Object),
            b'[' => self.array(depth.saturating_add(1)).map(|()| Value::Array),
            b'"' => self.string().map(Value::String),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => Err(Error::InvalidJson),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.pos.saturating_add(word.len());
        if self.s.get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(Error::InvalidJson)
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
        self.pos.saturating_sub(start)
    }

    fn number(&mut self) -> Result<&'a [u8], Error> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => self.bump(),
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Error::InvalidJson),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if self.digits() == 0 {
                return Err(Error::InvalidJson);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(Error::InvalidJson);
            }
        }
        self.s.get(start..self.pos).ok_or(Error::InvalidJson)
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let end = self.pos.saturating_add(4);
        let digits = self.s.get(self.pos..end).ok_or(Error::InvalidJson)?;
        let v = digits.iter().try_fold(0u32, |acc, &d| Some((acc << 4) | char::from(d).to_digit(16)?));
        self.pos = end;
        v.ok_or(Error::InvalidJson)
    }

    /// A string; returns its content between the quotes, still escaped.
    fn string(&mut self) -> Result<RawStr<'a>, Error> {
        self.eat(b'"')?;
        let start = self.pos;
        loop {
            let b = self.peek().ok_or(Error::InvalidJson)?;
            self.bump();
            match b {
                b'"' => break,
                0x00..=0x1f => return Err(Error::InvalidJson),
                b'\\' => {
                    let e = self.peek().ok_or(Error::InvalidJson)?;
                    self.bump();
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let cp = self.hex4()?;
                            if (0xdc00..0xe000).contains(&cp) {
                                return Err(Error::InvalidJson); // lone low surrogate
                            }
                            if (0xd800..0xdc00).contains(&cp) {
                                self.literal(b"\\u")?;
                                if !(0xdc00..0xe000).contains(&self.hex4()?) {
                                    return Err(Error::InvalidJson); // lone high surrogate
                                }
                            }
                        }
                        _ => return Err(Error::InvalidJson),
                    }
                }
                _ => {}
            }
        }
        let end = self.pos.saturating_sub(1);
        self.s.get(start..end).map(RawStr).ok_or(Error::InvalidJson)
    }

    fn array(&mut self, depth: usize) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::JsonTooDeep);
        }
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(());
                }
                _ => return Err(Error::InvalidJson),
            }
        }
    }

    fn object(&mut self, depth: usize, mut visit: Option<Visitor<'_, 'a>>) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(Error::JsonTooDeep);
        }
        self.eat(b'{')?;
        let members_start = self.pos;
        self.ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(());
        }
        loop {
            self.ws();
            let key_start = self.pos;
            let key = self.string()?;
            if has_key_before(self.s.get(members_start..key_start).unwrap_or_default(), key) {
                return Err(Error::DuplicateMember);
            }
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = self.value(depth)?;
            if let Some(v) = visit.as_mut() {
                v(key, value)?;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(());
                }
                _ => return Err(Error::InvalidJson),
            }
        }
    }
}

/// Whether `members` (already validated `"k":v,` pairs of one object) has a member named `key`.
///
/// Rescanning keeps the reader free of per-object storage; the cost is quadratic in the
/// member count of one object, which the token length cap bounds.
fn has_key_before(members: &[u8], key: RawStr<'_>) -> bool {
    let mut p = Parser { s: members, pos: 0 };
    loop {
        p.ws();
        let Ok(k) = p.string() else { return false };
        if k.eq_raw(key) {
            return true;
        }
        p.ws();
        if p.eat(b':').is_err() {
            return false;
        }
        p.ws();
        p.skip_value();
        p.ws();
        if p.eat(b',').is_err() {
            return false;
        }
    }
}

impl Parser<'_> {
    /// Skips one already-validated value without checking it again.
    fn skip_value(&mut self) {
        let mut depth = 0usize;
        let mut in_string = false;
        while let Some(b) = self.peek() {
            if in_string {
                match b {
                    b'\\' => self.bump(),
                    b'"' => in_string = false,
                    _ => {}
                }
            } else {
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth = depth.saturating_add(1),
                    b'}' | b']' => {
                        if depth == 0 {
                            return;
                        }
                        depth = depth.saturating_sub(1);
                    }
                    b',' if depth == 0 => return,
                    _ => {}
                }
            }
            self.bump();
            if depth == 0 && !in_string && matches!(b, b'"' | b'}' | b']') {
                return;
            }
        }
    }
}

/// Parses a claim number: a non-negative integer that fits `u64`, written without fraction,
/// exponent or sign.
pub(crate) fn parse_u64(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() {
        return None;
    }
    raw.iter().try_fold(0u64, |acc, &d| {
        let digit = char::from(d).to_digit(10)?;
        acc.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn validate(doc: &str) -> Result<(), Error> {
        object_members(doc.as_bytes(), |_, _| Ok(()))
    }

    #[test]
    fn accepts_valid_objects() {
        for ok in [
            "{}",
            " \t\r\n{ } \n",
            r#"{"a":1,"b":-0.5e+3,"c":[1,[2,{}]],"d":{"e":null},"f":true,"g":false,"h":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#,
            r#"{"a":0,"b":1E5,"c":-0,"d":"ü"}"#,
            r#"{"a":{"x":1},"b":{"x":1}}"#,
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid_json() {
        for bad in [
            "",
            " ",
            "[]",
            "1",
            "\"s\"",
            "null",
            "\u{feff}{}",
            "{}x",
            "{} {}",
            "{},",
            "{/*c*/}",
            "{}//",
            "{'a':1}",
            r#"{"a":'b'}"#,
            r#"{a:1}"#,
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"{,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[,1]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":--1}"#,
            r#"{"a":NaN}"#,
            r#"{"a":Infinity}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":True}"#,
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"\t\"}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\u12g4"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"unterminated}"#,
            r#"{"a":1"#,
            r#"{"a":{"b":1}"#,
            r#"{"a":[1}"#,
        ] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let nested = |n: usize| {
            let mut s = std::string::String::from("{\"a\":");
            s.push_str(&"[".repeat(n - 1));
            s.push_str(&"]".repeat(n - 1));
            s.push('}');
            s
        };
        assert_eq!(validate(&nested(MAX_DEPTH)), Ok(()));
        assert_eq!(validate(&nested(MAX_DEPTH + 1)), Err(Error::JsonTooDeep));
        // Hostile depth does not recurse past the bound.
        assert_eq!(validate(&nested(100_000)), Err(Error::JsonTooDeep));
    }

    #[test]
    fn duplicates_are_found_after_unescaping() {
        for dup in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"b":{"c":[1,"}"]},"a":2}"#,
            r#"{"exp":1,"\u0065xp":2}"#,
            r#"{"x":{"k":1,"k":2}}"#,
            r#"{"x":[{"k":1,"\u006b":2}]}"#,
            r#"{"é":1,"\u00e9":2}"#,
        ] {
            assert_eq!(validate(dup), Err(Error::DuplicateMember), "{dup}");
        }
        assert_eq!(validate(r#"{"a\"":1,"a":2,"b\\":{"a":"\"a\""}}"#), Ok(()));
    }

    #[test]
    fn visits_top_level_members_only() {
        let mut seen = Vec::new();
        let doc = br#"{"user_id":"jo\u0068n","exp":12,"n":{"exp":"x"},"s":true,"z":null,"l":[]}"#;
        object_members(doc, |k, v| {
            seen.push((k, v));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 6);
        assert!(seen[0].0.eq_str("user_id"));
        let Value::String(id) = seen[0].1 else { panic!() };
        let mut out = [0u8; 8];
        assert_eq!(id.unescape(&mut out).unwrap(), "john");
        assert_eq!(seen[1].1, Value::Number(b"12"));
        assert_eq!(seen[2].1, Value::Object);
        assert_eq!(seen[3].1, Value::Bool(true));
        assert_eq!(seen[4].1, Value::Null);
        assert_eq!(seen[5].1, Value::Array);
    }

    #[test]
    fn unescape_handles_surrogate_pairs_and_small_buffers() {
        let raw = RawStr(br"\ud83d\ude00\n\u00fc\/");
        let mut out = [0u8; 16];
        assert_eq!(raw.unescape(&mut out).unwrap(), "😀\nü/");
        assert!(raw.eq_str("😀\nü/"));
        assert!(!raw.eq_str("😀\nü"));
        let mut small = [0u8; 3];
        assert_eq!(raw.unescape(&mut small), Err(Error::BufferTooSmall { needed: 8 }));
    }

    #[test]
    fn claim_integers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        for bad in [&b""[..], b"-1", b"1.0", b"1e3", b"-0"] {
            assert_eq!(parse_u64(bad), None);
        }
    }
}
