//! Property tests: sign then verify round trips over all three algorithms and the claim space,
//! and single-byte changes are always rejected.

// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

use proptest::prelude::*;
use stackjwt::{Algorithm, Error, Key, Verifier, dev_token, user_token_max_len};

fn alg() -> impl Strategy<Value = Algorithm> {
    prop_oneof![Just(Algorithm::Hs256), Just(Algorithm::Hs384), Just(Algorithm::Hs512)]
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Custom {
    user_id: heapless::String<64>,
    level: u8,
    tags: heapless::Vec<heapless::String<16>, 4>,
    ratio: Option<i32>,
}

fn custom() -> impl Strategy<Value = Custom> {
    ("\\PC{1,16}", any::<u8>(), proptest::collection::vec("[ -~\u{0}-\u{1f}é😀]{0,4}", 0..4), any::<Option<i32>>())
        .prop_map(|(id, level, tags, ratio)| Custom {
            user_id: heapless::String::try_from(id.as_str()).unwrap(),
            level,
            tags: tags.iter().map(|t| heapless::String::try_from(t.as_str()).unwrap()).collect(),
            ratio,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn user_tokens_round_trip(
        alg in alg(),
        secret in proptest::collection::vec(any::<u8>(), 64),
        user_id in "\\PC{1,40}|[\u{0}-\u{7f}]{1,20}",
        exp in any::<Option<u64>>(),
        iat in any::<Option<u64>>(),
        kid in proptest::option::of("[a-z0-9-]{1,8}"),
    ) {
        let mut key = Key::new(alg, &secret).unwrap();
        if let Some(k) = &kid {
            key = key.with_kid(k).unwrap();
        }
        let mut buf = vec![0u8; user_token_max_len(alg, kid.as_ref().map_or(0, String::len), user_id.len())];
        let token = key.user_token(&user_id, exp, iat, &mut buf).unwrap().to_owned();
        prop_assert_eq!(token.len(), key.user_token_len(&user_id, exp, iat));
        let now = iat.unwrap_or(0);
        let mut scratch = vec![0u8; token.len()];
        let got = Verifier::new(&key).verify(&token, now, &mut scratch);
        match exp {
            Some(e) if e <= now => prop_assert_eq!(got, Err(Error::Expired)),
            _ => {
                let c = got.unwrap();
                prop_assert_eq!(c.user_id(), Some(user_id.as_str()));
                prop_assert_eq!((c.exp(), c.iat()), (exp, iat));
            }
        }
    }

    #[test]
    fn custom_claims_round_trip(alg in alg(), claims in custom()) {
        let key = Key::new(alg, &[0x5a; 64]).unwrap();
        let mut buf = [0u8; 1024];
        let token = key.sign(&claims, &mut buf).unwrap().to_owned();
        let mut scratch = [0u8; 1024];
        let back: Custom = Verifier::new(&key).verify_as(&token, 0, &mut scratch).unwrap();
        prop_assert_eq!(back, claims);
    }

    #[test]
    fn any_single_byte_change_is_rejected(
        alg in alg(),
        user_id in "\\PC{1,20}",
        at in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let key = Key::new(alg, &[7; 64]).unwrap();
        let mut buf = [0u8; 512];
        let mut token = key.user_token(&user_id, None, None, &mut buf).unwrap().as_bytes().to_vec();
        let i = at.index(token.len());
        token[i] ^= xor;
        let mut scratch = [0u8; 512];
        prop_assert!(Verifier::new(&key).verify(&token, 0, &mut scratch).is_err());
    }

    #[test]
    fn dev_tokens_round_trip(user_id in "\\PC{1,30}") {
        let mut buf = [0u8; 512];
        let token = dev_token(&user_id, &mut buf).unwrap().to_owned();
        let key = Key::new(Algorithm::Hs256, &[1; 32]).unwrap();
        let mut scratch = [0u8; 512];
        let c = Verifier::new(&key).allow_dev_tokens(true).verify(&token, 0, &mut scratch).unwrap();
        prop_assert_eq!(c.user_id(), Some(user_id.as_str()));
        prop_assert!(c.is_dev());
    }

    #[test]
    fn verify_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300), dev: bool) {
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let mut scratch = [0u8; 512];
        let v = Verifier::new(&key).allow_dev_tokens(dev);
        let _ = v.verify(&bytes, 0, &mut scratch);
        let _ = v.verify_payload(&bytes, &mut scratch);
    }
}
