//! Arbitrary claims signed then verified: `Ok` with equal claims; any single-byte change to
//! the token: `Err`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use stackjwt::{Algorithm, Error, Key, Verifier};

#[derive(Arbitrary, Debug)]
struct Input {
    alg: u8,
    secret: [u8; 64],
    kid: Option<u8>,
    user_id: String,
    exp: Option<u64>,
    iat: Option<u64>,
    custom: Option<CustomInput>,
    flip_at: u16,
    flip_with: u8,
}

#[derive(Arbitrary, Debug)]
struct CustomInput {
    user_id: String,
    score: i64,
    flag: Option<bool>,
    tags: Vec<String>,
}

/// Custom claims with fixed capacities, as a no_std user would declare them.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
struct Custom {
    user_id: heapless::String<32>,
    score: i64,
    flag: Option<bool>,
    tags: heapless::Vec<heapless::String<8>, 3>,
}

impl Custom {
    fn from_input(c: &CustomInput) -> Option<Self> {
        let mut tags = heapless::Vec::new();
        for t in &c.tags {
            tags.push(heapless::String::try_from(t.as_str()).ok()?).ok()?;
        }
        Some(Self { user_id: heapless::String::try_from(c.user_id.as_str()).ok()?, score: c.score, flag: c.flag, tags })
    }
}

fuzz_target!(|input: Input| {
    let alg = [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512][usize::from(input.alg % 3)];
    let mut key = Key::new(alg, &input.secret).unwrap();
    if let Some(k) = input.kid {
        key = key.with_kid(&format!("k{k}")).unwrap();
    }
    let v = Verifier::new(&key);
    let mut buf = vec![0u8; stackjwt::user_token_max_len(alg, 4, input.user_id.len())];
    let mut scratch = vec![0u8; stackjwt::VERIFY_SCRATCH_LEN];

    let custom = match &input.custom {
        Some(c) => match Custom::from_input(c) {
            Some(c) => Some(c),
            None => return,
        },
        None => None,
    };
    if custom.is_some() {
        buf.resize(1024, 0);
    }
    let token = match &custom {
        // `sign` refuses what `verify_as` would: here only an empty user_id can be that.
        Some(c) => match key.sign(c, &mut buf) {
            Ok(t) => t.to_owned(),
            Err(Error::EmptyUserId) => return assert!(c.user_id.is_empty()),
            Err(e) => panic!("{e}"),
        },
        None => match key.user_token(&input.user_id, input.exp, input.iat, &mut buf) {
            Ok(t) => t.to_owned(),
            Err(Error::EmptyUserId) => return assert!(input.user_id.is_empty()),
            Err(e) => panic!("{e}"),
        },
    };
    if token.len() > stackjwt::MAX_TOKEN_LEN {
        assert_eq!(v.verify(&token, 0, &mut scratch), Err(Error::TokenTooLong));
        return;
    }
    // Like the JS SDK, a time of 0 is no claim at all.
    let (exp, iat) = (input.exp.filter(|&t| t != 0), input.iat.filter(|&t| t != 0));
    let now = iat.unwrap_or(0);
    match &custom {
        Some(c) => {
            let back: Result<Custom, _> = v.verify_as(&token, now, &mut scratch);
            assert_eq!(back.as_ref(), Ok(c));
        }
        None => {
            let got = v.verify(&token, now, &mut scratch);
            match exp {
                Some(exp) if exp <= now => assert_eq!(got, Err(Error::Expired)),
                _ => {
                    let c = got.unwrap();
                    assert_eq!(c.user_id(), Some(input.user_id.as_str()));
                    assert_eq!((c.exp(), c.iat(), c.nbf(), c.is_server(), c.is_dev()), (exp, iat, None, false, false));
                }
            }
        }
    }
    // Any single-byte change is rejected.
    let mut bad = token.into_bytes();
    let i = usize::from(input.flip_at) % bad.len();
    let flip = input.flip_with.max(1);
    bad[i] ^= flip;
    assert!(v.verify(&bad, now, &mut scratch).is_err(), "accepted a changed byte at {i}");
});
