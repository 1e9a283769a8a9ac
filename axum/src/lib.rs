//! Stream Chat token checks for axum and tower services, with [`stackjwt`]; and
//! `stackjwt-authz`, a forward-auth server for NGINX, Envoy, Traefik and Caddy.
//!
//! A [`StreamAuth`] owns the keys and the [`Verifier`](stackjwt::Verifier) settings; its
//! [`layer`](StreamAuth::layer) checks every request (shared through an `Arc`), puts the
//! caller's [`Caller`] into the request's extensions, and answers refusals itself with
//! Stream's JSON error body and status. Handlers take the [`Caller`] as an extractor.
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! stackjwt-axum = "0.1"   # re-exports what the examples use of stackjwt: Key, Algorithm, KeySet
//! axum = "0.8"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use stackjwt_axum::{Algorithm, Key, Caller, StreamAuth};
//!
//! async fn me(caller: Caller) -> String {
//!     format!("{} {}", caller.kind(), caller.user_id().unwrap_or("-"))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let key = Key::new(Algorithm::Hs256, std::env::var("STREAM_API_SECRET")?.as_bytes())?;
//!     let app = Router::new().route("/me", get(me)).layer(StreamAuth::new(key).leeway(30).layer());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     Ok(axum::serve(listener, app).await?)
//! }
//! ```
//!
//! Credentials come from Stream's two headers, `Authorization` (the bare token) and
//! `stream-auth-type` (`jwt` or `anonymous`); a WebSocket upgrade without them may carry them
//! in its query (`/connect?...&authorization=TOKEN&stream-auth-type=jwt`), as Stream's clients
//! send them ([`QueryTokens`]). A credential header sent twice is refused, never guessed.
//!
//! The `stackjwt-authz` binary is built with the `server` feature (`cargo install --path axum
//! --features server --bin stackjwt-authz`), so that a service using the layer builds none of
//! its dependencies (flag parsing, log output).

// A std crate: the core crate's no_std import lint does not apply.
#![allow(clippy::std_instead_of_core)]

mod auth;
pub mod authz;
mod credentials;
mod forward;
mod layer;
pub mod metrics;
mod revocations;
#[cfg(feature = "server")]
pub mod server;

#[doc(hidden)]
pub use auth::Options;
pub use auth::{Caller, KeyPair, Keys, QueryTokens, Refusal, StreamAuth};
pub use credentials::{API_KEY, AUTH_TYPE, AUTHORIZATION, Credentials, api_key, single_header};
pub use forward::{
    FORWARDED_URI_HEADERS, USER_ID_ENCODING_HEADER, UserIdEncoding, forwarded_uri, is_forwardable, user_id_header,
};
pub use layer::{MissingLayer, StreamAuthLayer, StreamAuthService};
pub use metrics::Metrics;
pub use revocations::RevocationMirror;
/// The core crate's key types, re-exported so that a service needs only this crate.
pub use stackjwt::{Algorithm, Key, KeySet};
