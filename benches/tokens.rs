//! Hot paths, the raw-HMAC floor and the peers, side by side in one process.
//! `cargo bench --bench tokens`, then `python3 benches/ratios.py` prints the ratios and goals.

// Bench code: the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::indexing_slicing, clippy::std_instead_of_core)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha384, Sha512};
use stackjwt::{Algorithm, Key, Verifier};

const SECRET: &[u8; 64] = b"8hz7kq2wm4xd9v6bn3tj5yr1pc0fa7eu4sg2lh8zk6wq3xm9vd5bt1nj7rc4yp0f";
const USER: &str = "support-bot-42";
const EXP: u64 = 4_102_444_800; // 2100: the peers check against the real clock
const IAT: u64 = 1_700_000_000;
const NOW: u64 = 1_800_000_000;

#[derive(Serialize, Deserialize)]
struct StreamClaims {
    user_id: String,
    exp: u64,
    iat: u64,
}

#[derive(Serialize, Deserialize)]
struct Custom<'a> {
    user_id: &'a str,
    exp: u64,
    role: &'a str,
    teams: [&'a str; 2],
}

const CUSTOM: Custom<'static> = Custom { user_id: USER, exp: EXP, role: "admin", teams: ["red", "blue"] };

fn alg_id(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Hs256 => "hs256",
        Algorithm::Hs384 => "hs384",
        Algorithm::Hs512 => "hs512",
    }
}

/// The floor: HMAC with the key schedule precomputed, over the same `header.payload` bytes.
fn floor<M: Mac + KeyInit + Clone>(c: &mut Criterion, id: &str, signed: &[u8]) {
    let keyed = <M as KeyInit>::new_from_slice(SECRET).unwrap();
    c.bench_function(id, |b| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(signed));
            black_box(m.finalize().into_bytes())
        })
    });
}

fn ours(c: &mut Criterion) {
    for alg in [Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512] {
        let key = Key::new(alg, SECRET).unwrap();
        let mut buf = [0u8; 512];
        let token = key.user_token(USER, Some(EXP), Some(IAT), &mut buf).unwrap().to_owned();
        let signed = token.rsplit_once('.').unwrap().0.as_bytes();
        match alg {
            Algorithm::Hs256 => floor::<Hmac<Sha256>>(c, "floor/hmac-sha256", signed),
            Algorithm::Hs384 => floor::<Hmac<Sha384>>(c, "floor/hmac-sha384", signed),
            Algorithm::Hs512 => floor::<Hmac<Sha512>>(c, "floor/hmac-sha512", signed),
        }
        let a = alg_id(alg);
        c.bench_function(&format!("sign/{a}/user_token"), |b| {
            b.iter(|| black_box(key.user_token(black_box(USER), Some(EXP), Some(IAT), &mut buf).unwrap().len()))
        });
        let v = Verifier::new(&key);
        let mut scratch = [0u8; 512];
        c.bench_function(&format!("verify/{a}/user_token"), |b| {
            b.iter(|| black_box(v.verify(black_box(&token), NOW, &mut scratch).unwrap().exp()))
        });
    }

    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut buf = [0u8; 512];
    c.bench_function("sign/hs256/server_token", |b| b.iter(|| black_box(key.server_token(&mut buf).unwrap().len())));
    c.bench_function("sign/hs256/custom", |b| {
        b.iter(|| black_box(key.sign(black_box(&CUSTOM), &mut buf).unwrap().len()))
    });
    let token = key.sign(&CUSTOM, &mut buf).unwrap().to_owned();
    let v = Verifier::new(&key);
    let mut scratch = [0u8; 512];
    c.bench_function("verify/hs256/custom", |b| {
        b.iter(|| black_box(v.verify_as::<Custom<'_>>(black_box(&token), NOW, &mut scratch).unwrap().exp))
    });
}

fn peers(c: &mut Criterion) {
    use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation, decode, encode};
    let claims = StreamClaims { user_id: USER.into(), exp: EXP, iat: IAT };
    let enc = EncodingKey::from_secret(SECRET).unwrap();
    let dec = DecodingKey::from_secret(SECRET).unwrap();
    let header = Header::default();
    c.bench_function("peers/jsonwebtoken/encode", |b| {
        b.iter(|| black_box(encode(&header, black_box(&claims), &enc).unwrap()))
    });
    let token = encode(&header, &claims, &enc).unwrap();
    let validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    c.bench_function("peers/jsonwebtoken/decode", |b| {
        b.iter(|| black_box(decode::<StreamClaims>(black_box(&token), &dec, &validation).unwrap().claims.exp))
    });

    use jwt_simple::prelude::{HS256Key, MACLike};
    #[derive(Serialize, Deserialize)]
    struct UserId {
        user_id: String,
    }
    let key = HS256Key::from_bytes(SECRET);
    let make = || {
        jwt_simple::prelude::Claims::with_custom_claims(
            UserId { user_id: USER.into() },
            jwt_simple::prelude::Duration::from_hours(1),
        )
    };
    c.bench_function("peers/jwt-simple/sign", |b| b.iter(|| black_box(key.authenticate(make()).unwrap())));
    let token = key.authenticate(make()).unwrap();
    c.bench_function("peers/jwt-simple/verify", |b| {
        b.iter(|| black_box(key.verify_token::<UserId>(black_box(&token), None).unwrap().custom.user_id.len()))
    });
}

/// The base64 codecs on a user token's payload segment (about 70 characters).
fn codecs(c: &mut Criterion) {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut buf = [0u8; 512];
    let token = key.user_token(USER, Some(EXP), Some(IAT), &mut buf).unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap().to_owned();
    let mut out = [0u8; 128];
    c.bench_function("codec/base64/decode", |b| {
        use base64::Engine as _;
        b.iter(|| {
            black_box(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.decode_slice(black_box(&payload), &mut out).unwrap(),
            )
        })
    });
    c.bench_function("codec/base64ct/decode", |b| {
        use base64ct::Encoding as _;
        b.iter(|| black_box(base64ct::Base64UrlUnpadded::decode(black_box(&payload), &mut out).unwrap().len()))
    });
}

/// Verify throughput with 1 and 2 threads sharing one `Key` by reference.
fn threads(c: &mut Criterion) {
    let key = Key::new(Algorithm::Hs256, SECRET).unwrap();
    let mut buf = [0u8; 512];
    let token = key.user_token(USER, Some(EXP), Some(IAT), &mut buf).unwrap().to_owned();
    let mut g = c.benchmark_group("threads");
    for n in [1u64, 2] {
        g.throughput(Throughput::Elements(n));
        g.bench_function(format!("{n}/verify/hs256"), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..n {
                        s.spawn(|| {
                            let v = Verifier::new(&key);
                            let mut scratch = [0u8; 512];
                            for _ in 0..iters {
                                black_box(v.verify(black_box(&token), NOW, &mut scratch).unwrap().exp());
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = ours, peers, codecs, threads
}
criterion_main!(benches);
