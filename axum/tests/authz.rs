//! `stackjwt-authz` as a process, over real HTTP: what it allows and refuses, where it finds
//! credentials, its metrics, its logs, its limits and its shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, missing_docs)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Authz, SECRET, get, jwt, key, now, raw, user_token};
use stackjwt::dev_token;

fn assert_refused(r: &common::Reply, code: i64, message: &str) {
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), serde_json::json!({"code": code, "message": message, "StatusCode": 401}));
    assert_eq!(r.header("x-stream-principal"), None);
    assert_eq!(r.header("x-stream-error"), Some(r.body.as_str()));
}

fn assert_user(r: &common::Reply, id: &str) {
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-stream-principal"), Some("user"));
    assert_eq!(r.header("x-stream-user-id"), Some(id));
    assert_eq!(r.body, "");
}

#[test]
fn allows_valid_credentials_from_every_place_they_come_from() {
    let s = Authz::start(&[]);
    let token = user_token("john", Some(now() + 600));
    assert_user(&jwt(&s.addr, &token), "john");
    // Any method and path is one check.
    let post = format!(
        "POST /api/v1/channels?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\nstream-auth-type: jwt\r\nAuthorization: {token}\r\nContent-Length: 0\r\n\r\n"
    );
    assert_user(&raw(&s.addr, post.as_bytes()), "john");
    // The WebSocket connect URL, as Traefik/Caddy (X-Forwarded-Uri) and NGINX configurations
    // (X-Original-URI) forward it, and as Envoy appends it to the check's own path.
    let ws = format!("/connect?json=%7B%7D&api_key=k&authorization={token}&stream-auth-type=jwt");
    assert_user(&get(&s.addr, "/auth", &[("X-Forwarded-Uri", &ws)]), "john");
    assert_user(&get(&s.addr, "/auth", &[("X-Original-URI", &ws)]), "john");
    assert_user(&get(&s.addr, &ws, &[]), "john");
    // The two forwarded-URI headers must agree (see forwarded_uris_that_disagree_are_refused);
    // the forwarded URI wins over the check's own query.
    let anon = "/connect?stream-auth-type=anonymous";
    assert_eq!(get(&s.addr, "/auth", &[("X-Forwarded-Uri", &ws), ("X-Original-URI", anon)]).status, 400);
    assert_eq!(get(&s.addr, &ws, &[("X-Original-URI", anon)]).header("x-stream-principal"), Some("anonymous"));

    let mut buf = [0u8; 256];
    let server = key().server_token(&mut buf).unwrap().to_owned();
    let r = jwt(&s.addr, &server);
    assert_eq!(
        (r.status, r.header("x-stream-principal"), r.header("x-stream-user-id")),
        (200, Some("server"), Some(""))
    );
    let r = get(&s.addr, "/", &[("stream-auth-type", "anonymous")]);
    assert_eq!(
        (r.status, r.header("x-stream-principal"), r.header("x-stream-user-id")),
        (200, Some("anonymous"), Some(""))
    );
}

/// `--query-tokens off`: credentials come from the headers only, so no token is ever in a URL.
#[test]
fn query_tokens_off_reads_headers_only() {
    let s = Authz::start(&["--query-tokens", "off"]);
    let token = user_token("john", Some(now() + 600));
    assert_user(&jwt(&s.addr, &token), "john");
    let ws = format!("/connect?api_key=k&authorization={token}&stream-auth-type=jwt");
    for r in [get(&s.addr, "/auth", &[("X-Original-URI", &ws)]), get(&s.addr, &ws, &[])] {
        assert_refused(&r, 5, "missing stream-auth-type");
    }
    let r = Authz::start(&["--query-tokens", "always"]);
    assert_user(&get(&r.addr, &ws, &[]), "john");
}

#[test]
fn refuses_with_streams_body() {
    let s = Authz::start(&[]);
    let valid = user_token("john", None);
    let mut tampered = valid.clone();
    tampered.replace_range(tampered.len() - 2.., if valid.ends_with("AA") { "AB" } else { "AA" });
    assert_refused(&jwt(&s.addr, &user_token("john", Some(now() - 60))), 40, "token expired");
    assert_refused(&jwt(&s.addr, &tampered), 43, "signature mismatch");
    assert_refused(&jwt(&s.addr, &format!("Bearer {valid}")), 5, "authorization has a bearer prefix");
    assert_refused(&get(&s.addr, "/", &[("stream-auth-type", "jwt")]), 5, "missing token");
    assert_refused(&get(&s.addr, "/", &[]), 5, "missing stream-auth-type");
    assert_refused(&get(&s.addr, "/", &[("stream-auth-type", "basic")]), 5, "unknown stream-auth-type");
    assert_refused(&jwt(&s.addr, dev_token("john", &mut [0u8; 256]).unwrap()), 5, "development tokens not allowed");
    assert_refused(&jwt(&s.addr, "garbage"), 5, "malformed token");
}

#[test]
fn flags_reach_the_verifier() {
    let s = Authz::start(&["--allow-dev", "--deny-anonymous", "--require-exp", "--leeway", "120"]);
    let dev = dev_token("jane", &mut [0u8; 256]).unwrap().to_owned();
    assert_refused(&jwt(&s.addr, &dev), 5, "token has no exp");
    assert_refused(&get(&s.addr, "/", &[("stream-auth-type", "anonymous")]), 5, "anonymous access denied");
    assert_user(&jwt(&s.addr, &user_token("john", Some(now() - 60))), "john");
    drop(s);
    let s = Authz::start(&["--allow-dev"]);
    let r = jwt(&s.addr, &dev);
    assert_eq!(
        (r.status, r.header("x-stream-principal"), r.header("x-stream-user-id")),
        (200, Some("dev"), Some("jane"))
    );

    // --alg and --kid: an HS512 key with a kid.
    let dir = std::env::temp_dir().join(format!("stackjwt-authz-secret-{}", std::process::id()));
    let secret = "s".repeat(64);
    std::fs::write(&dir, format!("{secret}\n")).unwrap();
    let path = dir.to_str().unwrap();
    let s = Authz::start_with(&["--secret-file", path, "--alg", "HS512", "--kid", "k2"], &[]);
    let key = stackjwt::Key::new(stackjwt::Algorithm::Hs512, secret.as_bytes()).unwrap().with_kid("k2").unwrap();
    let mut buf = [0u8; 512];
    assert_user(&jwt(&s.addr, key.user_token("ann", None, None, &mut buf).unwrap()), "ann");
    assert_refused(&jwt(&s.addr, &user_token("john", None)), 5, "algorithm not allowed");
    std::fs::remove_file(&dir).unwrap();
}

#[test]
fn refuses_to_start_without_a_good_secret() {
    let bin = env!("CARGO_BIN_EXE_stackjwt-authz");
    let run = |args: &[&str], secret: Option<&str>| {
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0"]).args(args).env_remove("STREAM_API_SECRET");
        if let Some(s) = secret {
            cmd.env("STREAM_API_SECRET", s);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, err) = run(&[], None);
    assert_eq!(code, Some(2));
    assert!(err.contains("STREAM_API_SECRET"), "{err}");
    let (code, err) = run(&[], Some("short"));
    assert_eq!(code, Some(2));
    assert!(err.contains("shorter than 32 bytes: use a longer one, or --weak-secret to accept it"), "{err}");
    assert!(!err.contains("new_weak"), "the flag, not a Rust function: {err}");
    let (code, err) = run(&["--listen", "nowhere"], Some(SECRET));
    assert_eq!(code, Some(2));
    assert!(err.contains("--listen wants IP:PORT or HOST:PORT"), "{err}");
    let (code, err) = run(&["--metrics", "no-such-host.invalid:9090"], Some(SECRET));
    assert_eq!(code, Some(2));
    assert!(err.contains("--metrics: cannot resolve"), "{err}");
    let (code, err) = run(&["frob"], Some(SECRET));
    assert_eq!(code, Some(2), "only `help` is a word it takes: {err}");
    let help = Command::new(bin).arg("help").output().unwrap();
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: stackjwt-authz [OPTIONS]"));
    let (code, err) = run(&["--alg", "rs256"], Some(SECRET));
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown algorithm"), "{err}");
    assert!(!err.contains(SECRET));
    // A host name is resolved.
    let named = Authz::start(&["--listen", "localhost:0"]);
    assert_user(&jwt(&named.addr, &user_token("john", None)), "john");
    // A short secret is accepted with --weak-secret.
    let s = Authz::start_with(&["--weak-secret"], &[("STREAM_API_SECRET", "short")]);
    let weak = stackjwt::Key::new_weak(stackjwt::Algorithm::Hs256, b"short").unwrap();
    let mut buf = [0u8; 256];
    assert_user(&jwt(&s.addr, weak.user_token("kim", None, None, &mut buf).unwrap()), "kim");
}

#[test]
fn bad_input_gets_a_clear_status_and_the_server_keeps_serving() {
    let s = Authz::start(&[]);
    let token = user_token("john", None);
    assert_refused(&jwt(&s.addr, &"x".repeat(5000)), 5, "token too long");
    let twice = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nstream-auth-type: jwt\r\nAuthorization: {token}\r\nAuthorization: {token}\r\n\r\n"
    );
    assert_refused(&raw(&s.addr, twice.as_bytes()), 5, "duplicate authorization header");
    let mut not_utf8 =
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nstream-auth-type: jwt\r\nAuthorization: ".to_vec();
    not_utf8.extend_from_slice(b"\xff\xfe.\xc3(.x\r\n\r\n");
    assert_refused(&raw(&s.addr, &not_utf8), 5, "authorization header is not visible ascii");
    let ws = format!("/c?authorization={token}&authorization={token}&stream-auth-type=jwt");
    assert_refused(&get(&s.addr, "/", &[("X-Forwarded-Uri", &ws)]), 5, "duplicate authorization query parameter");
    // Oversized request heads are refused by the HTTP layer with 431.
    let huge = get(&s.addr, "/", &[("stream-auth-type", "jwt"), ("X-Padding", &"p".repeat(64 * 1024))]);
    assert_eq!(huge.status, 431, "{huge:?}");
    // Not HTTP at all.
    let mut junk = TcpStream::connect(&s.addr).unwrap();
    junk.write_all(b"\x16\x03\x01\x02\x00 not http\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    junk.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = junk.read_to_end(&mut answer);
    assert!(answer.is_empty() || answer.starts_with(b"HTTP/1.1 400"), "{answer:?}");
    assert_user(&jwt(&s.addr, &token), "john");
}

#[test]
fn a_slowloris_connection_is_closed_while_others_are_served() {
    let s = Authz::start(&["--header-timeout", "1"]);
    let token = user_token("john", None);
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n").unwrap();
    let start = Instant::now();
    let mut closed_after = None;
    for _ in 0..40 {
        assert_user(&jwt(&s.addr, &token), "john");
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            closed_after = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    // The server may close first and the kernel accept a write or two after: read to be sure.
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let elapsed = closed_after.unwrap_or_else(|| start.elapsed());
    assert!(elapsed < Duration::from_secs(8), "slow connection still open after {elapsed:?}");
    assert!(!rest.starts_with(b"HTTP/1.1 200"), "{rest:?}");
}

#[test]
fn ten_thousand_connections_at_once_get_an_answer_each() {
    let s = Authz::start(&["--max-connections", "512"]);
    let token = user_token("john", None);
    let request = format!("GET / HTTP/1.1\r\nHost: a\r\nstream-auth-type: jwt\r\nAuthorization: {token}\r\n\r\n");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let answers = runtime.block_on(async {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(10_000));
        let mut tasks = Vec::with_capacity(10_000);
        for _ in 0..10_000 {
            let (addr, request, barrier) = (s.addr.clone(), request.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let c = tokio::net::TcpStream::connect(addr).await;
                // Every connection is open before any is used or closed.
                barrier.wait().await;
                let mut c = c?;
                c.write_all(request.as_bytes()).await?;
                let mut buf = [0u8; 512];
                let n = c.read(&mut buf).await?;
                Ok::<Vec<u8>, std::io::Error>(buf.get(..12).filter(|_| n >= 12).unwrap_or_default().to_vec())
            }));
        }
        let mut answers = std::collections::BTreeMap::<String, usize>::new();
        for t in tasks {
            let answer = match tokio::time::timeout(Duration::from_secs(60), t).await {
                Ok(Ok(Ok(head))) => String::from_utf8_lossy(&head).into_owned(),
                Ok(Ok(Err(e))) => format!("error: {:?}", e.kind()),
                _ => "no answer in 60 s".to_owned(),
            };
            *answers.entry(answer).or_default() += 1;
        }
        answers
    });
    // Each connection is served (512 at once) or told 503 at once; none waits or is reset.
    let served = answers.get("HTTP/1.1 200").copied().unwrap_or(0);
    let busy = answers.get("HTTP/1.1 503").copied().unwrap_or(0);
    assert_eq!(served + busy, 10_000, "{answers:?}");
    assert!(served >= 512, "{answers:?}");
    assert_user(&jwt(&s.addr, &token), "john");
    let r = get(&s.addr, "/", &[]);
    assert_eq!(r.status, 401, "still checking after the storm: {r:?}");
}

#[test]
fn metrics_count_outcomes_and_time() {
    let s = Authz::start(&["--metrics", "127.0.0.1:0"]);
    let token = user_token("john", None);
    for _ in 0..3 {
        assert_user(&jwt(&s.addr, &token), "john");
    }
    assert_refused(&jwt(&s.addr, &user_token("john", Some(1))), 40, "token expired");
    let valid = user_token("jane", None);
    let tampered = format!("{}.{}", valid.rsplit_once('.').unwrap().0, "A".repeat(43));
    assert_refused(&jwt(&s.addr, &tampered), 43, "signature mismatch");
    assert_refused(&jwt(&s.addr, "x"), 5, "malformed token");
    let r = get(s.metrics.as_ref().unwrap(), "/metrics", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    for line in [
        r#"stackjwt_authz_requests_total{app="default",outcome="allowed",principal="user"} 3"#,
        r#"stackjwt_authz_requests_total{app="default",outcome="refused",code="40"} 1"#,
        r#"stackjwt_authz_requests_total{app="default",outcome="refused",code="43"} 1"#,
        r#"stackjwt_authz_requests_total{app="default",outcome="refused",code="5"} 1"#,
        r#"stackjwt_authz_check_seconds_bucket{app="default",le="+Inf"} 6"#,
        r#"stackjwt_authz_check_seconds_count{app="default"} 6"#,
        r#"stackjwt_authz_requests_total{app="unknown",outcome="allowed",principal="user"} 0"#,
        r#"stackjwt_authz_config_reloads_total{result="ok"} 0"#,
        r#"stackjwt_authz_revocations_stale{app="default"} 0"#,
        r#"stackjwt_authz_revocations{app="default"} 0"#,
    ] {
        assert!(r.body.lines().any(|l| l == line), "missing {line:?} in\n{}", r.body);
    }
}

#[test]
fn logs_say_why_and_never_show_a_token_or_the_secret() {
    let mut s = Authz::start_with(&[], &[("STREAM_API_SECRET", SECRET), ("RUST_LOG", "debug")]);
    let expired = user_token("john", Some(now() - 60));
    assert_refused(&jwt(&s.addr, &expired), 40, "token expired");
    assert_refused(&jwt(&s.addr, &format!("Bearer {expired}")), 5, "authorization has a bearer prefix");
    s.terminate();
    let mut log = String::new();
    s.stderr().read_to_string(&mut log).unwrap();
    assert!(log.contains("token expired") && log.contains("bearer prefix"), "{log}");
    let signature = expired.rsplit('.').next().unwrap();
    assert!(!log.contains(signature) && !log.contains(SECRET), "{log}");
}

#[test]
fn sigterm_stops_it_gracefully() {
    let mut s = Authz::start(&[]);
    let token = user_token("john", None);
    // An idle keep-alive connection must not hold the shutdown up.
    let mut idle = TcpStream::connect(&s.addr).unwrap();
    idle.write_all(
        format!("GET / HTTP/1.1\r\nHost: a\r\nstream-auth-type: jwt\r\nAuthorization: {token}\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 256];
    let n = idle.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let start = Instant::now();
    s.terminate();
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still running 5 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(TcpStream::connect(&s.addr).is_err(), "still accepting after shutdown");
}

/// An id that a receiver would read as another (`"admin "` arrives as `admin`) is refused;
/// with `--user-id-encoding percent` every id is forwarded encoded, and says so.
#[test]
fn user_ids_a_receiver_would_read_differently_are_refused_or_encoded() {
    let plain = Authz::start(&[]);
    let message = "user id cannot be forwarded in a header unchanged";
    for id in ["admin ", "\tadmin", " admin", "adm\u{7f}in", "zoë", "a\u{1}b"] {
        let r = jwt(&plain.addr, &user_token(id, None));
        assert_refused(&r, 5, message);
    }
    let r = jwt(&plain.addr, &user_token("john smith", None));
    assert_user(&r, "john smith");
    // Always sent, so that a proxy copying it replaces a client's own.
    assert_eq!(r.header("x-stream-user-id-encoding"), Some("plain"));
    assert_eq!(r.header("x-stream-api-key"), Some(""), "one app without a name");

    let percent = Authz::start(&["--user-id-encoding", "percent"]);
    for (id, sent) in [("admin ", "admin%20"), ("\tadmin", "%09admin"), ("zoë", "zo%C3%AB"), ("john", "john")] {
        let r = jwt(&percent.addr, &user_token(id, None));
        assert_user(&r, sent);
        assert_eq!(r.header("x-stream-user-id-encoding"), Some("percent"), "{id:?}");
    }
    let anonymous = get(&percent.addr, "/", &[("stream-auth-type", "anonymous")]);
    assert_eq!((anonymous.status, anonymous.header("x-stream-user-id")), (200, Some("")));

    let out = Command::new(env!("CARGO_BIN_EXE_stackjwt-authz"))
        .args(["--user-id-encoding", "base64"])
        .env("STREAM_API_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--user-id-encoding wants plain or percent"));
}

/// A client's own forwarded-URI header beside the proxy's: refused when they disagree (one
/// would be checked, the other used), ignored when the operator names the proxy's.
#[test]
fn forwarded_uris_that_disagree_are_refused() {
    let s = Authz::start(&[]);
    let bad = format!("/connect?authorization={}x&stream-auth-type=jwt", user_token("john", None));
    let anonymous = "/connect?stream-auth-type=anonymous";
    let r = get(&s.addr, "/", &[("X-Original-URI", &bad), ("X-Forwarded-Uri", anonymous)]);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        serde_json::json!({"code": 4, "message": "forwarded uri headers disagree", "StatusCode": 400})
    );
    let r = get(&s.addr, "/", &[("X-Original-URI", &bad), ("X-Original-URI", anonymous)]);
    assert_eq!(r.status, 400, "one header twice: {r:?}");
    let good = format!("/connect?authorization={}&stream-auth-type=jwt", user_token("john", None));
    assert_user(&get(&s.addr, "/", &[("X-Original-URI", &good), ("X-Forwarded-Uri", &good)]), "john");

    let named = Authz::start(&["--forwarded-uri-header", "X-Original-URI"]);
    let r = get(&named.addr, "/", &[("X-Original-URI", &bad), ("X-Forwarded-Uri", anonymous)]);
    assert_refused(&r, 43, "signature mismatch");
    assert_user(&get(&named.addr, "/", &[("X-Original-URI", &good), ("X-Forwarded-Uri", anonymous)]), "john");
    let r = get(&named.addr, "/", &[("X-Forwarded-Uri", &good)]);
    assert_refused(&r, 5, "missing stream-auth-type");
}

/// Once the key is built, no copy of the secret read from its file is left in the server's
/// memory: every readable mapping of the running process is searched for it.
#[test]
fn the_secret_read_from_a_file_is_wiped() {
    let dir = std::env::temp_dir().join(format!("stackjwt-authz-wipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A long secret (HMAC hashes it down), so that its freed copies are not all reused by the
    // time the server answers; a distinct 64-byte piece of its middle is looked for (a freed
    // allocation's first bytes hold the allocator's own pointers).
    let secret: String =
        (0..16_384u32).map(|i| char::from(b'a' + u8::try_from((i * 7 + i / 26) % 26).unwrap())).collect();
    let secret = format!("{secret}{:x}{:x}", std::process::id(), now());
    let tail = &secret.as_bytes()[8_000..8_064];
    let file = dir.join("secret");
    std::fs::write(&file, format!("{secret}\r\n\n")).unwrap();
    let s = Authz::start_with(&["--secret-file", file.to_str().unwrap(), "--weak-secret"], &[]);
    // The key is the file's secret, trimmed.
    let key = stackjwt::Key::new(stackjwt::Algorithm::Hs256, secret.as_bytes()).unwrap();
    let token = key.user_token("john", None, None, &mut [0u8; 256]).unwrap().to_owned();
    assert_user(&jwt(&s.addr, &token), "john");
    let pid = s.child.id();
    let (Ok(maps), Ok(mut mem)) =
        (std::fs::read_to_string(format!("/proc/{pid}/maps")), std::fs::File::open(format!("/proc/{pid}/mem")))
    else {
        eprintln!("skipped: /proc/{pid}/mem cannot be read here, so the search did not run");
        return;
    };
    let mut searched = 0usize;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (range, perms) = (fields.next().unwrap(), fields.next().unwrap());
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(start, 16).unwrap(), u64::from_str_radix(end, 16).unwrap());
        let mut bytes = vec![0u8; usize::try_from(end - start).unwrap()];
        use std::io::Seek as _;
        if mem.seek(std::io::SeekFrom::Start(start)).is_err() || mem.read_exact(&mut bytes).is_err() {
            continue;
        }
        searched += bytes.len();
        let found = bytes.windows(tail.len()).position(|w| w == tail);
        assert_eq!(found, None, "the secret is still in {line}");
    }
    assert!(searched > 0, "nothing searched");
    std::fs::remove_dir_all(&dir).unwrap();
}
