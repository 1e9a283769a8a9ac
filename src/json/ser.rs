//! A `serde::Serializer` writing compact JSON the way `JSON.stringify` does, into a [`Sink`].
//!
//! `serde-json-core`'s serializer escapes control characters with uppercase hex, which would
//! make custom-claims tokens differ from Stream's JS SDK; this one shares the user-token writer.
//! Structs and maps keep their field order; `None` and unit are `null`; non-finite floats are
//! `null` (as in JavaScript); enums use serde's external tagging, like `serde_json`.

use core::fmt;

use serde::ser::{self, Serialize};

use super::write::{self, Sink};

/// Why custom claims could not be written.
#[derive(Debug)]
pub(crate) struct SerError;

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("claims cannot be serialized as json")
    }
}

impl core::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Self
    }
}

/// Writes `value` as JSON into `out`.
pub(crate) fn to_sink<S: Sink, T: Serialize + ?Sized>(out: &mut S, value: &T) -> Result<(), SerError> {
    value.serialize(&mut Json { out })
}

struct Json<'s, S> {
    out: &'s mut S,
}

/// Adapter so floats can use `core::fmt`'s shortest round-trip formatting.
struct FmtSink<'a, S>(&'a mut S);

impl<S: Sink> fmt::Write for FmtSink<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

/// Adapter escaping `Display` output as JSON string contents, for `collect_str`.
struct EscapeSink<'a, S>(&'a mut S);

impl<S: Sink> fmt::Write for EscapeSink<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write::string_contents(self.0, s);
        Ok(())
    }
}

fn display_string<S: Sink, T: fmt::Display + ?Sized>(out: &mut S, value: &T) -> Result<(), SerError> {
    out.put(b"\"");
    fmt::write(&mut EscapeSink(&mut *out), format_args!("{value}")).map_err(|_| SerError)?;
    out.put(b"\"");
    Ok(())
}

impl<S: Sink> Json<'_, S> {
    fn float(&mut self, v: f64, is_f32: bool) -> Result<(), SerError> {
        if !v.is_finite() {
            self.out.put(b"null");
            return Ok(());
        }
        let mut w = FmtSink(&mut *self.out);
        // `{}` prints the shortest text that reads back as the same value, without exponent.
        #[allow(clippy::cast_possible_truncation)] // the value came from an f32
        let r = if is_f32 {
            fmt::write(&mut w, format_args!("{}", v as f32))
        } else {
            fmt::write(&mut w, format_args!("{v}"))
        };
        r.map_err(|_| SerError)
    }

    fn open_tagged(&mut self, variant: &str) {
        self.out.put(b"{");
        write::string(self.out, variant);
        self.out.put(b":");
    }
}

/// State of a compound value: its closing bracket and whether a comma is due.
struct Compound<'a, 's, S> {
    json: &'a mut Json<'s, S>,
    first: bool,
    close: &'static [u8],
}

impl<S: Sink> Compound<'_, '_, S> {
    fn comma(&mut self) {
        if !self.first {
            self.json.out.put(b",");
        }
        self.first = false;
    }

    fn member<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), SerError> {
        self.comma();
        write::string(self.json.out, key);
        self.json.out.put(b":");
        value.serialize(&mut *self.json)
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.comma();
        value.serialize(&mut *self.json)
    }

    fn close(self) -> Result<(), SerError> {
        self.json.out.put(self.close);
        Ok(())
    }
}

impl<'a, 's, S: Sink> ser::Serializer for &'a mut Json<'s, S> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Compound<'a, 's, S>;
    type SerializeTuple = Compound<'a, 's, S>;
    type SerializeTupleStruct = Compound<'a, 's, S>;
    type SerializeTupleVariant = Compound<'a, 's, S>;
    type SerializeMap = Compound<'a, 's, S>;
    type SerializeStruct = Compound<'a, 's, S>;
    type SerializeStructVariant = Compound<'a, 's, S>;

    fn serialize_bool(self, v: bool) -> Result<(), SerError> {
        self.out.put(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), SerError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), SerError> {
        if v < 0 {
            self.out.put(b"-");
        }
        write::unsigned64(self.out, v.unsigned_abs());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), SerError> {
        write::signed(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), SerError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), SerError> {
        write::unsigned64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), SerError> {
        write::unsigned(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), SerError> {
        self.float(v.into(), true)
    }
    fn serialize_f64(self, v: f64) -> Result<(), SerError> {
        self.float(v, false)
    }
    fn serialize_char(self, v: char) -> Result<(), SerError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), SerError> {
        write::string(self.out, v);
        Ok(())
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), SerError> {
        display_string(self.out, value)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), SerError> {
        // Like serde_json: an array of numbers.
        let mut seq = ser::Serializer::serialize_seq(self, Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), SerError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), SerError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), SerError> {
        self.out.put(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), SerError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), SerError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), SerError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.open_tagged(variant);
        value.serialize(&mut *self)?;
        self.out.put(b"}");
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        self.out.put(b"[");
        Ok(Compound { json: self, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        self.open_tagged(variant);
        self.out.put(b"[");
        Ok(Compound { json: self, first: true, close: b"]}" })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        self.out.put(b"{");
        Ok(Compound { json: self, first: true, close: b"}" })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeStruct, SerError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        self.open_tagged(variant);
        self.out.put(b"{");
        Ok(Compound { json: self, first: true, close: b"}}" })
    }
}

/// The compound-value traits all forward to [`Compound`]'s element, member and close.
macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<S: Sink> ser::$trait for Compound<'_, '_, S> {
            type Ok = ();
            type Error = SerError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
                self.element(value)
            }
            fn end(self) -> Result<(), SerError> {
                self.close()
            }
        }
    };
    ($trait:ident, $method:ident, named) => {
        impl<S: Sink> ser::$trait for Compound<'_, '_, S> {
            type Ok = ();
            type Error = SerError;
            fn $method<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), SerError> {
                self.member(key, value)
            }
            fn end(self) -> Result<(), SerError> {
                self.close()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);
compound!(SerializeStruct, serialize_field, named);
compound!(SerializeStructVariant, serialize_field, named);

impl<S: Sink> ser::SerializeMap for Compound<'_, '_, S> {
    type Ok = ();
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        self.comma();
        key.serialize(KeySer { out: &mut *self.json.out })?;
        self.json.out.put(b":");
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        value.serialize(&mut *self.json)
    }
    fn end(self) -> Result<(), SerError> {
        self.close()
    }
}

/// Map keys: strings and chars only (JSON member names are strings).
struct KeySer<'a, S> {
    out: &'a mut S,
}

macro_rules! reject {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<(), SerError> { Err(SerError) })*
    };
}

impl<S: Sink> ser::Serializer for KeySer<'_, S> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = ser::Impossible<(), SerError>;
    type SerializeTuple = ser::Impossible<(), SerError>;
    type SerializeTupleStruct = ser::Impossible<(), SerError>;
    type SerializeTupleVariant = ser::Impossible<(), SerError>;
    type SerializeMap = ser::Impossible<(), SerError>;
    type SerializeStruct = ser::Impossible<(), SerError>;
    type SerializeStructVariant = ser::Impossible<(), SerError>;

    fn serialize_str(self, v: &str) -> Result<(), SerError> {
        write::string(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), SerError> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), SerError> {
        display_string(self.out, value)
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), SerError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), SerError> {
        value.serialize(self)
    }
    reject! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_bytes(&[u8]);
        serialize_none(); serialize_unit(); serialize_unit_struct(&'static str);
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), SerError> {
        Err(SerError)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), SerError> {
        Err(SerError)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        Err(SerError)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(SerError)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(SerError)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(SerError)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(SerError)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, SerError> {
        Err(SerError)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(SerError)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    extern crate std;
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;
    use std::string::String;
    use std::vec::Vec;

    fn json<T: Serialize>(v: &T) -> String {
        let mut out = Vec::new();
        to_sink(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        New(u8),
        Tup(u8, bool),
        Rec { a: i8 },
    }

    #[derive(Serialize)]
    struct Custom<'a> {
        user_id: &'a str,
        role: Option<&'a str>,
        teams: [&'a str; 2],
        score: f64,
        nan: f32,
        e: [E; 4],
        raw: &'a serde_bytes_like::Bytes,
        t: (),
    }

    mod serde_bytes_like {
        pub(super) struct Bytes(pub(super) [u8; 2]);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn matches_serde_json_for_ordinary_values() {
        let c = Custom {
            user_id: "a\"b\u{1}",
            role: None,
            teams: ["red", "blue"],
            score: 1.5,
            nan: f32::NAN,
            e: [E::Unit, E::New(1), E::Tup(2, true), E::Rec { a: -3 }],
            raw: &serde_bytes_like::Bytes([0, 255]),
            t: (),
        };
        let ours = json(&c);
        // serde_json differs only in the case of \u hex digits; both parse to the same value.
        assert_eq!(
            ours,
            r#"{"user_id":"a\"b\u0001","role":null,"teams":["red","blue"],"score":1.5,"nan":null,"e":["Unit",{"New":1},{"Tup":[2,true]},{"Rec":{"a":-3}}],"raw":[0,255],"t":null}"#
        );
        let back: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(back, serde_json::to_value(&c).unwrap());
    }

    /// What serde_json writes for the same value (it agrees with JSON.stringify on all of
    /// these: no control characters, which it escapes with the same lowercase hex).
    fn same<T: Serialize>(v: T) {
        assert_eq!(json(&v), serde_json::to_string(&v).unwrap());
    }

    #[derive(Serialize)]
    struct UnitStruct;

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    struct Newtype<T>(T);

    /// Serializes through `collect_str`, as `Display` types do with serializers that are not
    /// human-readable-only (chrono, uuid, ...).
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Shown(&'static str);

    impl fmt::Display for Shown {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // Written in pieces, so each piece is escaped on its own.
            for part in self.0.split_inclusive('"') {
                f.write_str(part)?;
            }
            Ok(())
        }
    }

    impl Serialize for Shown {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }

    #[test]
    fn every_scalar_type_matches_serde_json() {
        same(0i8);
        same(i8::MIN);
        same(i16::MIN);
        same(i16::MAX);
        same(-1i16);
        same(i32::MIN);
        same(i32::MAX);
        same(-10i32);
        same(0i64);
        same(-1i64);
        same(i64::MIN);
        same(i64::MAX);
        same(i128::MIN);
        same(i128::MAX);
        same(-1i128);
        same(u8::MAX);
        same(u16::MAX);
        same(9u16);
        same(u32::MAX);
        same(10u32);
        same(u64::MAX);
        same(1u64 << 53);
        same(u128::MAX);
        same(u128::from(u64::MAX) + 1);
        same(0u128);
        same('a');
        same('"');
        same('é');
        same('😀');
        same(Some(5u8));
        same(None::<u8>);
        same(Some("x"));
        same(UnitStruct);
        same(Newtype(7u8));
        same(Newtype("n"));
        same(());
        same(Shown("a \"quoted\" \\ value"));
        assert_eq!(json(&Shown("say \"hi\"")), r#""say \"hi\"""#);
    }

    #[test]
    fn map_keys_of_every_string_kind() {
        let m = |k| BTreeMap::from([(k, 1u8)]);
        assert_eq!(json(&m('k')), r#"{"k":1}"#);
        assert_eq!(json(&m('"')), r#"{"\"":1}"#);
        assert_eq!(json(&BTreeMap::from([(Newtype("n"), 1u8)])), r#"{"n":1}"#);
        assert_eq!(json(&BTreeMap::from([(Shown("s\"t"), 1u8)])), r#"{"s\"t":1}"#);
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        enum Key {
            Plain,
            Wrapped(u8),
        }
        assert_eq!(json(&BTreeMap::from([(Key::Plain, 1u8)])), r#"{"Plain":1}"#);
        assert_eq!(
            json(&BTreeMap::from([(Key::Plain, 1u8)])),
            serde_json::to_string(&BTreeMap::from([(Key::Plain, 1u8)])).unwrap()
        );
        // Keys that are not strings are refused, as serde_json refuses them.
        assert!(to_sink(&mut Vec::new(), &BTreeMap::from([(Key::Wrapped(1), 1u8)])).is_err());
        assert!(to_sink(&mut Vec::new(), &BTreeMap::from([(Some("k"), 1u8)])).is_err());
        assert!(serde_json::to_string(&BTreeMap::from([(Key::Wrapped(1), 1u8)])).is_err());
    }

    #[test]
    fn errors_say_why() {
        assert_eq!(std::format!("{SerError}"), "claims cannot be serialized as json");
    }

    #[test]
    fn map_keys_must_be_strings() {
        let mut m = BTreeMap::new();
        m.insert("k", 1u8);
        assert_eq!(json(&m), r#"{"k":1}"#);
        let mut bad = BTreeMap::new();
        bad.insert(1u8, 1u8);
        assert!(to_sink(&mut Vec::new(), &bad).is_err());
    }
}
