//! Interop with PyJWT (what Stream's Python SDK uses), both ways: tokens minted here verify
//! with PyJWT, and tokens PyJWT signs verify here. Needs `python3` with PyJWT installed
//! (`pip install pyjwt`); CI sets `STACKJWT_REQUIRE_PYJWT=1` so a missing PyJWT fails there.
// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use stackjwt::{Algorithm, Key, Verifier};

const NOW: u64 = 1_800_000_000;

fn script() -> String {
    format!("{}/tests/interop/pyjwt_interop.py", env!("CARGO_MANIFEST_DIR"))
}

fn pyjwt_available() -> bool {
    let ok =
        Command::new("python3").args(["-c", "import jwt"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("STACKJWT_REQUIRE_PYJWT").is_none(), "PyJWT is required here: pip install pyjwt");
        eprintln!("skipped: python3 with PyJWT not found (pip install pyjwt)");
    }
    ok
}

fn alg(name: &str) -> Algorithm {
    match name {
        "HS256" => Algorithm::Hs256,
        "HS384" => Algorithm::Hs384,
        "HS512" => Algorithm::Hs512,
        other => panic!("{other}"),
    }
}

#[test]
fn tokens_minted_here_verify_with_pyjwt() {
    if !pyjwt_available() {
        return;
    }
    let secret: Vec<u8> = (0u8..64).map(|i| i.wrapping_mul(7)).collect();
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let mut input = String::new();
    let mut expected = Vec::new();
    for a in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let key = Key::new(a, &secret).unwrap();
        let mut buf = [0u8; 512];
        for (id, exp, iat) in [
            ("john", None, None),
            ("john", Some(4_102_444_800), Some(1_700_000_000)),
            ("jürgen \"x\"\n\u{1}😀", Some(4_102_444_800), None),
        ] {
            let token = key.user_token(id, exp, iat, &mut buf).unwrap();
            input += &format!("{}\n", json!({"alg": a.name(), "secret_hex": hex, "token": token}));
            let mut claims = json!({"user_id": id});
            if let Some(e) = exp {
                claims["exp"] = e.into();
            }
            if let Some(i) = iat {
                claims["iat"] = i.into();
            }
            expected.push(claims);
        }
        let token = key.server_token(&mut buf).unwrap();
        input += &format!("{}\n", json!({"alg": a.name(), "secret_hex": hex, "token": token}));
        expected.push(json!({"server": true}));
        let token = key.sign(&json!({"user_id": "c", "roles": ["a", {"b": null}], "n": -1.5}), &mut buf).unwrap();
        input += &format!("{}\n", json!({"alg": a.name(), "secret_hex": hex, "token": token}));
        expected.push(json!({"user_id": "c", "roles": ["a", {"b": null}], "n": -1.5}));
    }
    let mut child = Command::new("python3")
        .args([&script(), "verify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), expected.len());
    for (got, want) in lines.iter().zip(&expected) {
        assert_eq!(got["claims"], *want, "PyJWT said {got}");
        assert_eq!(got["header"]["typ"], "JWT");
    }
}

#[test]
fn tokens_pyjwt_signs_verify_here() {
    if !pyjwt_available() {
        return;
    }
    let out = Command::new("python3").args([&script(), "sign"]).output().unwrap();
    assert!(out.status.success());
    let cases: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(cases.len(), 7);
    for c in &cases {
        let secret: Vec<u8> = (0..c["secret_hex"].as_str().unwrap().len() / 2)
            .map(|i| u8::from_str_radix(&c["secret_hex"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let key = Key::new(alg(c["alg"].as_str().unwrap()), &secret).unwrap();
        let token = c["token"].as_str().unwrap();
        let mut scratch = [0u8; 1024];
        let claims = Verifier::new(&key).verify(token, NOW, &mut scratch).unwrap_or_else(|e| panic!("{e}: {c}"));
        let want = &c["claims"];
        let parsed: Value = serde_json::from_str(claims.json()).unwrap();
        assert_eq!(&parsed, want);
        assert_eq!(claims.user_id(), want["user_id"].as_str());
        assert_eq!(claims.exp(), want["exp"].as_u64());
        assert_eq!(claims.iat(), want["iat"].as_u64());
        assert_eq!(claims.nbf(), want["nbf"].as_u64());
        assert_eq!(claims.is_server(), want["server"] == true);
        // For ASCII user tokens (header alg/typ, claims in insertion order) PyJWT >= 2.5 and
        // this crate produce the same bytes.
        let ascii_user = want.as_object().unwrap().keys().all(|k| ["user_id", "exp", "iat"].contains(&k.as_str()))
            && want["user_id"].as_str().is_some_and(|s| s.is_ascii() && !s.chars().any(char::is_control));
        if ascii_user {
            let mut buf = [0u8; 512];
            let ours = key
                .user_token(want["user_id"].as_str().unwrap(), want["exp"].as_u64(), want["iat"].as_u64(), &mut buf)
                .unwrap();
            assert_eq!(ours, token);
        }
    }
}
