//! A Stream-style auth gateway on 127.0.0.1, with `std::net` only: each request is answered
//! with the caller's principal (200) or the error body Stream's API would send (401/500).
//! `POST /webhook` checks `X-Signature` over the raw body.
//!
//! ```sh
//! STREAM_API_SECRET=... cargo run --example gateway -- 8080
//! curl -H 'stream-auth-type: jwt' -H "Authorization: $TOKEN" http://127.0.0.1:8080/
//! ```

// Example code: the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, dead_code)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stackjwt::{Algorithm, Error, Key, Principal, Verifier};

/// Largest request head and webhook body read.
const MAX_HEAD: usize = 8 * 1024;
const MAX_BODY: usize = 64 * 1024;

/// Serves connections from `listener` one at a time; stops after `max_requests` when given.
pub fn serve(listener: &TcpListener, verifier: &Verifier<'_>, webhook_key: &Key, max_requests: Option<usize>) {
    for (served, stream) in listener.incoming().enumerate() {
        if let Ok(stream) = stream {
            let _ = handle(stream, verifier, webhook_key);
        }
        if max_requests.is_some_and(|max| served + 1 >= max) {
            return;
        }
    }
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.take((MAX_HEAD + MAX_BODY) as u64));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    let mut head = line.len();
    loop {
        let mut h = String::new();
        head += reader.read_line(&mut h).ok()?;
        if head > MAX_HEAD {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let mut req = Request { method, path, headers, body: Vec::new() };
    let len: usize = req.header("content-length").map_or(Some(0), |v| v.parse().ok())?;
    if len > MAX_BODY {
        return None;
    }
    req.body.resize(len, 0);
    reader.read_exact(&mut req.body).ok()?;
    Some(req)
}

fn handle(mut stream: TcpStream, verifier: &Verifier<'_>, webhook_key: &Key) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let Some(req) = read_request(&stream) else {
        return respond(&mut stream, 400, r#"{"code":4,"message":"bad request","StatusCode":400}"#);
    };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let result = if req.method == "POST" && req.path == "/webhook" {
        let sig = req.header("x-signature").unwrap_or("");
        webhook_key.verify_webhook(&req.body, sig).map(|()| serde_json::json!({"webhook": "verified"}))
    } else {
        let mut scratch = [0u8; stackjwt::VERIFY_SCRATCH_LEN];
        verifier.authenticate(req.header("stream-auth-type"), req.header("authorization"), now, &mut scratch).map(|p| {
            match p {
                Principal::User(id) => serde_json::json!({"principal": "user", "user_id": id}),
                Principal::Dev(id) => serde_json::json!({"principal": "dev", "user_id": id}),
                Principal::Server => serde_json::json!({"principal": "server"}),
                Principal::Anonymous => serde_json::json!({"principal": "anonymous"}),
            }
        })
    };
    match result {
        Ok(body) => respond(&mut stream, 200, &body.to_string()),
        Err(e) => {
            let mut out = [0u8; 256];
            respond(&mut stream, e.http_status(), e.stream_json(&mut out).unwrap_or("{}"))
        }
    }
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        _ => "Internal Server Error",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn main() -> Result<(), Error> {
    // No default: a gateway that starts with a secret nobody chose accepts tokens anybody mints.
    let Ok(secret) = std::env::var("STREAM_API_SECRET") else {
        eprintln!("error: set STREAM_API_SECRET to your app's API secret");
        std::process::exit(2);
    };
    let key = Key::new(Algorithm::Hs256, secret.as_bytes())?;
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let max_requests = std::env::args().nth(2).and_then(|n| n.parse().ok());
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
    println!("gateway on http://{}", listener.local_addr().expect("address"));
    serve(&listener, &Verifier::new(&key).leeway(30), &key, max_requests);
    Ok(())
}
