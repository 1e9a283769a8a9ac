//! Shared by the tests that run `stackjwt-authz` as a process: start it, talk raw HTTP/1.1.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, missing_docs)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stackjwt::{Algorithm, Key};

pub mod fleet;

pub const SECRET: &str = "a test secret of thirty-two bytes!";

pub fn key() -> Key {
    Key::new(Algorithm::Hs256, SECRET.as_bytes()).unwrap()
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

pub fn user_token(id: &str, exp: Option<u64>) -> String {
    let mut buf = [0u8; 512];
    key().user_token(id, exp, None, &mut buf).unwrap().to_owned()
}

/// A running `stackjwt-authz`, killed when dropped.
pub struct Authz {
    pub child: Child,
    pub addr: String,
    pub metrics: Option<String>,
    pub admin: Option<String>,
}

impl Authz {
    /// Starts the binary with `args` (the secret in the environment) on a free port, and
    /// waits for its address line(s).
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, &[("STREAM_API_SECRET", SECRET)])
    }

    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        #[allow(clippy::option_env_unwrap)] // a test that starts the server needs --features server
        let bin = option_env!("CARGO_BIN_EXE_stackjwt-authz").expect("stackjwt-authz is built with --features server");
        let mut cmd = Command::new(bin);
        cmd.args(["--listen", "127.0.0.1:0"]).args(args).env_remove("STREAM_API_SECRET").env("RUST_LOG", "warn");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let addr = first.rsplit("http://").next().unwrap().to_owned();
        let mut next = || lines.next().unwrap().unwrap().rsplit("http://").next().unwrap().to_owned();
        let metrics = args.contains(&"--metrics").then(|| next().trim_end_matches("/metrics").to_owned());
        let admin = args.contains(&"--admin").then(|| next().trim_end_matches("/revoke").to_owned());
        // Keep draining standard output so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, addr, metrics, admin }
    }

    pub fn stderr(&mut self) -> ChildStderr {
        self.child.stderr.take().unwrap()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        signal(self.child.id(), "TERM");
    }

    /// Sends SIGHUP (reload).
    pub fn hangup(&self) {
        signal(self.child.id(), "HUP");
    }
}

/// Sends `SIG<name>` to `pid`.
pub fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill -{name} {pid}");
}

impl Drop for Authz {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

/// Sends raw request bytes on a new connection (`Connection: close` is up to the caller) and
/// reads the whole response.
pub fn raw(addr: &str, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes).unwrap();
    parse(&bytes)
}

pub fn parse(bytes: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    Reply { status, headers, body: body.to_owned() }
}

/// `GET path` with the given headers, `Connection: close`.
pub fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: auth\r\nConnection: close\r\n");
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    raw(addr, (req + "\r\n").as_bytes())
}

pub fn jwt(addr: &str, token: &str) -> Reply {
    get(addr, "/", &[("stream-auth-type", "jwt"), ("Authorization", token)])
}
