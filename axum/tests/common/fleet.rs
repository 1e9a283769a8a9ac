//! A fleet's parts: config files of two apps, a `redis-server` of one test, the admin API.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stackjwt::{Algorithm, Key};

use super::{Reply, get, raw};

pub const SECRET_A: &str = "secret A of app k1, 32 bytes or more";
pub const SECRET_B: &str = "secret B of app k1, its replacement";
pub const SECRET_2: &str = "the secret of app k2, 32 bytes long!";

pub fn key(secret: &str) -> Key {
    Key::new(Algorithm::Hs256, secret.as_bytes()).unwrap()
}

pub fn user(secret: &str, id: &str, iat: Option<u64>) -> String {
    key(secret).user_token(id, None, iat, &mut [0u8; 512]).unwrap().to_owned()
}

pub fn server(secret: &str, iat: Option<u64>) -> String {
    let mut buf = [0u8; 512];
    match iat {
        None => key(secret).server_token(&mut buf).unwrap().to_owned(),
        Some(iat) => key(secret).server_token_with_iat(iat, &mut buf).unwrap().to_owned(),
    }
}

/// A check of `token` as a request for `api_key` (in the forwarded URI), as NGINX sends it.
pub fn check(addr: &str, api_key: &str, token: &str) -> Reply {
    let uri = format!("/chat?api_key={api_key}");
    get(addr, "/", &[("X-Original-URI", &uri), ("stream-auth-type", "jwt"), ("Authorization", token)])
}

pub fn refused(r: &Reply, status: u16, message: &str) -> bool {
    r.status == status && r.json()["message"] == message
}

/// Polls `f` every 10 ms until it holds or `within` passes; returns the time it took.
pub fn eventually(within: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < within, "not within {within:?}: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
    start.elapsed()
}

/// A directory of its own for one test, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("stackjwt-fleet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config file of two apps (k1: `SECRET_A`, k2: `SECRET_2`), with `extra` at its top.
pub fn two_apps(dir: &Dir, extra: &str) -> String {
    let (a, b) = (dir.write("k1", &format!("{SECRET_A}\n")), dir.write("k2", SECRET_2));
    dir.write(
        "stackjwt-authz.toml",
        &format!(
            "{extra}\n[[app]]\napi_key = \"k1\"\nsecret_file = \"{a}\"\n\n[[app]]\napi_key = \"k2\"\nsecret_file = \"{b}\"\n"
        ),
    )
}

pub fn redis_section(redis: &Redis, extra: &str) -> String {
    format!("[redis]\nurl = \"redis://127.0.0.1:{}/0\"\n{extra}\n", redis.port)
}

/// A `redis-server` of one test, on a free port, killed when dropped.
pub struct Redis {
    pub child: Child,
    pub port: u16,
}

impl Redis {
    /// Starts one, or says why not (`None`: skip the test).
    pub fn start() -> Option<Self> {
        let found =
            Command::new("redis-server").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("STACKJWT_REQUIRE_REDIS").as_deref() != Ok("1"),
                "redis-server is not installed and STACKJWT_REQUIRE_REDIS=1"
            );
            eprintln!(
                "skipped: redis-server is not installed (apt-get install redis-server); set STACKJWT_REQUIRE_REDIS=1 to fail instead"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        Some(Self::on(port))
    }

    pub fn on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let redis = Self { child, port };
        eventually(Duration::from_secs(10), "redis-server answers", || {
            redis.try_cli(&["PING"]).as_deref() == Some("PONG")
        });
        redis
    }

    pub fn try_cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli").args(["-p", &self.port.to_string()]).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|| panic!("redis-cli {args:?} failed"))
    }

    /// Kills it and starts a new, empty one on the same port.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let fresh = Self::on(self.port);
        *self = fresh;
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // Continued first, in case a test stopped it (and it may be gone).
        let _ = Command::new("kill").args(["-CONT", &self.child.id().to_string()]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `POST /revoke?api_key=K` on an admin listener, with `token` as the caller's.
pub fn revoke(admin: &str, api_key: &str, token: &str, body: &str) -> Reply {
    let request = format!(
        "POST /revoke?api_key={api_key} HTTP/1.1\r\nHost: admin\r\nConnection: close\r\nstream-auth-type: jwt\r\n\
         Authorization: {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw(admin, request.as_bytes())
}
