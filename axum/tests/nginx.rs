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
use proxy::{Seen, find_nginx, free_port, start_nginx, upstream, wait_for, websocket};
use stackjwt::dev_token;

/// WebSocket upgrades pass through (http context, once).
const UPGRADE_MAP: &str = r#"
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
"#;

/// The NGINX configuration under test, as the README shows it (paths and ports filled in).
const SITE: &str = r#"
    server {
        listen 127.0.0.1:NGINX_PORT;

        # Every request is checked by stackjwt-authz first.
        location = /_stream_auth {
            internal;
            proxy_pass http://AUTHZ/;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            # The original URI, for the WebSocket connect's query token; a client's own
            # X-Forwarded-Uri is cleared, so the check reads only this one.
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Forwarded-Uri "";
        }

        location / {
            auth_request /_stream_auth;
            auth_request_set $stream_user $upstream_http_x_stream_user_id;
            auth_request_set $stream_principal $upstream_http_x_stream_principal;
            auth_request_set $stream_error $upstream_http_x_stream_error;
            # Set (or cleared) here, so a client cannot send its own.
            proxy_set_header X-Stream-User-Id $stream_user;
            proxy_set_header X-Stream-Principal $stream_principal;
            # Stream's WebSocket (/connect) needs HTTP/1.1 and the upgrade headers.
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass http://UPSTREAM;

            # Refusals keep Stream's JSON body (code 40 tells a client to refresh its token).
            error_page 401 = @stream_refused;
        }

        location @stream_refused {
            default_type application/json;
            return 401 $stream_error;
        }
    }
"#;

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
    let (upstream, seen) = upstream();
    let (port, strict_port) = (free_port(), free_port());
    let site = |port: u16, authz: &str| {
        SITE.replace("NGINX_PORT", &port.to_string()).replace("AUTHZ", authz).replace("UPSTREAM", &upstream)
    };
    let sites = UPGRADE_MAP.to_owned() + &site(port, &authz.addr) + &site(strict_port, &strict.addr);
    let mut nginx = start_nginx(&bin, "", false, &sites);
    let (front, strict_front) = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{strict_port}"));
    wait_for(&front, &mut nginx);
    wait_for(&strict_front, &mut nginx);

    let valid = user_token("john", Some(now() + 600));
    let expired = user_token("john", Some(now() - 60));
    let tampered = format!("{}.{}", valid.rsplit_once('.').unwrap().0, "A".repeat(43));
    let dev = dev_token("john", &mut [0u8; 256]).unwrap().to_owned();
    let bearer = format!("Bearer {valid}");
    let ws = format!("/connect?api_key=k&authorization={valid}&stream-auth-type=jwt");

    let mut reached = 0;
    let mut check = |what: &str, addr: &str, path: &str, headers: &[(&str, &str)], want: Result<Seen, (i64, &str)>| {
        let r = get(addr, path, headers);
        let got = seen.lock().unwrap().get(reached).cloned();
        match want {
            Ok(expected) => {
                assert_eq!((r.status, r.body.as_str()), (200, "upstream"), "{what}: {r:?}");
                assert_eq!(got.as_ref(), Some(&expected), "{what}");
                reached += 1;
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
            exp: None,
            upgrade: None,
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
    let spoof = [("stream-auth-type", "anonymous"), ("X-Stream-User-Id", "admin"), ("X-Stream-Principal", "server")];
    check("anonymous, spoofing X-Stream-User-Id", &front, "/feed", &spoof, seen_as("/feed", "anonymous", None));
    check("WebSocket connect, token in the query", &front, &ws, &[], seen_as(&ws, "user", Some("john")));
    let forged = format!("/connect?authorization={tampered_s}&stream-auth-type=jwt");
    let own_uri = [("X-Forwarded-Uri", "/connect?stream-auth-type=anonymous")];
    check("bad query token, client's own X-Forwarded-Uri", &front, &forged, &own_uri, Err((43, "signature mismatch")));
    let spaced = leak(user_token("admin ", Some(now() + 600)));
    let message = "user id cannot be forwarded in a header unchanged";
    check("user id \"admin \" (read as admin)", &front, "/channels", &jwt(spaced), Err((5, message)));
    let anonymous = [("stream-auth-type", "anonymous")];
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
    let (upstream, seen) = upstream();
    let port = free_port();
    let pool = format!("upstream stackjwt_authz {{ server {}; server {}; }}\n", one.addr, two.addr);
    let site = SITE.replace("NGINX_PORT", &port.to_string()).replace("AUTHZ", "stackjwt_authz");
    let mut nginx =
        start_nginx(&bin, "", false, &(UPGRADE_MAP.to_owned() + &pool + &site.replace("UPSTREAM", &upstream)));
    let front = format!("127.0.0.1:{port}");
    wait_for(&front, &mut nginx);

    let iat = now() - 10;
    let (john, k2_john) = (user(SECRET_A, "john", Some(iat)), user(SECRET_2, "john", Some(iat)));
    let as_app = |path: &str, token: &str| get(&front, path, &[("stream-auth-type", "jwt"), ("Authorization", token)]);
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
    assert!(reached.iter().all(|s| s.user_id.as_deref() == Some("john")));
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
