//! Differential checks of the internals against reference implementations: the strict
//! base64url decoder against a naive one, the streaming encoder against the `base64` crate,
//! the JSON object validator against serde_json, the JSON string writer parsed back by
//! serde_json, the one-pass claims reader against the general one, and `verify_as`'s
//! deserializer against serde_json's tree of every document the strict reader validates.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use stackjwt::fuzzing;

/// Any JSON value as a deserializer hands it out, numbers as the visit they came by.
#[derive(Debug, PartialEq)]
enum Tree {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    S(String),
    A(Vec<Tree>),
    O(Vec<(String, Tree)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
                Ok(Tree::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Tree, E> {
                Ok(Tree::U(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
                Ok(Tree::I(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
                Ok(Tree::F(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
                Ok(Tree::S(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(t) = a.next_element()? {
                    items.push(t);
                }
                Ok(Tree::A(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Tree, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = a.next_entry()? {
                    members.push((k, v));
                }
                Ok(Tree::O(members))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether `ours` is serde_json's `theirs`: the same shape, strings and members in order, and
/// each number the value of serde_json's number text (arbitrary_precision keeps the text).
fn same_tree(ours: &Tree, theirs: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (ours, theirs) {
        (Tree::Null, Value::Null) => true,
        (Tree::Bool(a), Value::Bool(b)) => a == b,
        (Tree::U(a), Value::Number(n)) => n.to_string().parse::<u64>().ok() == Some(*a),
        (Tree::I(a), Value::Number(n)) => n.to_string().parse::<i64>().ok() == Some(*a),
        (Tree::F(a), Value::Number(n)) => n.to_string().parse::<f64>().is_ok_and(|b| b.to_bits() == a.to_bits()),
        (Tree::S(a), Value::String(b)) => a == b,
        (Tree::A(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_tree(x, y)),
        (Tree::O(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same_tree(v, w)))
        }
        _ => false,
    }
}

/// The obvious base64url decoder: only the url alphabet, no padding, length % 4 != 1, and
/// the bits below the last whole byte must be zero.
fn naive_decode(input: &[u8]) -> Option<Vec<u8>> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    if input.len() % 4 == 1 {
        return None;
    }
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for &c in input {
        let v = A.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (bits == 0).then_some(out)
}

fuzz_target!(|data: &[u8]| {
    // base64url decoding.
    let mut out = vec![0u8; data.len()];
    let ours = fuzzing::decode_base64url(data, &mut out).ok().map(|n| out[..n].to_vec());
    assert_eq!(ours, naive_decode(data), "decode {data:?}");

    // Lenient (dev token) decoding never accepts what neither alphabet decodes.
    if let Ok(n) = fuzzing::decode_base64_lenient(data, &mut out) {
        let trimmed = data.strip_suffix(b"==").or_else(|| data.strip_suffix(b"=")).unwrap_or(data);
        let std_as_url: Vec<u8> = trimmed
            .iter()
            .map(|&b| match b {
                b'+' => b'-',
                b'/' => b'_',
                b => b,
            })
            .collect();
        assert_eq!(Some(out[..n].to_vec()), naive_decode(&std_as_url));
    }

    // Streaming encoding in pieces matches the base64 crate.
    let piece = usize::from(data.first().copied().unwrap_or(1) % 7) + 1;
    let mut enc = vec![0u8; data.len() * 4 / 3 + 4];
    let n = fuzzing::encode_base64url(data, piece, &mut enc);
    assert_eq!(&enc[..n], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data).as_bytes());

    if let Ok(text) = std::str::from_utf8(data) {
        // JSON validation (whose input the verifier has already checked as UTF-8) agrees with
        // serde_json, outside the rules serde_json does not have (duplicate names, the depth
        // bound, the member cap).
        let ours = fuzzing::validate_json_object(data);
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        // serde_json's arbitrary_precision reads an object whose key is its private marker as
        // a number; that is the reference's quirk, not JSON (found by this target).
        let quirk = text.contains("$serde_json::private::Number");
        // Documents past 64 KiB are refused by design (no token decodes to one).
        let too_long = text.len() > usize::from(u16::MAX);
        // What it validates, verify_as's deserializer reads as serde_json does.
        if ours.is_ok() && !quirk {
            let mut scratch = vec![0u8; text.len()];
            let tree: Tree = fuzzing::deserialize_validated(text, &mut scratch).expect("a validated document deserializes");
            let value = theirs.as_ref().expect("serde_json reads it too");
            assert!(same_tree(&tree, value), "{tree:?} vs {value:?} for {text:?}");
        }
        match ours {
            Ok(()) if quirk => {}
            Err(_) if too_long => {}
            Ok(()) => assert!(matches!(theirs, Ok(serde_json::Value::Object(_))), "accepted {text:?}"),
            Err(
                stackjwt::Error::DuplicateMember { .. }
                | stackjwt::Error::JsonTooDeep { .. }
                | stackjwt::Error::TooManyMembers { .. },
            ) => {}
            Err(e) => assert!(!matches!(theirs, Ok(serde_json::Value::Object(_))), "rejected ({e}) {text:?}"),
        }

        // The JSON string writer's output parses back to the same string.
        let mut buf = vec![0u8; text.len() * 6 + 2];
        let n = fuzzing::write_json_string(text, &mut buf);
        let back: String = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(back, text);

        // The one-pass claims reader agrees with the general one whenever it takes a shape.
        let (mut fast, mut general) = (String::new(), String::new());
        fuzzing::parse_claims_both(text, &mut fast, &mut general);
        if fast != "None" {
            assert_eq!(fast, format!("Some({})", general.trim_start_matches("Ok(").trim_end_matches(')')), "{text}");
        }
    }
});
