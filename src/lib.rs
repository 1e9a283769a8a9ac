#![no_std]
#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

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
