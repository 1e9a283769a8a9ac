//! Replays every committed fuzz seed through `verify` (as the `verify` fuzz target does), and
//! keeps what the fuzzers found as regression tests.

// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use stackjwt::{Algorithm, Error, Key, Verifier};

/// The fuzz targets' key (the Stream SDK vectors' long secret).
const SECRET: &[u8] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";

fn mac(signed: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    m.update(signed);
    URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
}

/// A seed of the `verify` target as a token: a knob byte, then a token, or (knob & 0x80)
/// header JSON, 0xff, payload JSON to be signed with the key.
fn token_of(seed: &[u8]) -> (u8, Vec<u8>) {
    let (&knobs, rest) = seed.split_first().unwrap();
    if knobs & 0x80 == 0 {
        return (knobs, rest.to_vec());
    }
    let i = rest.iter().position(|&b| b == 0xff).unwrap();
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(&rest[..i]), URL_SAFE_NO_PAD.encode(&rest[i + 1..]));
    (knobs, format!("{signed}.{}", mac(signed.as_bytes())).into_bytes())
}

#[test]
fn every_verify_seed_replays_without_panic_and_only_authentic_tokens_pass() {
    let dir = format!("{}/fuzz/seeds/verify", env!("CARGO_MANIFEST_DIR"));
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let (mut ran, mut accepted) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let (knobs, token) = token_of(&std::fs::read(&path).unwrap());
        let allow_dev = knobs & 0x10 != 0;
        let mut scratch = [0u8; 8192];
        let got = Verifier::new(&key).allow_dev_tokens(allow_dev).verify(&token, 1_700_000_000, &mut scratch);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if got.is_ok() {
            accepted += 1;
            let dot = token.iter().rposition(|&b| b == b'.').unwrap();
            let sig = &token[dot + 1..];
            assert!(sig == mac(&token[..dot]).as_bytes() || (allow_dev && sig == b"devtoken"), "{name}");
        }
        // One file per rejection class: each must be rejected, except the accepted shapes.
        let accepted_classes = [
            "class_header_whitespace",
            "class_exp_max",
            "class_server_true",
            "class_user_id_escapes",
            "class_custom_claims",
            // Every kind of JSON value in members the claims do not use.
            "class_serde_values",
            // Many small objects one after another: each has its own names.
            "class_claims_member_cap_nested",
            // Names alike in length, first and last byte (the old filter's worst case).
            "class_claims_colliding_names",
        ];
        if name.starts_with("class_") && !accepted_classes.contains(&name.as_str()) {
            assert!(got.is_err(), "{name} accepted");
        }
        if accepted_classes.contains(&name.as_str()) {
            assert!(got.is_ok(), "{name}: {got:?}");
        }
        ran += 1;
    }
    assert!(ran > 90, "only {ran} seeds");
    assert!(accepted >= 10, "only {accepted} accepted");
}

/// Found by the `verify` fuzzer: a number far outside f64's range inside an unknown claim.
/// It is valid JSON (RFC 8259 sets no range), so the token verifies; only the registered
/// time claims must fit u64.
#[test]
fn regression_huge_number_in_unknown_claim_is_valid_json() {
    let seed = b"\x80{\"alg\":\"HS256\",\"typ\":\"JWT\"}\xff{\"user_id\":\"a\",\"exp\":2051222400,\"vole\":\"admin\",\"teams\":[\"rnbfed\",{\"p\":25555555551e355555555555555555555555555555555555555555555555555555555555555555051}]}";
    let (_, token) = token_of(seed);
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut scratch = [0u8; 1024];
    let c = Verifier::new(&key).verify(&token, 1_700_000_000, &mut scratch).unwrap();
    assert_eq!(c.user_id(), Some("a"));
    let (_, token) = token_of(b"\x80{\"alg\":\"HS256\"}\xff{\"user_id\":\"a\",\"exp\":1e355}");
    assert_eq!(
        Verifier::new(&key).verify(&token, 0, &mut scratch),
        Err(Error::InvalidClaim { claim: stackjwt::Claim::Exp })
    );
}

/// Found by the `decode` fuzzer (a harness bug, kept as a test of the contract it exposed):
/// claims that are not UTF-8 are rejected as such before any JSON is read.
#[test]
fn regression_invalid_utf8_claims() {
    let (_, token) = token_of(b"\x80{\"alg\":\"HS256\"}\xff{\"user_id\":\"\xc3(\"}");
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut scratch = [0u8; 1024];
    assert_eq!(
        Verifier::new(&key).verify(&token, 0, &mut scratch),
        Err(Error::InvalidUtf8 { segment: stackjwt::Segment::Payload })
    );
}

/// Found by the `decode` fuzzer (a quirk of its serde_json reference): a member named
/// `$serde_json::private::Number` with tabs and newlines around the colon is ordinary JSON,
/// and such claims verify like any other.
#[test]
fn regression_serde_json_marker_key_is_ordinary_json() {
    let (_, token) =
        token_of(b"\x80{\"alg\":\"HS256\"}\xff{\"$serde_json::private::Number\"\n\n:\t\t\"\",\"user_id\":\"a\"}\t\t");
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut scratch = [0u8; 1024];
    assert_eq!(Verifier::new(&key).verify(&token, 0, &mut scratch).unwrap().user_id(), Some("a"));
}
