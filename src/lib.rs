#![no_std]
#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
//!
//! ## Features
//!
//! - `zeroize` (on by default): a [`Key`]'s precomputed HMAC states are as good as its secret
//!   (they mint tokens), so they are wiped when the key is dropped, and so is every per-token
//!   working copy of them (the MAC computed to check a token included). Turn it off only to
//!   measure what it costs.
//! - `std` (off by default): conveniences only, such as
//!   [`Verifier::verify_now`] with the system clock. The library never allocates either way.
//! - `cli` (off by default): the `stackjwt` command; turns on `std`.
//!
//! ## Security choices
//!
//! - The algorithm comes from the [`Key`]; a header naming any other `alg` (`none` included,
//!   in any case) is rejected, as is a missing or non-string `alg` and any `crit`.
//! - The MAC is computed over the raw `header.payload` bytes. The signature segment (public)
//!   is strictly decoded into a fixed array, refusing any length but the algorithm's and any
//!   non-canonical encoding, and the raw MAC bytes are compared in constant time (`subtle`):
//!   no table lookup or branch depends on the expected MAC. Claims are decoded and parsed only
//!   after the MAC matched.
//! - Everything done before the MAC is checked costs time linear in the token's length, with
//!   a small constant, on every input: the header is at most [`MAX_HEADER_LEN`] bytes, and
//!   the JSON reader finds duplicate names with a fixed table of at most [`MAX_JSON_MEMBERS`]
//!   entries (no rescans). The `dos/*` benches show hostile tokens next to benign ones of the
//!   same length.
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
//!   the decoder can panic, recurse without bound or overflow. A verify scratch of
//!   [`VERIFY_SCRATCH_LEN`] bytes is always enough, so no token can turn a refusal into an
//!   internal error.
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
pub use base64::{decode_segment, encoded_len as base64url_len};
pub use claims::Claims;
pub use error::{Claim, Error, Segment};
pub use inspect::{Unverified, decode_unverified};
pub use json::read::{MAX_DEPTH as MAX_JSON_DEPTH, MAX_MEMBERS as MAX_JSON_MEMBERS};
pub use key::{Key, MAX_KID_LEN, secret_from_file};
pub use keyset::{KeySet, KeySource};
pub use revoke::Revocations;
pub use sign::{dev_token, dev_token_max_len, server_token_len, server_token_with_iat_len, user_token_max_len};
pub use verify::{MAX_HEADER_LEN, MAX_TOKEN_LEN, VERIFY_SCRATCH_LEN, Verifier};
pub use webhook::WEBHOOK_SIGNATURE_LEN;
