//! A real NGINX for tests, and an upstream behind it that records what reaches it. Shared by
//! the forward-auth test (`axum/tests/nginx.rs`) and the module's (`nginx/tests/module.rs`).

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the upstream received: its path and the identity headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub user_id: Option<String>,
    pub principal: Option<String>,
    /// `X-Stream-Api-Key`.
    pub api_key: Option<String>,
    /// `X-Stream-User-Id-Encoding`.
    pub encoding: Option<String>,
    /// `X-Stream-Exp`, where the configuration sets it.
    pub exp: Option<String>,
    /// The `Upgrade` header, when the request asked to switch protocols.
    pub upgrade: Option<String>,
}

/// An upstream that answers 200 to anything and records what it saw.
pub fn upstream() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let (mut user_id, mut principal, mut exp, mut upgrade) = (None, None, None, None);
            let (mut api_key, mut encoding) = (None, None);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    let v = Some(v.trim().to_owned());
                    match k.to_ascii_lowercase().as_str() {
                        "x-stream-user-id" => user_id = v,
                        "x-stream-principal" => principal = v,
                        "x-stream-exp" => exp = v,
                        "x-stream-api-key" => api_key = v,
                        "x-stream-user-id-encoding" => encoding = v,
                        "upgrade" => upgrade = v,
                        _ => {}
                    }
                }
            }
            let switch = upgrade.as_deref().is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
            log.lock().unwrap().push(Seen { path, user_id, principal, api_key, encoding, exp, upgrade });
            if switch {
                // A WebSocket server's answer (the accept key is not checked by this client),
                // then one frame's worth of bytes on the switched connection.
                let _ = stream.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello",
                );
                continue;
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nupstream");
        }
    });
    (addr, seen)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct Nginx {
    pub child: Child,
    pub dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM first: a master stops its workers before it exits (SIGKILL would leave them
        // running, orphaned, with their listening sockets).
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts `bin` on a configuration of its own: `main` at the top (`load_module`), one worker
/// (under a master process when `master`), and `sites` in the http block.
pub fn start_nginx(bin: &Path, main: &str, master: bool, sites: &str) -> Nginx {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("stackjwt-nginx-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.display();
    let conf = format!(
        "{main}\ndaemon off;\nmaster_process {};\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n    access_log {d}/access.log;\n    client_body_temp_path {d}/body;\n    proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n{sites}}}\n",
        if master { "on" } else { "off" }
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(&dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Nginx { child, dir }
}

pub fn wait_for(addr: &str, nginx: &mut Nginx) {
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if let Some(status) = nginx.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default();
            panic!("nginx exited with {status}:\n{log}");
        }
        assert!(start.elapsed() < Duration::from_secs(10), "nginx did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// Sends a WebSocket upgrade request for `path` and returns the response head and up to 7
/// bytes that follow it.
pub fn websocket(addr: &str, path: &str) -> (String, Vec<u8>) {
    use std::io::Read as _;
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    let end = loop {
        if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the response head: {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let mut rest = bytes[end..].to_vec();
    if head.starts_with("HTTP/1.1 101 ") {
        while rest.len() < 7 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
            }
        }
    }
    (head, rest)
}

/// The README's `nginx` code block that contains `marker` (there must be exactly one).
pub fn readme_nginx(marker: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```nginx\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block))
        .filter(|block| block.contains(marker))
        .collect();
    assert_eq!(blocks.len(), 1, "one README nginx block with {marker:?}");
    blocks[0].to_owned()
}

/// `text` with each `(from, to)` replaced; each `from` must occur (the README still says it).
pub fn fill(text: &str, replacements: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in replacements {
        assert!(out.contains(from), "{from:?} is no longer in the README's configuration:\n{text}");
        out = out.replace(from, to);
    }
    out
}
