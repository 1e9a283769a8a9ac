//! The admin API, on its own listener: `POST /revoke?api_key=K` with a server token of app K,
//! and a JSON body `{"user_id": "john", "revoke_tokens_issued_before": T}` (T: Unix seconds,
//! an RFC 3339 string, or `null` to clear; without `user_id`, the app-wide cutoff).
//!
//! With Redis, the change is written and published (every instance's mirror follows), and the
//! answer waits for Redis' acknowledgement; without, it changes this instance's memory only.

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use serde::Deserialize;

use super::redis::{Change, Writer};
use super::time::rfc3339_seconds;
use crate::authz::{Authz, refusal_response};
use crate::credentials::api_key;
use crate::{Caller, Refusal};

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

/// The admin API: the service whose apps and keys it checks callers with, and where changes
/// go.
#[derive(Debug)]
pub struct Admin {
    authz: Arc<Authz>,
    redis: std::sync::Mutex<Option<Arc<Writer>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    user_id: Option<String>,
    #[serde(deserialize_with = "present")]
    revoke_tokens_issued_before: Option<Before>,
}

/// Requires the field (its `null` included), so that a forgotten cutoff is not a clear.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Before>, D::Error> {
    Option::<Before>::deserialize(d)
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Before {
    Seconds(u64),
    Text(String),
}

impl Admin {
    /// The admin API of `authz`, writing to Redis through `redis` (or to memory only).
    #[must_use]
    pub fn new(authz: Arc<Authz>, redis: Option<Writer>) -> Self {
        Self { authz, redis: std::sync::Mutex::new(redis.map(Arc::new)) }
    }

    /// Writes to `redis` from now on (after a reload).
    pub fn set_redis(&self, redis: Option<Writer>) {
        *self.redis.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = redis.map(Arc::new);
    }

    /// Answers one admin request.
    pub async fn respond(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if request.uri().path() != "/revoke" {
            return answer(StatusCode::NOT_FOUND, 16, "no such endpoint: POST /revoke?api_key=KEY");
        }
        if request.method() != Method::POST {
            let mut r = answer(StatusCode::METHOD_NOT_ALLOWED, 4, "use POST");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            return r;
        }
        let key = match api_key(request.uri().query().unwrap_or("")) {
            Ok(key) => key.map(std::borrow::Cow::into_owned),
            Err(refusal) => return refusal_response(refusal),
        };
        // Only the app's backend may revoke: a server token of the app the api_key names.
        let (app, caller) = match self.authz.check_headers(key.as_deref(), request.headers()) {
            Ok(found) => found,
            Err(refusal) => return refusal_response(refusal),
        };
        match caller {
            Caller::Server { .. } => {}
            Caller::Anonymous => return refusal_response(Refusal::AnonymousDenied),
            Caller::User { .. } | Caller::Dev { .. } => {
                return answer(StatusCode::FORBIDDEN, 17, "revoking tokens needs a server token");
            }
        }
        let bytes = match Limited::new(request.into_body(), MAX_BODY).collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return answer(StatusCode::PAYLOAD_TOO_LARGE, 4, "the body is larger than 64 KiB"),
        };
        let body: Body = match serde_json::from_slice(&bytes) {
            Ok(body) => body,
            Err(e) => {
                let message = format!(
                    "the body wants {{\"user_id\": ID, \"revoke_tokens_issued_before\": SECONDS | RFC 3339 | null}}: {e}"
                );
                return answer(StatusCode::BAD_REQUEST, 4, &message);
            }
        };
        let before = match body.revoke_tokens_issued_before {
            None => None,
            Some(Before::Seconds(t)) => Some(t),
            Some(Before::Text(text)) => match rfc3339_seconds(&text) {
                Some(t) => Some(t),
                None => {
                    return answer(
                        StatusCode::BAD_REQUEST,
                        4,
                        "revoke_tokens_issued_before wants Unix seconds, an RFC 3339 time (2026-12-07T10:00:00Z) or null",
                    );
                }
            },
        };
        if body.user_id.as_deref() == Some("") {
            return answer(StatusCode::BAD_REQUEST, 4, "user_id is empty: leave it out to revoke app-wide");
        }
        let change = Change { api_key: &app, user_id: body.user_id.as_deref(), before };
        let writer = self.redis.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(writer) = writer
            && let Err(e) = writer.write(&change).await
        {
            tracing::warn!(error = %e, "admin: the revocation was not written to Redis");
            return answer(StatusCode::SERVICE_UNAVAILABLE, -1, "Redis did not take the revocation, retry");
        }
        // Applied here at once; the other instances follow the channel.
        let mirror = self.authz.mirror(&app);
        match change.user_id {
            Some(user) => mirror.revoke_user(user, before),
            None => mirror.set_cutoff(before),
        }
        tracing::info!(api_key = %app, user_id = ?change.user_id, before = ?before, "admin: revocation written");
        let json = serde_json::json!({
            "api_key": app,
            "user_id": change.user_id,
            "revoke_tokens_issued_before": before,
        });
        let mut response = Response::new(Full::new(Bytes::from(json.to_string())));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

/// A JSON answer in Stream's error shape.
fn answer(status: StatusCode, code: i32, message: &str) -> Response<Full<Bytes>> {
    let json = serde_json::json!({ "code": code, "message": message, "StatusCode": status.as_u16() });
    let mut response = Response::new(Full::new(Bytes::from(json.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
