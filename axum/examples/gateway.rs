//! A Stream-style API gateway with axum: `GET /me` answers with the caller's principal (or
//! the error body Stream's API would send), `POST /webhook` checks Stream's `X-Signature`
//! over the raw body.
//!
//! ```sh
//! STREAM_API_SECRET=... cargo run -p stackjwt-axum --example gateway -- 127.0.0.1:8080
//! curl -H 'stream-auth-type: jwt' -H "Authorization: $TOKEN" http://127.0.0.1:8080/me
//! ```

// A std crate: the core crate's no_std import lint does not apply.
#![allow(clippy::std_instead_of_core)]

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use stackjwt_axum::{Algorithm, Key};
use stackjwt_axum::{Caller, Refusal, StreamAuth};

/// The gateway's routes: `/me` behind the token check, `/webhook` behind the signature check.
pub fn app(key: Key) -> Router {
    let webhooks = Router::new().route("/webhook", post(webhook)).with_state(Arc::new(key.clone()));
    let api = Router::new().route("/me", get(me)).route_layer(StreamAuth::new(key).leeway(30).layer());
    api.merge(webhooks)
}

async fn me(caller: Caller) -> String {
    let body = match caller.user_id() {
        Some(id) => serde_json::json!({ "principal": caller.kind(), "user_id": id }),
        None => serde_json::json!({ "principal": caller.kind() }),
    };
    body.to_string()
}

async fn webhook(State(key): State<Arc<Key>>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let signature = headers.get("x-signature").map_or(&b""[..], |v| v.as_bytes());
    match key.verify_webhook(&body, signature) {
        Ok(()) => (StatusCode::OK, r#"{"webhook":"verified"}"#).into_response(),
        Err(e) => Refusal::Token(e).into_response(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // No default: a gateway that starts with a secret nobody chose accepts tokens anybody mints.
    let Ok(secret) = std::env::var("STREAM_API_SECRET") else {
        eprintln!("error: set STREAM_API_SECRET to your app's API secret");
        std::process::exit(2);
    };
    let key = Key::new(Algorithm::Hs256, secret.as_bytes())?;
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("gateway on http://{}", listener.local_addr()?);
    axum::serve(listener, app(key)).await?;
    Ok(())
}
