//! The layer and the extractor over real HTTP: an axum server bound on 127.0.0.1, a hyper
//! client.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use stackjwt::{Algorithm, Key, KeySet, dev_token};
use stackjwt_axum::{Caller, Keys, QueryTokens, StreamAuth};

const SECRET: &[u8] = b"a test secret of thirty-two bytes!";

fn key() -> Key {
    Key::new(Algorithm::Hs256, SECRET).unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn user_token(key: &Key, id: &str, exp: Option<u64>) -> String {
    let mut buf = [0u8; 512];
    key.user_token(id, exp, None, &mut buf).unwrap().to_owned()
}

/// The handler echoes the principal the extractor gives it, as JSON.
async fn whoami(p: Caller) -> String {
    serde_json::json!({"kind": p.kind(), "user_id": p.user_id(), "exp": p.exp()}).to_string()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn app<K: Keys>(auth: StreamAuth<K>) -> String {
    serve(Router::new().route("/", get(whoami)).route("/connect", get(whoami)).layer(auth.layer())).await
}

struct Reply {
    status: StatusCode,
    content_type: Option<String>,
    body: Value,
}

async fn send(base: &str, path: &str, headers: &[(&str, &[u8])]) -> Reply {
    let client: Client<HttpConnector, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = Request::get(format!("{base}{path}"));
    for (name, value) in headers {
        req = req.header(*name, HeaderValue::from_bytes(value).unwrap());
    }
    let resp = client.request(req.body(Empty::new()).unwrap()).await.unwrap();
    let status = resp.status();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply { status, content_type, body: serde_json::from_slice(&body).unwrap() }
}

async fn jwt(base: &str, token: &str) -> Reply {
    send(base, "/", &[("stream-auth-type", b"jwt"), ("authorization", token.as_bytes())]).await
}

/// A refusal: its status, Stream's JSON body with that status, and the JSON content type.
fn assert_refused(r: &Reply, status: u16, code: i64, message: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.body["code"], code, "{}", r.body);
    assert_eq!(r.body["message"], message);
    assert_eq!(r.body["StatusCode"], status);
}

#[tokio::test]
async fn valid_tokens_reach_the_handler_with_their_principal() {
    let key = key();
    let exp = now() + 3600;
    let user = user_token(&key, "john", Some(exp));
    let mut buf = [0u8; 256];
    let server = key.server_token(&mut buf).unwrap().to_owned();
    let base = app(StreamAuth::new(key)).await;

    let r = jwt(&base, &user).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, serde_json::json!({"kind": "user", "user_id": "john", "exp": exp}));
    let r = jwt(&base, &server).await;
    assert_eq!(r.body, serde_json::json!({"kind": "server", "user_id": null, "exp": null}));
    let r = send(&base, "/", &[("stream-auth-type", b"anonymous")]).await;
    assert_eq!(r.body, serde_json::json!({"kind": "anonymous", "user_id": null, "exp": null}));
}

#[tokio::test]
async fn refusals_are_answered_by_the_layer_with_streams_body() {
    let key = key();
    let expired = user_token(&key, "john", Some(now() - 100));
    let valid = user_token(&key, "john", None);
    let mut tampered = valid.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let base = app(StreamAuth::new(key).require_exp(false)).await;

    assert_refused(&jwt(&base, &expired).await, 401, 40, "token expired");
    assert_refused(&jwt(&base, &tampered).await, 401, 43, "signature mismatch");
    assert_refused(&jwt(&base, &format!("Bearer {valid}")).await, 401, 5, "authorization has a bearer prefix");
    assert_refused(&send(&base, "/", &[("stream-auth-type", b"jwt")]).await, 401, 5, "missing token");
    assert_refused(&send(&base, "/", &[]).await, 401, 5, "missing stream-auth-type");
    assert_refused(
        &jwt(&base, dev_token("john", &mut [0u8; 256]).unwrap()).await,
        401,
        5,
        "development tokens not allowed",
    );
    assert_refused(&jwt(&base, &"a".repeat(5000)).await, 401, 5, "token too long");
    let twice =
        [("stream-auth-type", &b"jwt"[..]), ("authorization", valid.as_bytes()), ("authorization", valid.as_bytes())];
    assert_refused(&send(&base, "/", &twice).await, 401, 5, "duplicate authorization header");
    let not_ascii = [("stream-auth-type", &b"jwt"[..]), ("authorization", &b"a.b\xff.c"[..])];
    assert_refused(&send(&base, "/", &not_ascii).await, 401, 5, "authorization header is not visible ascii");
}

#[tokio::test]
async fn options_reach_the_verifier() {
    let key = key();
    let no_exp = user_token(&key, "john", None);
    let just_expired = user_token(&key, "john", Some(now() - 5));
    let mut buf = [0u8; 256];
    let dev = dev_token("jane", &mut buf).unwrap().to_owned();
    let base =
        app(StreamAuth::new(key.clone()).require_exp(true).leeway(60).allow_dev_tokens(true).deny_anonymous(true))
            .await;

    assert_refused(&jwt(&base, &no_exp).await, 401, 5, "token has no exp");
    assert_eq!(jwt(&base, &just_expired).await.status, StatusCode::OK, "within the leeway");
    // A dev token has no exp: require_exp refuses it like any other.
    assert_refused(&jwt(&base, &dev).await, 401, 5, "token has no exp");
    assert_refused(&send(&base, "/", &[("stream-auth-type", b"anonymous")]).await, 401, 5, "anonymous access denied");

    let dev_ok = app(StreamAuth::new(key.clone()).allow_dev_tokens(true)).await;
    assert_eq!(jwt(&dev_ok, &dev).await.body, serde_json::json!({"kind": "dev", "user_id": "jane", "exp": null}));

    // Revocation: app-wide by iat, and per user from a shared store.
    let mut buf = [0u8; 512];
    let old = key.user_token("john", None, Some(1_000), &mut buf).unwrap().to_owned();
    let base = app(StreamAuth::new(key.clone()).revoked_before(2_000)).await;
    assert_refused(&jwt(&base, &old).await, 401, 5, "token revoked");
    let per_user: HashMap<&str, u64> = HashMap::from([("john", 2_000)]);
    let base = app(StreamAuth::new(key.clone()).revocations(Arc::new(Cutoffs(per_user)))).await;
    assert_refused(&jwt(&base, &old).await, 401, 5, "token revoked");
    let jane = key.user_token("jane", None, Some(1_000), &mut buf).unwrap().to_owned();
    assert_eq!(jwt(&base, &jane).await.body["user_id"], "jane");
}

struct Cutoffs(HashMap<&'static str, u64>);

impl stackjwt::Revocations for Cutoffs {
    fn revoked_before(&self, user_id: &str) -> Option<u64> {
        self.0.get(user_id).copied()
    }
}

#[tokio::test]
async fn key_sets_pick_the_key_by_kid() {
    let old = Key::new(Algorithm::Hs256, SECRET).unwrap().with_kid("2025").unwrap();
    let new = Key::new(Algorithm::Hs512, &[7; 64]).unwrap().with_kid("2026").unwrap();
    let (from_old, from_new) = (user_token(&old, "a", None), user_token(&new, "b", None));
    let stranger = user_token(&Key::new(Algorithm::Hs256, SECRET).unwrap().with_kid("1999").unwrap(), "c", None);
    let mut keys: KeySet<2> = KeySet::new();
    keys.insert(old).unwrap();
    keys.insert(new).unwrap();
    let base = app(StreamAuth::with_keys(keys)).await;
    assert_eq!(jwt(&base, &from_old).await.body["user_id"], "a");
    assert_eq!(jwt(&base, &from_new).await.body["user_id"], "b");
    assert_refused(&jwt(&base, &stranger).await, 401, 5, "unknown key id");
}

#[tokio::test]
async fn websocket_upgrades_may_carry_the_token_in_the_query() {
    let key = key();
    let token = user_token(&key, "john", None);
    let query = format!("/connect?json=%7B%7D&api_key=k&authorization={token}&stream-auth-type=jwt");
    let upgrade: [(&str, &[u8]); 2] = [("connection", b"Upgrade"), ("upgrade", b"WebSocket")];
    let base = app(StreamAuth::new(key.clone())).await;
    assert_eq!(send(&base, &query, &upgrade).await.body["user_id"], "john");
    // Not an upgrade: query tokens are not looked at by default.
    assert_refused(&send(&base, &query, &[]).await, 401, 5, "missing stream-auth-type");
    // Headers come first.
    let with_headers = [("upgrade", &b"websocket"[..]), ("stream-auth-type", b"anonymous")];
    assert_eq!(send(&base, &query, &with_headers).await.body["kind"], "anonymous");
    let twice = format!("{query}&authorization={token}");
    assert_refused(&send(&base, &twice, &upgrade).await, 401, 5, "duplicate authorization query parameter");

    let always = app(StreamAuth::new(key.clone()).query_tokens(QueryTokens::Always)).await;
    assert_eq!(send(&always, &query, &[]).await.body["user_id"], "john");
    let never = app(StreamAuth::new(key).query_tokens(QueryTokens::Never)).await;
    assert_refused(&send(&never, &query, &upgrade).await, 401, 5, "missing stream-auth-type");
}

#[tokio::test]
async fn the_extractor_without_the_layer_is_a_clear_500() {
    let base = serve(Router::new().route("/", get(whoami))).await;
    let r = send(&base, "/", &[("stream-auth-type", b"anonymous")]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    assert_eq!(r.body["code"], -1);
    assert!(r.body["message"].as_str().unwrap().contains("no StreamAuthLayer"), "{}", r.body);
}
