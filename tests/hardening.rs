//! The gateway-grade contract: shareable verifiers, a scratch size that is always enough,
//! wiped keys, minting only what verifies, and development tokens never passed off as signed.
// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use heapless::{LinearMap, String as HString};
use serde::{Deserialize, Serialize};
use stackjwt::{
    Algorithm, Claim, Error, Key, KeySet, MAX_JSON_DEPTH, MAX_JSON_MEMBERS, MAX_TOKEN_LEN, Principal, Segment,
    VERIFY_SCRATCH_LEN, Verifier, decode_unverified, dev_token,
};

const SECRET: &[u8; 64] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
const NOW: u64 = 1_700_000_000;

#[test]
fn verifiers_are_send_and_sync() {
    const fn shareable<T: Send + Sync + Copy>() {}
    shareable::<Verifier<'static>>();
    shareable::<Verifier<'static, &'static KeySet<4>>>();
    // Configured with revocations, and shared by reference across threads for real.
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut cutoffs: LinearMap<HString<16>, u64, 4> = LinearMap::new();
    cutoffs.insert(HString::try_from("mallory").unwrap(), NOW).unwrap();
    let verifier = Verifier::new(&key).revocations(&cutoffs).revoked_before(1);
    let mut buf = [0u8; 256];
    let token = key.user_token("john", None, Some(2), &mut buf).unwrap();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut scratch = [0u8; 256];
                assert_eq!(verifier.verify(token, NOW, &mut scratch).unwrap().user_id(), Some("john"));
            });
        }
    });
}

/// A user id of `n` bytes made of `unit` repeated, for escape-heavy ids.
fn id_of(unit: &str, n: usize) -> String {
    unit.repeat(n / unit.len())
}

/// The longest user token of `unit`-made ids that fits [`MAX_TOKEN_LEN`] for this key.
/// The largest `n` >= 1 for which `fits(n)` holds, `fits` being true up to some `n` and
/// false after (a binary search: the lengths it tests grow with `n`).
fn largest(fits: impl Fn(usize) -> bool) -> usize {
    assert!(fits(1));
    let (mut lo, mut hi) = (1, MAX_TOKEN_LEN);
    assert!(!fits(hi));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    lo
}

fn longest_token(key: &Key, unit: &str, exp: Option<u64>) -> String {
    let n = largest(|n| key.user_token_len(&id_of(unit, n * unit.len()), exp, Some(NOW)) <= MAX_TOKEN_LEN);
    let mut buf = vec![0u8; MAX_TOKEN_LEN];
    key.user_token(&id_of(unit, n * unit.len()), exp, Some(NOW), &mut buf).unwrap().to_owned()
}

/// `VERIFY_SCRATCH_LEN` is enough on every verify path, for tokens of every length up to
/// `MAX_TOKEN_LEN` whose ids need the most unescaping room (one escape, or escapes everywhere).
#[test]
fn verify_scratch_len_is_always_enough() {
    #[derive(Deserialize)]
    struct Id {
        user_id: HString<4096>,
    }
    for alg in [Algorithm::Hs256, Algorithm::Hs512] {
        let key = Key::new(alg, SECRET).unwrap().with_kid("k".repeat(64).as_str()).unwrap();
        let v = Verifier::new(&key).allow_dev_tokens(true);
        // `"` (2 bytes escaped, 1 unescaped), U+0001 (6 to 1), é (raw), and one quote in a
        // long plain id: the unescaped id is as long as the payload allows.
        for unit in ["\"", "\u{1}", "é", "a\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"] {
            for exp in [None, Some(u64::MAX)] {
                let token = longest_token(&key, unit, exp);
                assert!(token.len() > MAX_TOKEN_LEN - 60, "{} bytes", token.len());
                let mut scratch = vec![0u8; VERIFY_SCRATCH_LEN];
                let claims = v.verify(&token, NOW, &mut scratch).unwrap();
                let id = claims.user_id().unwrap().to_owned();
                assert!(id.starts_with(unit.chars().next().unwrap()));
                assert_eq!(v.verify_as::<Id>(&token, NOW, &mut scratch).unwrap().user_id.as_str(), id);
                assert!(v.verify_payload(&token, &mut scratch).is_ok());
                let who = v.authenticate(Some("jwt"), Some(&token), NOW, &mut scratch).unwrap();
                assert_eq!(who, Principal::User(&id));
                assert!(decode_unverified(&token, &mut scratch).is_ok());
            }
        }
        // Development tokens of the longest id fit too.
        let mut dev = vec![0u8; MAX_TOKEN_LEN * 2];
        let n = largest(|n| dev_len("\"", n) <= MAX_TOKEN_LEN);
        let token = dev_token(&"\"".repeat(n), &mut dev).unwrap().to_owned();
        let mut scratch = vec![0u8; VERIFY_SCRATCH_LEN];
        assert_eq!(v.verify(&token, NOW, &mut scratch).unwrap().user_id().map(str::len), Some(n));
    }
}

/// The bound is tight: the longest token whose id has one escape per 42 bytes needs within 5%
/// of it (its payload and its unescaped id side by side).
#[test]
fn verify_scratch_len_is_close_to_what_the_worst_token_needs() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let token = longest_token(&key, "a\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", None);
    let mut scratch = vec![0u8; VERIFY_SCRATCH_LEN];
    let claims = Verifier::new(&key).verify(&token, NOW, &mut scratch).unwrap();
    let (payload, id) = (claims.json().len(), claims.user_id().unwrap().len());
    let needed = match Verifier::new(&key).verify(&token, NOW, &mut scratch[..payload + 1]) {
        Err(Error::ScratchTooSmall { needed }) => needed,
        other => panic!("{other:?}"),
    };
    assert_eq!(needed, payload + id);
    assert!(needed <= VERIFY_SCRATCH_LEN && needed * 20 > VERIFY_SCRATCH_LEN * 19, "{needed} of {VERIFY_SCRATCH_LEN}");
}

fn dev_len(unit: &str, n: usize) -> usize {
    let mut buf = vec![0u8; MAX_TOKEN_LEN * 4];
    dev_token(&unit.repeat(n), &mut buf).unwrap().len()
}

/// Custom claims with an owned id, as a gateway would take them.
#[derive(Deserialize, Debug, PartialEq)]
struct Loose {
    user_id: Option<HString<4096>>,
    exp: Option<u64>,
}

/// With `VERIFY_SCRATCH_LEN` bytes of scratch, whatever arrives is refused as an
/// authentication failure (401), never as the gateway's own fault (500).
#[test]
fn with_verify_scratch_len_every_refusal_is_a_401() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let v = Verifier::new(&key).allow_dev_tokens(true).revoked_before(5);
    let mut buf = vec![0u8; MAX_TOKEN_LEN];
    let big = longest_token(&key, "\"", Some(1));
    let mut samples: Vec<String> = vec![big.clone(), key.server_token(&mut buf).unwrap().to_owned()];
    // Long hostile headers and payloads with a wrong MAC, and every single-byte change of a
    // long escape-heavy token.
    let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","x":"{}"}}"#, "\\\"".repeat(180)));
    samples.push(format!("{header}.{}.AAAA", URL_SAFE_NO_PAD.encode("{\"user_id\":\"a\"}".repeat(150))));
    for i in (0..big.len()).step_by(7) {
        let mut t = big.clone().into_bytes();
        t[i] = if t[i] == b'A' { b'.' } else { b'A' };
        samples.push(String::from_utf8(t).unwrap());
    }
    let mut scratch = vec![0u8; VERIFY_SCRATCH_LEN];
    for t in &samples {
        for result in [
            v.verify(t, NOW, &mut scratch).map(|_| ()),
            v.verify_as::<Loose>(t, NOW, &mut scratch).map(|_| ()),
            v.verify_payload(t, &mut scratch).map(|_| ()),
            v.authenticate(Some("jwt"), Some(t), NOW, &mut scratch).map(|_| ()),
        ] {
            if let Err(e) = result {
                assert_eq!(e.http_status(), 401, "{e:?} for {t:.60}");
            }
        }
    }
}

#[cfg(feature = "zeroize")]
/// The SHA-256 states an HS256 key derives from `secret` (ipad and opad blocks), as the bytes
/// they occupy in memory.
fn keyed_states(secret: &[u8]) -> [[u8; 32]; 2] {
    const IV: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    [0x36u8, 0x5c].map(|pad| {
        let mut block = [pad; 64];
        block.iter_mut().zip(secret).for_each(|(b, s)| *b ^= s);
        let mut state = IV;
        sha2::block_api::compress256(&mut state, &[block]);
        let mut bytes = [0u8; 32];
        bytes.chunks_exact_mut(4).zip(state).for_each(|(b, w)| b.copy_from_slice(&w.to_ne_bytes()));
        bytes
    })
}

#[cfg(feature = "zeroize")]
/// The bytes of `T`'s storage, read after its value may have been dropped in place.
#[allow(unsafe_code)]
fn storage<T>(slot: &std::mem::MaybeUninit<T>) -> Vec<u8> {
    let base = slot.as_ptr().cast::<u8>();
    // SAFETY: `slot` is valid for reads of `size_of::<T>()` bytes for as long as it is
    // borrowed; volatile reads keep the compiler from assuming anything about bytes of a
    // value that was dropped. (Padding bytes may read as anything, which only makes the
    // search below stricter.)
    (0..size_of::<T>()).map(|i| unsafe { base.add(i).read_volatile() }).collect()
}

#[cfg(feature = "zeroize")]
fn holds(haystack: &[u8], needle: &[u8; 32]) -> bool {
    haystack.windows(32).any(|w| w == needle)
}

/// A dropped `Key` (and a dropped `KeySet`) no longer holds its HMAC states, which the same
/// search finds while it lives: with the `zeroize` feature, whose wiping this is (without it,
/// nothing is wiped, and `.ci/run` checks with `cargo tree` that the feature alone brings the
/// `zeroize` crate in).
#[test]
#[cfg(feature = "zeroize")]
#[allow(unsafe_code)]
fn dropped_keys_no_longer_hold_their_state() {
    let secret = &SECRET[..32];
    let states = keyed_states(secret);
    let mut slot = std::mem::MaybeUninit::<Key>::uninit();
    slot.write(Key::new(Algorithm::Hs256, secret).unwrap());
    let before = storage(&slot);
    assert!(states.iter().all(|s| holds(&before, s)), "the search finds the live states");
    // SAFETY: `slot` was initialized just above and is dropped once.
    unsafe { slot.assume_init_drop() };
    let after = storage(&slot);
    assert!(!states.iter().any(|s| holds(&after, s)), "a state survived the drop");

    let mut set = std::mem::MaybeUninit::<KeySet<2>>::uninit();
    let keys = set.write(KeySet::new());
    keys.insert(Key::new(Algorithm::Hs256, secret).unwrap().with_kid("a").unwrap()).unwrap();
    assert!(states.iter().all(|s| holds(&storage(&set), s)));
    // SAFETY: initialized above, dropped once.
    unsafe { set.assume_init_drop() };
    let after = storage(&set);
    for s in &states {
        if let Some(i) = after.windows(32).position(|w| w == s) {
            eprintln!("found at {i} of {}", after.len());
        }
    }
    assert!(!states.iter().any(|s| holds(&storage(&set), s)));
}

/// `sign` refuses, with the verifier's own error, every claim set that `verify_as` would.
#[test]
fn sign_mints_only_what_verify_as_accepts() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut buf = vec![0u8; MAX_TOKEN_LEN];

    #[derive(Serialize)]
    struct Inner {
        user_id: &'static str,
    }
    #[derive(Serialize)]
    struct Flattened {
        user_id: &'static str,
        #[serde(flatten)]
        extra: Inner,
    }
    let dup = Error::DuplicateMember { segment: Segment::Payload };
    assert_eq!(key.sign(&Flattened { user_id: "a", extra: Inner { user_id: "b" } }, &mut buf), Err(dup));
    const PAIRS: &[(&str, &str)] = &[("user_id", "a"), ("role", "x"), ("role", "y")];
    let pairs = PAIRS;
    let map = serde_json::Map::from_iter(pairs.iter().map(|(k, v)| ((*k).to_owned(), serde_json::json!(v))));
    assert!(key.sign(&map, &mut buf).is_ok(), "a JSON map has unique keys");
    struct Pairs(&'static [(&'static str, &'static str)]);
    impl Serialize for Pairs {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().copied())
        }
    }
    assert_eq!(key.sign(&Pairs(PAIRS), &mut buf), Err(dup));

    let deep = (0..MAX_JSON_DEPTH).fold(serde_json::json!(1), |v, _| serde_json::json!([v]));
    assert_eq!(
        key.sign(&serde_json::json!({"user_id": "a", "d": deep}), &mut buf),
        Err(Error::JsonTooDeep { segment: Segment::Payload })
    );
    let fits = (0..MAX_JSON_DEPTH - 2).fold(serde_json::json!(1), |v, _| serde_json::json!([v]));
    assert!(key.sign(&serde_json::json!({"user_id": "a", "d": fits}), &mut buf).is_ok());

    let crowded: serde_json::Map<String, serde_json::Value> =
        (0..MAX_JSON_MEMBERS).map(|i| (format!("m{i}"), serde_json::json!(i))).collect();
    let mut with_id = crowded.clone();
    with_id.insert("user_id".into(), "a".into());
    assert_eq!(key.sign(&with_id, &mut buf), Err(Error::TooManyMembers { segment: Segment::Payload }));

    let invalid = |claim| Err(Error::InvalidClaim { claim });
    assert_eq!(key.sign(&serde_json::json!({"user_id": "a", "exp": -1}), &mut buf), invalid(Claim::Exp));
    assert_eq!(key.sign(&serde_json::json!({"user_id": "a", "exp": 1.5}), &mut buf), invalid(Claim::Exp));
    assert_eq!(key.sign(&serde_json::json!({"user_id": "a", "iat": "now"}), &mut buf), invalid(Claim::Iat));
    assert_eq!(key.sign(&serde_json::json!({"user_id": 7}), &mut buf), invalid(Claim::UserId));
    assert_eq!(key.sign(&serde_json::json!({"server": "yes"}), &mut buf), invalid(Claim::Server));
    assert_eq!(key.sign(&serde_json::json!({"user_id": ""}), &mut buf), Err(Error::EmptyUserId));
    assert_eq!(key.sign(&serde_json::json!({"role": "admin"}), &mut buf), Err(Error::MissingSubject));
    assert_eq!(key.sign(&serde_json::json!({"server": false}), &mut buf), Err(Error::MissingSubject));

    // What it mints, verify_as takes back, and the bytes equal a one-shot encoding.
    let claims = serde_json::json!({"user_id": "jürgen \"x\"", "exp": 4_102_444_800u64, "n": {"user_id": 1}});
    let token = key.sign(&claims, &mut buf).unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    assert_eq!(payload, URL_SAFE_NO_PAD.encode(serde_json::to_string(&claims).unwrap()));
    let mut scratch = vec![0u8; VERIFY_SCRATCH_LEN];
    let back: Loose = Verifier::new(&key).verify_as(&token, NOW, &mut scratch).unwrap();
    let want = Loose { user_id: Some(HString::try_from("jürgen \"x\"").unwrap()), exp: Some(4_102_444_800) };
    assert_eq!(back, want);
    // Too small a buffer is reported before anything is checked, with the exact length; the
    // exact length is enough.
    let n = token.len();
    assert_eq!(key.sign(&claims, &mut buf[..n - 1]), Err(Error::BufferTooSmall { needed: n }));
    assert_eq!(key.sign(&claims, &mut buf[..n]).map(str::to_owned), Ok(token.clone()));
    assert_eq!(key.sign(&serde_json::json!({"role": "x"}), &mut buf[..10]), Err(Error::BufferTooSmall { needed: 97 }));
}

/// `verify_as` unescapes strings into the scratch after the payload; a scratch with room for
/// the payload only is `ScratchTooSmall`, with enough for both.
#[test]
fn verify_as_names_a_short_scratch() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut buf = [0u8; 256];
    let token = key.user_token("a\"b", None, None, &mut buf).unwrap();
    let v = Verifier::new(&key);
    let payload = r#"{"user_id":"a\"b"}"#.len();
    let mut scratch = [0u8; 64];
    let err = v.verify_as::<Loose>(token, NOW, &mut scratch[..payload]).unwrap_err();
    assert_eq!(err, Error::ScratchTooSmall { needed: 2 * payload });
    let back = v.verify_as::<Loose>(token, NOW, &mut scratch[..2 * payload]).unwrap();
    assert_eq!(back.user_id.as_deref(), Some("a\"b"));
    // A payload that does not fit at all is said of the scratch too.
    assert_eq!(
        v.verify_as::<Loose>(token, NOW, &mut scratch[..payload - 1]),
        Err(Error::ScratchTooSmall { needed: payload })
    );
}

/// Development tokens for non-ASCII ids are minted as UTF-8 (unlike the JS SDK, whose base64
/// keeps only the low byte of each UTF-16 unit) and round-trip through the verifier.
#[test]
fn non_ascii_dev_tokens_round_trip() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let v = Verifier::new(&key).allow_dev_tokens(true);
    for id in ["jürgen", "Łukasz", "山田", "😀 emoji", "é\"\u{1}"] {
        let mut buf = [0u8; 256];
        let token = dev_token(id, &mut buf).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::STANDARD.decode(payload).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), serde_json::json!({ "user_id": id }).to_string());
        let mut scratch = [0u8; 256];
        let claims = v.verify(token, NOW, &mut scratch).unwrap();
        assert_eq!((claims.user_id(), claims.is_dev()), (Some(id), true));
        assert_eq!(v.authenticate(Some("jwt"), Some(token), NOW, &mut scratch), Ok(Principal::Dev(id)));
    }
}

/// Server tokens with `iat` make app-wide revocation selective.
#[test]
fn app_wide_revocation_and_server_tokens() {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let v = Verifier::new(&key).revoked_before(NOW);
    let mut buf = [0u8; 256];
    let mut scratch = [0u8; 256];
    let fresh = key.server_token_with_iat(NOW, &mut buf).unwrap().to_owned();
    assert!(v.verify(&fresh, NOW, &mut scratch).unwrap().is_server());
    assert_eq!(v.verify(&fresh, NOW, &mut scratch).unwrap().iat(), Some(NOW));
    let old = key.server_token_with_iat(NOW - 1, &mut buf).unwrap().to_owned();
    assert_eq!(v.verify(&old, NOW, &mut scratch), Err(Error::Revoked));
    let bare = key.server_token(&mut buf).unwrap().to_owned();
    assert_eq!(v.verify(&bare, NOW, &mut scratch), Err(Error::Revoked));
    assert!(Verifier::new(&key).verify(&bare, NOW, &mut scratch).is_ok());
}
