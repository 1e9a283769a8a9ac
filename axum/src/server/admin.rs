//! The admin API, on its own listener: `POST /revoke?api_key=K` with a server token of app K,
//! and a JSON body that names what it revokes, one user or the whole app:
//!
//! - `{"user_id": "john", "revoke_tokens_issued_before": T}`
//! - `{"scope": "app", "revoke_tokens_issued_before": T}`
//!
//! T: Unix seconds or an RFC 3339 time, no later than now (plus a minute for clocks apart), or
//! `null` to clear. A body with neither `user_id` nor `scope`, or both, is refused: a
//! `user_id` a backend left `undefined` must not clear the app-wide cutoff.
//!
//! The body is read first (64 KiB within 10 s). The caller is then checked with every rule the
//! check listener applies (a stale mirror is a 503, an app not allowed here a 403), and again
//! inside Redis as the change is written: one script checks the token's `iat` against the
//! app-wide cutoff Redis holds at that moment, then writes and publishes, so a revoked server
//! token cannot clear its own revocation however far behind this instance's mirror is. The
//! answer waits for Redis; the change is then read back from Redis into this instance's
//! mirror. Without Redis, it changes this instance's memory only.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use serde::Deserialize;

use super::redis::{Change, Writer, Written};
use super::time::rfc3339_seconds;
use crate::authz::{Authz, refusal_response};
use crate::credentials::api_key;
use crate::{Caller, Refusal};

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;
/// Time a caller has to send the body.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How far past this instance's clock a cutoff may lie (another instance's clock may be
/// ahead); a later one would refuse tokens not yet minted, for ever.
pub const FUTURE_SLACK_SECS: u64 = 60;
/// The two bodies the API takes, for messages.
const FORMS: &str = "send {\"user_id\": ID, \"revoke_tokens_issued_before\": T} for one user, or {\"scope\": \"app\", \"revoke_tokens_issued_before\": T} for the whole app (T: Unix seconds, an RFC 3339 time, or null to clear)";

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
    /// Absent: `None`; `null`: `Some(None)`.
    #[serde(default, deserialize_with = "given")]
    user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    scope: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    revoke_tokens_issued_before: Option<Before>,
}

/// Requires the field (its `null` included), so that a forgotten cutoff is not a clear.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Before>, D::Error> {
    Option::<Before>::deserialize(d)
}

/// A field that was given, `null` or not (absent fields are `None` by `default`).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
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
        // The body first (within a deadline): the caller is checked just before the write, not
        // before a body that may take its time.
        let (parts, body) = request.into_parts();
        let bytes = match tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_BODY).collect()).await {
            Ok(Ok(body)) => body.to_bytes(),
            Ok(Err(_)) => return answer(StatusCode::PAYLOAD_TOO_LARGE, 4, "the body is larger than 64 KiB"),
            Err(_) => return answer(StatusCode::REQUEST_TIMEOUT, 4, "the body did not arrive within 10 s"),
        };
        let key = match api_key(parts.uri.query().unwrap_or("")) {
            Ok(key) => key.map(std::borrow::Cow::into_owned),
            Err(refusal) => return refusal_response(refusal),
        };
        // Only the app's backend may revoke: a server token of the app the api_key names,
        // checked with every rule of the check listener (a stale mirror is a 503).
        let (app, caller) = match self.authz.check_headers(key.as_deref(), &parts.headers) {
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
        let body: Body = match serde_json::from_slice(&bytes) {
            Ok(body) => body,
            Err(e) => return answer(StatusCode::BAD_REQUEST, 4, &format!("{FORMS}: {e}")),
        };
        let user_id = match (body.user_id, body.scope) {
            (Some(Some(user)), None) if !user.is_empty() => Some(user),
            (Some(Some(_)), None) => return answer(StatusCode::BAD_REQUEST, 4, &format!("user_id is empty: {FORMS}")),
            (None, Some(Some(scope))) if scope == "app" => None,
            (None, Some(_)) => {
                return answer(StatusCode::BAD_REQUEST, 4, &format!("scope takes only \"app\": {FORMS}"));
            }
            (Some(None), None) => return answer(StatusCode::BAD_REQUEST, 4, &format!("user_id is null: {FORMS}")),
            (None, None) => {
                return answer(
                    StatusCode::BAD_REQUEST,
                    4,
                    &format!("the body names neither a user nor the app: {FORMS}"),
                );
            }
            (Some(_), Some(_)) => {
                return answer(StatusCode::BAD_REQUEST, 4, &format!("the body names both a user and the app: {FORMS}"));
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
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if let Some(t) = before
            && t > now.saturating_add(FUTURE_SLACK_SECS)
        {
            let message = format!(
                "revoke_tokens_issued_before is {}s in the future: a cutoff later than now would refuse every token minted until then; revoke up to now (tokens issued before it), at most {FUTURE_SLACK_SECS}s ahead",
                t.saturating_sub(now)
            );
            return answer(StatusCode::BAD_REQUEST, 4, &message);
        }
        let change = Change { api_key: &app, user_id: user_id.as_deref(), before };
        let writer = self.redis.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        match writer {
            Some(writer) => {
                // The caller's token is checked again inside Redis, against the app-wide
                // cutoff Redis holds as it writes: a server token that cutoff revokes changes
                // nothing, however far behind this instance's mirror is.
                match writer.write(&change, caller.iat().unwrap_or(0)).await {
                    Ok(Written::Done) => {}
                    Ok(Written::CallerRevoked) => {
                        if let Err(e) = writer.refresh(&self.authz, &app, None).await {
                            tracing::warn!(error = %e, "admin: the app-wide cutoff was not read back");
                        }
                        return refusal_response(Refusal::Token(stackjwt::Error::Revoked));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "admin: the revocation was not written to Redis");
                        return answer(StatusCode::SERVICE_UNAVAILABLE, -1, "Redis did not take the revocation, retry");
                    }
                }
                // Read back, as the mirror reads an announced change: never the request's value
                // over a later change this instance has already heard of. (The other instances,
                // and this one again, follow the channel.)
                if let Err(e) = writer.refresh(&self.authz, &app, change.user_id).await {
                    tracing::warn!(error = %e, "admin: written, but not read back yet (the channel will bring it)");
                }
            }
            None => {
                let mirror = self.authz.mirror(&app);
                match change.user_id {
                    Some(user) => mirror.revoke_user(user, before),
                    None => mirror.set_cutoff(before),
                }
            }
        }
        tracing::info!(api_key = %app, user_id = ?change.user_id, before = ?before, "admin: revocation written");
        let json = match change.user_id {
            Some(user) => serde_json::json!({ "api_key": app, "user_id": user, "revoke_tokens_issued_before": before }),
            None => serde_json::json!({ "api_key": app, "scope": "app", "revoke_tokens_issued_before": before }),
        };
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
