//! The module inside a real NGINX: built with `nginx/build.sh` for the nginx installed here,
//! loaded with `load_module`, in front of an upstream that records what reaches it.
//!
//! Skipped, with the reason printed, when nginx or the build's prerequisites (its source:
//! nginx-dev; libclang-dev) are missing, unless `STACKJWT_REQUIRE_NGINX_MODULE=1` (as `.ci/run`
//! sets), which makes the skip a failure. `-- --nocapture` prints the transcript.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, clippy::cast_possible_truncation, missing_docs)]

#[path = "../../axum/tests/proxy/mod.rs"]
mod proxy;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proxy::{Nginx, Seen, fill, find_nginx, free_port, readme_nginx, start_nginx, upstream, wait_for, websocket};
use stackjwt::{Algorithm, Key, dev_token};

const SECRET: &str = "the module's test secret, 32 bytes+";
const NEW_SECRET: &str = "the module's rotated secret, 32 bytes+";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn token(secret: &str, id: &str, exp: Option<u64>) -> String {
    Key::new(Algorithm::Hs256, secret.as_bytes())
        .unwrap()
        .user_token(id, exp, None, &mut [0u8; 512])
        .unwrap()
        .to_owned()
}

/// The module, built once per test run; `None` (skip) when this machine cannot build it.
fn module() -> Option<(PathBuf, PathBuf)> {
    static BUILT: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let required = std::env::var("STACKJWT_REQUIRE_NGINX_MODULE").as_deref() == Ok("1");
            let skip = |why: &str| {
                assert!(!required, "{why}, and STACKJWT_REQUIRE_NGINX_MODULE=1");
                eprintln!("skipped: {why}; set STACKJWT_REQUIRE_NGINX_MODULE=1 to fail instead");
                None
            };
            let Some(nginx) = find_nginx() else { return skip("nginx is not installed (apt-get install nginx)") };
            if !Path::new("/usr/share/nginx/src/configure").exists() && std::env::var_os("NGINX_SRC").is_none() {
                return skip("no NGINX source to build the module against (apt-get install nginx-dev libclang-dev libpcre2-dev libssl-dev zlib1g-dev)");
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("build.sh");
            let out = Command::new("bash").arg(&script).env("NGINX", &nginx).output().unwrap();
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let tail: Vec<&str> = err.lines().rev().take(20).collect();
                let why = format!("nginx/build.sh failed:\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
                return skip(&why);
            }
            let path = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned();
            assert!(Path::new(&path).is_file(), "build.sh's last line is the module: {path}");
            Some((nginx, PathBuf::from(path)))
        })
        .clone()
}

/// A GET on a new connection, `Connection: close`: status, headers, body.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: chat\r\nConnection: close\r\n");
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    s.write_all((req + "\r\n").as_bytes()).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("0").parse().unwrap();
    (status, head.to_owned(), body.to_owned())
}

struct Site {
    nginx: Nginx,
    front: String,
    strict: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
}

fn site(bin: &Path, module: &Path, secret_file: &Path, master: bool) -> Site {
    let (upstream, seen) = upstream();
    let (port, strict_port) = (free_port(), free_port());
    let sites = format!(
        r#"
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    stackjwt_secret_file {secret};
    stackjwt_leeway 5;
    server {{
        listen 127.0.0.1:{port};
        stackjwt on;
        location / {{
            proxy_set_header X-Stream-User-Id $stackjwt_user_id;
            proxy_set_header X-Stream-Principal $stackjwt_principal;
            proxy_set_header X-Stream-Exp $stackjwt_exp;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass http://{upstream};
        }}
        location /dev {{
            stackjwt_allow_dev on;
            proxy_set_header X-Stream-User-Id $stackjwt_user_id;
            proxy_set_header X-Stream-Principal $stackjwt_principal;
            proxy_pass http://{upstream};
        }}
        location /public {{
            stackjwt off;
            proxy_pass http://{upstream};
        }}
    }}
    server {{
        listen 127.0.0.1:{strict_port};
        stackjwt on;
        stackjwt_allow_anonymous off;
        stackjwt_query_tokens off;
        location / {{
            proxy_set_header X-Stream-User-Id $stackjwt_user_id;
            proxy_set_header X-Stream-Principal $stackjwt_principal;
            proxy_pass http://{upstream};
        }}
    }}
"#,
        secret = secret_file.display()
    );
    let mut nginx = start_nginx(bin, &format!("load_module {};", module.display()), master, &sites);
    let (front, strict) = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{strict_port}"));
    wait_for(&front, &mut nginx);
    wait_for(&strict, &mut nginx);
    Site { nginx, front, strict, seen }
}

/// The worker processes of an NGINX master (children in `/proc`).
fn workers(master: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        if ppid == Some(&master.to_string()) {
            found.push(pid);
        }
    }
    found
}

fn secret_file(name: &str, secret: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("stackjwt-module-{name}-{}", std::process::id()));
    std::fs::write(&path, format!("{secret}\r\n")).unwrap();
    path
}

fn refused(got: &(u16, String, String), code: i64, message: &str) {
    assert_eq!(got.0, 401, "{got:?}");
    assert!(got.1.to_ascii_lowercase().contains("content-type: application/json"), "{got:?}");
    let json: serde_json::Value = serde_json::from_str(&got.2).unwrap_or_else(|e| panic!("{e}: {got:?}"));
    assert_eq!(
        (json["code"].as_i64(), json["message"].as_str(), json["StatusCode"].as_i64()),
        (Some(code), Some(message), Some(401))
    );
}

#[test]
fn inside_nginx_only_valid_credentials_reach_the_upstream() {
    let Some((bin, module)) = module() else { return };
    let secret = secret_file("matrix", SECRET);
    let s = site(&bin, &module, &secret, false);
    let exp = now() + 600;
    let valid = token(SECRET, "john", Some(exp));
    let expired = token(SECRET, "john", Some(now() - 60));
    let tampered = format!("{}.{}", valid.rsplit_once('.').unwrap().0, "A".repeat(43));
    let dev = dev_token("jane", &mut [0u8; 256]).unwrap().to_owned();
    let last = || s.seen.lock().unwrap().last().cloned().unwrap();
    let count = || s.seen.lock().unwrap().len();

    let (status, _, _) = get(
        &s.front,
        "/chat",
        &[("stream-auth-type", "jwt"), ("Authorization", &valid), ("X-Stream-User-Id", "admin")],
    );
    assert_eq!(status, 200);
    assert_eq!(
        (last().user_id.as_deref(), last().principal.as_deref(), last().exp),
        (Some("john"), Some("user"), Some(exp.to_string())),
        "the client's own id replaced"
    );
    let no_exp = token(SECRET, "john", None);
    assert_eq!(get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &no_exp)]).0, 200);
    assert_eq!(last().exp, None, "$stackjwt_exp is empty for a token without exp");
    eprintln!("valid user token, client's own X-Stream-User-Id: admin -> 200, upstream saw john");
    let before = count();
    refused(&get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &expired)]), 40, "token expired");
    refused(
        &get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &tampered)]),
        43,
        "signature mismatch",
    );
    refused(
        &get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &format!("Bearer {valid}"))]),
        5,
        "authorization has a bearer prefix",
    );
    refused(&get(&s.front, "/", &[]), 5, "missing stream-auth-type");
    refused(
        &get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &dev)]),
        5,
        "development tokens not allowed",
    );
    refused(&get(&s.strict, "/", &[("stream-auth-type", "anonymous")]), 5, "anonymous access denied");
    assert_eq!(count(), before, "no refused request reached the upstream");
    eprintln!("expired 40, tampered 43, Bearer, none, dev token, anonymous where denied -> 401, Stream's body");
    assert_eq!(get(&s.front, "/dev", &[("stream-auth-type", "jwt"), ("Authorization", &dev)]).0, 200);
    assert_eq!((last().user_id.as_deref(), last().principal.as_deref()), (Some("jane"), Some("dev")));
    assert_eq!(get(&s.front, "/", &[("stream-auth-type", "anonymous"), ("X-Stream-User-Id", "admin")]).0, 200);
    assert_eq!((last().user_id, last().principal.as_deref()), (None, Some("anonymous")), "cleared for anonymous");
    assert_eq!(get(&s.front, "/public", &[]).0, 200, "stackjwt off");
    let spaced = token(SECRET, "admin ", None);
    refused(
        &get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &spaced)]),
        5,
        "user id cannot be forwarded in a header unchanged",
    );

    // Stream's WebSocket connect: the token in the query, through a real upgrade.
    let (head, frame) = websocket(&s.front, &format!("/connect?api_key=k&authorization={valid}&stream-auth-type=jwt"));
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert_eq!(frame, b"\x81\x05hello");
    assert_eq!((last().upgrade.as_deref(), last().user_id.as_deref()), (Some("websocket"), Some("john")));
    let (head, _) = websocket(&s.front, &format!("/connect?authorization={tampered}&stream-auth-type=jwt"));
    assert!(head.starts_with("HTTP/1.1 401 "), "{head}");
    let plain = get(&s.front, &format!("/connect?authorization={valid}&stream-auth-type=jwt"), &[]);
    assert_eq!(plain.0, 401, "not an upgrade: the query is not read (stackjwt_query_tokens websocket)");
    eprintln!("WebSocket upgrade with the query token -> 101 and a frame; tampered -> 401");
    std::fs::remove_file(secret).unwrap();
}

#[test]
fn a_reload_reads_the_new_secret() {
    let Some((bin, module)) = module() else { return };
    let secret = secret_file("reload", SECRET);
    let mut s = site(&bin, &module, &secret, true);
    let (old, new) = (token(SECRET, "john", None), token(NEW_SECRET, "john", None));
    let check = |t: &str| get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", t)]).0;
    assert_eq!((check(&old), check(&new)), (200, 401));
    std::fs::write(&secret, NEW_SECRET).unwrap();
    let master = s.nginx.child.id().to_string();
    // NGINX starts the new workers before it tells the old ones to stop listening: for a moment
    // either generation may answer. The reload is done when the old workers have exited.
    let before = workers(s.nginx.child.id());
    assert!(!before.is_empty(), "no worker processes under the master");
    assert!(Command::new("kill").args(["-HUP", &master]).status().unwrap().success());
    let start = Instant::now();
    while before.iter().any(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
        assert!(start.elapsed() < Duration::from_secs(10), "the old workers did not exit after the reload");
        std::thread::sleep(Duration::from_millis(50));
    }
    for _ in 0..20 {
        assert_eq!((check(&new), check(&old)), (200, 401), "after the reload only the new secret signs");
    }
    // A secret that no longer loads: the reload is refused, the running configuration stays.
    std::fs::write(&secret, "short").unwrap();
    assert!(Command::new("kill").args(["-HUP", &master]).status().unwrap().success());
    let log = s.nginx.dir.join("error.log");
    let start = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("is shorter than 32 bytes") {
        assert!(start.elapsed() < Duration::from_secs(10), "no refusal in the log");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(check(&new), 200);
    assert!(s.nginx.child.try_wait().unwrap().is_none());
    // Stopped, the master takes its workers with it: none is left orphaned.
    let last = workers(s.nginx.child.id());
    assert!(!last.is_empty());
    drop(s);
    assert!(last.iter().all(|pid| !Path::new(&format!("/proc/{pid}")).exists()), "workers {last:?} outlived NGINX");
    std::fs::remove_file(secret).unwrap();
}

#[test]
fn nginx_t_says_what_is_wrong() {
    let Some((bin, module)) = module() else { return };
    let dir = std::env::temp_dir().join(format!("stackjwt-module-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good");
    std::fs::write(&good, SECRET).unwrap();
    let short = dir.join("short");
    std::fs::write(&short, "short\n").unwrap();
    let cases = [
        (format!("stackjwt_secret_file {}/missing;", dir.display()), "cannot read"),
        (format!("stackjwt_secret_file {};", short.display()), "is shorter than 32 bytes"),
        (format!("stackjwt_secret_file {}; stackjwt_alg rs256;", good.display()), "unknown algorithm \"rs256\""),
        (
            format!("stackjwt_secret_file {}; stackjwt_leeway soon;", good.display()),
            "\"stackjwt_leeway\" wants whole seconds",
        ),
        (format!("stackjwt_secret_file {}; stackjwt_require_exp yes;", good.display()), "wants on or off"),
        (
            format!("stackjwt_secret_file {}; stackjwt_query_tokens sometimes;", good.display()),
            "wants off, websocket or always",
        ),
        ("stackjwt on;".to_owned(), "needs \"stackjwt_secret_file\""),
        (format!("stackjwt_secret_file {0}; stackjwt_secret_file {0};", good.display()), "is duplicate"),
        (format!("stackjwt_secret_file {}; stackjwt_alg hs512; stackjwt_weak_secret on;", short.display()), ""),
        // Relative: from the configuration's directory, not from NGINX's working directory.
        ("stackjwt_secret_file good;".to_owned(), ""),
        (
            "stackjwt_secret_file missing;".to_owned(),
            &*Box::leak(format!("cannot read \"{}/missing\"", dir.display()).into_boxed_str()),
        ),
    ];
    for (directives, says) in cases {
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "load_module {};\nerror_log {}/error.log;\npid {}/nginx.pid;\nevents {{}}\nhttp {{ {directives}\n server {{ listen 127.0.0.1:{}; stackjwt on; }} }}\n",
                module.display(),
                dir.display(),
                dir.display(),
                free_port()
            ),
        )
        .unwrap();
        let out = Command::new(&bin).arg("-t").arg("-p").arg(&dir).arg("-c").arg(&conf).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if says.is_empty() {
            assert!(out.status.success(), "{directives}: {err}");
        } else {
            assert!(!out.status.success() && err.contains(says), "{directives}: wanted {says:?} in {err}");
            eprintln!("nginx -t: {}", err.lines().find(|l| l.contains("emerg")).unwrap_or(&err));
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// 10,000 hostile `Authorization` values (every token shape of `tests/data`, random bytes, 8 KiB
/// values), on keep-alive connections: no worker crashes, and a valid token still passes.
#[test]
fn hostile_values_never_crash_a_worker() {
    let Some((bin, module)) = module() else { return };
    let secret = secret_file("hostile", SECRET);
    let s = site(&bin, &module, &secret, true);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let mut values: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(&data).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // Every JWS-looking string in the vectors, as they are and cut short.
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')) {
            if word.matches('.').count() == 2 && word.len() > 10 {
                values.push(word.as_bytes().to_vec());
                values.push(word.as_bytes()[..word.len() / 2].to_vec());
            }
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid = token(SECRET, "john", None);
    while values.len() < 10_000 {
        let len = match values.len() % 4 {
            0 => 8 * 1024 - 100,
            _ => (next() % 600) as usize + 1,
        };
        let mut v: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        if values.len().is_multiple_of(3) {
            // A valid token with bytes changed.
            v = valid.as_bytes().to_vec();
            let i = (next() as usize) % v.len();
            v[i] ^= (next() % 255 + 1) as u8;
        }
        // What can stand in a header value: no CR, LF or NUL, no leading space.
        for b in &mut v {
            if matches!(*b, b'\r' | b'\n' | 0) {
                *b = b'x';
            }
        }
        if v.first() == Some(&b' ') || v.first() == Some(&b'\t') {
            v[0] = b'y';
        }
        if v != valid.as_bytes() {
            values.push(v);
        }
    }
    let mut statuses = std::collections::BTreeMap::new();
    for chunk in values.chunks(500) {
        let mut conn = TcpStream::connect(&s.front).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        for v in chunk {
            let mut req = b"GET / HTTP/1.1\r\nHost: chat\r\nstream-auth-type: jwt\r\nAuthorization: ".to_vec();
            req.extend_from_slice(v);
            req.extend_from_slice(b"\r\n\r\n");
            if conn.write_all(&req).is_err() {
                break;
            }
            let mut status = String::new();
            if reader.read_line(&mut status).unwrap_or(0) == 0 {
                break;
            }
            let code: u16 = status.split_whitespace().nth(1).unwrap_or("0").parse().unwrap_or(0);
            *statuses.entry(code).or_insert(0) += 1;
            let mut length = 0usize;
            let mut close = false;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(n) = lower.strip_prefix("content-length:") {
                    length = n.trim().parse().unwrap();
                }
                close |= lower.starts_with("connection: close");
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            if close {
                break;
            }
        }
    }
    eprintln!("answers to {} hostile values, by status: {statuses:?}", values.len());
    assert!(statuses.keys().all(|&c| c == 401 || c == 400), "{statuses:?}");
    let log = std::fs::read_to_string(s.nginx.dir.join("error.log")).unwrap();
    assert!(!log.contains("exited on signal"), "a worker crashed:\n{log}");
    assert_eq!(get(&s.front, "/", &[("stream-auth-type", "jwt"), ("Authorization", &valid)]).0, 200);
    std::fs::remove_file(secret).unwrap();
}

/// The README's configuration, as it stands there: every location answers, and a client's
/// own identity headers never reach the app (set or cleared at server level, inherited by
/// every location).
#[test]
fn the_readmes_configuration_passes_no_identity_of_the_clients() {
    let Some((bin, module)) = module() else { return };
    let secret = secret_file("readme", SECRET);
    let (upstream, seen) = upstream();
    let port = free_port();
    let conf = fill(
        &readme_nginx("stackjwt on;"),
        &[
            ("listen 8000;", &format!("listen 127.0.0.1:{port};")),
            ("server 127.0.0.1:3000;", &format!("server {upstream};")),
            ("/run/secrets/stream-api-secret", secret.to_str().unwrap()),
        ],
    );
    let load =
        fill(&readme_nginx("load_module"), &[("modules/libngx_http_stackjwt_module.so", module.to_str().unwrap())]);
    let mut nginx = start_nginx(&bin, &load, false, &conf);
    let front = format!("127.0.0.1:{port}");
    wait_for(&front, &mut nginx);
    let spoof = [
        ("X-Stream-User-Id", "admin"),
        ("X-Stream-Principal", "server"),
        ("X-Stream-Api-Key", "k2"),
        ("X-Stream-User-Id-Encoding", "percent"),
    ];
    let valid = token(SECRET, "john", Some(now() + 600));
    let with = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
        extra.iter().chain(&spoof).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    for (path, headers, principal, user) in [
        ("/channels", with(&[("stream-auth-type", "jwt"), ("Authorization", &valid)]), Some("user"), Some("john")),
        ("/channels", with(&[("stream-auth-type", "anonymous")]), Some("anonymous"), None),
        ("/public/x", with(&[]), None, None),
        ("/public/x", with(&[("stream-auth-type", "jwt"), ("Authorization", &valid)]), None, None),
    ] {
        let before = seen.lock().unwrap().len();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, _, body) = get(&front, path, &headers);
        assert_eq!((status, body.as_str()), (200, "upstream"), "{path}");
        let got = seen.lock().unwrap()[before].clone();
        assert_eq!((got.principal.as_deref(), got.user_id.as_deref()), (principal, user), "{path}: {got:?}");
        assert_eq!((got.api_key.as_deref(), got.encoding.as_deref()), (None, None), "{path}: {got:?}");
        eprintln!("{path:<10} -> upstream saw {:?} {:?}", got.principal, got.user_id);
    }
    let (status, _, _) = get(&front, "/channels", &[("stream-auth-type", "jwt"), ("Authorization", "bad")]);
    assert_eq!(status, 401);
    std::fs::remove_file(secret).unwrap();
}
