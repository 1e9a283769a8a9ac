//! `stackjwt-authz` behind a real NGINX (`auth_request`), in front of an upstream that
//! records what reaches it. The configuration is the README's.
//!
//! Skipped, with the reason printed, when `nginx` is not installed, unless
//! `STACKJWT_REQUIRE_NGINX=1` (as `.ci/run` sets), which makes the skip a failure.
//! `cargo test -p stackjwt-axum --test nginx -- --nocapture` prints the transcript.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, missing_docs)]

mod common;
mod proxy;

use std::time::Duration;

use common::fleet::{
    Dir, Redis, SECRET_2, SECRET_A, eventually, redis_section, refused, revoke, server, two_apps, user,
};
use common::{Authz, get, now, user_token};
use proxy::{Seen, fill, find_nginx, free_port, readme_nginx, start_nginx, upstream, wait_for, websocket};
use stackjwt::dev_token;

/// The README's NGINX configuration, as it stands there: `authz` the servers of the
/// `stackjwt_authz` upstream block, `app` the upstream's address.
fn readme_site(port: u16, authz: &[&str], app: &str) -> String {
    let servers = authz.iter().map(|a| format!("server {a};")).collect::<Vec<_>>().join(" ");
    let log = std::env::temp_dir().join(format!("stackjwt-site-{}-{port}.log", std::process::id()));
    fill(
        &readme_nginx("location = /_stream_auth"),
        &[
            ("listen 8000;", &format!("listen 127.0.0.1:{port};")),
            ("server 127.0.0.1:9090;", &servers),
            ("server 127.0.0.1:3000;", &format!("server {app};")),
            ("/var/log/nginx/access.log", log.to_str().unwrap()),
        ],
    )
}

/// NGINX with the README's configuration in front of `authz`, and the upstream that records.
fn start_site(
    bin: &std::path::Path,
    authz: &[&str],
) -> (proxy::Nginx, String, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    let (upstream, seen) = upstream();
    let port = free_port();
    let mut nginx = start_nginx(bin, "", false, &readme_site(port, authz, &upstream));
    let front = format!("127.0.0.1:{port}");
    wait_for(&front, &mut nginx);
    (nginx, front, seen)
}

/// A client's own identity headers, sent with every request of these tests.
const SPOOF: [(&str, &str); 4] = [
    ("X-Stream-User-Id", "admin"),
    ("X-Stream-Principal", "server"),
    ("X-Stream-Api-Key", "k2"),
    ("X-Stream-User-Id-Encoding", "percent"),
];

/// The installed `nginx`, or `None` (skip) with the reason printed.
fn nginx_or_skip() -> Option<std::path::PathBuf> {
    let found = find_nginx();
    if found.is_none() {
        assert!(
            std::env::var("STACKJWT_REQUIRE_NGINX").as_deref() != Ok("1"),
            "nginx is not installed and STACKJWT_REQUIRE_NGINX=1"
        );
        eprintln!(
            "skipped: nginx is not installed (apt-get install nginx); set STACKJWT_REQUIRE_NGINX=1 to fail instead"
        );
    }
    found
}

#[test]
fn behind_nginx_only_valid_credentials_reach_the_upstream() {
    let Some(bin) = nginx_or_skip() else { return };
    let authz = Authz::start(&[]);
    let strict = Authz::start(&["--deny-anonymous"]);
    let (_nginx, front, seen) = start_site(&bin, &[&authz.addr]);
    let (_strict_nginx, strict_front, strict_seen) = start_site(&bin, &[&strict.addr]);

    let valid = user_token("john", Some(now() + 600));
    let expired = user_token("john", Some(now() - 60));
    let tampered = format!("{}.{}", valid.rsplit_once('.').unwrap().0, "A".repeat(43));
    let dev = dev_token("john", &mut [0u8; 256]).unwrap().to_owned();
    let bearer = format!("Bearer {valid}");
    let ws = format!("/connect?api_key=k&authorization={valid}&stream-auth-type=jwt");

    let mut reached = [0usize; 2];
    let mut check = |what: &str, addr: &str, path: &str, headers: &[(&str, &str)], want: Result<Seen, (i64, &str)>| {
        let (log, n) = if addr == front { (&seen, &mut reached[0]) } else { (&strict_seen, &mut reached[1]) };
        // Every request also carries a client's own identity headers: none may pass.
        let headers: Vec<(&str, &str)> = headers.iter().copied().chain(SPOOF).collect();
        let r = get(addr, path, &headers);
        let got = log.lock().unwrap().get(*n).cloned();
        match want {
            Ok(expected) => {
                assert_eq!((r.status, r.body.as_str()), (200, "upstream"), "{what}: {r:?}");
                assert_eq!(got.as_ref(), Some(&expected), "{what}");
                *n += 1;
                eprintln!("{what:<44} -> 200, upstream saw {:?} {:?}", expected.principal, expected.user_id);
            }
            Err((code, message)) => {
                assert_eq!(r.status, 401, "{what}: {r:?}");
                assert_eq!(r.header("content-type"), Some("application/json"), "{what}");
                let body = serde_json::json!({"code": code, "message": message, "StatusCode": 401});
                assert_eq!(r.json(), body, "{what}");
                assert_eq!(got, None, "{what}: reached the upstream");
                eprintln!("{what:<44} -> 401 {}", r.body);
            }
        }
    };
    let seen_as = |path: &str, principal: &str, user: Option<&str>| {
        Ok(Seen {
            path: path.to_owned(),
            principal: Some(principal.to_owned()),
            user_id: user.map(str::to_owned),
            // The one app has no api_key: the header is empty, so NGINX sends none.
            api_key: None,
            encoding: Some("plain".to_owned()),
            ..Seen::default()
        })
    };
    let jwt = |token: &'static str| [("stream-auth-type", "jwt"), ("Authorization", token)];
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (valid_s, expired_s, tampered_s, bearer_s, dev_s) =
        (leak(valid), leak(expired), leak(tampered), leak(bearer), leak(dev));

    check("valid user token", &front, "/channels", &jwt(valid_s), seen_as("/channels", "user", Some("john")));
    check("expired token", &front, "/channels", &jwt(expired_s), Err((40, "token expired")));
    check("tampered token", &front, "/channels", &jwt(tampered_s), Err((43, "signature mismatch")));
    check("Bearer-prefixed token", &front, "/channels", &jwt(bearer_s), Err((5, "authorization has a bearer prefix")));
    check("jwt auth type, no token", &front, "/channels", &[("stream-auth-type", "jwt")], Err((5, "missing token")));
    check("no credentials", &front, "/channels", &[], Err((5, "missing stream-auth-type")));
    check("dev token (not allowed)", &front, "/channels", &jwt(dev_s), Err((5, "development tokens not allowed")));
    let anonymous = [("stream-auth-type", "anonymous")];
    check("anonymous", &front, "/feed", &anonymous, seen_as("/feed", "anonymous", None));
    check("WebSocket connect, token in the query", &front, &ws, &[], seen_as(&ws, "user", Some("john")));
    let forged = format!("/connect?authorization={tampered_s}&stream-auth-type=jwt");
    let own_uri = [("X-Forwarded-Uri", "/connect?stream-auth-type=anonymous")];
    check("bad query token, client's own X-Forwarded-Uri", &front, &forged, &own_uri, Err((43, "signature mismatch")));
    let spaced = leak(user_token("admin ", Some(now() + 600)));
    let message = "user id cannot be forwarded in a header unchanged";
    check("user id \"admin \" (read as admin)", &front, "/channels", &jwt(spaced), Err((5, message)));
    // The README's unchecked location: nothing of the client's identity headers passes.
    let public = Ok(Seen { path: "/public/x".to_owned(), ..Seen::default() });
    check("/public/ (not checked), no credentials", &front, "/public/x", &[], public);
    check("anonymous, --deny-anonymous", &strict_front, "/feed", &anonymous, Err((5, "anonymous access denied")));
    check(
        "valid user token, --deny-anonymous",
        &strict_front,
        "/x",
        &jwt(valid_s),
        seen_as("/x", "user", Some("john")),
    );

    // A real WebSocket upgrade through the same configuration: switched (101) with a valid
    // query token, refused without reaching the upstream with a bad one.
    let before = seen.lock().unwrap().len();
    let (head, frame) = websocket(&front, &ws);
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.to_ascii_lowercase().contains("upgrade: websocket"), "{head}");
    assert_eq!(frame, b"\x81\x05hello", "bytes after the switch reach the client");
    let upstream_saw = seen.lock().unwrap().get(before).cloned().unwrap();
    assert_eq!((upstream_saw.user_id.as_deref(), upstream_saw.upgrade.as_deref()), (Some("john"), Some("websocket")));
    eprintln!("{:<44} -> 101, upstream saw {:?}", "WebSocket upgrade, token in the query", upstream_saw.user_id);
    let bad = format!("/connect?api_key=k&authorization={tampered_s}&stream-auth-type=jwt");
    let (head, _) = websocket(&front, &bad);
    assert!(head.starts_with("HTTP/1.1 401 "), "{head}");
    assert_eq!(seen.lock().unwrap().len(), before + 1, "a refused upgrade reached the upstream");
    eprintln!("{:<44} -> 401", "WebSocket upgrade, bad token in the query");
}

/// A fleet behind NGINX: two `stackjwt-authz` instances in one `upstream` block (NGINX takes
/// turns), two apps from one config file, revocations shared through one `redis-server`.
#[test]
fn behind_nginx_a_fleet_picks_the_app_by_api_key_and_shares_revocations() {
    let Some(bin) = nginx_or_skip() else { return };
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("nginx");
    let config = two_apps(&dir, &redis_section(&redis, ""));
    let one = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0", "--metrics", "127.0.0.1:0"], &[]);
    let two = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[]);
    let (_nginx, front, seen) = start_site(&bin, &[&one.addr, &two.addr]);

    let iat = now() - 10;
    let (john, k2_john) = (user(SECRET_A, "john", Some(iat)), user(SECRET_2, "john", Some(iat)));
    let as_app = |path: &str, token: &str| {
        let headers: Vec<(&str, &str)> =
            [("stream-auth-type", "jwt"), ("Authorization", token)].into_iter().chain(SPOOF).collect();
        get(&front, path, &headers)
    };
    let unknown = "api_key missing or not one of this server's apps";
    // Twice each: once through each instance.
    for _ in 0..2 {
        assert_eq!(as_app("/channels?api_key=k1", &john).status, 200);
        assert_eq!(as_app("/channels?api_key=k2", &k2_john).status, 200);
        assert!(refused(&as_app("/channels?api_key=k2", &john), 401, "signature mismatch"), "another app's token");
        assert!(refused(&as_app("/channels?api_key=k3", &john), 401, unknown));
        assert!(refused(&as_app("/channels", &john), 401, unknown), "two apps: which one?");
    }
    let ws = format!("/connect?api_key=k2&authorization={k2_john}&stream-auth-type=jwt");
    let (head, frame) = websocket(&front, &ws);
    assert!(head.starts_with("HTTP/1.1 101 ") && frame == b"\x81\x05hello", "{head}");
    let reached: Vec<Seen> = seen.lock().unwrap().clone();
    assert_eq!(reached.len(), 5, "4 allowed requests and the upgrade: {reached:?}");
    assert!(reached.iter().all(|s| s.user_id.as_deref() == Some("john") && s.encoding.as_deref() == Some("plain")));
    // The app that verified reaches the upstream (never the client's own X-Stream-Api-Key).
    let apps: Vec<_> = reached.iter().map(|s| s.api_key.as_deref().unwrap()).collect();
    assert_eq!(apps, ["k1", "k2", "k1", "k2", "k2"]);
    // An api_key after '#': NGINX's $args and the upstream see none, $request_uri keeps it.
    let r = as_app("/channels?y=1#&api_key=k2", &k2_john);
    assert_eq!((r.status, r.json()["code"].as_i64()), (400, Some(4)), "{r:?}");
    assert_eq!(r.json()["message"], "forwarded uri has a fragment (#)");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(seen.lock().unwrap().len(), 5, "a fragment's api_key reached the upstream");
    for s in [&one, &two] {
        let page = get(s.metrics.as_ref().unwrap(), "/metrics", &[]).body;
        assert!(
            page.contains(r#"stackjwt_authz_requests_total{app="k1",outcome="allowed",principal="user"} "#),
            "{page}"
        );
    }
    eprintln!("api_key k1, k2 through both instances -> 200; another app's token, k3, none -> 401");

    // Revoked on one instance: refused through NGINX, whichever instance answers.
    let body = format!(r#"{{"user_id":"john","revoke_tokens_issued_before":{}}}"#, iat + 1);
    let r = revoke(one.admin.as_ref().unwrap(), "k1", &server(SECRET_A, None), &body);
    assert_eq!(r.status, 200, "{}", r.body);
    let took = eventually(Duration::from_secs(1), "both instances refuse john of k1", || {
        (0..2).all(|_| refused(&as_app("/channels?api_key=k1", &john), 401, "token revoked"))
    });
    for _ in 0..4 {
        let r = as_app("/channels?api_key=k1", &john);
        assert!(refused(&r, 401, "token revoked") && r.header("content-type") == Some("application/json"), "{r:?}");
        assert_eq!(as_app("/channels?api_key=k2", &k2_john).status, 200, "k2's john is another user");
    }
    eprintln!("john revoked in k1 on one instance -> 401 through NGINX within {took:?}, k2's john still 200");
}

/// The README's NGINX configuration gives every answer of the check back as Stream's JSON:
/// the 503 of a stale mirror (which `auth_request` alone turns into an HTML 500), and a 503 to
/// retry when no check answers at all.
#[test]
fn behind_nginx_outages_are_answered_in_streams_json() {
    let Some(bin) = nginx_or_skip() else { return };
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("nginx-stale");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 1"));
    let mut authz = Authz::start_with(&["--config", &config], &[]);
    let (_nginx, front, seen) = start_site(&bin, &[&authz.addr]);
    let john = user(SECRET_A, "john", Some(now() - 10));
    let as_k1 = || get(&front, "/channels?api_key=k1", &[("stream-auth-type", "jwt"), ("Authorization", &john)]);
    assert_eq!(as_k1().status, 200);
    common::signal(redis.child.id(), "STOP");
    eventually(Duration::from_secs(5), "503 once stale", || as_k1().status == 503);
    let r = as_k1();
    assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
    assert_eq!(
        r.json(),
        serde_json::json!({"code": -1, "message": "revocations unavailable, retry", "StatusCode": 503})
    );
    eprintln!("Redis stopped past max_staleness -> {} {}", r.status, r.body);
    common::signal(redis.child.id(), "CONT");
    eventually(Duration::from_secs(10), "served again", || as_k1().status == 200);
    // No check answers: a 503 to retry, in Stream's shape, and nothing reaches the app.
    let before = seen.lock().unwrap().len();
    authz.terminate();
    let _ = authz.child.wait();
    let r = as_k1();
    assert_eq!((r.status, r.json()["code"].as_i64()), (503, Some(-1)), "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(seen.lock().unwrap().len(), before);
    eprintln!("stackjwt-authz down -> {} {}", r.status, r.body);
}
