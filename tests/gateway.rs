//! Gateway features: key rotation by kid, revocation, the per-request principal, webhook
//! signatures and Stream-shaped error bodies.

// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use heapless::index_map::FnvIndexMap;
use heapless::{LinearMap, String};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use stackjwt::{Algorithm, Error, Key, KeySet, Principal, Revocations, Verifier, dev_token};

const OLD: [u8; 32] = [1; 32];
const NEW: [u8; 32] = [2; 32];
const NOW: u64 = 1_700_000_000;

fn keys() -> KeySet<4> {
    let mut set = KeySet::new();
    set.insert(Key::new(Algorithm::Hs256, &OLD).unwrap().with_kid("2026-10").unwrap()).unwrap();
    set.insert(Key::new(Algorithm::Hs256, &NEW).unwrap().with_kid("2026-11").unwrap()).unwrap();
    set.insert(Key::new(Algorithm::Hs512, &[3; 64]).unwrap().with_kid("big").unwrap()).unwrap();
    set
}

/// A token with any header, signed with HMAC-SHA256 under `secret`.
fn forge(header: &str, claims: &str, secret: &[u8]) -> std::string::String {
    let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

fn mint(set: &KeySet<4>, kid: &str, user: &str, iat: Option<u64>) -> std::string::String {
    set.get(kid).unwrap().user_token(user, None, iat, &mut [0u8; 512]).unwrap().to_owned()
}

#[test]
fn rotation_picks_the_key_by_kid() {
    let mut set = keys();
    let mut scratch = [0u8; 512];
    let v = Verifier::with_keys(&set);
    for kid in ["2026-10", "2026-11", "big"] {
        let t = mint(&set, kid, "john", None);
        assert_eq!(v.verify(&t, NOW, &mut scratch).unwrap().user_id(), Some("john"), "{kid}");
    }
    // A header that is not byte-identical to the key's own still selects by kid.
    let t = forge(r#"{"kid":"2026-10","alg":"HS256"}"#, r#"{"user_id":"a"}"#, &OLD);
    assert!(v.verify(&t, NOW, &mut scratch).is_ok());
    // Unknown kid, and no kid without a default key.
    let t = forge(r#"{"alg":"HS256","kid":"2025-01"}"#, r#"{"user_id":"a"}"#, &OLD);
    assert_eq!(v.verify(&t, NOW, &mut scratch), Err(Error::UnknownKid));
    let no_kid = forge(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"user_id":"a"}"#, &NEW);
    assert_eq!(v.verify(&no_kid, NOW, &mut scratch), Err(Error::MissingKid));
    set.set_default("2026-11").unwrap();
    let v = Verifier::with_keys(&set);
    assert!(v.verify(&no_kid, NOW, &mut scratch).is_ok());
    // Stream's SDK tokens carry no kid: the default key takes them.
    let sdk =
        Key::new(Algorithm::Hs256, &NEW).unwrap().user_token("john", None, None, &mut [0u8; 256]).unwrap().to_owned();
    assert!(v.verify(&sdk, NOW, &mut scratch).is_ok());
}

#[test]
fn a_token_with_kid_is_never_tried_against_other_keys() {
    let set = keys();
    let v = Verifier::with_keys(&set);
    let mut scratch = [0u8; 512];
    // Names 2026-10 but is signed with 2026-11's secret: refused, though that key is in the set.
    let t = forge(r#"{"alg":"HS256","kid":"2026-10"}"#, r#"{"user_id":"a"}"#, &NEW);
    assert_eq!(v.verify(&t, NOW, &mut scratch), Err(Error::SignatureMismatch));
    // Each key keeps its own algorithm: "big" is HS512.
    let t = forge(r#"{"alg":"HS256","kid":"big"}"#, r#"{"user_id":"a"}"#, &[3; 64]);
    assert_eq!(v.verify(&t, NOW, &mut scratch), Err(Error::AlgorithmNotAllowed));
    let t = forge(r#"{"alg":"HS512","kid":"2026-10"}"#, r#"{"user_id":"a"}"#, &OLD);
    assert_eq!(v.verify(&t, NOW, &mut scratch), Err(Error::AlgorithmNotAllowed));
}

#[test]
fn app_wide_revocation() {
    let mut set = keys();
    set.set_default("2026-11").unwrap();
    let v = Verifier::with_keys(&set).revoked_before(NOW);
    let mut scratch = [0u8; 512];
    let before = mint(&set, "2026-11", "john", Some(NOW - 1));
    let at = mint(&set, "2026-11", "john", Some(NOW));
    let no_iat = mint(&set, "2026-11", "john", None);
    assert_eq!(v.verify(&before, NOW, &mut scratch), Err(Error::Revoked));
    assert!(v.verify(&at, NOW, &mut scratch).is_ok());
    assert_eq!(v.verify(&no_iat, NOW, &mut scratch), Err(Error::Revoked), "no iat counts as issued at 0");
    let server = set.get("2026-11").unwrap().server_token(&mut [0u8; 256]).unwrap().to_owned();
    assert_eq!(v.verify(&server, NOW, &mut scratch), Err(Error::Revoked));
    assert!(Verifier::with_keys(&set).verify(&server, NOW, &mut scratch).is_ok());
    #[derive(serde::Deserialize)]
    struct Mine<'a> {
        #[allow(dead_code)]
        user_id: &'a str,
    }
    assert!(matches!(v.verify_as::<Mine<'_>>(&before, NOW, &mut scratch), Err(Error::Revoked)));
    assert!(v.verify_as::<Mine<'_>>(&at, NOW, &mut scratch).is_ok());
}

#[test]
fn per_user_revocation() {
    let mut set = keys();
    set.set_default("2026-11").unwrap();
    let mut cutoffs: LinearMap<String<64>, u64, 8> = LinearMap::new();
    cutoffs.insert(String::try_from("john").unwrap(), NOW).unwrap();
    cutoffs.insert(String::try_from("jürgen").unwrap(), NOW).unwrap();
    let v = Verifier::with_keys(&set).revocations(&cutoffs);
    let mut scratch = [0u8; 512];
    assert_eq!(v.verify(mint(&set, "2026-11", "john", Some(NOW - 1)), NOW, &mut scratch), Err(Error::Revoked));
    assert!(v.verify(mint(&set, "2026-11", "john", Some(NOW + 1)), NOW + 1, &mut scratch).is_ok());
    assert!(v.verify(mint(&set, "2026-11", "jane", Some(0)), NOW, &mut scratch).is_ok());
    // The user id is compared after unescaping.
    let escaped = forge(r#"{"alg":"HS256","kid":"2026-11"}"#, r#"{"user_id":"j\u00fcrgen","iat":5}"#, &NEW);
    assert_eq!(v.verify(&escaped, NOW, &mut scratch), Err(Error::Revoked));
    // Server tokens: the app-wide cutoff only.
    let server = set.get("2026-11").unwrap().server_token(&mut [0u8; 256]).unwrap().to_owned();
    assert!(v.verify(&server, NOW, &mut scratch).is_ok());
    // Both at once, and the hashed map.
    let mut hashed: FnvIndexMap<String<64>, u64, 8> = FnvIndexMap::new();
    hashed.insert(String::try_from("jane").unwrap(), 10).unwrap();
    assert_eq!(hashed.revoked_before("jane"), Some(10));
    let v = Verifier::with_keys(&set).revocations(&hashed).revoked_before(3);
    assert_eq!(v.verify(mint(&set, "2026-11", "jane", Some(9)), NOW, &mut scratch), Err(Error::Revoked));
    assert!(v.verify(mint(&set, "2026-11", "jane", Some(10)), NOW, &mut scratch).is_ok());
    assert_eq!(v.verify(mint(&set, "2026-11", "john", Some(2)), NOW, &mut scratch), Err(Error::Revoked));
}

#[test]
fn authenticate_decides_the_principal() {
    let key = Key::new(Algorithm::Hs256, &NEW).unwrap();
    let mut buf = [0u8; 256];
    let user = key.user_token("john", Some(NOW + 60), None, &mut buf).unwrap().to_owned();
    let server = key.server_token(&mut buf).unwrap().to_owned();
    let dev = dev_token("dev-user", &mut buf).unwrap().to_owned();
    let expired = key.user_token("john", Some(NOW), None, &mut buf).unwrap().to_owned();
    let v = Verifier::new(&key);
    let mut s = [0u8; 512];
    assert_eq!(v.authenticate(Some("jwt"), Some(&user), NOW, &mut s), Ok(Principal::User("john")));
    assert_eq!(v.authenticate(Some("jwt"), Some(&server), NOW, &mut s), Ok(Principal::Server));
    assert_eq!(v.authenticate(Some("jwt"), Some(&dev), NOW, &mut s), Err(Error::DevTokenNotAllowed));
    let dev_ok = v.allow_dev_tokens(true);
    assert_eq!(dev_ok.authenticate(Some("jwt"), Some(&dev), NOW, &mut s), Ok(Principal::Dev("dev-user")));
    assert_eq!(v.authenticate(Some("anonymous"), None, NOW, &mut s), Ok(Principal::Anonymous));
    assert_eq!(v.authenticate(Some("anonymous"), Some(""), NOW, &mut s), Ok(Principal::Anonymous));
    let refused: [(Option<&str>, Option<&str>, Error); 9] = [
        (Some("anonymous"), Some(&user), Error::UnexpectedToken),
        (Some("jwt"), None, Error::MissingToken),
        (Some("jwt"), Some(""), Error::MissingToken),
        (Some("JWT"), Some(&user), Error::UnknownAuthType),
        (Some("basic"), Some(&user), Error::UnknownAuthType),
        (None, Some(&user), Error::MissingAuthType),
        (None, None, Error::MissingAuthType),
        (Some("jwt"), Some(&expired), Error::Expired),
        (Some("jwt"), Some("garbage"), Error::Malformed),
    ];
    for (auth_type, authorization, want) in refused {
        assert_eq!(v.authenticate(auth_type, authorization, NOW, &mut s), Err(want), "{auth_type:?}");
    }
    for prefix in ["Bearer ", "bearer ", "BEARER "] {
        let with = format!("{prefix}{user}");
        assert_eq!(v.authenticate(Some("jwt"), Some(&with), NOW, &mut s), Err(Error::BearerPrefix));
    }
}

#[test]
fn webhook_signatures() {
    let key = Key::new_weak(Algorithm::Hs256, b"secret").unwrap();
    let body = br#"{"type":"message.new","message":{"text":"hi"}}"#;
    let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(body);
    let want: std::string::String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let mut out = [0u8; 64];
    assert_eq!(key.webhook_signature(body, &mut out).unwrap(), want);
    assert_eq!(key.verify_webhook(body, &want), Ok(()));
    assert_eq!(key.verify_webhook(body, want.to_uppercase()), Ok(()));
    assert_eq!(key.verify_webhook(&body[1..], &want), Err(Error::SignatureMismatch));
    assert_eq!(key.verify_webhook(body, format!("{want}0")), Err(Error::InvalidWebhookSignature));
    assert_eq!(key.verify_webhook(body, format!("z{}", &want[1..])), Err(Error::InvalidWebhookSignature));
    assert_eq!(key.verify_webhook(body, ""), Err(Error::InvalidWebhookSignature));
}

#[test]
fn stream_shaped_error_bodies() {
    let mut out = [0u8; 128];
    let cases = [
        (Error::Expired, r#"{"code":40,"message":"token expired","StatusCode":401}"#),
        (Error::NotYetValid, r#"{"code":41,"message":"token not yet valid","StatusCode":401}"#),
        (Error::IssuedInFuture, r#"{"code":42,"message":"token issued in the future","StatusCode":401}"#),
        (Error::SignatureMismatch, r#"{"code":43,"message":"signature mismatch","StatusCode":401}"#),
        (Error::Revoked, r#"{"code":5,"message":"token revoked","StatusCode":401}"#),
        (Error::BearerPrefix, r#"{"code":5,"message":"authorization has a bearer prefix","StatusCode":401}"#),
        (Error::KeySetFull, r#"{"code":-1,"message":"key set full","StatusCode":500}"#),
    ];
    for (err, want) in cases {
        assert_eq!(err.stream_json(&mut out).unwrap(), want);
        let v: serde_json::Value = serde_json::from_str(want).unwrap();
        assert_eq!(v["StatusCode"], u64::from(err.http_status()));
    }
    assert!(matches!(Error::Expired.stream_json(&mut out[..20]), Err(Error::BufferTooSmall { needed: 54 })));
}

#[test]
fn devices_know_when_to_refresh() {
    let key = Key::new(Algorithm::Hs256, &NEW).unwrap();
    let mut buf = [0u8; 256];
    let token = key.user_token("sensor-7", Some(NOW + 300), Some(NOW), &mut buf).unwrap().to_owned();
    let mut s = [0u8; 256];
    let c = Verifier::new(&key).verify(&token, NOW, &mut s).unwrap();
    assert!(!c.expires_within(NOW, 299));
    assert!(c.expires_within(NOW, 300));
    assert!(c.expires_within(NOW + 300, 0));
}

#[test]
fn key_sets_report_their_size() {
    let mut set: KeySet<2> = KeySet::new();
    assert!(set.is_empty());
    assert_eq!(set.len(), 0);
    set.insert(Key::new(Algorithm::Hs256, &OLD).unwrap().with_kid("a").unwrap()).unwrap();
    assert!(!set.is_empty());
    assert_eq!(set.len(), 1);
}

#[test]
fn revocation_stores_work_behind_a_reference() {
    let mut cutoffs: LinearMap<String<64>, u64, 4> = LinearMap::new();
    cutoffs.insert(String::try_from("mallory").unwrap(), NOW).unwrap();
    let by_ref: &dyn Revocations = &&cutoffs;
    assert_eq!(by_ref.revoked_before("mallory"), Some(NOW));
    assert_eq!(by_ref.revoked_before("alice"), None);
    // A verifier over a reference to the store refuses what the store revokes.
    let store = &cutoffs;
    let key = Key::new(Algorithm::Hs256, &NEW).unwrap();
    let old = key.user_token("mallory", None, Some(NOW - 1), &mut [0u8; 256]).unwrap().to_owned();
    let v = Verifier::new(&key).revocations(&store);
    assert_eq!(v.verify(&old, NOW, &mut [0u8; 512]), Err(Error::Revoked));
}

#[test]
fn verifiers_debug_shows_settings_and_no_key_material() {
    let key = Key::new(Algorithm::Hs256, &[0xab; 32]).unwrap().with_kid("k1").unwrap();
    let per_user: LinearMap<String<64>, u64, 4> = LinearMap::new();
    let v = Verifier::new(&key).leeway(30).require_exp(true).revoked_before(5).revocations(&per_user);
    assert_eq!(
        format!("{v:?}"),
        r#"Verifier { keys: Key { alg: Hs256, kid: Some("k1"), .. }, leeway: 30, require_exp: true, allow_dev: false, revoked_before: Some(5), revocations: true }"#
    );
}

#[test]
fn not_before_is_read_and_enforced() {
    let key = Key::new(Algorithm::Hs256, &NEW).unwrap();
    let token = forge(r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"user_id":"john","nbf":1700000100}"#, &NEW);
    let mut scratch = [0u8; 512];
    let v = Verifier::new(&key);
    assert_eq!(v.verify(&token, NOW, &mut scratch), Err(Error::NotYetValid));
    assert_eq!(v.verify(&token, NOW + 100, &mut scratch).unwrap().nbf(), Some(1_700_000_100));
    let no_nbf = key.user_token("john", None, None, &mut [0u8; 256]).unwrap().to_owned();
    assert_eq!(v.verify(&no_nbf, NOW, &mut scratch).unwrap().nbf(), None);
}
