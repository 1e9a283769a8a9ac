//! Every rejection class, one line each, with the error it must produce.
//!
//! Tokens are forged with the verifier's own secret over whatever raw segments a case needs,
//! so each case fails for the reason it names and not merely for a bad MAC.
// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha512};
use stackjwt::{
    Algorithm, Claim, Error, Key, MAX_HEADER_LEN, MAX_JSON_MEMBERS, MAX_TOKEN_LEN, Segment, VERIFY_SCRATCH_LEN,
    Verifier,
};

const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
const NOW: u64 = 1_700_000_000;
const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

const HEADER_DUP: Error = Error::DuplicateMember { segment: Segment::Header };
const HEADER_JSON: Error = Error::InvalidJson { segment: Segment::Header };
const PAYLOAD_DUP: Error = Error::DuplicateMember { segment: Segment::Payload };
const PAYLOAD_JSON: Error = Error::InvalidJson { segment: Segment::Payload };
const PAYLOAD_BASE64: Error = Error::InvalidBase64 { segment: Segment::Payload };

/// A JSON object of `n` members `"m0":0,"m1":0,...`, with `first` as its first member.
fn members(first: &str, n: usize) -> String {
    let rest: Vec<String> = (1..n).map(|i| format!("\"m{i}\":0")).collect();
    format!("{{{first},{}}}", rest.join(","))
}

fn b64(s: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// `header.payload.sig` with a correct HS256 MAC over the raw segments as given.
fn forge_raw(header: &str, payload: &str) -> String {
    let signed = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", b64(&mac.finalize().into_bytes()))
}

fn forge(header_json: &str, claims_json: &str) -> String {
    forge_raw(&b64(header_json.as_bytes()), &b64(claims_json.as_bytes()))
}

fn key() -> Key {
    Key::new(Algorithm::Hs256, SECRET).unwrap()
}

fn verify(token: &str) -> Result<(), Error> {
    let mut scratch = [0u8; 1024];
    Verifier::new(&key()).verify(token, NOW, &mut scratch).map(|_| ())
}

#[test]
fn header_rejections() {
    let claims = r#"{"user_id":"john"}"#;
    let cases: &[(&str, Error)] = &[
        (r#"{"alg":"none","typ":"JWT"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"None"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"NONE"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"nOnE"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"HS512","typ":"JWT"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"RS256","typ":"JWT"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"hs256"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"HS256 "}"#, Error::AlgorithmNotAllowed),
        (r#"{"typ":"JWT"}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":256}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":null}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":["HS256"]}"#, Error::AlgorithmNotAllowed),
        (r#"{}"#, Error::AlgorithmNotAllowed),
        (r#"{"alg":"HS256","crit":["exp"]}"#, Error::CriticalHeader),
        (r#"{"alg":"HS256","crit":[]}"#, Error::CriticalHeader),
        (r#"{"alg":"HS256","typ":1}"#, Error::InvalidHeader),
        (r#"{"alg":"HS256","typ":null}"#, Error::InvalidHeader),
        (r#"{"alg":"HS256","kid":7}"#, Error::InvalidHeader),
        (r#"{"alg":"HS256","alg":"HS256"}"#, HEADER_DUP),
        (r#"{"alg":"none","\u0061lg":"HS256"}"#, HEADER_DUP),
        (r#"["alg","HS256"]"#, HEADER_JSON),
        (r#"{"alg":"HS256"}x"#, HEADER_JSON),
        ("\u{feff}{\"alg\":\"HS256\"}", HEADER_JSON),
        (r#"{"alg":"HS256",}"#, HEADER_JSON),
        (r#"{'alg':'HS256'}"#, HEADER_JSON),
        (r#"{"alg":"HS256"/*c*/}"#, HEADER_JSON),
        (r#"{"alg":"HS256","x":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}"#, Error::JsonTooDeep { segment: Segment::Header }),
    ];
    for (header, want) in cases {
        assert_eq!(verify(&forge(header, claims)), Err(*want), "header {header}");
    }
    // Invalid UTF-8 in the header.
    assert_eq!(
        verify(&forge_raw(&b64(b"{\"alg\":\"HS256\xff\"}"), &b64(claims.as_bytes()))),
        Err(Error::InvalidUtf8 { segment: Segment::Header })
    );
    // Too many members for the table, and a header longer than any signer's: both refused
    // before the MAC, each with its own error.
    let crowded = members(r#""alg":"HS256""#, MAX_JSON_MEMBERS + 1);
    assert_eq!(verify(&forge(&crowded, claims)), Err(Error::TooManyMembers { segment: Segment::Header }));
    assert_eq!(verify(&forge(&members(r#""alg":"HS256""#, MAX_JSON_MEMBERS), claims)), Ok(()));
    let long = format!(r#"{{"alg":"HS256","pad":"{}"}}"#, "x".repeat(MAX_HEADER_LEN));
    assert_eq!(verify(&forge(&long, claims)), Err(Error::HeaderTooLong));
}

#[test]
fn header_variants_that_are_accepted() {
    let claims = r#"{"user_id":"john"}"#;
    for header in [
        r#"{"alg":"HS256"}"#,                              // Stream's Ruby SDK: no typ
        r#"{"typ":"JWT","alg":"HS256"}"#,                  // .NET and older PyJWT: typ first
        "{ \"typ\" : \"JWT\" ,\r\n \"alg\" : \"HS256\" }", // JSON whitespace
        r#"{"alg":"HS256","typ":"at+jwt","cty":"x"}"#,     // other typ, unknown members
        r#"{"alg":"HS256","kid":"any"}"#,                  // kid, when the key has none
        r#"{"\u0061lg":"HS\u0032\u00356"}"#,               // escapes
    ] {
        assert_eq!(verify(&forge(header, claims)), Ok(()), "header {header}");
    }
}

#[test]
fn kid_must_name_the_key_when_it_has_one() {
    let key = key().with_kid("2026-11").unwrap();
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    let v = Verifier::new(&key);
    let own = key.user_token("john", None, None, &mut buf).unwrap().to_owned();
    assert!(v.verify(&own, NOW, &mut scratch).is_ok());
    let claims = r#"{"user_id":"john"}"#;
    assert!(v.verify(forge(r#"{"alg":"HS256"}"#, claims), NOW, &mut scratch).is_ok());
    assert!(v.verify(forge(r#"{"kid":"2026-11","alg":"HS256"}"#, claims), NOW, &mut scratch).is_ok());
    let other = forge(r#"{"alg":"HS256","kid":"2026-10"}"#, claims);
    assert_eq!(v.verify(other, NOW, &mut scratch), Err(Error::UnknownKid));
}

#[test]
fn claims_rejections() {
    use Claim::*;
    let invalid = |claim| Err(Error::InvalidClaim { claim });
    let err = Err;
    let cases: &[(&str, Result<(), Error>)] = &[
        (r#"{"user_id":"a","user_id":"b"}"#, err(PAYLOAD_DUP)),
        (r#"{"user_id":"a","exp":1,"\u0065xp":9999999999}"#, err(PAYLOAD_DUP)),
        (r#"{"user_id":"a","x":{"k":1,"k":2}}"#, err(PAYLOAD_DUP)),
        (r#"{"user_id":"a"} "#, Ok(())),
        (r#"{"user_id":"a"}{}"#, err(PAYLOAD_JSON)),
        (r#"{"user_id":"a"},"#, err(PAYLOAD_JSON)),
        ("\u{feff}{\"user_id\":\"a\"}", err(PAYLOAD_JSON)),
        (r#"{"user_id":'a'}"#, err(PAYLOAD_JSON)),
        (r#"{"user_id":"a"//c}"#, err(PAYLOAD_JSON)),
        (r#"{"user_id":"a","n":01}"#, err(PAYLOAD_JSON)),
        (r#"{"user_id":"a\ud800"}"#, err(PAYLOAD_JSON)),
        (r#"[{"user_id":"a"}]"#, err(PAYLOAD_JSON)),
        (
            r#"{"user_id":"a","d":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}"#,
            err(Error::JsonTooDeep { segment: Segment::Payload }),
        ),
        (r#"{"user_id":"a","exp":1.5e9}"#, invalid(Exp)),
        (r#"{"user_id":"a","exp":1700000100.0}"#, invalid(Exp)),
        (r#"{"user_id":"a","exp":"1700000100"}"#, invalid(Exp)),
        (r#"{"user_id":"a","exp":null}"#, invalid(Exp)),
        (r#"{"user_id":"a","exp":-1}"#, invalid(Exp)),
        (r#"{"user_id":"a","exp":99999999999999999999}"#, invalid(Exp)),
        (r#"{"user_id":"a","nbf":"0"}"#, invalid(Nbf)),
        (r#"{"user_id":"a","iat":false}"#, invalid(Iat)),
        (r#"{"user_id":7}"#, invalid(UserId)),
        (r#"{"user_id":["a"]}"#, invalid(UserId)),
        (r#"{"server":"true"}"#, invalid(Server)),
        (r#"{"user_id":""}"#, err(Error::EmptyUserId)),
        (r#"{}"#, err(Error::MissingSubject)),
        (r#"{"server":false}"#, err(Error::MissingSubject)),
        (r#"{"sub":"john"}"#, err(Error::MissingSubject)),
        (r#"{"user_id":"a","exp":1700000000}"#, err(Error::Expired)),
        (r#"{"user_id":"a","nbf":1700000001}"#, err(Error::NotYetValid)),
        (r#"{"user_id":"a","iat":1700000001}"#, err(Error::IssuedInFuture)),
    ];
    for (claims, want) in cases {
        assert_eq!(verify(&forge(HS256, claims)), *want, "claims {claims}");
    }
    assert_eq!(
        verify(&forge_raw(&b64(HS256.as_bytes()), &b64(b"{\"user_id\":\"\xc3\x28\"}"))),
        Err(Error::InvalidUtf8 { segment: Segment::Payload })
    );
    let crowded = members(r#""user_id":"a""#, MAX_JSON_MEMBERS + 1);
    assert_eq!(verify(&forge(HS256, &crowded)), Err(Error::TooManyMembers { segment: Segment::Payload }));
    assert_eq!(verify(&forge(HS256, &members(r#""user_id":"a""#, MAX_JSON_MEMBERS))), Ok(()));
}

#[test]
fn segment_and_encoding_rejections() {
    let h = b64(HS256.as_bytes());
    let good = forge(HS256, r#"{"user_id":"jo"}"#);
    let (signed, sig) = good.rsplit_once('.').unwrap();
    let p = signed.split_once('.').unwrap().1;
    assert_eq!(p.len() % 4, 2, "the payload needs trailing bits for the cases below");
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let with_low_bit = |seg: &str| {
        let (head, last) = seg.split_at(seg.len() - 1);
        let i = ALPHABET.iter().position(|&c| c == last.as_bytes()[0]).unwrap();
        format!("{head}{}", ALPHABET[i | 1] as char)
    };
    let cases: Vec<(String, Error)> = vec![
        (String::new(), Error::Malformed),
        (signed.to_owned(), Error::Malformed),
        (format!("{good}."), Error::Malformed),
        (format!("{good}.x"), Error::Malformed),
        (format!(".{p}.{sig}"), Error::Malformed),
        (format!("{h}..{sig}"), Error::Malformed),
        (format!("{signed}."), Error::Malformed),
        ("a".repeat(MAX_TOKEN_LEN + 1), Error::TokenTooLong),
        // Non-canonical payload encodings, each correctly MACed over its raw bytes.
        (forge_raw(&h, &format!("{p}==")), PAYLOAD_BASE64),
        (forge_raw(&h, &with_low_bit(p)), PAYLOAD_BASE64),
        (forge_raw(&h, &STANDARD.encode(br#"{"user_id":"?>?"}"#)), PAYLOAD_BASE64),
        (forge_raw(&h, &format!(" {p}")), PAYLOAD_BASE64),
        (forge_raw(&h, &format!("{p}\n")), PAYLOAD_BASE64),
        (forge_raw(&h, &format!("{p}AAA")), PAYLOAD_BASE64), // length % 4 == 1
        (forge_raw(&format!("{h}="), p), Error::InvalidBase64 { segment: Segment::Header }),
        (forge_raw(&"e".repeat(MAX_HEADER_LEN + 1), p), Error::HeaderTooLong),
        // Signatures: wrong, truncated, padded, or non-canonical encodings of the right MAC.
        (format!("{signed}.{}", with_low_bit(sig)), Error::SignatureMismatch),
        (format!("{signed}.{}", &sig[..sig.len() - 1]), Error::SignatureMismatch),
        (format!("{signed}.{}", &sig[..22]), Error::SignatureMismatch),
        (format!("{signed}.{sig}="), Error::SignatureMismatch),
        (format!("{signed}.{}", STANDARD.encode(URL_SAFE_NO_PAD.decode(sig).unwrap())), Error::SignatureMismatch),
        (format!("{h}.{}.{sig}", b64(br#"{"user_id":"jp"}"#)), Error::SignatureMismatch),
    ];
    for (token, want) in &cases {
        assert_eq!(verify(token), Err(*want), "token {token:?}");
    }
    assert_eq!(verify(&good), Ok(()));

    // The right MAC in the standard alphabet: find a token whose signature has `-` or `_`.
    let token = (0..)
        .map(|i| forge(HS256, &format!(r#"{{"user_id":"u{i}"}}"#)))
        .find(|t| t.rsplit_once('.').unwrap().1.contains(['-', '_']))
        .unwrap();
    let (signed, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(verify(&token), Ok(()));
    let standard = format!("{signed}.{}", sig.replace('-', "+").replace('_', "/"));
    assert_eq!(verify(&standard), Err(Error::SignatureMismatch));
}

#[test]
fn every_bad_mac_is_the_same_error_with_code_43() {
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    let other = Key::new(Algorithm::Hs256, &[1; 32]).unwrap();
    let token = other.user_token("john", None, None, &mut buf).unwrap();
    let err = Verifier::new(&key()).verify(token, NOW, &mut scratch).unwrap_err();
    assert_eq!(err, Error::SignatureMismatch);
    assert_eq!(err.stream_code(), Some(43));
    assert_eq!(err.to_string(), "signature mismatch");
    // A token signed with HS512 under the same secret, presented to an HS256 key.
    let hs512 = Key::new_weak(Algorithm::Hs512, SECRET).unwrap();
    let token = hs512.user_token("john", None, None, &mut buf).unwrap();
    assert_eq!(Verifier::new(&key()).verify(token, NOW, &mut scratch), Err(Error::AlgorithmNotAllowed));
    // An HS256 header with an HS512 MAC (the algorithm still comes from the key).
    let signed = token.rsplit_once('.').unwrap().0.replacen(hs512_header(), &b64(HS256.as_bytes()), 1);
    let mut mac = Hmac::<Sha512>::new_from_slice(SECRET).unwrap();
    mac.update(signed.as_bytes());
    let forged = format!("{signed}.{}", b64(&mac.finalize().into_bytes()));
    assert_eq!(verify(&forged), Err(Error::SignatureMismatch));
}

fn hs512_header() -> &'static str {
    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9"
}

#[test]
fn time_errors_carry_stream_codes() {
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    let k = key();
    let v = Verifier::new(&k);
    let expired = k.user_token("john", Some(NOW), None, &mut buf).unwrap().to_owned();
    assert_eq!(v.verify(&expired, NOW, &mut scratch).unwrap_err().stream_code(), Some(40));
    assert!(v.leeway(1).verify(&expired, NOW, &mut scratch).is_ok());
    let future = k.user_token("john", None, Some(NOW + 1), &mut buf).unwrap().to_owned();
    assert_eq!(v.verify(&future, NOW, &mut scratch).unwrap_err().stream_code(), Some(42));
    let nbf = forge(HS256, &format!(r#"{{"user_id":"a","nbf":{}}}"#, NOW + 10));
    assert_eq!(v.verify(&nbf, NOW, &mut scratch).unwrap_err().stream_code(), Some(41));
    let no_exp = k.user_token("john", None, None, &mut buf).unwrap().to_owned();
    assert_eq!(v.require_exp(true).verify(&no_exp, NOW, &mut scratch), Err(Error::MissingExp));
    let max = k.user_token("john", Some(u64::MAX), Some(0), &mut buf).unwrap().to_owned();
    assert!(v.leeway(u64::MAX).verify(&max, u64::MAX - 1, &mut scratch).is_ok());
}

#[test]
fn dev_token_rules() {
    let k = key();
    let v = Verifier::new(&k).allow_dev_tokens(true);
    let mut scratch = [0u8; VERIFY_SCRATCH_LEN];
    let dev = |payload: &str| format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.devtoken");
    let ok = |t: &str| v.verify(t, NOW, &mut [0u8; 256]).map(|c| (c.is_dev(), c.user_id().map(str::to_owned)));
    let john = Ok((true, Some("john".to_owned())));
    assert_eq!(ok(&dev("eyJ1c2VyX2lkIjoiam9obiJ9")), john);
    // Standard or url alphabet, with or without padding: "ab" encodes with padding.
    let ab = Ok((true, Some("ab".to_owned())));
    assert_eq!(ok(&dev("eyJ1c2VyX2lkIjoiYWIifQ==")), ab);
    assert_eq!(ok(&dev("eyJ1c2VyX2lkIjoiYWIifQ")), ab);
    assert_eq!(ok(&dev(&STANDARD.encode(r#"{"user_id":"?>?"}"#))), Ok((true, Some("?>?".to_owned()))));
    assert_eq!(ok(&dev(&b64(br#"{"user_id":"?>?"}"#))), Ok((true, Some("?>?".to_owned()))));
    let reject: &[(String, Error)] = &[
        (dev(&b64(br#"{"user_id":"a","server":true}"#)), Error::InvalidDevToken),
        (dev(&b64(br#"{"user_id":"a","server":false}"#)), Error::InvalidDevToken),
        (dev(&b64(br#"{"server":true}"#)), Error::InvalidDevToken),
        (dev(&b64(br#"{"user_id":""}"#)), Error::EmptyUserId),
        (dev(&b64(br#"{"role":"x"}"#)), Error::MissingSubject),
        (dev(&b64(br#"{"user_id":"a","exp":1}"#)), Error::Expired),
        (format!("{}.{}.devtoken", b64(br#"{"alg":"HS256"}"#), b64(br#"{"user_id":"a"}"#)), Error::InvalidDevToken),
        (format!("{hs}.{}.devtoken", b64(br#"{"user_id":"a"}"#), hs = hs512_header()), Error::InvalidDevToken),
        (dev("eyJ1c2VyX2lkIjoiYWIifQ==="), PAYLOAD_BASE64),
        (dev("e yJ1c2VyX2lkIjoiYWIifQ"), PAYLOAD_BASE64),
        (
            dev(&b64(members(r#""user_id":"a""#, MAX_JSON_MEMBERS + 1).as_bytes())),
            Error::TooManyMembers { segment: Segment::Payload },
        ),
        (dev(&b64(br#"{"user_id":"a","user_id":"b"}"#)), PAYLOAD_DUP),
    ];
    for (t, want) in reject {
        assert_eq!(v.verify(t, NOW, &mut scratch).map(|_| ()), Err(*want), "{t}");
    }
    // Without the opt-in, any dev token is refused before anything else is looked at.
    let strict = Verifier::new(&k);
    assert_eq!(strict.verify(dev("!!"), NOW, &mut scratch), Err(Error::DevTokenNotAllowed));
    assert_eq!(strict.verify(dev("eyJ1c2VyX2lkIjoiam9obiJ9"), NOW, &mut scratch), Err(Error::DevTokenNotAllowed));
    // verify_payload never takes dev tokens, and neither does verify_as: unsigned custom
    // claims never come back looking signed.
    assert_eq!(v.verify_payload(dev("eyJ1c2VyX2lkIjoiam9obiJ9"), &mut scratch), Err(Error::SignatureMismatch));
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Mine<'a> {
        user_id: &'a str,
    }
    let john = dev("eyJ1c2VyX2lkIjoiam9obiJ9");
    assert_eq!(v.verify_as::<Mine<'_>>(&john, NOW, &mut scratch).unwrap_err(), Error::DevTokenNotAllowed);
    assert!(v.verify(&john, NOW, &mut scratch).unwrap().is_dev());
}

/// A short scratch is a typed error that names the scratch and what the failing step needs,
/// at every length up to what the token needs; never a panic.
#[test]
fn scratch_too_small_is_an_error_not_a_panic() {
    let mut buf = [0u8; 256];
    let k = key();
    // "j\u0001hn" unescapes to 4 bytes after the payload.
    let token = k.user_token("j\u{1}hn", Some(NOW + 5), None, &mut buf).unwrap().to_owned();
    let v = Verifier::new(&k);
    let mut big = [0u8; 256];
    let payload = v.verify(&token, NOW, &mut big).map(|c| c.json().len()).unwrap();
    let total = payload + 4;
    for n in 0..total {
        let mut s = vec![0u8; n];
        let want = if n < payload { payload } else { total };
        assert_eq!(v.verify(&token, NOW, &mut s).map(|_| ()), Err(Error::ScratchTooSmall { needed: want }), "{n}");
        assert_eq!(Error::ScratchTooSmall { needed: want }.http_status(), 500);
    }
    let mut s = vec![0u8; total];
    assert!(v.verify(&token, NOW, &mut s).is_ok());
    let mut s = vec![0u8; VERIFY_SCRATCH_LEN];
    assert!(v.verify(&token, NOW, &mut s).is_ok());
}

#[test]
fn other_algorithms_round_trip_and_reject_each_other() {
    let mut buf = [0u8; 512];
    let mut scratch = [0u8; 512];
    for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let k = Key::new(alg, &[7; 64]).unwrap();
        let token = k.user_token("john", Some(NOW + 1), Some(NOW), &mut buf).unwrap().to_owned();
        assert_eq!(token.rsplit_once('.').unwrap().1.len(), alg.signature_len());
        let c = Verifier::new(&k).verify(&token, NOW, &mut scratch).unwrap();
        assert_eq!((c.user_id(), c.exp(), c.iat()), (Some("john"), Some(NOW + 1), Some(NOW)));
        for other in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
            if other != alg {
                let k2 = Key::new(other, &[7; 64]).unwrap();
                assert_eq!(Verifier::new(&k2).verify(&token, NOW, &mut scratch), Err(Error::AlgorithmNotAllowed));
            }
        }
    }
}

#[cfg(feature = "std")]
#[test]
fn verify_now_uses_the_system_clock() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let k = key();
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    let fresh = k.user_token("john", Some(now + 600), None, &mut buf).unwrap().to_owned();
    assert_eq!(Verifier::new(&k).verify_now(&fresh, &mut scratch).unwrap().user_id(), Some("john"));
    let stale = k.user_token("john", Some(now - 600), None, &mut buf).unwrap().to_owned();
    assert_eq!(Verifier::new(&k).verify_now(&stale, &mut scratch), Err(Error::Expired));
}
