//! Mints a Stream user token, a server token and a dev token, then verifies them, as a
//! backend and a gateway would. Run: `cargo run --example mint_verify`.
//! The secret comes from `STREAM_API_SECRET` when set (else a demo secret).

// Example code: the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::time::{SystemTime, UNIX_EPOCH};

use stackjwt::{Algorithm, Error, Key, Verifier, dev_token};

fn main() -> Result<(), Error> {
    let secret = std::env::var("STREAM_API_SECRET").unwrap_or_else(|_| "demo-secret-demo-secret-demo-secret!".into());
    let key = Key::new(Algorithm::Hs256, secret.as_bytes())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|_| Error::ClockBeforeEpoch)?.as_secs();

    let mut buf = [0u8; 512];
    let mut scratch = [0u8; stackjwt::VERIFY_SCRATCH_LEN];
    let verifier = Verifier::new(&key).leeway(30);

    let token = key.user_token("john", Some(now + 3600), Some(now), &mut buf)?;
    println!("user token:   {token}");
    let claims = verifier.verify(token, now, &mut scratch)?;
    println!("  verified:   user_id={:?} exp={:?} iat={:?}", claims.user_id(), claims.exp(), claims.iat());

    let mut tampered = token.as_bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let err = verifier.verify(&tampered, now, &mut scratch).unwrap_err();
    println!("  tampered:   {err}{}", stream_code(err));
    let err = verifier.verify(token, now + 7200, &mut scratch).unwrap_err();
    println!("  in 2 hours: {err}{}", stream_code(err));

    let token = key.server_token(&mut buf)?;
    println!("server token: {token}");
    println!("  verified:   server={}", verifier.verify(token, now, &mut scratch)?.is_server());

    let token = dev_token("john", &mut buf)?;
    println!("dev token:    {token}");
    println!("  strict:     {}", verifier.verify(token, now, &mut scratch).unwrap_err());
    let claims = verifier.allow_dev_tokens(true).verify(token, now, &mut scratch)?;
    println!("  dev allowed: user_id={:?} dev={}", claims.user_id(), claims.is_dev());
    Ok(())
}

/// ` (stream code 43)`, or nothing for errors Stream has no code of its own for.
fn stream_code(err: Error) -> String {
    err.stream_code().map(|code| format!(" (stream code {code})")).unwrap_or_default()
}
