//! Drives `examples/gateway.rs` over real HTTP on 127.0.0.1, with a bounded number of requests.

// Tests: helpers fail loudly, and the decoder-only restriction lints do not apply.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
#![allow(clippy::std_instead_of_core, clippy::cast_possible_truncation)]

#[path = "../examples/gateway.rs"]
#[allow(unreachable_pub)]
mod gateway;

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stackjwt::{Algorithm, Key, Verifier, dev_token};

fn request(addr: &str, raw: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status: u16 = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap())
}

fn get(addr: &str, auth_type: Option<&str>, token: Option<&str>) -> (u16, Value) {
    let mut raw = "GET /channels HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_owned();
    if let Some(t) = auth_type {
        raw += &format!("stream-auth-type: {t}\r\n");
    }
    if let Some(t) = token {
        raw += &format!("Authorization: {t}\r\n");
    }
    request(addr, &(raw + "\r\n"))
}

#[test]
fn gateway_answers_with_principals_and_stream_errors() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let key = Key::new(Algorithm::Hs256, &[0x42; 32]).unwrap();
    let mut buf = [0u8; 256];
    let user = key.user_token("john", Some(now + 3600), Some(now), &mut buf).unwrap().to_owned();
    let guest = key.user_token("guest-1f3a", Some(now + 600), Some(now), &mut buf).unwrap().to_owned();
    let server = key.server_token(&mut buf).unwrap().to_owned();
    let expired = key.user_token("john", Some(now - 3600), Some(now - 7200), &mut buf).unwrap().to_owned();
    let dev = dev_token("john", &mut buf).unwrap().to_owned();
    let body = r#"{"type":"message.new"}"#;
    let sig = key.webhook_signature(body.as_bytes(), &mut [0u8; 64]).unwrap().to_owned();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    const REQUESTS: usize = 11;
    let server_key = key.clone();
    let server_thread = std::thread::spawn(move || {
        let v = Verifier::new(&server_key).leeway(30);
        gateway::serve(&listener, &v, &server_key, Some(REQUESTS));
    });

    let ok = |principal: &str| (200, serde_json::json!({"principal": principal}));
    assert_eq!(
        get(&addr, Some("jwt"), Some(&user)),
        (200, serde_json::json!({"principal": "user", "user_id": "john"}))
    );
    assert_eq!(get(&addr, Some("jwt"), Some(&guest)).1["user_id"], "guest-1f3a");
    assert_eq!(get(&addr, Some("jwt"), Some(&server)), ok("server"));
    assert_eq!(get(&addr, Some("anonymous"), None), ok("anonymous"));
    let (status, err) = get(&addr, Some("jwt"), Some(&expired));
    assert_eq!((status, &err["code"], &err["StatusCode"]), (401, &Value::from(40), &Value::from(401)));
    let (status, err) = get(&addr, Some("jwt"), Some(&dev));
    assert_eq!((status, err["message"].as_str()), (401, Some("development tokens not allowed")));
    let (status, err) = get(&addr, Some("jwt"), Some(&format!("Bearer {user}")));
    assert_eq!((status, &err["code"]), (401, &Value::from(5)));
    assert_eq!(get(&addr, Some("jwt"), None).1["message"], "missing token");
    assert_eq!(get(&addr, Some("anonymous"), Some(&user)).1["message"], "token given for anonymous auth");

    let webhook = |sig: &str| {
        request(
            &addr,
            &format!("POST /webhook HTTP/1.1\r\nX-Signature: {sig}\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
        )
    };
    assert_eq!(webhook(&sig), (200, serde_json::json!({"webhook": "verified"})));
    let (status, err) = webhook(&sig.replace('a', "b"));
    assert_eq!((status, &err["code"]), (401, &Value::from(43)));
    server_thread.join().unwrap();
}
