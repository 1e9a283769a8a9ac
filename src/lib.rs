#![no_std]
#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
//!
//! ## Features
//!
//! - `std` (off by default): conveniences only, such as
//!   [`Verifier::verify_now`] with the system clock. The library never allocates either way.
//! - `cli` (off by default): the `stackjwt` command; turns on `std`.
//!
//! ## Security choices
//!
//! - The algorithm comes from the [`Key`]; a header naming any other `alg` (`none` included,
//!   in any case) is rejected, as is a missing or non-string `alg` and any `crit`.
//! - The MAC is computed over the raw `header.payload` bytes and compared in constant time
//!   (`subtle`) with the signature segment *as text*: the expected MAC is encoded, not the
//!   token's decoded, so a non-canonical signature encoding can never match. Claims are decoded
//!   and parsed only after the MAC matched.
//! - base64url is strict: no padding, no `+` or `/`, no whitespace, zero trailing bits, no
//!   length that is 1 modulo 4, so every byte string has exactly one accepted encoding. The
//!   codec is a small table-driven one in this crate, chosen by measurement (see the README's
//!   performance section): `base64ct` took 122 ns to decode a user token's payload segment
//!   where the `base64` crate took 28 ns; this codec decodes as fast as the latter, encodes
//!   straight into the token as JSON is written, and adds no dependency. It is not
//!   constant-time and need not be: token text is public. Its output is checked against the
//!   `base64` crate in the tests.
//! - JSON is strict RFC 8259, one object and nothing else, nesting at most [`MAX_JSON_DEPTH`],
//!   no duplicate member names (compared after unescaping), and `exp`, `nbf`, `iat`,
//!   `user_id` and `server` must have their types: a wrong type is an error, never "absent".
//! - Secrets shorter than the hash output need the explicit [`Key::new_weak`].
//! - Tokens longer than [`MAX_TOKEN_LEN`] are rejected before any other work, and nothing in
//!   the decoder can panic, recurse without bound or overflow.
//!
//! ## MSRV
//!
//! Rust 1.88.

mod algorithm;
mod auth;
mod base64;
mod claims;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
#[allow(missing_docs, clippy::missing_errors_doc)]
pub mod fuzzing;
mod inspect;
mod json;
mod key;
mod keyset;
mod revoke;
mod sign;
mod verify;
mod webhook;

pub use algorithm::Algorithm;
pub use auth::Principal;
pub use base64::encoded_len as base64url_len;
pub use claims::Claims;
pub use error::{Claim, Error};
pub use inspect::{Unverified, decode_unverified};
pub use json::read::MAX_DEPTH as MAX_JSON_DEPTH;
pub use key::{Key, MAX_KID_LEN};
pub use keyset::{KeySet, KeySource};
pub use revoke::Revocations;
pub use sign::{dev_token, dev_token_max_len, server_token_len, user_token_max_len};
pub use verify::{MAX_TOKEN_LEN, Verifier};
pub use webhook::WEBHOOK_SIGNATURE_LEN;
