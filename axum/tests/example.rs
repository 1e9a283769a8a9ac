//! The gateway example's routes, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
#![allow(clippy::std_instead_of_core, clippy::arithmetic_side_effects, missing_docs)]

#[path = "../examples/gateway.rs"]
#[allow(unreachable_pub, dead_code)]
mod gateway;

mod common;

use common::{get, jwt, key, now, raw, user_token};
use serde_json::json;
use stackjwt::dev_token;

#[test]
fn the_gateway_example_checks_tokens_and_webhooks() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    runtime.spawn(async move { axum::serve(listener, gateway::app(key())).await.unwrap() });

    let me = |headers: &[(&str, &str)]| {
        let r = get(&addr, "/me", headers);
        (r.status, r.json())
    };
    let user = user_token("john", Some(now() + 600));
    assert_eq!(
        me(&[("stream-auth-type", "jwt"), ("Authorization", &user)]),
        (200, json!({"principal": "user", "user_id": "john"}))
    );
    let mut buf = [0u8; 256];
    let server = key().server_token(&mut buf).unwrap().to_owned();
    assert_eq!(jwt(&addr, &server).status, 404, "only /me and /webhook are routed");
    assert_eq!(me(&[("stream-auth-type", "jwt"), ("Authorization", &server)]), (200, json!({"principal": "server"})));
    assert_eq!(me(&[("stream-auth-type", "anonymous")]), (200, json!({"principal": "anonymous"})));
    let expired = user_token("john", Some(now() - 3600));
    let (status, err) = me(&[("stream-auth-type", "jwt"), ("Authorization", &expired)]);
    assert_eq!((status, err), (401, json!({"code": 40, "message": "token expired", "StatusCode": 401})));
    let dev = dev_token("john", &mut buf).unwrap().to_owned();
    assert_eq!(
        me(&[("stream-auth-type", "jwt"), ("Authorization", &dev)]).1["message"],
        "development tokens not allowed"
    );

    let body = r#"{"type":"message.new"}"#;
    let sig = key().webhook_signature(body.as_bytes(), &mut [0u8; 64]).unwrap().to_owned();
    let webhook = |sig: &str| {
        let req = format!(
            "POST /webhook HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Signature: {sig}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let r = raw(&addr, req.as_bytes());
        (r.status, r.json())
    };
    assert_eq!(webhook(&sig), (200, json!({"webhook": "verified"})));
    let (status, err) = webhook(&sig.replace('a', "b"));
    assert_eq!((status, &err["code"]), (401, &json!(43)));
}
