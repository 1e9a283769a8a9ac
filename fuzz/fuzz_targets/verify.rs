//! Arbitrary bytes into `Verifier::verify`, `verify_as` and `verify_payload`: never a panic,
//! never `Ok` unless the signature is the token's true HMAC (or, with dev tokens allowed,
//! the literal `devtoken`), and with a `VERIFY_SCRATCH_LEN` scratch never an error that is not
//! an authentication failure (HTTP 401). A second mode signs arbitrary header and payload bytes with the
//! right key first, so the JSON reader behind the MAC is reached too.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use stackjwt::{Algorithm, Key, Verifier};

const SECRET: &[u8] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
const NOWS: [u64; 4] = [0, 1_700_000_000, 4_102_444_800, u64::MAX];

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Custom<'a> {
    user_id: Option<heapless::String<64>>,
    exp: Option<u64>,
    #[serde(borrow)]
    role: Option<&'a str>,
    teams: Option<heapless::Vec<heapless::String<16>, 4>>,
}

fn true_mac(signed: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(signed);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn check(key: &Key, token: &[u8], knobs: u8) {
    let now = NOWS[usize::from(knobs & 3)];
    let leeway = [0, 30, u64::MAX][usize::from((knobs >> 2) % 3)];
    let allow_dev = knobs & 0x10 != 0;
    let v = Verifier::new(key).leeway(leeway).require_exp(knobs & 0x20 != 0).allow_dev_tokens(allow_dev);
    let mut scratch = [0u8; stackjwt::VERIFY_SCRATCH_LEN];
    let authentic = || {
        let Some(dot) = token.iter().rposition(|&b| b == b'.') else { return false };
        let (signed, sig) = (&token[..dot], &token[dot + 1..]);
        sig == true_mac(signed).as_bytes() || (allow_dev && sig == b"devtoken")
    };
    match v.verify(token, now, &mut scratch) {
        Ok(claims) => {
            assert!(authentic(), "accepted a token without its MAC");
            assert!(claims.user_id().is_some() || claims.is_server());
            assert!(claims.user_id() != Some(""));
        }
        Err(e) => assert_eq!(e.http_status(), 401, "{e:?}"),
    }
    match v.verify_as::<Custom<'_>>(token, now, &mut scratch) {
        Ok(_) => assert!(authentic() && !token.ends_with(b".devtoken")),
        Err(e) => assert_eq!(e.http_status(), 401, "{e:?}"),
    }
    if let Ok(payload) = v.verify_payload(token, &mut scratch) {
        let _ = payload;
        let dot = token.iter().rposition(|&b| b == b'.').unwrap();
        assert_eq!(&token[dot + 1..], true_mac(&token[..dot]).as_bytes());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else { return };
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    if knobs & 0x80 == 0 {
        check(&key, rest, knobs);
    } else {
        // Header and payload JSON separated by the first 0xff byte, signed with the key.
        let (header, payload) = match rest.iter().position(|&b| b == 0xff) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (&br#"{"alg":"HS256","typ":"JWT"}"#[..], rest),
        };
        let signed = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
        let token = format!("{signed}.{}", true_mac(signed.as_bytes()));
        check(&key, token.as_bytes(), knobs);
        let mut scratch = [0u8; stackjwt::VERIFY_SCRATCH_LEN];
        if let Ok(c) = Verifier::new(&key).verify(&token, 0, &mut scratch) {
            assert_eq!(c.json().as_bytes(), payload);
            assert!(serde_json::from_slice::<serde_json::Value>(payload).is_ok(), "accepted invalid JSON");
        }
    }
});
