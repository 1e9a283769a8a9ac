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
    /// A string, still escaped.
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
pub(crate) struct RawStr<'a> {
    pub(crate) bytes: &'a [u8],
    /// Offset of the content in the document.
    pub(crate) start: usize,
    /// Whether the content has any `\` escape.
    pub(crate) escaped: bool,
}

impl<'a> RawStr<'a> {
    /// Whether the unescaped string equals `s`.
    pub(crate) fn eq_str(self, s: &str) -> bool {
        if self.escaped { Unescaped::new(self.bytes).eq(s.bytes()) } else { self.bytes == s.as_bytes() }
    }

    fn eq_raw(self, other: RawStr<'_>) -> bool {
        match (self.escaped, other.escaped) {
            (false, false) => self.bytes == other.bytes,
            _ => Unescaped::new(self.bytes).eq(Unescaped::new(other.bytes)),
        }
    }

    /// A cheap hash of the unescaped bytes (length, first and last byte) for the duplicate
    /// filter: equal keys always hash alike, whatever their escaping.
    fn hash(self) -> u32 {
        let (len, first, last) = if self.escaped {
            Unescaped::new(self.bytes).fold((0u32, None, 0u8), |(n, f, _), b| (n.wrapping_add(1), f.or(Some(b)), b))
        } else {
            let n = u32::try_from(self.bytes.len()).unwrap_or(u32::MAX);
            (n, self.bytes.first().copied(), self.bytes.last().copied().unwrap_or(0))
        };
        let h = len
            .wrapping_mul(31)
            .wrapping_add(u32::from(first.unwrap_or(0)).wrapping_mul(7))
            .wrapping_add(u32::from(last));
        // Fibonacci hashing: the top bits mix all of the above.
        h.wrapping_mul(0x9e37_79b9)
    }

    /// The unescaped string: a slice of `doc` (the validated document this string came from)
    /// when there is nothing to unescape, else written to `out`.
    pub(crate) fn unescape<'b>(self, doc: &'b str, out: &'b mut [u8]) -> Result<&'b str, Error>
    where
        'a: 'b,
    {
        if !self.escaped {
            let end = self.start.saturating_add(self.bytes.len());
            return doc.get(self.start..end).ok_or(Error::InvalidJson);
        }
        let mut n = 0usize;
        for b in Unescaped::new(self.bytes) {
            let slot = out.get_mut(n).ok_or(Error::BufferTooSmall { needed: Unescaped::new(self.bytes).count() })?;
            *slot = b;
            n = n.saturating_add(1);
        }
        core::str::from_utf8(out.get(..n).unwrap_or_default()).map_err(|_| Error::InvalidUtf8)
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
        hex4(digits)
    }
}

fn hex4(digits: &[u8; 4]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| Some((acc << 4) | char::from(d).to_digit(16)?))
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

/// What an object does with its members: the top level visits them, nested objects don't.
trait Visit<'a> {
    fn member(&mut self, key: RawStr<'a>, value: Value<'a>) -> Result<(), Error>;
}

struct Ignore;

impl<'a> Visit<'a> for Ignore {
    fn member(&mut self, _: RawStr<'a>, _: Value<'a>) -> Result<(), Error> {
        Ok(())
    }
}

struct TopLevel<F>(F);

impl<'a, F: FnMut(RawStr<'a>, Value<'a>) -> Result<(), Error>> Visit<'a> for TopLevel<F> {
    fn member(&mut self, key: RawStr<'a>, value: Value<'a>) -> Result<(), Error> {
        (self.0)(key, value)
    }
}

/// Validates `doc` as exactly one JSON object and calls `visit` with each top-level member.
pub(crate) fn object_members<'a>(
    doc: &'a [u8],
    visit: impl FnMut(RawStr<'a>, Value<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut p = Parser { s: doc, pos: 0 };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(Error::InvalidJson);
    }
    p.object(1, &mut TopLevel(visit))?;
    p.ws();
    if p.pos == doc.len() { Ok(()) } else { Err(Error::InvalidJson) }
}

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
            b'{' => self.object(depth.saturating_add(1), &mut Ignore).map(|()| Value::Object),
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
        let (digits, _) = self.s.get(self.pos..).and_then(<[u8]>::split_first_chunk::<4>).ok_or(Error::InvalidJson)?;
        self.pos = self.pos.saturating_add(4);
        hex4(digits).ok_or(Error::InvalidJson)
    }

    /// A string; returns its content between the quotes, still escaped.
    fn string(&mut self) -> Result<RawStr<'a>, Error> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Skip the plain run in one tight loop; stop at a quote, backslash or control byte.
            let rest = self.s.get(self.pos..).unwrap_or_default();
            let run = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).ok_or(Error::InvalidJson)?;
            self.pos = self.pos.saturating_add(run);
            let b = self.peek().ok_or(Error::InvalidJson)?;
            self.bump();
            match b {
                b'"' => break,
                0x00..=0x1f => return Err(Error::InvalidJson),
                b'\\' => {
                    escaped = true;
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
        let bytes = self.s.get(start..end).ok_or(Error::InvalidJson)?;
        Ok(RawStr { bytes, start, escaped })
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

    fn object<V: Visit<'a>>(&mut self, depth: usize, visit: &mut V) -> Result<(), Error> {
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
        // One bit per key hash: a duplicate is only possible when its bit is already set,
        // and only then are the earlier keys compared.
        let mut seen = 0u64;
        loop {
            self.ws();
            let key_start = self.pos;
            let key = self.string()?;
            let bit = 1u64 << (key.hash() >> 26);
            if seen & bit != 0 && has_key_before(self.s.get(members_start..key_start).unwrap_or_default(), key) {
                return Err(Error::DuplicateMember);
            }
            seen |= bit;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = self.value(depth)?;
            visit.member(key, value)?;
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
/// Rescanning keeps the reader free of per-object storage; the bloom filter in
/// [`Parser::object`] makes it rare, and the token length cap bounds it.
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
        let doc = core::str::from_utf8(doc).unwrap();
        assert_eq!(id.unescape(doc, &mut out).unwrap(), "john");
        assert!(id.escaped);
        assert_eq!(seen[1].1, Value::Number(b"12"));
        assert_eq!(seen[2].1, Value::Object);
        assert_eq!(seen[3].1, Value::Bool(true));
        assert_eq!(seen[4].1, Value::Null);
        assert_eq!(seen[5].1, Value::Array);
    }

    #[test]
    fn unescape_handles_surrogate_pairs_and_small_buffers() {
        let raw = RawStr { bytes: br"\ud83d\ude00\n\u00fc\/", start: 0, escaped: true };
        let mut out = [0u8; 16];
        assert_eq!(raw.unescape("", &mut out).unwrap(), "😀\nü/");
        assert!(raw.eq_str("😀\nü/"));
        assert!(!raw.eq_str("😀\nü"));
        let mut small = [0u8; 3];
        assert_eq!(raw.unescape("", &mut small), Err(Error::BufferTooSmall { needed: 8 }));
        let doc = r#"{"k":"plain"}"#;
        let plain = RawStr { bytes: b"plain", start: 6, escaped: false };
        assert_eq!(plain.unescape(doc, &mut small).unwrap(), "plain");
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
