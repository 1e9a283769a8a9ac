//! A strict JSON reader for headers and claims.
//!
//! It validates the whole document against RFC 8259 (one object, nothing after it, no BOM, no
//! comments, no single quotes, numbers and escapes by the grammar, no lone surrogates), bounds
//! nesting at [`MAX_DEPTH`], rejects duplicate member names in every object (compared after
//! unescaping), and hands the top-level members to a visitor. The input must already be valid
//! UTF-8. Recursion is bounded by `MAX_DEPTH`; nothing here can panic or loop without end.
//!
//! Work is linear in the document's length on every input, hostile ones included: each byte is
//! read a bounded number of times. Duplicate names are found with one fixed table of
//! [`MAX_MEMBERS`] four-byte entries (a 16-bit hash of each unescaped name and where the name
//! is: 128 bytes of stack), shared by the objects open at a time: a nested object's members go after its parent's and are dropped
//! when it closes. A new name is hashed once and checked against its own object's entries;
//! names are compared byte for byte only when the hashes are equal, and the cap bounds that
//! work even for names crafted to collide.

use crate::Error;
use crate::error::Segment;

/// Deepest nesting of objects and arrays accepted, the top-level object counting as 1.
pub const MAX_DEPTH: usize = 16;

/// Most members an object and the objects that enclose it may have together. Stream's tokens
/// have at most six; the cap keeps the duplicate check's table small and its work bounded.
pub const MAX_MEMBERS: usize = 32;

/// The longest document read: name positions are 16-bit. A token's segments decode to at
/// most 3,072 bytes.
const MAX_DOC_LEN: usize = u16::MAX as usize;

/// Errors are made as of the payload and said of the right segment by [`object_members`].
const INVALID: Error = Error::InvalidJson { segment: Segment::Payload };
const TOO_DEEP: Error = Error::JsonTooDeep { segment: Segment::Payload };

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
        if self.escaped { unescape(self.bytes).eq(s.bytes()) } else { self.bytes == s.as_bytes() }
    }

    fn eq_raw(self, other: RawStr<'_>) -> bool {
        match (self.escaped, other.escaped) {
            (false, false) => self.bytes == other.bytes,
            _ => unescape(self.bytes).eq(unescape(other.bytes)),
        }
    }

    /// A hash of the unescaped name, equal for equal names however they are escaped. Only
    /// speed depends on it (equal hashes are compared exactly, and [`MAX_MEMBERS`] bounds
    /// that work): on 64-bit targets a mix of every byte ([`mixed_hash`](Self::mixed_hash));
    /// on smaller ones the unescaped length, which costs no code beyond the unescaper
    /// (flash), while names of equal length are compared byte for byte.
    fn hash(self) -> u16 {
        #[cfg(target_pointer_width = "64")]
        return self.mixed_hash();
        #[cfg(not(target_pointer_width = "64"))]
        return self.length_hash();
    }

    /// The unescaped length (documents are at most `u16::MAX` bytes).
    #[cfg_attr(not(any(not(target_pointer_width = "64"), test)), allow(dead_code))]
    fn length_hash(self) -> u16 {
        let len = if self.escaped { unescape(self.bytes).count() } else { self.bytes.len() };
        u16::try_from(len).unwrap_or(u16::MAX)
    }

    /// The unescaped bytes mixed eight at a time (little-endian, the last word zero-padded),
    /// then the length.
    #[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
    fn mixed_hash(self) -> u16 {
        let mut h = NameHash::default();
        if self.escaped {
            unescape(self.bytes).for_each(|b| h.byte(b));
            return h.finish();
        }
        let (words, tail) = self.bytes.as_chunks::<8>();
        for w in words {
            h.word(u64::from_le_bytes(*w));
        }
        tail.iter().for_each(|&b| h.byte(b));
        h.finish()
    }

    /// The unescaped string: a slice of `doc` (the validated document this string came from)
    /// when there is nothing to unescape, else written to `out`.
    pub(crate) fn unescape<'b>(self, doc: &'b str, out: &'b mut [u8]) -> Result<&'b str, Error>
    where
        'a: 'b,
    {
        if !self.escaped {
            let end = self.start.saturating_add(self.bytes.len());
            return doc.get(self.start..end).ok_or(INVALID);
        }
        let mut n = 0usize;
        for b in unescape(self.bytes) {
            let slot = out.get_mut(n).ok_or(Error::BufferTooSmall { needed: unescape(self.bytes).count() })?;
            *slot = b;
            n = n.saturating_add(1);
        }
        core::str::from_utf8(out.get(..n).unwrap_or_default())
            .map_err(|_| Error::InvalidUtf8 { segment: Segment::Payload })
    }
}

/// The name hash: a multiply-rotate mix per 64-bit word, folded to 16 bits. Not keyed; equal
/// hashes only lead to an exact comparison (about one pair in 65,536 of different names), so
/// a collision, crafted or not, costs time bounded by [`MAX_MEMBERS`], never a wrong answer.
#[derive(Default)]
#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
struct NameHash {
    h: u64,
    word: u64,
    /// Bytes taken so far.
    len: u64,
}

#[cfg_attr(not(any(target_pointer_width = "64", test)), allow(dead_code))]
impl NameHash {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(Self::K).rotate_left(29);
    }

    fn word(&mut self, w: u64) {
        self.mix(w);
        self.len = self.len.wrapping_add(8);
    }

    fn byte(&mut self, b: u8) {
        self.word |= u64::from(b) << ((self.len & 7) << 3);
        self.len = self.len.wrapping_add(1);
        if self.len & 7 == 0 {
            let w = core::mem::take(&mut self.word);
            self.mix(w);
        }
    }

    fn finish(mut self) -> u16 {
        if self.len & 7 != 0 {
            let w = self.word;
            self.mix(w);
        }
        let h = (self.h ^ self.len).wrapping_mul(Self::K);
        // The top bits mix every input bit.
        let [a, b, ..] = h.to_be_bytes();
        u16::from_be_bytes([a, b])
    }
}

/// The unescaped bytes of validated string content. Never more than the raw bytes (each
/// escape is longer than what it stands for), and bounded by them, so no loop over it can run
/// past the string whatever the iterator yields.
fn unescape(raw: &[u8]) -> core::iter::Take<Unescaped<'_>> {
    Unescaped::new(raw).take(raw.len())
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

/// Validates `doc` (the decoded `segment`) as exactly one JSON object and calls `visit` with
/// each top-level member. Errors of the document's own are said of `segment`; the visitor's
/// pass through as they are.
pub(crate) fn object_members<'a>(
    doc: &'a [u8],
    segment: Segment,
    visit: impl FnMut(RawStr<'a>, Value<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    document(doc, &mut TopLevel(visit)).map_err(|e| e.in_segment(segment))
}

/// `doc` as exactly one object, with surrounding whitespace only.
/// The visitor is dynamic: one copy of the reader serves the header, the claims and nested
/// objects (flash, on small targets), for one indirect call per member.
fn document<'a>(doc: &'a [u8], visit: &mut dyn Visit<'a>) -> Result<(), Error> {
    if doc.len() > MAX_DOC_LEN {
        return Err(INVALID);
    }
    let mut p = Parser { s: doc, pos: 0 };
    p.ws();
    if p.peek() != Some(b'{') {
        return Err(INVALID);
    }
    // A constant, built in place (an array expression here was built and then copied, and
    // both were on the stack).
    let mut names = Names::EMPTY;
    p.object(1, &mut names, visit)?;
    p.ws();
    if p.pos == doc.len() { Ok(()) } else { Err(INVALID) }
}

/// A member name seen in an object still open: its hash and where its opening quote is.
#[derive(Clone, Copy, Default)]
struct Seen {
    hash: u16,
    quote: u16,
}

/// The names of the open objects' members, outermost object first.
struct Names {
    seen: [Seen; MAX_MEMBERS],
    /// How many entries of `seen` are in use.
    live: usize,
}

impl Names {
    const EMPTY: Self = Self { seen: [Seen { hash: 0, quote: 0 }; MAX_MEMBERS], live: 0 };
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
            Err(INVALID)
        }
    }

    /// Skips bytes while `skip` holds; returns how many.
    fn skip_while(&mut self, skip: impl Fn(u8) -> bool) -> usize {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        let n = rest.iter().position(|&b| !skip(b)).unwrap_or(rest.len());
        self.pos = self.pos.saturating_add(n);
        n
    }

    fn ws(&mut self) {
        self.skip_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    }

    fn value(&mut self, depth: usize, names: &mut Names) -> Result<Value<'a>, Error> {
        match self.peek().ok_or(INVALID)? {
            b'{' => self.object(depth.saturating_add(1), names, &mut Ignore).map(|()| Value::Object),
            b'[' => self.array(depth.saturating_add(1), names).map(|()| Value::Array),
            b'"' => self.string().map(Value::String),
            b't' => self.literal(b"true").map(|()| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => Err(INVALID),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        let end = self.pos.saturating_add(word.len());
        if self.s.get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(INVALID)
        }
    }

    fn digits(&mut self) -> usize {
        self.skip_while(|b| b.is_ascii_digit())
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
            _ => return Err(INVALID),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if self.digits() == 0 {
                return Err(INVALID);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(INVALID);
            }
        }
        self.s.get(start..self.pos).ok_or(INVALID)
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let (digits, _) = self.s.get(self.pos..).and_then(<[u8]>::split_first_chunk::<4>).ok_or(INVALID)?;
        self.pos = self.pos.saturating_add(4);
        hex4(digits).ok_or(INVALID)
    }

    /// A string; returns its content between the quotes, still escaped.
    fn string(&mut self) -> Result<RawStr<'a>, Error> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Skip the plain run in one tight loop; stop at a quote, backslash or control byte.
            let rest = self.s.get(self.pos..).unwrap_or_default();
            let run = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).ok_or(INVALID)?;
            self.pos = self.pos.saturating_add(run);
            let b = self.peek().ok_or(INVALID)?;
            self.bump();
            match b {
                b'"' => break,
                0x00..=0x1f => return Err(INVALID),
                b'\\' => {
                    escaped = true;
                    let e = self.peek().ok_or(INVALID)?;
                    self.bump();
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let cp = self.hex4()?;
                            if (0xdc00..0xe000).contains(&cp) {
                                return Err(INVALID); // lone low surrogate
                            }
                            if (0xd800..0xdc00).contains(&cp) {
                                self.literal(b"\\u")?;
                                if !(0xdc00..0xe000).contains(&self.hex4()?) {
                                    return Err(INVALID); // lone high surrogate
                                }
                            }
                        }
                        _ => return Err(INVALID),
                    }
                }
                _ => {}
            }
        }
        let end = self.pos.saturating_sub(1);
        let bytes = self.s.get(start..end).ok_or(INVALID)?;
        Ok(RawStr { bytes, start, escaped })
    }

    fn array(&mut self, depth: usize, names: &mut Names) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP);
        }
        self.eat(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth, names)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(());
                }
                _ => return Err(INVALID),
            }
        }
    }

    fn object(&mut self, depth: usize, names: &mut Names, visit: &mut dyn Visit<'a>) -> Result<(), Error> {
        if depth > MAX_DEPTH {
            return Err(TOO_DEEP);
        }
        self.eat(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(());
        }
        // This object's names are `seen[first..]`; the entries below are its parents'.
        let first = names.live;
        let result = self.members(depth, names, first, visit);
        names.live = first;
        result
    }

    #[inline(always)] // one frame per nesting level, not two
    fn members(
        &mut self,
        depth: usize,
        names: &mut Names,
        first: usize,
        visit: &mut dyn Visit<'a>,
    ) -> Result<(), Error> {
        loop {
            self.ws();
            let quote = self.pos;
            let key = self.string()?;
            names.remember(self.s, first, quote, key)?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = self.value(depth, names)?;
            visit.member(key, value)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(());
                }
                _ => return Err(INVALID),
            }
        }
    }
}

impl Names {
    /// Adds `key` (whose opening quote is at `quote` in `doc`) to the names of the object
    /// whose entries start at `first`, or fails if that object has it already or the table
    /// is full.
    fn remember(&mut self, doc: &[u8], first: usize, quote: usize, key: RawStr<'_>) -> Result<(), Error> {
        let hash = key.hash();
        let ours = self.seen.get(first..self.live).unwrap_or_default();
        for earlier in ours.iter().filter(|e| e.hash == hash) {
            // Validated already, so this string parses again, to the same name it was.
            let mut again = Parser { s: doc, pos: usize::from(earlier.quote) };
            if again.string().is_ok_and(|name| name.eq_raw(key)) {
                return Err(Error::DuplicateMember { segment: Segment::Payload });
            }
        }
        let quote = u16::try_from(quote).map_err(|_| INVALID)?;
        let slot = self.seen.get_mut(self.live).ok_or(Error::TooManyMembers { segment: Segment::Payload })?;
        *slot = Seen { hash, quote };
        self.live = self.live.saturating_add(1);
        Ok(())
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
        object_members(doc.as_bytes(), Segment::Payload, |_, _| Ok(()))
    }

    const DUP: Error = Error::DuplicateMember { segment: Segment::Payload };
    const MANY: Error = Error::TooManyMembers { segment: Segment::Payload };

    /// Two distinct short names whose 16-bit hashes are equal.
    fn colliding_names() -> (std::string::String, std::string::String) {
        let mut by_hash = std::collections::HashMap::new();
        for i in 0.. {
            let name = std::format!("n{i}");
            let hash = RawStr { bytes: name.as_bytes(), start: 0, escaped: false }.hash();
            if let Some(other) = by_hash.insert(hash, name.clone()) {
                return (other, name);
            }
        }
        unreachable!()
    }

    #[test]
    fn distinct_names_with_equal_hashes_are_not_duplicates() {
        let (a, b) = colliding_names();
        assert_ne!(a, b);
        assert_eq!(validate(&std::format!(r#"{{"{a}":1,"{b}":2}}"#)), Ok(()));
        assert_eq!(validate(&std::format!(r#"{{"{a}":1,"{b}":2,"{b}":3}}"#)), Err(DUP));
        // Escaped on one side: compared after unescaping, still distinct.
        let escaped_b = b.replace('n', "\\u006e");
        assert_eq!(validate(&std::format!(r#"{{"{a}":1,"{escaped_b}":2}}"#)), Ok(()));
        assert_eq!(validate(&std::format!(r#"{{"{b}":1,"{escaped_b}":2}}"#)), Err(DUP));
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
        assert_eq!(validate(&nested(MAX_DEPTH + 1)), Err(TOO_DEEP));
        // Hostile depth does not recurse past the bound (the deepest document under the
        // length limit), and a longer one is refused before it is read at all.
        assert_eq!(validate(&nested(32_000)), Err(TOO_DEEP));
        assert_eq!(validate(&nested(100_000)), Err(INVALID));
        // Objects count as well as arrays, and the error is said of the segment asked for.
        let objects = |n: usize| std::format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
        assert_eq!(validate(&objects(MAX_DEPTH)), Ok(()));
        assert_eq!(
            object_members(objects(MAX_DEPTH + 1).as_bytes(), Segment::Header, |_, _| Ok(())),
            Err(Error::JsonTooDeep { segment: Segment::Header })
        );
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
            assert_eq!(validate(dup), Err(DUP), "{dup}");
        }
        assert_eq!(validate(r#"{"a\"":1,"a":2,"b\\":{"a":"\"a\""}}"#), Ok(()));
    }

    /// A duplicate is found wherever the two names stand (first, middle, last, next to each
    /// other or far apart) and however long they are (across the eight-byte words of the hash).
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn duplicates_are_found_at_every_position() {
        for len in [1, 7, 8, 9, 16, 17] {
            let names: Vec<std::string::String> = (0..6).map(|i| std::format!("{i}{}", "x".repeat(len - 1))).collect();
            for i in 0..names.len() {
                for j in 0..names.len() {
                    let mut members: Vec<std::string::String> =
                        names.iter().map(|n| std::format!("\"{n}\":0")).collect();
                    let doc = std::format!("{{{}}}", members.join(","));
                    assert_eq!(validate(&doc), Ok(()), "{doc}");
                    if i == j {
                        continue;
                    }
                    // Name j becomes name i, written with its first byte escaped.
                    let escaped = std::format!("\\u{:04x}{}", u32::from(names[i].as_bytes()[0]), &names[i][1..]);
                    members[j] = std::format!("\"{escaped}\":{{\"k\":[1]}}");
                    let doc = std::format!("{{{}}}", members.join(","));
                    assert_eq!(validate(&doc), Err(DUP), "{doc}");
                    // The same, one level down.
                    let nested = std::format!(r#"{{"outer":{doc},"n":1}}"#);
                    assert_eq!(validate(&nested), Err(DUP), "{nested}");
                }
            }
        }
    }

    /// Each object's names are its own: the same name in a parent and a child, in siblings, or
    /// in objects inside an array is no duplicate; and names of a closed object are dropped.
    #[test]
    fn names_are_scoped_to_their_object() {
        for ok in [
            r#"{"a":{"a":{"a":1}},"b":{"a":2}}"#,
            r#"{"l":[{"a":1,"b":2},{"a":1,"b":2},{"b":3,"a":4}],"a":0}"#,
            r#"{"x":{"y":1},"y":{"x":1},"z":{"x":{"y":{}}}}"#,
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        // After a nested object closes, its parent still sees its own earlier names.
        assert_eq!(validate(r#"{"a":1,"n":{"b":1,"c":{"d":1}},"a":2}"#), Err(DUP));
        assert_eq!(validate(r#"{"a":1,"n":[{"b":1},{"b":1,"b":2}]}"#), Err(DUP));
    }

    /// Name positions are 16-bit, so longer documents (no token decodes to one) are refused.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn document_length_limit() {
        let doc = |n: usize| std::format!(r#"{{"a":"{}"}}"#, "x".repeat(n - 8));
        assert_eq!(doc(MAX_DOC_LEN).len(), MAX_DOC_LEN);
        assert_eq!(validate(&doc(MAX_DOC_LEN)), Ok(()));
        assert_eq!(validate(&doc(MAX_DOC_LEN + 1)), Err(INVALID));
    }

    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn member_cap() {
        let object = |n: usize| {
            let members: Vec<std::string::String> = (0..n).map(|i| std::format!("\"m{i}\":{i}")).collect();
            std::format!("{{{}}}", members.join(","))
        };
        assert_eq!(validate(&object(MAX_MEMBERS)), Ok(()));
        assert_eq!(validate(&object(MAX_MEMBERS + 1)), Err(MANY));
        // The cap counts the open objects together: a parent with 31 members and a child with
        // two is one too many, while many small objects one after another are fine.
        let parent = |child: usize| {
            let mut members: Vec<std::string::String> =
                (0..MAX_MEMBERS - 2).map(|i| std::format!("\"p{i}\":0")).collect();
            members.push(std::format!("\"child\":{}", object(child)));
            std::format!("{{{}}}", members.join(","))
        };
        assert_eq!(validate(&parent(1)), Ok(()));
        assert_eq!(validate(&parent(2)), Err(MANY));
        let many_small: Vec<std::string::String> = (0..200).map(|_| object(MAX_MEMBERS - 1)).collect();
        assert_eq!(validate(&std::format!(r#"{{"l":[{}]}}"#, many_small.join(","))), Ok(()));
    }

    /// Different names spread over the 16-bit hashes (only speed depends on it: equal hashes
    /// are compared exactly): 1,000 names give about 992 distinct hashes when uniform.
    #[test]
    #[cfg_attr(miri, ignore = "exhaustive; runs in every ordinary cargo test")]
    fn name_hash_spreads_names() {
        // Short names, names of exactly 7 bytes (one partial word), and long ones.
        let mut names: Vec<std::string::String> = (0..300).map(|i| std::format!("m{i}")).collect();
        names.extend((0..300).map(|i| std::format!("k{i:06}")));
        names.extend((0..400).map(|i| std::format!("member_name_{i:05}_x")));
        let mut hashes: Vec<u16> =
            names.iter().map(|n| RawStr { bytes: n.as_bytes(), start: 0, escaped: false }.mixed_hash()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert!(hashes.len() >= 985, "{} distinct", hashes.len());
    }

    /// Equal names hash alike however they are escaped, with both hashes; the mixed hash
    /// reads every byte.
    #[test]
    fn name_hash_ignores_escaping() {
        let raw = |bytes: &'static [u8]| RawStr { bytes, start: 0, escaped: bytes.contains(&b'\\') };
        for (plain, escaped) in [
            (&b"user_id"[..], &br"\u0075ser_id"[..]),
            (b"abcdefgh-abcdefgh", br"abcdefgh\u002dabcdefgh"),
            ("é\"".as_bytes(), br#"\u00e9\""#),
            ("\u{1F600}".as_bytes(), br"\ud83d\ude00"),
        ] {
            assert_eq!(raw(plain).length_hash(), raw(escaped).length_hash(), "{plain:?}");
            assert_eq!(usize::from(raw(plain).length_hash()), plain.len());
            assert_eq!(raw(plain).mixed_hash(), raw(escaped).mixed_hash(), "{plain:?}");
        }
        assert_ne!(raw(b"abcdefgh").mixed_hash(), raw(b"abcdefgi").mixed_hash());
        assert_ne!(raw(b"a").mixed_hash(), raw(b"a\x00".as_slice()).mixed_hash());
        assert_ne!(raw(b"").mixed_hash(), raw(b"\x00".as_slice()).mixed_hash());
        assert_ne!(raw(b"a").length_hash(), raw(b"a\x00".as_slice()).length_hash());
    }

    #[test]
    fn visits_top_level_members_only() {
        let mut seen = Vec::new();
        let doc = br#"{"user_id":"jo\u0068n","exp":12,"n":{"exp":"x"},"s":true,"z":null,"l":[]}"#;
        object_members(doc, Segment::Payload, |k, v| {
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
