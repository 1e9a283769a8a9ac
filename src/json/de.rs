//! A serde deserializer for claims the strict reader has already validated, for
//! [`Verifier::verify_as`](crate::Verifier::verify_as).
//!
//! The document is known to be one RFC 8259 object of valid UTF-8, at most
//! [`MAX_DEPTH`](super::read::MAX_DEPTH) deep, without duplicate names, so this reader does
//! not validate again: strings are found eight bytes at a time ([`string_end`]) and handed out
//! as slices of the document (no second UTF-8 check), numbers are read as written. It still
//! never panics or loops on any input: every step reads forward, and a document that is not
//! what it was promised to be (only possible through a bug) ends in [`DeError::Mismatch`].
//!
//! Strings without escapes are borrowed from the document (`&str` fields work); escaped ones
//! are unescaped into the scratch, one at a time, and are visited as transient strings (an
//! owned field, such as `heapless::String`, takes them).

use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::read::RawStr;
use super::string_end;
use crate::Error;

/// Why the claims did not deserialize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeError {
    /// The claims do not fit the type (or the type's own `Deserialize` refused them).
    Mismatch,
    /// An escaped string did not fit the scratch.
    ScratchTooSmall,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mismatch => "claims do not fit the type",
            Self::ScratchTooSmall => "an escaped string does not fit the scratch",
        })
    }
}

impl core::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self::Mismatch
    }
}

/// Deserializes `T` from `doc`, a claims object the strict reader has validated; escaped
/// strings are unescaped into `scratch`.
pub(crate) fn from_validated<'de, T: de::Deserialize<'de>>(doc: &'de str, scratch: &mut [u8]) -> Result<T, DeError> {
    let mut d = Deserializer { doc, pos: 0, scratch };
    let value = T::deserialize(&mut d)?;
    // Only whitespace may follow the object.
    match d.peek() {
        None => Ok(value),
        Some(_) => Err(DeError::Mismatch),
    }
}

struct Deserializer<'de, 'b> {
    doc: &'de str,
    pos: usize,
    /// Where escaped strings are unescaped, one at a time.
    scratch: &'b mut [u8],
}

/// A string value: borrowed from the document, or unescaped into the scratch.
enum Text<'de, 'b> {
    Borrowed(&'de str),
    Unescaped(&'b str),
}

impl<'de> Deserializer<'de, '_> {
    /// The next byte that is not whitespace, where the reader now is.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.doc.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(b);
            }
            self.pos = self.pos.saturating_add(1);
        }
        None
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    /// Steps over `b`, the next byte that is not whitespace, or fails.
    fn expect(&mut self, b: u8) -> Result<(), DeError> {
        if self.peek() == Some(b) {
            self.bump();
            Ok(())
        } else {
            Err(DeError::Mismatch)
        }
    }

    /// Steps over `word` (`true`, `false`, `null`) at the reader's position, or fails.
    fn literal(&mut self, word: &[u8]) -> Result<(), DeError> {
        let end = self.pos.saturating_add(word.len());
        if self.doc.as_bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(DeError::Mismatch)
        }
    }

    /// The string at the reader's position (its opening quote), still escaped. Inlined: a
    /// `RawStr` returned through memory is read back before its fields' stores retire.
    #[inline(always)]
    fn raw_string(&mut self) -> Result<RawStr<'de>, DeError> {
        let bytes = self.doc.as_bytes();
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let rest = bytes.get(self.pos..).unwrap_or_default();
            self.pos = self.pos.saturating_add(string_end(rest).ok_or(DeError::Mismatch)?);
            match bytes.get(self.pos) {
                Some(b'"') => break,
                // An escape: its next byte is never the closing quote (a `\u` escape's hex
                // digits are plain bytes, scanned on).
                Some(b'\\') => {
                    escaped = true;
                    self.pos = self.pos.saturating_add(2);
                }
                _ => return Err(DeError::Mismatch),
            }
        }
        let content = bytes.get(start..self.pos).ok_or(DeError::Mismatch)?;
        self.bump();
        Ok(RawStr { bytes: content, start, escaped })
    }

    /// The string at the reader's position, unescaped (inlined, as [`raw_string`](Self::raw_string)).
    #[inline(always)]
    fn text(&mut self) -> Result<Text<'de, '_>, DeError> {
        let raw = self.raw_string()?;
        if !raw.escaped {
            let end = raw.start.saturating_add(raw.bytes.len());
            return self.doc.get(raw.start..end).map(Text::Borrowed).ok_or(DeError::Mismatch);
        }
        match raw.unescape(self.doc, self.scratch) {
            Ok(s) => Ok(Text::Unescaped(s)),
            Err(Error::BufferTooSmall { .. }) => Err(DeError::ScratchTooSmall),
            Err(_) => Err(DeError::Mismatch),
        }
    }

    /// The number at the reader's position, as written.
    fn number(&mut self) -> &'de str {
        let start = self.pos;
        let rest = self.doc.as_bytes().get(start..).unwrap_or_default();
        let len = rest.iter().position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'));
        self.pos = start.saturating_add(len.unwrap_or(rest.len()));
        self.doc.get(start..self.pos).unwrap_or_default()
    }

    /// The number at the reader's position, visited as an integer (`u64`, or `i64` when
    /// negative) when it is one and fits, else as `f64`. Integers are read in the same pass
    /// that finds their end.
    fn visit_number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, DeError> {
        let start = self.pos;
        let bytes = self.doc.as_bytes();
        let negative = bytes.get(start) == Some(&b'-');
        if negative {
            self.bump();
        }
        let mut value = Some(0u64);
        while let Some(&d) = bytes.get(self.pos).filter(|d| d.is_ascii_digit()) {
            value = value.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(u64::from(d & 0x0f)));
            self.bump();
        }
        if !matches!(bytes.get(self.pos), Some(b'.' | b'e' | b'E')) {
            match (negative, value) {
                (false, Some(n)) => return visitor.visit_u64(n),
                // `-0` is no integer (serde_json reads it as -0.0 too).
                (true, Some(n)) if n > 0 && n <= i64::MIN.unsigned_abs() => {
                    return visitor.visit_i64(0i64.wrapping_sub_unsigned(n));
                }
                _ => {}
            }
        }
        self.pos = start;
        let text = self.number();
        visitor.visit_f64(text.parse::<f64>().map_err(|_| DeError::Mismatch)?)
    }

    /// Steps over one value, however deep, without recursion.
    fn skip_value(&mut self) -> Result<(), DeError> {
        let mut depth = 0usize;
        loop {
            match self.peek().ok_or(DeError::Mismatch)? {
                b'"' => {
                    self.raw_string()?;
                }
                b'{' | b'[' => {
                    self.bump();
                    depth = depth.saturating_add(1);
                    continue;
                }
                b'}' | b']' if depth > 0 => {
                    self.bump();
                    depth = depth.saturating_sub(1);
                }
                b',' | b':' if depth > 0 => {
                    self.bump();
                    continue;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number();
                }
                _ => return Err(DeError::Mismatch),
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.peek().ok_or(DeError::Mismatch)? {
            b'"' => match self.text()? {
                Text::Borrowed(s) => visitor.visit_borrowed_str(s),
                Text::Unescaped(s) => visitor.visit_str(s),
            },
            b'{' => {
                self.bump();
                let value = visitor.visit_map(Items { de: &mut *self, close: b'}', first: true })?;
                self.expect(b'}')?;
                Ok(value)
            }
            b'[' => {
                self.bump();
                let value = visitor.visit_seq(Items { de: &mut *self, close: b']', first: true })?;
                self.expect(b']')?;
                Ok(value)
            }
            b't' => {
                self.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                visitor.visit_unit()
            }
            b'-' | b'0'..=b'9' => self.visit_number(visitor),
            _ => Err(DeError::Mismatch),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.peek() != Some(b'n') {
            return Err(DeError::Mismatch);
        }
        self.literal(b"null")?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    /// Externally tagged, as serde_json writes them: a unit variant as its name, the others
    /// as an object of one member.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.peek() {
            Some(b'"') => match self.text()? {
                Text::Borrowed(s) => visitor.visit_enum(s.into_deserializer()),
                Text::Unescaped(s) => visitor.visit_enum(s.into_deserializer()),
            },
            Some(b'{') => {
                self.bump();
                let value = visitor.visit_enum(Variant { de: &mut *self })?;
                self.expect(b'}')?;
                Ok(value)
            }
            _ => Err(DeError::Mismatch),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        seq tuple tuple_struct map struct identifier
    }
}

/// The members of an object or the elements of an array, after its opening bracket, up to
/// `close`.
struct Items<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
    close: u8,
    first: bool,
}

impl Items<'_, '_, '_> {
    /// Steps to the next item (over its comma); `false` at the closing bracket.
    fn more(&mut self) -> Result<bool, DeError> {
        match self.de.peek() {
            Some(b) if b == self.close => return Ok(false),
            Some(b',') if !self.first => self.de.bump(),
            Some(_) if self.first => {}
            _ => return Err(DeError::Mismatch),
        }
        self.first = false;
        Ok(true)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        if !self.more()? {
            return Ok(None);
        }
        if self.de.peek() != Some(b'"') {
            return Err(DeError::Mismatch);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.de.expect(b':')?;
        seed.deserialize(&mut *self.de)
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        if !self.more()? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

/// The one member of an enum variant's object, after its `{`.
struct Variant<'a, 'de, 'b> {
    de: &'a mut Deserializer<'de, 'b>,
}

impl<'de, 'a, 'b> de::EnumAccess<'de> for Variant<'a, 'de, 'b> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), DeError> {
        if self.de.peek() != Some(b'"') {
            return Err(DeError::Mismatch);
        }
        let tag = seed.deserialize(&mut *self.de)?;
        self.de.expect(b':')?;
        Ok((tag, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        de::Deserialize::deserialize(&mut *self.de)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(&mut *self.de)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(&mut *self.de, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(&mut *self.de, visitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::float_cmp)]
mod tests {
    extern crate std;
    use super::*;
    use serde::Deserialize;
    use std::string::String;
    use std::vec::Vec;

    /// `doc` into `T`, with scratch to spare.
    fn de<'de, T: Deserialize<'de>>(doc: &'de str) -> Result<T, DeError> {
        from_validated(doc, &mut [0u8; 256])
    }

    /// This reader and serde_json agree on `doc` (both succeed with the same value, or both
    /// fail).
    fn agrees<'de, T: Deserialize<'de> + PartialEq + fmt::Debug>(doc: &'de str) -> Option<T> {
        let ours = de::<T>(doc).ok();
        let theirs = serde_json::from_str::<T>(doc).ok();
        assert_eq!(ours, theirs, "{doc}");
        ours
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Unit;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Newtype(u16);

    #[derive(Deserialize, Debug, PartialEq)]
    struct Pair(i8, char);

    #[derive(Deserialize, Debug, PartialEq)]
    enum Kind {
        Plain,
        Wrapped(u8),
        Tuple(u8, bool),
        Named { a: i32 },
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Inner<'a> {
        name: &'a str,
        tags: [u8; 3],
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Every<'a> {
        b: bool,
        i8: i8,
        i16: i16,
        i32: i32,
        i64: i64,
        i128: i128,
        u8: u8,
        u16: u16,
        u32: u32,
        u64: u64,
        u128: u128,
        f32: f32,
        f64: f64,
        c: char,
        s: &'a str,
        bytes: &'a [u8],
        owned: heapless::String<32>,
        none: Option<u8>,
        some: Option<u8>,
        missing: Option<u8>,
        unit: (),
        unit_struct: Unit,
        newtype: Newtype,
        tuple: (u8, &'a str),
        pair: Pair,
        inner: Inner<'a>,
        list: heapless::Vec<u32, 4>,
        map: heapless::LinearMap<heapless::String<8>, i64, 4>,
        kinds: [Kind; 4],
    }

    const EVERY: &str = r#"{"b":true,"i8":-128,"i16":-300,"i32":70000,"i64":-9223372036854775808,
        "i128":-5,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,"u128":7,
        "f32":1.5,"f64":-2.5e-3,"c":"\u00fc","s":"plain","bytes":"raw","owned":"a\"b\n\ud83d\ude00",
        "none":null,"some":0,"unit":null,"unit_struct":null,"newtype":513,"tuple":[1,"x"],
        "pair":[-1,"z"],"inner":{"tags":[1,2,3],"name":"n"},"list":[4,5],"map":{"k":-1,"j":2},
        "kinds":["Plain",{"Wrapped":9},{"Tuple":[1,false]},{"Named":{"a":-7}}],
        "ignored":{"deep":[[{"x":"\"]"}],null,true,-1.0e5]}}"#;

    /// Every kind of value serde has, nested, escaped and ignored, as serde_json reads it.
    #[test]
    fn reads_every_serde_type_as_serde_json_does() {
        let every: Every<'_> = agrees(EVERY).unwrap();
        assert_eq!(every.owned.as_str(), "a\"b\n\u{1f600}");
        assert_eq!(every.c, 'ü');
        assert_eq!(every.i64, i64::MIN);
        assert_eq!(every.kinds[3], Kind::Named { a: -7 });
        // Whitespace wherever the grammar allows it.
        let spaced = EVERY.replace(',', " ,\t").replace(':', "\r: ").replace('[', "[ \n").replace('{', "{ ");
        agrees::<Every<'_>>(&spaced).unwrap();
    }

    /// Numbers: integers that fit their type, floats for float fields, and each refusal.
    #[test]
    fn numbers_fit_their_types_or_are_refused() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct U {
            v: u64,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct I {
            v: i64,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct F {
            v: f64,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct B {
            v: u8,
        }
        for n in [
            "0",
            "7",
            "18446744073709551615",
            "18446744073709551616",
            "-1",
            "-0",
            "1.0",
            "1e3",
            "2E-2",
            "-9223372036854775808",
            "-9223372036854775809",
            "256",
            "255",
        ] {
            let doc = std::format!(r#"{{"v":{n}}}"#);
            agrees::<U>(&doc);
            agrees::<I>(&doc);
            agrees::<F>(&doc);
            agrees::<B>(&doc);
        }
        assert_eq!(de::<U>(r#"{"v":18446744073709551615}"#), Ok(U { v: u64::MAX }));
        assert_eq!(de::<U>(r#"{"v":18446744073709551616}"#), Err(DeError::Mismatch));
        assert_eq!(de::<I>(r#"{"v":-9223372036854775808}"#), Ok(I { v: i64::MIN }));
        assert_eq!(de::<F>(r#"{"v":-0}"#).map(|f| f.v.is_sign_negative()), Ok(true));
        assert_eq!(de::<F>(r#"{"v":18446744073709551616}"#), Ok(F { v: 18_446_744_073_709_551_616.0 }));
        assert_eq!(de::<B>(r#"{"v":256}"#), Err(DeError::Mismatch));
        assert_eq!(de::<U>(r#"{"v":"1"}"#), Err(DeError::Mismatch));
    }

    /// Strings without escapes are borrowed; escaped ones go through the scratch, which a
    /// borrowed field cannot take and a too short scratch is said to be.
    #[test]
    fn escaped_strings_need_an_owned_field_and_room() {
        #[derive(Deserialize, Debug)]
        struct Borrowed<'a> {
            s: &'a str,
        }
        #[derive(Deserialize, Debug)]
        struct Owned {
            s: heapless::String<8>,
        }
        let doc = String::from(r#"{"s":"plain"}"#);
        let b: Borrowed<'_> = de(&doc).unwrap();
        assert!(core::ptr::eq(b.s.as_ptr(), doc[6..].as_ptr()), "borrowed from the document");
        assert_eq!(de::<Borrowed<'_>>(r#"{"s":"a\nb"}"#).unwrap_err(), DeError::Mismatch);
        let escaped = r#"{"s":"a\u0041\/"}"#;
        assert_eq!(de::<Owned>(escaped).unwrap().s.as_str(), "aA/");
        assert_eq!(from_validated::<Owned>(escaped, &mut [0u8; 3]).unwrap().s.as_str(), "aA/");
        assert_eq!(from_validated::<Owned>(escaped, &mut [0u8; 2]).unwrap_err(), DeError::ScratchTooSmall);
        // A string longer than the field's own capacity is the type's refusal.
        assert_eq!(de::<Owned>(r#"{"s":"123456789"}"#).unwrap_err(), DeError::Mismatch);
    }

    /// Shapes that do not fit: wrong kinds, wrong lengths, unknown variants, trailing bytes,
    /// and documents cut anywhere (never a panic).
    #[test]
    fn misfits_are_refused() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct S<'a> {
            a: [u8; 2],
            k: Kind,
            #[serde(borrow)]
            t: Option<(u8, &'a str)>,
        }
        let good = r#"{"a":[1,2],"k":"Plain","t":[3,"x"]}"#;
        agrees::<S<'_>>(good).unwrap();
        for bad in [
            r#"{"a":[1],"k":"Plain"}"#,
            r#"{"a":[1,2,3],"k":"Plain"}"#,
            r#"{"a":{"x":1},"k":"Plain"}"#,
            r#"{"a":[1,2],"k":"Other"}"#,
            r#"{"a":[1,2],"k":{"Wrapped":1,"Plain":null}}"#,
            r#"{"a":[1,2],"k":{"Plain":5}}"#,
            r#"{"a":[1,2],"k":7}"#,
            r#"{"a":[1,2],"k":"Plain","t":[3]}"#,
            r#"{"a":[1,2],"k":"Plain","t":"x"}"#,
            r#"[1,2]"#,
            r#"{"a":[1,2],"k":"Plain"} x"#,
            // Commas where the grammar has none, and none where it has one.
            r#"{"a":[,1,2],"k":"Plain"}"#,
            r#"{,"a":[1,2],"k":"Plain"}"#,
            r#"{"a":[1 2],"k":"Plain"}"#,
            r#"{"a":[1,2] "k":"Plain"}"#,
        ] {
            assert_eq!(agrees::<S<'_>>(bad), None, "{bad}");
        }
        for end in 0..good.len() {
            assert!(de::<S<'_>>(&good[..end]).is_err(), "{}", &good[..end]);
        }
        let padded = std::format!(" {good} \n");
        agrees::<S<'_>>(&padded).unwrap();
    }

    /// Unknown members are stepped over whatever they hold, and the members after them read.
    #[test]
    fn unknown_members_are_skipped_whole() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Last {
            last: u8,
        }
        for value in ["1", "-2.5e1", "true", "false", "null", r#""a\"]}""#, "[]", "{}", r#"[{"a":[1,{"b":"]"}]},[]]"#] {
            let doc = std::format!(r#"{{"skip":{value},"last":5}}"#);
            assert_eq!(de::<Last>(&doc), Ok(Last { last: 5 }), "{doc}");
        }
        let values: Vec<u8> = de::<heapless::Vec<u8, 3>>("[1,2,3]").unwrap().into_iter().collect();
        assert_eq!(values, [1, 2, 3]);
    }
}
