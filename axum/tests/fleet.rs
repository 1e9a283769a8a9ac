//! `stackjwt-authz` as a fleet runs it: several apps from a `--config` file, secret rotation
//! with SIGHUP, revocations shared through a real `redis-server` (each test starts its own, on
//! a free port), its faults, and the admin API.
//!
//! Without `redis-server` the Redis tests are skipped, and say so; `STACKJWT_REQUIRE_REDIS=1`
//! (as `.ci/run` sets) makes the skip a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, missing_docs)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::fleet::{
    Dir, Redis, SECRET_2, SECRET_A, SECRET_B, check, eventually, key, redis_section, refused, revoke, server, two_apps,
    user,
};
use common::{Authz, Reply, get, now, raw, signal};

/// Unix seconds as RFC 3339 (`date -u`).
fn rfc3339(t: u64) -> String {
    let out = Command::new("date").args(["-u", "-d", &format!("@{t}"), "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn metric(s: &Authz, line_start: &str) -> u64 {
    let page = get(s.metrics.as_ref().unwrap(), "/metrics", &[]).body;
    let line = page.lines().find(|l| l.starts_with(line_start)).unwrap_or_else(|| panic!("no {line_start} in\n{page}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn apps_are_chosen_by_their_api_key() {
    let dir = Dir::new("apps");
    let config = two_apps(&dir, "");
    let s = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[]);
    let (k1, k2) = (user(SECRET_A, "john", None), user(SECRET_2, "jane", None));
    assert_eq!(check(&s.addr, "k1", &k1).header("x-stream-user-id"), Some("john"));
    assert_eq!(check(&s.addr, "k2", &k2).header("x-stream-user-id"), Some("jane"));
    // Another app's token, and an api_key no app has, or none (two apps: which?).
    assert!(refused(&check(&s.addr, "k2", &k1), 401, "signature mismatch"));
    let unknown = "api_key missing or not one of this server's apps";
    assert!(refused(&check(&s.addr, "k3", &k1), 401, unknown));
    let r = get(&s.addr, "/", &[("stream-auth-type", "jwt"), ("Authorization", &k1)]);
    assert!(refused(&r, 401, unknown));
    assert_eq!(r.json()["code"], 5);
    // The request's own query, when no forwarded URI comes (Envoy), and query credentials.
    let r = get(&s.addr, "/connect?api_key=k2", &[("stream-auth-type", "jwt"), ("Authorization", &k2)]);
    assert_eq!(r.status, 200);
    let r = get(&s.addr, &format!("/connect?api_key=k1&stream-auth-type=jwt&authorization={k1}"), &[]);
    assert_eq!(r.header("x-stream-user-id"), Some("john"));
    assert!(refused(&get(&s.addr, "/?api_key=k1&api_key=k2", &[]), 401, "duplicate api_key query parameter"));
    for line in [
        r#"stackjwt_authz_requests_total{app="k1",outcome="allowed",principal="user"} "#,
        r#"stackjwt_authz_requests_total{app="k2",outcome="allowed",principal="user"} "#,
        r#"stackjwt_authz_requests_total{app="k2",outcome="refused",code="43"} "#,
        r#"stackjwt_authz_requests_total{app="unknown",outcome="refused",code="5"} "#,
    ] {
        let want = if line.contains("unknown") {
            3
        } else if line.contains("43") {
            1
        } else {
            2
        };
        assert_eq!(metric(&s, line), want, "{line}");
    }

    // One named app: no api_key selects it, another is refused.
    let one = dir
        .write("one.toml", &format!("[[app]]\napi_key = \"k1\"\nsecret_file = \"{}\"\n", dir.0.join("k1").display()));
    let s = Authz::start_with(&["--config", &one], &[]);
    assert_eq!(get(&s.addr, "/", &[("stream-auth-type", "jwt"), ("Authorization", &k1)]).status, 200);
    assert_eq!(check(&s.addr, "k1", &k1).status, 200);
    assert!(refused(&check(&s.addr, "k2", &k1), 401, unknown));
}

#[test]
fn bad_configurations_are_refused_at_start_with_what_to_fix() {
    let dir = Dir::new("bad");
    let secret = dir.write("secret", SECRET_A);
    let short = dir.write("short", "short");
    let bin = env!("CARGO_BIN_EXE_stackjwt-authz");
    let run = |toml: &str, flags: &[&str]| {
        let config = dir.write("c.toml", toml);
        let mut child = Command::new(bin)
            .args(["--config", &config])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A configuration taken by mistake starts a server: stopped, and said so.
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("stackjwt-authz started with {toml:?} {flags:?} instead of refusing it");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{toml}");
        String::from_utf8(out.stderr).unwrap()
    };
    let app = format!("[[app]]\napi_key = \"k1\"\nsecret_file = \"{secret}\"\n");
    for (toml, flags, says) in [
        ("listen = ", &[][..], "c.toml"),
        ("lisen = \"127.0.0.1:1\"", &[], "unknown field `lisen`"),
        ("leeway = 5", &[], "the file has no [[app]]"),
        (&*format!("{app}{app}"), &[], "api_key \"k1\" has two [[app]] entries"),
        (
            &*format!("[redis]\nurl = \"redis://h\"\nunavailable = \"maybe\"\n{app}"),
            &[],
            "unavailable wants \"deny\" or \"allow\"",
        ),
        (&*format!("[redis]\nurl = \"http://h\"\n{app}"), &[], "[redis] url wants redis://"),
        (&*format!("[redis]\nurl = \"redis://h\"\nmax_staleness = 0\n{app}"), &[], "at least 1"),
        (&*format!("[[app]]\napi_key = \"k 1\"\nsecret_file = \"{secret}\"\n"), &[], "visible ASCII"),
        (&*format!("[[app]]\napi_key = \"unknown\"\nsecret_file = \"{secret}\"\n"), &[], "rename it"),
        (
            &*format!("[[app]]\napi_key = \"k1\"\nsecret_file = \"{short}\"\n"),
            &[],
            "or weak_secret = true in its [[app]] to accept it",
        ),
        (
            &*format!("[[app]]\napi_key = \"k1\"\nsecret_file = \"{secret}\"\nalg = \"rs256\"\n"),
            &[],
            "unknown algorithm",
        ),
        ("[[app]]\napi_key = \"k1\"\nsecret_file = \"/nonexistent/k1\"\n", &[], "cannot read /nonexistent/k1"),
        (&*app, &["--secret-file", &secret], "with [[app]] in the file, set them there"),
        (&*app, &["--previous-secret-file", &secret], "with [[app]] in the file, set them there"),
        (&*app, &["--api-key", "k1"], "with [[app]] in the file, set them there"),
        (&*app, &["--alg", "hs256"], "with [[app]] in the file, set them there"),
        (&*app, &["--kid", "a"], "with [[app]] in the file, set them there"),
        (&*app, &["--weak-secret"], "with [[app]] in the file, set them there"),
        (&*format!("admin = \"127.0.0.1:7001\"\nlisten = \"127.0.0.1:7001\"\n{app}"), &[], "an address of its own"),
        (&*format!("[redis]\nurl = \"rediss://h:6380/0\"\n{app}"), &[], "rediss:// (TLS) is not built into"),
        (&*format!("allowed_api_keys = [\"k3\"]\n{app}"), &[], "names \"k3\", which no app has"),
        (&*format!("allowed_api_keys = []\n{app}"), &[], "is empty: name at least one app"),
        (&*app, &["--allowed-api-keys", "k1,k9"], "--allowed-api-keys (or allowed_api_keys in the file) names \"k9\""),
        (&*format!("query_tokens = \"sometimes\"\n{app}"), &[], "query_tokens in the file) wants always or off"),
    ] {
        let err = run(toml, flags);
        assert!(err.contains(says), "{toml:?}: {err}");
    }
}

/// Rotation: the new secret with the previous one also accepted, then the previous dropped,
/// and broken files kept out; all by SIGHUP, while a client checks a token non-stop.
#[test]
fn secrets_rotate_on_sighup_without_a_failed_request() {
    let dir = Dir::new("rotate");
    let (a, b) = (dir.write("a", SECRET_A), dir.write("b", SECRET_B));
    let write = |current: &str, previous: Option<&str>| {
        let previous = previous.map(|p| format!("previous_secret_file = \"{p}\"\n")).unwrap_or_default();
        dir.write("c.toml", &format!("[[app]]\napi_key = \"k1\"\nsecret_file = \"{current}\"\n{previous}"))
    };
    let config = write(&a, None);
    let mut s = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[]);
    let (old, new) = (user(SECRET_A, "john", None), user(SECRET_B, "john", None));
    assert_eq!(check(&s.addr, "k1", &old).status, 200);
    assert!(refused(&check(&s.addr, "k1", &new), 401, "signature mismatch"));

    // A token of the secret that stays valid throughout is checked non-stop.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let (addr, stop, token) = (s.addr.clone(), stop.clone(), old.clone());
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = check(&addr, "k1", &token);
                if r.status == 200 { ok += 1 } else { failed.push(r.body) }
            }
            (ok, failed)
        })
    };
    write(&b, Some(&a));
    s.hangup();
    eventually(Duration::from_secs(5), "the new secret is accepted", || check(&s.addr, "k1", &new).status == 200);
    assert_eq!(check(&s.addr, "k1", &old).status, 200, "the previous secret is still accepted");
    // Broken files are kept out: the running configuration stays. (One at a time: two
    // hangups sent before the first is handled arrive as one.)
    for (n, broken) in [(1, "[[app]\n"), (2, "[[app]]\napi_key = \"k1\"\nsecret_file = \"/nonexistent\"\n")] {
        dir.write("c.toml", broken);
        s.hangup();
        eventually(Duration::from_secs(5), "the reload refused", || {
            metric(&s, "stackjwt_authz_config_reloads_total{result=\"error\"}") == n
        });
    }
    assert_eq!(check(&s.addr, "k1", &new).status, 200);
    assert_eq!(check(&s.addr, "k1", &old).status, 200);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = hammer.join().unwrap();
    assert!(failed.is_empty() && ok > 0, "{ok} passed, failed: {failed:?}");
    // The previous secret dropped.
    write(&b, None);
    s.hangup();
    eventually(Duration::from_secs(5), "the previous secret is refused", || check(&s.addr, "k1", &old).status == 401);
    assert_eq!(check(&s.addr, "k1", &new).status, 200);
    assert_eq!(metric(&s, "stackjwt_authz_config_reloads_total{result=\"ok\"}"), 2);
    // A new listener address takes a restart: the reload says so, and serves on.
    let moved = format!("admin = \"127.0.0.1:1\"\n{}", std::fs::read_to_string(&config).unwrap());
    dir.write("c.toml", &moved);
    s.hangup();
    eventually(Duration::from_secs(5), "the third reload", || {
        metric(&s, "stackjwt_authz_config_reloads_total{result=\"ok\"}") == 3
    });
    assert_eq!(check(&s.addr, "k1", &new).status, 200);
    // Why each reload was refused is in the log.
    s.terminate();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut s.stderr(), &mut log).unwrap();
    assert!(log.contains("reload refused") && log.contains("cannot read /nonexistent"), "{log}");
    assert_eq!(log.matches("change on a restart, not a reload").count(), 1, "only the reload that moved admin: {log}");
    assert!(!log.contains(SECRET_A) && !log.contains(SECRET_B), "{log}");
}

#[test]
fn a_token_with_a_kid_goes_to_the_key_that_names_it() {
    let dir = Dir::new("kid");
    let (a, b) = (dir.write("a", SECRET_A), dir.write("b", SECRET_B));
    let config = dir.write(
        "c.toml",
        &format!(
            "[[app]]\napi_key = \"k1\"\nsecret_file = \"{b}\"\nkid = \"2026-12\"\nprevious_secret_file = \"{a}\"\nprevious_kid = \"2026-11\"\n"
        ),
    );
    let s = Authz::start_with(&["--config", &config], &[]);
    let token = |secret: &str, kid: &str| {
        key(secret).with_kid(kid).unwrap().user_token("john", None, None, &mut [0u8; 512]).unwrap().to_owned()
    };
    assert_eq!(check(&s.addr, "k1", &token(SECRET_B, "2026-12")).status, 200);
    assert_eq!(check(&s.addr, "k1", &token(SECRET_A, "2026-11")).status, 200);
    assert!(refused(&check(&s.addr, "k1", &token(SECRET_A, "2026-12")), 401, "signature mismatch"));
    assert!(refused(&check(&s.addr, "k1", &token(SECRET_B, "2026-10")), 401, "unknown key id"));
}

/// The admin API on one instance revokes; the other refuses within a second. A backend's own
/// HSET + PUBLISH, and the app-wide cutoffs, reach both.
#[test]
fn revocations_reach_every_instance() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("revoke");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 5"));
    let one = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0"], &[]);
    let two = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[]);
    let admin = one.admin.as_ref().unwrap();
    let iat = now() - 10;
    let (john, jane) = (user(SECRET_A, "john", Some(iat)), user(SECRET_A, "jane", Some(iat)));
    let k2_john = user(SECRET_2, "john", Some(iat));
    for s in [&one, &two] {
        assert_eq!(check(&s.addr, "k1", &john).status, 200);
    }

    // The admin API: written to Redis, refused by the other instance within a second.
    let r = revoke(
        admin,
        "k1",
        &server(SECRET_A, None),
        &format!(r#"{{"user_id":"john","revoke_tokens_issued_before":{}}}"#, iat + 1),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["revoke_tokens_issued_before"], iat + 1);
    assert_eq!(redis.cli(&["HGET", "stackjwt:k1:revoked", "john"]), (iat + 1).to_string());
    let took = eventually(Duration::from_secs(1), "the other instance refuses", || {
        refused(&check(&two.addr, "k1", &john), 401, "token revoked")
    });
    eprintln!("revocation seen by the other instance after {took:?}");
    assert!(refused(&check(&one.addr, "k1", &john), 401, "token revoked"), "and at once on the one written to");
    assert_eq!(check(&two.addr, "k1", &jane).status, 200, "only john");
    assert_eq!(check(&two.addr, "k2", &k2_john).status, 200, "only in app k1");
    let fresh = user(SECRET_A, "john", Some(iat + 1));
    assert_eq!(check(&two.addr, "k1", &fresh).status, 200, "a token issued at the cutoff passes");
    assert_eq!(metric(&two, r#"stackjwt_authz_revocations{app="k1"}"#), 1);
    // Cleared with null; RFC 3339 times as Stream's API takes them.
    let r = revoke(admin, "k1", &server(SECRET_A, None), r#"{"user_id":"john","revoke_tokens_issued_before":null}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    eventually(Duration::from_secs(1), "cleared", || check(&two.addr, "k1", &john).status == 200);
    let cutoff = iat + 5;
    let body = format!(r#"{{"user_id":"jane","revoke_tokens_issued_before":"{}"}}"#, rfc3339(cutoff));
    let r = revoke(admin, "k1", &server(SECRET_A, None), &body);
    assert_eq!(r.json()["revoke_tokens_issued_before"], cutoff, "{}", r.body);
    eventually(Duration::from_secs(1), "jane revoked", || check(&two.addr, "k1", &jane).status == 401);

    // A backend's own HSET + PUBLISH.
    let ann = user(SECRET_2, "ann", Some(iat));
    assert_eq!(check(&two.addr, "k2", &ann).status, 200);
    redis.cli(&["HSET", "stackjwt:k2:revoked", "ann", &(iat + 5).to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k2:revocations", "ann"]);
    eventually(Duration::from_secs(1), "a backend's revocation", || {
        refused(&check(&two.addr, "k2", &ann), 401, "token revoked")
    });

    // App-wide: the string, announced with an empty message; server tokens included.
    let k2_server = server(SECRET_2, Some(iat));
    assert_eq!(check(&two.addr, "k2", &k2_server).status, 200);
    redis.cli(&["SET", "stackjwt:k2:revoked_before", &(iat + 1).to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k2:revocations", ""]);
    eventually(Duration::from_secs(1), "app-wide cutoff", || check(&two.addr, "k2", &k2_server).status == 401);
    assert_eq!(check(&two.addr, "k2", &k2_john).status, 401);
    assert_eq!(check(&two.addr, "k1", &jane).status, 401, "k1 has its own");
    assert_eq!(check(&two.addr, "k2", &user(SECRET_2, "bob", Some(iat + 2))).status, 200);
    // The admin API's app-wide cutoff, and a value that is not seconds (fails closed).
    let r = revoke(
        admin,
        "k1",
        &server(SECRET_A, Some(iat + 3)),
        &format!(r#"{{"scope":"app","revoke_tokens_issued_before":{}}}"#, iat + 2),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(redis.cli(&["GET", "stackjwt:k1:revoked_before"]), (iat + 2).to_string());
    eventually(Duration::from_secs(1), "k1 app-wide", || check(&two.addr, "k1", &fresh).status == 401);
    redis.cli(&["HSET", "stackjwt:k2:revoked", "zoe", "yesterday"]);
    redis.cli(&["PUBLISH", "stackjwt:k2:revocations", "zoe"]);
    let zoe = user(SECRET_2, "zoe", Some(now()));
    eventually(Duration::from_secs(1), "an unreadable value revokes", || check(&two.addr, "k2", &zoe).status == 401);
}

/// The config file's `revoked_before` and Redis' cutoff: the later one wins; a restarted
/// instance loads what Redis holds.
#[test]
fn the_later_app_wide_cutoff_wins_and_a_new_instance_loads_redis() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("cutoffs");
    let iat = now() - 100;
    let secret = dir.write("k1", SECRET_A);
    let config = dir.write(
        "c.toml",
        &format!(
            "{}[[app]]\napi_key = \"k1\"\nsecret_file = \"{secret}\"\nrevoked_before = {}\n",
            redis_section(&redis, ""),
            iat + 10
        ),
    );
    redis.cli(&["SET", "stackjwt:k1:revoked_before", &(iat + 5).to_string()]);
    redis.cli(&["HSET", "stackjwt:k1:revoked", "john", &(iat + 50).to_string()]);
    let s = Authz::start_with(&["--config", &config], &[]);
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "ann", Some(iat + 9))).status, 401, "the file's is later");
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "ann", Some(iat + 10))).status, 200);
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "john", Some(iat + 49))).status, 401, "loaded at start");
    redis.cli(&["SET", "stackjwt:k1:revoked_before", &(iat + 20).to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k1:revocations", ""]);
    eventually(Duration::from_secs(1), "Redis' is later", || {
        check(&s.addr, "k1", &user(SECRET_A, "ann", Some(iat + 10))).status == 401
    });
    // An app added by a reload: its revocations are mirrored too.
    let k2 = dir.write("k2", SECRET_2);
    let added =
        format!("{}[[app]]\napi_key = \"k2\"\nsecret_file = \"{k2}\"\n", std::fs::read_to_string(&config).unwrap());
    dir.write("c.toml", &added);
    s.hangup();
    let zed = user(SECRET_2, "zed", Some(iat + 10));
    eventually(Duration::from_secs(5), "k2 added", || check(&s.addr, "k2", &zed).status == 200);
    redis.cli(&["HSET", "stackjwt:k2:revoked", "zed", &(iat + 50).to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k2:revocations", "zed"]);
    eventually(Duration::from_secs(1), "the added app's revocation", || {
        refused(&check(&s.addr, "k2", &zed), 401, "token revoked")
    });
}

/// Redis hung (SIGSTOP), then killed: after `max_staleness`, user and server tokens get 503
/// (anonymous callers are served); back to normal once Redis answers again, without a
/// restart. With `unavailable = "allow"`, served from the last mirror, and counted.
#[test]
fn a_stale_mirror_fails_closed_then_recovers() {
    let Some(mut redis) = Redis::start() else { return };
    let dir = Dir::new("stale");
    let deny = two_apps(&dir, &redis_section(&redis, "max_staleness = 1"));
    let mut s = Authz::start_with(&["--config", &deny, "--metrics", "127.0.0.1:0"], &[("RUST_LOG", "info")]);
    let probe = |path: &str| {
        let r = get(s.metrics.as_ref().unwrap(), path, &[]);
        (r.status, r.body)
    };
    assert_eq!(probe("/healthz"), (200, "ok\n".to_owned()));
    assert_eq!(probe("/readyz"), (200, "ready\n".to_owned()));
    assert_eq!(probe("/other").0, 404, "only /metrics, /healthz and /readyz");
    let allow_config = dir.write(
        "allow.toml",
        &std::fs::read_to_string(&deny)
            .unwrap()
            .replace("max_staleness = 1", "max_staleness = 1\nunavailable = \"allow\""),
    );
    let allow = Authz::start_with(&["--config", &allow_config, "--metrics", "127.0.0.1:0"], &[]);
    let token = user(SECRET_A, "john", Some(now()));
    let anonymous = || get(&s.addr, "/?api_key=k1", &[("stream-auth-type", "anonymous")]);
    assert_eq!(check(&s.addr, "k1", &token).status, 200);
    assert_eq!(metric(&s, "stackjwt_authz_revocations_stale"), 0);

    for fault in ["SIGSTOP", "kill"] {
        if fault == "SIGSTOP" {
            signal(redis.child.id(), "STOP");
        } else {
            let _ = redis.child.kill();
            let _ = redis.child.wait();
        }
        let took = eventually(Duration::from_secs(5), "503 once stale", || check(&s.addr, "k1", &token).status == 503);
        eprintln!("{fault}: 503 after {took:?}");
        let r = check(&s.addr, "k1", &token);
        assert!(refused(&r, 503, "revocations unavailable, retry"), "{r:?}");
        assert_eq!(r.json()["code"], -1);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(check(&s.addr, "k2", &server(SECRET_2, None)).status, 503, "server tokens too");
        assert_eq!(anonymous().status, 200, "anonymous callers are served");
        assert_eq!(check(&s.addr, "k1", "bad").status, 401, "a bad token is still a 401");
        assert_eq!(metric(&s, "stackjwt_authz_revocations_stale"), 1);
        assert_eq!(probe("/readyz"), (503, "revocations stale for: k1 k2\n".to_owned()));
        assert_eq!(probe("/healthz").0, 200, "the process still serves");
        eventually(Duration::from_secs(5), "allow: stale too", || {
            metric(&allow, "stackjwt_authz_revocations_stale") == 1
        });
        assert_eq!(check(&allow.addr, "k1", &token).status, 200, "allow: served from the mirror");
        assert!(metric(&allow, "stackjwt_authz_served_stale_total") > 0);
        if fault == "SIGSTOP" {
            signal(redis.child.id(), "CONT");
        } else {
            redis.restart();
        }
        let took = eventually(Duration::from_secs(10), "served again", || check(&s.addr, "k1", &token).status == 200);
        eprintln!("{fault}: served again {took:?} after Redis was back");
        assert_eq!(metric(&s, "stackjwt_authz_revocations_stale"), 0);
    }
    assert!(metric(&s, "stackjwt_authz_revocation_resyncs_total") >= 3, "a full read on every reconnection");
    // Each app's turn to stale and back is in the log, and a Redis that keeps nothing on disk
    // (as these tests start it) is named at start. (The log looks every 100 ms.)
    std::thread::sleep(Duration::from_millis(600));
    s.terminate();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut s.stderr(), &mut log).unwrap();
    assert!(log.contains("keeps nothing on disk"), "{log}");
    for app in ["k1", "k2"] {
        let stale =
            log.lines().filter(|l| l.contains("revocations stale") && l.contains(&format!("app={app}"))).count();
        let fresh =
            log.lines().filter(|l| l.contains("revocations fresh again") && l.contains(&format!("app={app}"))).count();
        // Each outage seen (the log looks every 100 ms) ends fresh again.
        assert!(stale >= 1 && fresh == stale, "{app}: {stale} stale, {fresh} fresh: {log}");
    }
}

/// A subscription cut by the server (`CLIENT KILL TYPE pubsub`): the revocation published
/// while it was down is seen after the resubscribe (and its full read).
#[test]
fn a_cut_subscription_is_made_again() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("cut");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 5"));
    let s = Authz::start_with(&["--config", &config], &[]);
    let token = user(SECRET_A, "john", Some(now() - 10));
    assert_eq!(check(&s.addr, "k1", &token).status, 200);
    let killed = redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_eq!(killed, "1", "one subscription was cut");
    redis.cli(&["HSET", "stackjwt:k1:revoked", "john", &now().to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k1:revocations", "john"]);
    let took =
        eventually(Duration::from_secs(3), "seen after the resubscribe", || check(&s.addr, "k1", &token).status == 401);
    eprintln!("seen {took:?} after the cut");
    eventually(Duration::from_secs(3), "subscribed again", || {
        redis.cli(&["PUBSUB", "NUMSUB", "stackjwt:k1:revocations"]).ends_with('1')
    });
}

#[test]
fn the_admin_api_takes_only_a_server_token_of_the_app() {
    let dir = Dir::new("admin");
    let config = two_apps(&dir, "");
    let s = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0"], &[]);
    let admin = s.admin.as_ref().unwrap();
    let body = &format!(r#"{{"user_id":"john","revoke_tokens_issued_before":{}}}"#, now());
    let status = |r: Reply| (r.status, r.json()["code"].as_i64().unwrap());
    assert_eq!(status(revoke(admin, "k1", &user(SECRET_A, "john", None), body)), (403, 17), "a user token");
    assert_eq!(status(revoke(admin, "k1", &server(SECRET_2, None), body)), (401, 43), "another app's");
    assert_eq!(status(revoke(admin, "k1", "not.a.token", body)), (401, 5), "a bad one");
    assert_eq!(status(revoke(admin, "k9", &server(SECRET_A, None), body)), (401, 5), "an unknown app");
    assert_eq!(status(revoke(admin, "", &server(SECRET_A, None), body)), (401, 5), "no app (two configured)");
    let anonymous = "POST /revoke?api_key=k1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    assert_eq!(raw(admin, anonymous.as_bytes()).status, 401);
    let server_token = server(SECRET_A, None);
    for bad in [
        "",
        "{",
        r#"{"user_id":"john"}"#,
        r#"{"user_id":"","revoke_tokens_issued_before":1}"#,
        r#"{"user_id":"john","revoke_tokens_issued_before":"yesterday"}"#,
        r#"{"user_id":"john","revoke_tokens_issued_before":-1}"#,
        r#"{"user_id":"john","revoke_tokens_issued_before":1,"extra":1}"#,
        r#"{"revoke_tokens_issued_before":null}"#,
        r#"{"revoke_tokens_issued_before":1}"#,
        r#"{"user_id":null,"revoke_tokens_issued_before":null}"#,
        r#"{"user_id":"john","scope":"app","revoke_tokens_issued_before":1}"#,
        r#"{"scope":"user","revoke_tokens_issued_before":1}"#,
        r#"{"scope":null,"revoke_tokens_issued_before":1}"#,
        r#"{"scope":"app","revoke_tokens_issued_before":"9999-12-31T23:59:59Z"}"#,
        r#"{"scope":"app","revoke_tokens_issued_before":18446744073709551615}"#,
        &*format!(r#"{{"user_id":"john","revoke_tokens_issued_before":{}}}"#, now() + 3600),
    ] {
        let r = revoke(admin, "k1", &server_token, bad);
        assert_eq!((r.status, r.json()["code"].as_i64()), (400, Some(4)), "{bad}: {}", r.body);
    }
    // A body that names neither form says what the two forms are.
    let r = revoke(admin, "k1", &server_token, r#"{"revoke_tokens_issued_before":null}"#);
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(r#"{"user_id": ID, "#) && message.contains(r#"{"scope": "app", "#), "{message}");
    let r =
        revoke(admin, "k1", &server_token, r#"{"scope":"app","revoke_tokens_issued_before":"9999-12-31T23:59:59Z"}"#);
    assert!(r.json()["message"].as_str().unwrap().contains("in the future"), "{}", r.body);
    let r = raw(admin, b"GET /revoke HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    assert_eq!(
        raw(admin, b"POST /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").status,
        404
    );
    // Without [redis], this instance's memory only.
    let john = user(SECRET_A, "john", Some(now() - 10));
    assert_eq!(check(&s.addr, "k1", &john).status, 200);
    assert_eq!(revoke(admin, "k1", &server_token, body).status, 200);
    assert!(refused(&check(&s.addr, "k1", &john), 401, "token revoked"));
    // The check listener has no admin API: a POST there is a check like any other.
    let r = revoke(
        &s.addr,
        "k1",
        &server_token,
        &format!(r#"{{"user_id":"jane","revoke_tokens_issued_before":{}}}"#, now()),
    );
    assert_eq!(r.header("x-stream-principal"), Some("server"));
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "jane", Some(now()))).status, 200);
}

/// The admin API writes to the Redis of the running configuration: a reload that names another
/// Redis moves it there; a Redis that does not take a write is a 503 to retry, never a 200.
#[test]
fn the_admin_api_writes_where_the_reloaded_configuration_says() {
    let Some(old) = Redis::start() else { return };
    let Some(new) = Redis::start() else { return };
    let dir = Dir::new("admin-reload");
    let config = two_apps(&dir, &redis_section(&old, ""));
    let s = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0", "--metrics", "127.0.0.1:0"], &[]);
    let admin = s.admin.as_ref().unwrap();
    let t = now();
    let revoke_user = |id: &str| {
        let body = format!(r#"{{"user_id":"{id}","revoke_tokens_issued_before":{t}}}"#);
        revoke(admin, "k1", &server(SECRET_A, None), &body)
    };
    assert_eq!(revoke_user("ann").status, 200);
    assert_eq!(old.cli(&["HGET", "stackjwt:k1:revoked", "ann"]), t.to_string());
    two_apps(&dir, &redis_section(&new, ""));
    s.hangup();
    eventually(Duration::from_secs(5), "the reload", || {
        metric(&s, "stackjwt_authz_config_reloads_total{result=\"ok\"}") == 1
    });
    assert_eq!(revoke_user("bob").status, 200);
    assert_eq!(new.cli(&["HGET", "stackjwt:k1:revoked", "bob"]), t.to_string(), "written to the new Redis");
    assert_eq!(old.cli(&["HEXISTS", "stackjwt:k1:revoked", "bob"]), "0", "not to the old one");
    // The new Redis stops answering: the write times out, and the caller is told to retry.
    signal(new.child.id(), "STOP");
    let r = revoke_user("cid");
    signal(new.child.id(), "CONT");
    assert_eq!((r.status, r.json()["code"].as_i64()), (503, Some(-1)), "{}", r.body);
    assert_eq!(r.json()["message"], "Redis did not take the revocation, retry");
    eprintln!("a revocation while Redis is stopped: {} {}", r.status, r.body);
}

/// Finding 1: a server token that an app-wide cutoff revokes cannot clear that cutoff, even
/// where this instance's mirror has not heard of it, and no write is taken while the mirror is
/// stale (the check listener would answer 503).
#[test]
fn a_revoked_server_token_cannot_clear_its_own_revocation() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("admin-stale");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 1"));
    let s = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0"], &[]);
    let admin = s.admin.as_ref().unwrap();
    let iat = now() - 100;
    let old_server = server(SECRET_A, Some(iat));
    let clear = r#"{"scope":"app","revoke_tokens_issued_before":null}"#;
    // A cutoff written and not (yet) announced: this instance's mirror is behind Redis.
    redis.cli(&["SET", "stackjwt:k1:revoked_before", &(iat + 10).to_string()]);
    assert_eq!(check(&s.addr, "k1", &old_server).status, 200, "the mirror has not heard of it");
    let r = revoke(admin, "k1", &old_server, clear);
    assert!(refused(&r, 401, "token revoked"), "{r:?}");
    assert_eq!(redis.cli(&["GET", "stackjwt:k1:revoked_before"]), (iat + 10).to_string(), "still in force");
    assert_eq!(check(&s.addr, "k1", &old_server).status, 401, "and the mirror now has it");

    // A stale mirror (its subscription refused by Redis' ACL, writes still taken): 503, as on
    // the check listener, even for a valid server token.
    redis.cli(&["ACL", "SETUSER", "default", "-subscribe"]);
    redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    let john = user(SECRET_A, "john", Some(now()));
    eventually(Duration::from_secs(5), "stale", || check(&s.addr, "k1", &john).status == 503);
    let r = revoke(admin, "k1", &server(SECRET_A, Some(now())), clear);
    assert_eq!((r.status, r.json()["code"].as_i64()), (503, Some(-1)), "{r:?}");
    assert_eq!(redis.cli(&["GET", "stackjwt:k1:revoked_before"]), (iat + 10).to_string(), "nothing written");
    redis.cli(&["ACL", "SETUSER", "default", "+subscribe"]);
    eventually(Duration::from_secs(10), "fresh again", || check(&s.addr, "k1", &john).status == 200);
    let r = revoke(admin, "k1", &server(SECRET_A, Some(now())), clear);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(redis.cli(&["EXISTS", "stackjwt:k1:revoked_before"]), "0");

    // Finding 6, against Redis: a JavaScript backend's "un-revoke this user" with the user
    // left undefined names no user; it is refused, and the app-wide cutoff stays.
    let cutoff = now() - 50;
    let set = format!(r#"{{"scope":"app","revoke_tokens_issued_before":{cutoff}}}"#);
    assert_eq!(revoke(admin, "k1", &server(SECRET_A, Some(now())), &set).status, 200);
    let undefined_user = r#"{"revoke_tokens_issued_before":null}"#;
    let r = revoke(admin, "k1", &server(SECRET_A, Some(now())), undefined_user);
    assert_eq!((r.status, r.json()["code"].as_i64()), (400, Some(4)), "{r:?}");
    assert_eq!(redis.cli(&["GET", "stackjwt:k1:revoked_before"]), cutoff.to_string());
    // A cutoff in the future would refuse every token until then: refused, nothing written.
    let future = format!(r#"{{"scope":"app","revoke_tokens_issued_before":{}}}"#, now() + 3600);
    assert_eq!(revoke(admin, "k1", &server(SECRET_A, Some(now())), &future).status, 400);
    assert_eq!(redis.cli(&["GET", "stackjwt:k1:revoked_before"]), cutoff.to_string());
}

/// Finding 2: the answer names the app that verified; a fragment in the forwarded URI is
/// refused; `allowed_api_keys` and the per-route header pin the apps served.
#[test]
fn the_answer_names_the_app_and_a_deployment_can_pin_it() {
    let dir = Dir::new("pin");
    let config = two_apps(&dir, "");
    let s = Authz::start_with(&["--config", &config], &[]);
    let (k1, k2) = (user(SECRET_A, "john", None), user(SECRET_2, "jane", None));
    let r = check(&s.addr, "k1", &k1);
    assert_eq!(
        (r.status, r.header("x-stream-api-key"), r.header("x-stream-user-id-encoding")),
        (200, Some("k1"), Some("plain"))
    );
    assert_eq!(check(&s.addr, "k2", &k2).header("x-stream-api-key"), Some("k2"));
    // NGINX's $request_uri keeps a fragment; what follows '#' is nobody else's query.
    let forwarded = |uri: &str, token: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![("X-Original-URI", uri), ("stream-auth-type", "jwt"), ("Authorization", token)];
        headers.extend_from_slice(extra);
        get(&s.addr, "/", &headers)
    };
    let r = forwarded("/p?y=1#&api_key=k2", &k2, &[]);
    assert!(refused(&r, 400, "forwarded uri has a fragment (#)"), "{r:?}");
    assert_eq!(r.json()["code"], 4);
    // A route narrows the apps with the header; a client's own copy can only refuse itself.
    let pinned = [("X-Stream-Allowed-Api-Keys", "k1")];
    assert_eq!(forwarded("/p?api_key=k1", &k1, &pinned).status, 200);
    let r = forwarded("/p?api_key=k2", &k2, &pinned);
    assert!(refused(&r, 403, "api_key not allowed here") && r.json()["code"] == 17, "{r:?}");
    assert_eq!(forwarded("/p?api_key=k2", &k2, &[("X-Stream-Allowed-Api-Keys", "k1, k2")]).status, 200);
    // An instance pinned to k1: another app's token is refused whatever the request says.
    let s = Authz::start_with(&["--config", &config, "--allowed-api-keys", "k1"], &[]);
    assert_eq!(check(&s.addr, "k1", &k1).status, 200);
    assert!(refused(&check(&s.addr, "k2", &k2), 403, "api_key not allowed here"));
    let widen = get(
        &s.addr,
        "/",
        &[
            ("X-Original-URI", "/p?api_key=k2"),
            ("X-Stream-Allowed-Api-Keys", "k2"),
            ("stream-auth-type", "jwt"),
            ("Authorization", &k2),
        ],
    );
    assert!(refused(&widen, 403, "api_key not allowed here"), "a header never widens the file's list");
    // The admin API of a pinned instance takes no other app's server token either.
    let s = Authz::start_with(&["--config", &config, "--allowed-api-keys", "k1", "--admin", "127.0.0.1:0"], &[]);
    let admin = s.admin.as_ref().unwrap();
    let body = |id: &str| format!(r#"{{"user_id":"{id}","revoke_tokens_issued_before":{}}}"#, now());
    let r = revoke(admin, "k2", &server(SECRET_2, None), &body("jane"));
    assert!(refused(&r, 403, "api_key not allowed here"), "{r:?}");
    assert_eq!(revoke(admin, "k1", &server(SECRET_A, None), &body("john")).status, 200);
}

/// Finding 4: freshness is per app. An app added by a reload while Redis does not answer is
/// stale (503) until its first full read, while the other app is served; then its
/// revocations apply.
#[test]
fn an_app_added_while_redis_is_down_is_stale_until_read() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("added-stale");
    let k1 = dir.write("k1", SECRET_A);
    let one_app =
        format!("{}[[app]]\napi_key = \"k1\"\nsecret_file = \"{k1}\"\n", redis_section(&redis, "max_staleness = 30"));
    // The name two_apps writes, so that it replaces this file.
    let config = dir.write("stackjwt-authz.toml", &one_app);
    let s = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[]);
    let iat = now() - 10;
    let (john, zed) = (user(SECRET_A, "john", Some(iat)), user(SECRET_2, "zed", Some(iat)));
    assert_eq!(check(&s.addr, "k1", &john).status, 200);
    redis.cli(&["HSET", "stackjwt:k2:revoked", "zed", &now().to_string()]);
    signal(redis.child.id(), "STOP");
    two_apps(&dir, &redis_section(&redis, "max_staleness = 30"));
    s.hangup();
    eventually(Duration::from_secs(5), "k2 served", || check(&s.addr, "k2", &zed).status != 401);
    let r = check(&s.addr, "k2", &zed);
    assert!(refused(&r, 503, "revocations unavailable, retry"), "{r:?}");
    assert_eq!(metric(&s, r#"stackjwt_authz_revocations_stale{app="k2"}"#), 1);
    assert_eq!(metric(&s, r#"stackjwt_authz_revocations_stale{app="k1"}"#), 0);
    assert_eq!(check(&s.addr, "k1", &john).status, 200, "k1 is still fresh");
    signal(redis.child.id(), "CONT");
    eventually(Duration::from_secs(10), "k2 read", || refused(&check(&s.addr, "k2", &zed), 401, "token revoked"));
    assert_eq!(metric(&s, r#"stackjwt_authz_revocations_stale{app="k2"}"#), 0);

    // Removed by a reload, then added again while Redis does not answer: stale again, not
    // served from what was read before.
    std::fs::write(&config, &one_app).unwrap();
    s.hangup();
    let unknown = "api_key missing or not one of this server's apps";
    eventually(Duration::from_secs(5), "k2 removed", || refused(&check(&s.addr, "k2", &zed), 401, unknown));
    signal(redis.child.id(), "STOP");
    two_apps(&dir, &redis_section(&redis, "max_staleness = 30"));
    s.hangup();
    eventually(Duration::from_secs(5), "k2 added again", || check(&s.addr, "k2", &zed).status == 503);
    signal(redis.child.id(), "CONT");
    eventually(Duration::from_secs(10), "k2 read again", || check(&s.addr, "k2", &zed).status == 401);

    // One app's keys of another type: that app is stale, the other is served.
    redis.cli(&["DEL", "stackjwt:k2:revoked"]);
    redis.cli(&["SET", "stackjwt:k2:revoked", "not a hash"]);
    redis.cli(&["PUBLISH", "stackjwt:k2:revocations", "zed"]);
    let amy = user(SECRET_2, "amy", Some(iat));
    eventually(Duration::from_secs(5), "k2 unreadable", || check(&s.addr, "k2", &amy).status == 503);
    assert_eq!(check(&s.addr, "k1", &john).status, 200, "k1 is read as before");
    assert_eq!(metric(&s, r#"stackjwt_authz_revocations_stale{app="k1"}"#), 0);
    assert_eq!(metric(&s, r#"stackjwt_authz_revocations_stale{app="k2"}"#), 1);
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Finding 5: a million revoked users load (a page at a time, no deadline on the whole read)
/// within 10 s, a resync keeps the previous mirror serving, and each revocation afterwards
/// reaches the other instance within 100 ms (p99 over 100).
#[test]
fn a_million_revoked_users_load_and_revocations_stay_fast() {
    let Some(redis) = Redis::start() else { return };
    const USERS: u64 = 1_000_000;
    let t = now() - 3600;
    let script = "for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], 'u' .. i, ARGV[2]) end";
    redis.cli(&["EVAL", script, "1", "stackjwt:k1:revoked", &USERS.to_string(), &t.to_string()]);
    assert_eq!(redis.cli(&["HLEN", "stackjwt:k1:revoked"]), USERS.to_string());
    let dir = Dir::new("million");
    let config = two_apps(&dir, &redis_section(&redis, "resync = 3"));
    let started = std::time::Instant::now();
    let one = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0"], &[]);
    let mut two = Authz::start_with(&["--config", &config, "--metrics", "127.0.0.1:0"], &[("RUST_LOG", "info")]);
    let last = user(SECRET_A, &format!("u{USERS}"), Some(t - 1));
    let took = eventually(Duration::from_secs(20), "the last user is refused", || {
        refused(&check(&two.addr, "k1", &last), 401, "token revoked")
    });
    let loaded = started.elapsed();
    eprintln!(
        "{USERS} revoked users loaded by the second instance {loaded:?} after the first started ({took:?} of waiting)"
    );
    assert!(loaded < Duration::from_secs(10), "{loaded:?}");
    assert_eq!(metric(&two, r#"stackjwt_authz_revocations{app="k1"}"#), USERS);
    let empty = Authz::start_with(&["--config", &two_apps(&Dir::new("million-empty"), "")], &[]);
    let per_user = (rss_kib(two.child.id()).saturating_sub(rss_kib(empty.child.id())) * 1024) / USERS;
    eprintln!("resident memory per revoked user: about {per_user} bytes");

    let admin = one.admin.as_ref().unwrap();
    let revoke_one = |id: &str, token: &str| {
        assert_eq!(check(&two.addr, "k1", token).status, 200);
        let body = format!(r#"{{"user_id":"{id}","revoke_tokens_issued_before":{}}}"#, now());
        let sent = std::time::Instant::now();
        assert_eq!(revoke(admin, "k1", &server(SECRET_A, None), &body).status, 200);
        while check(&two.addr, "k1", token).status != 401 {
            assert!(sent.elapsed() < Duration::from_secs(5), "revocation of {id} not seen");
        }
        sent.elapsed()
    };
    let mut times: Vec<Duration> = (0..100)
        .map(|i| {
            let id = format!("new{i}");
            revoke_one(&id, &user(SECRET_A, &id, Some(now() - 1)))
        })
        .collect();
    times.sort();
    let (p50, p99) = (times[49], times[98]);
    eprintln!("admin revoke on one instance to a refusal by the other, 100 revocations: p50 {p50:?}, p99 {p99:?}");
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");

    // A full read again (the mirror's connections cut): the previous mirror serves meanwhile,
    // and changes announced during it are applied at once and kept.
    let before = metric(&two, "stackjwt_authz_revocation_resyncs_total");
    redis.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    eventually(Duration::from_secs(5), "both instances subscribed again", || {
        redis.cli(&["PUBSUB", "NUMSUB", "stackjwt:k1:revocations"]).ends_with('2')
    });
    let mut during = Vec::new();
    while metric(&two, "stackjwt_authz_revocation_resyncs_total") == before {
        assert!(refused(&check(&two.addr, "k1", &last), 401, "token revoked"), "the previous mirror lapsed");
        assert_eq!(check(&two.addr, "k2", &user(SECRET_2, "u1", Some(t - 1))).status, 200, "k2 is not k1");
        let id = format!("during{}", during.len());
        let token = user(SECRET_A, &id, Some(now() - 1));
        during.push((revoke_one(&id, &token), token));
        assert!(during.len() < 2000, "the full read did not end");
    }
    eprintln!(
        "{} revocations while the million was read again: max {:?}",
        during.len(),
        during.iter().map(|(took, _)| *took).max()
    );
    // Two instances re-reading a million on two cores: slower, never held until the read ends.
    assert!(!during.is_empty() && during.iter().all(|(took, _)| *took < Duration::from_secs(1)));
    for (i, (_, token)) in during.iter().enumerate() {
        assert_eq!(check(&two.addr, "k1", token).status, 401, "during{i} was lost by the full read");
    }
    // A read that takes over a second says so: its progress about once a second, then the total.
    two.terminate();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut two.stderr(), &mut log).unwrap();
    let reads = log.lines().filter(|l| l.contains("revocation mirror: read ") && l.contains("users=1000000")).count();
    let progress = log.lines().filter(|l| l.contains("revocation mirror: reading")).count();
    eprintln!("log: {reads} full reads of the million reported, {progress} progress lines");
    assert!(reads >= 1 && progress <= 30, "{log}");
}

/// A proxy to Redis that holds back every answer on a connection that has sent `MULTI` (the
/// admin API's writer) for `delay`, and passes the others (the mirror's) at once.
fn slow_writer_proxy(redis_port: u16, delay: Duration) -> u16 {
    use std::io::{Read as _, Write as _};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", redis_port)) else { continue };
            // Whether the connection has sent MULTI, and how many requests it has sent.
            let state = std::sync::Arc::new((AtomicBool::new(false), AtomicU64::new(0)));
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let sent = state.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n @ 1..) = c_in.read(&mut buf) {
                    if buf[..n].windows(5).any(|w| w == b"MULTI") {
                        sent.0.store(true, SeqCst);
                    }
                    sent.1.fetch_add(1, SeqCst);
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                // Held back once per request: the first chunk of each answer.
                let mut answered = 0;
                while let Ok(n @ 1..) = s_in.read(&mut buf) {
                    let requests = state.1.load(SeqCst);
                    if state.0.load(SeqCst) && requests > answered {
                        std::thread::sleep(delay);
                    }
                    answered = requests;
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// Finding 7: the admin API reads its change back from Redis instead of applying the
/// request's value, so a later change this instance heard of while Redis' acknowledgement was
/// on its way is not overwritten.
#[test]
fn the_admin_api_never_applies_a_value_older_than_redis_holds() {
    let Some(redis) = Redis::start() else { return };
    // Less than the 1 s command limit, with room for a loaded machine.
    let proxy = slow_writer_proxy(redis.port, Duration::from_millis(250));
    let dir = Dir::new("admin-order");
    let config = two_apps(&dir, &format!("[redis]\nurl = \"redis://127.0.0.1:{proxy}/0\"\n"));
    let s = Authz::start_with(&["--config", &config, "--admin", "127.0.0.1:0"], &[]);
    let admin = s.admin.clone().unwrap();
    let iat = now() - 100;
    let john = user(SECRET_A, "john", Some(iat));
    eventually(Duration::from_secs(10), "revocations read", || check(&s.addr, "k1", &john).status == 200);
    // The admin's first write marks its connection; its answers lag from then on.
    let warm = format!(r#"{{"user_id":"ann","revoke_tokens_issued_before":{iat}}}"#);
    let r = revoke(&admin, "k1", &server(SECRET_A, None), &warm);
    assert_eq!(r.status, 200, "{r:?}");
    let body = format!(r#"{{"user_id":"john","revoke_tokens_issued_before":{iat}}}"#);
    let request = std::thread::spawn(move || revoke(&admin, "k1", &server(SECRET_A, None), &body));
    // Redis has the admin's value (john's token issued at the cutoff passes)...
    eventually(Duration::from_secs(2), "the admin's write", || {
        redis.try_cli(&["HGET", "stackjwt:k1:revoked", "john"]).as_deref() == Some(&iat.to_string())
    });
    // ...then a backend revokes john later, and this instance's mirror hears of it at once.
    redis.cli(&["HSET", "stackjwt:k1:revoked", "john", &(iat + 1).to_string()]);
    redis.cli(&["PUBLISH", "stackjwt:k1:revocations", "john"]);
    eventually(Duration::from_secs(1), "the backend's revocation", || check(&s.addr, "k1", &john).status == 401);
    let r = request.join().unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    // The admin's answer came after: its value must not overwrite the later one.
    std::thread::sleep(Duration::from_millis(100));
    assert!(refused(&check(&s.addr, "k1", &john), 401, "token revoked"), "the admin's older value was applied");
}

/// Finding 10: a Redis password in a broken line is never echoed: at start, by
/// `--check-config`, or in the log of a refused reload; every such error is one line.
#[test]
fn no_redis_password_in_any_message() {
    let dir = Dir::new("redact");
    let good = two_apps(&dir, "");
    let bin = env!("CARGO_BIN_EXE_stackjwt-authz");
    for broken in [
        "[redis]\nurl = \"redis://:s3cretpw@127.0.0.1:6379/0\" oops\n",
        "leeway = \"redis://:s3cretpw@127.0.0.1:6379/0\"\n",
        "[redis]\nurl = \"redis://:s3cretpw@127.0.0.1:port/0\"\n",
    ] {
        let config = dir.write("broken.toml", &format!("{broken}\n{}", std::fs::read_to_string(&good).unwrap()));
        for flag in ["--config", "--check-config"] {
            let out = Command::new(bin).args([flag, &config]).stdin(Stdio::null()).output().unwrap();
            let err = String::from_utf8(out.stderr).unwrap();
            assert_eq!(out.status.code(), Some(2), "{broken}: {err}");
            assert!(!err.contains("s3cretpw") && err.contains("broken.toml"), "{broken}: {err}");
            assert_eq!(err.matches("broken.toml").count(), 1, "the file named once: {err}");
            assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        }
    }
    // A refused reload logs one line without it; a changed connection limit says it waits.
    let mut s = Authz::start_with(&["--config", &good], &[]);
    let config = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&good, format!("[redis]\nurl = \"redis://:s3cretpw@127.0.0.1:6379/0\" oops\n{config}")).unwrap();
    s.hangup();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&good, format!("header_timeout = 20\n{config}")).unwrap();
    s.hangup();
    std::thread::sleep(Duration::from_millis(300));
    s.terminate();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut s.stderr(), &mut log).unwrap();
    let refused_line = log.lines().find(|l| l.contains("reload refused")).unwrap_or_else(|| panic!("{log}"));
    assert!(refused_line.contains("line 2, column") && !log.contains("s3cretpw"), "{log}");
    assert!(!log.lines().any(|l| l.trim_start().starts_with('|')), "no caret diagram: {log}");
    assert!(log.contains("header_timeout and max_connections change on a restart, not a reload"), "{log}");
}

/// `--check-config FILE` reads and checks everything a start reads, serves and connects
/// nothing, and says what to fix.
#[test]
fn check_config_checks_without_serving_or_connecting() {
    let dir = Dir::new("check-config");
    // A "Redis" that counts connections.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let config = two_apps(&dir, &format!("listen = \"127.0.0.1:1\"\n[redis]\nurl = \"redis://127.0.0.1:{port}/0\"\n"));
    let bin = env!("CARGO_BIN_EXE_stackjwt-authz");
    let out = Command::new(bin).args(["--check-config", &config]).output().unwrap();
    let said = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{said} {}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("good (2 apps"), "{said}");
    assert!(listener.accept().is_err(), "--check-config connected to Redis");
    // What a start refuses, --check-config refuses, with the file and what to fix.
    std::fs::remove_file(dir.0.join("k2")).unwrap();
    let out = Command::new(bin).args(["--check-config", &config]).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot read") && err.contains("k2"), "{err}");
}

/// SIGHUP while the server waits for its first full read of Redis (up to 5 s) does not end it.
#[test]
fn a_hangup_during_the_wait_for_redis_does_not_end_it() {
    use std::io::BufRead as _;
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("hup-wait");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 3"));
    signal(redis.child.id(), "STOP");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackjwt-authz"))
        .args(["--config", &config, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(child.id(), "HUP");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let status = child.wait().unwrap();
    signal(redis.child.id(), "CONT");
    assert!(alive && line.starts_with("stackjwt-authz listening on"), "{line:?} {status:?}");
}

/// What Redis answers is logged for what it is: a refused command (ACL) is the connection's
/// failure, not the app's data; a Redis that keeps revocations on disk is not warned about.
#[test]
fn redis_answers_are_logged_for_what_they_are() {
    let Some(redis) = Redis::start() else { return };
    let dir = Dir::new("redis-logs");
    let config = two_apps(&dir, &redis_section(&redis, "max_staleness = 1"));
    redis.cli(&["CONFIG", "SET", "save", "900 1"]);
    let log_of = |s: &mut Authz| {
        std::thread::sleep(Duration::from_millis(300));
        s.terminate();
        let _ = s.child.wait();
        let mut log = String::new();
        std::io::Read::read_to_string(&mut s.stderr(), &mut log).unwrap();
        log
    };
    let mut s = Authz::start_with(&["--config", &config], &[("RUST_LOG", "info")]);
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "john", None)).status, 200);
    let log = log_of(&mut s);
    assert!(!log.contains("keeps nothing on disk"), "RDB snapshots persist: {log}");
    redis.cli(&["ACL", "SETUSER", "default", "-hscan"]);
    let mut s = Authz::start_with(&["--config", &config], &[("RUST_LOG", "info")]);
    assert_eq!(check(&s.addr, "k1", &user(SECRET_A, "john", None)).status, 503);
    let log = log_of(&mut s);
    redis.cli(&["ACL", "SETUSER", "default", "+hscan"]);
    assert!(log.contains("Redis connection lost") && log.contains("no permissions"), "{log}");
    assert!(!log.contains("cannot be read"), "a refused command is not the app's data: {log}");
}
