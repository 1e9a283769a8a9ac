//! The forward-auth server behind `stackjwt-authz`: every request, any method and path, is one
//! check of the original request's credentials.
//!
//! NGINX (`auth_request`), Envoy (`ext_authz`, HTTP mode), Traefik (`ForwardAuth`) and Caddy
//! (`forward_auth`) send the original request's headers here and let the request through on a
//! 2xx. Credentials come from `Authorization` + `stream-auth-type`, else from the query of the
//! forwarded URI (`X-Forwarded-Uri` or `X-Original-URI`, which must agree when both come; or
//! the one header [`Authz::forwarded_uri_header`] names), else from this request's own query
//! (Envoy appends the original path to the check request's). Allowed: `200`, empty body,
//! `X-Stream-Principal: user|server|dev|anonymous` and `X-Stream-User-Id` (empty for server
//! and anonymous callers; only ids that every receiver reads back unchanged, or
//! percent-encoded with `X-Stream-User-Id-Encoding: percent`). Refused: Stream's JSON error
//! body and status, and the same body in `X-Stream-Error` for proxies that answer the client
//! themselves.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::credentials::Credentials;
use crate::forward::{FORWARDED_URI_HEADERS, USER_ID_ENCODING_HEADER, UserIdEncoding, forwarded_uri, user_id_header};
use crate::metrics::Metrics;
use crate::{Caller, Keys, Refusal, StreamAuth};

/// The header naming the kind of caller on an allowed request.
pub const PRINCIPAL_HEADER: &str = "x-stream-principal";
/// The header carrying the user id of an allowed user (or dev token); empty for server and
/// anonymous callers.
pub const USER_ID_HEADER: &str = "x-stream-user-id";
/// The header carrying Stream's JSON error body on a refusal, for proxies that answer the
/// client themselves (NGINX's `auth_request` drops the check's body; `auth_request_set` can
/// copy this header into its own 401).
pub const ERROR_HEADER: &str = "x-stream-error";

/// Connection limits of the forward-auth server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a request's headers (slowloris connections are closed when
    /// it runs out); also how long an idle keep-alive connection is kept.
    pub header_timeout: Duration,
    /// Largest request head, in bytes (larger heads get `431`).
    pub max_header_bytes: usize,
    /// Connections served at once; a connection past the limit is answered `503` and
    /// closed (it would otherwise wait in the kernel's backlog, where clients retry for
    /// seconds).
    pub max_connections: usize,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The forward-auth service: a [`StreamAuth`], how it answers, and its counters.
#[derive(Debug)]
pub struct Authz<K: Keys = stackjwt::Key> {
    auth: StreamAuth<K>,
    user_id_encoding: UserIdEncoding,
    forwarded_uri_headers: Vec<HeaderName>,
    metrics: Metrics,
}

impl<K: Keys> Authz<K> {
    /// A forward-auth service checking with `auth`: user ids forwarded as they are (others
    /// refused), credentials read from either forwarded-URI header (which must agree).
    #[must_use]
    pub fn new(auth: StreamAuth<K>) -> Self {
        Self {
            auth,
            user_id_encoding: UserIdEncoding::default(),
            forwarded_uri_headers: FORWARDED_URI_HEADERS.map(HeaderName::from_static).to_vec(),
            metrics: Metrics::default(),
        }
    }

    /// How `X-Stream-User-Id` carries the user id ([`UserIdEncoding`]; default `Plain`).
    #[must_use]
    pub fn user_id_encoding(mut self, encoding: UserIdEncoding) -> Self {
        self.user_id_encoding = encoding;
        self
    }

    /// Reads the forwarded URI from `name` alone (the header the proxy in front sets; a
    /// client's own in the others is ignored), instead of from either of
    /// [`FORWARDED_URI_HEADERS`].
    #[must_use]
    pub fn forwarded_uri_header(mut self, name: HeaderName) -> Self {
        self.forwarded_uri_headers = vec![name];
        self
    }

    /// The counters, for the metrics endpoint.
    #[must_use]
    pub const fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Checks one forwarded request's credentials: the credential headers, else the query of
    /// the forwarded URI, else of `uri`.
    ///
    /// # Errors
    /// Every [`Refusal`].
    pub fn check(&self, headers: &HeaderMap, uri: &http::Uri) -> Result<Caller, Refusal> {
        let mut credentials = Credentials::from_headers(headers)?;
        if credentials.is_empty() {
            credentials = match forwarded_uri(headers, &self.forwarded_uri_headers)? {
                Some(original) => Credentials::from_uri(original)?,
                None => Credentials::from_query(uri.query().unwrap_or(""))?,
            };
        }
        self.auth.check(&credentials)
    }

    /// The answer to one forwarded request, counted in the metrics.
    #[must_use]
    pub fn respond(&self, headers: &HeaderMap, uri: &http::Uri) -> Response<Full<Bytes>> {
        let start = Instant::now();
        let outcome = self.check(headers, uri).and_then(|principal| {
            // A verified user id is any JSON string; one that a receiver would read as
            // another (`"admin "`) is refused, or encoded when the operator chose so.
            let user_id = principal.user_id().map(|id| user_id_header(id, self.user_id_encoding)).transpose();
            user_id.map(|id| (principal, id))
        });
        self.metrics.record(outcome.as_ref().map(|(p, _)| p), start.elapsed());
        match outcome {
            Ok((principal, user_id)) => {
                let mut response = Response::new(Full::new(Bytes::new()));
                let h = response.headers_mut();
                h.insert(PRINCIPAL_HEADER, HeaderValue::from_static(principal.kind()));
                // Always sent, empty without a user: proxies that copy it only when present
                // (Traefik, Caddy) then replace a client's own X-Stream-User-Id too.
                h.insert(USER_ID_HEADER, user_id.unwrap_or_else(|| HeaderValue::from_static("")));
                if self.user_id_encoding != UserIdEncoding::Plain {
                    h.insert(USER_ID_ENCODING_HEADER, HeaderValue::from_static(self.user_id_encoding.name()));
                }
                response
            }
            Err(refusal) => {
                tracing::debug!(status = refusal.status().as_u16(), code = refusal.stream_code(), %refusal, "refused");
                let body = refusal.stream_json();
                let mut response = Response::new(Full::new(Bytes::from(body.clone())));
                *response.status_mut() = refusal.status();
                let h = response.headers_mut();
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                // Stream's bodies are printable ASCII (fixed messages and numbers).
                if let Ok(value) = HeaderValue::try_from(body) {
                    h.insert(ERROR_HEADER, value);
                }
                response
            }
        }
    }
}

/// Serves forward-auth checks on `listener` until `shutdown` completes, then lets in-flight
/// requests finish (up to [`Limits::shutdown_grace`]).
///
/// # Errors
/// None in practice: failed accepts (out of file descriptors, say) are logged and retried.
pub async fn serve<K: Keys>(
    listener: TcpListener,
    authz: Arc<Authz<K>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let respond = move |request: Request<Incoming>| {
        let response = authz.respond(request.headers(), request.uri());
        async move { Ok::<_, Infallible>(response) }
    };
    serve_with(listener, limits, shutdown, respond).await
}

/// Serves the counters of `authz` in Prometheus' text format, on any path, until `shutdown`.
///
/// # Errors
/// None in practice, as [`serve`].
pub async fn serve_metrics<K: Keys>(
    listener: TcpListener,
    authz: Arc<Authz<K>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let respond = move |_request: Request<Incoming>| {
        let mut response = Response::new(Full::new(Bytes::from(authz.metrics().render())));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
        async move { Ok::<_, Infallible>(response) }
    };
    serve_with(listener, limits, shutdown, respond).await
}

async fn serve_with<F, Fut>(
    listener: TcpListener,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    respond: F,
) -> io::Result<()>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Connections are always accepted, so the kernel's backlog never overflows into
        // clients retrying for seconds; past the limit they get a 503 at once.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tokio::spawn(refuse_busy(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(TokioIo::new(stream), service_fn(respond.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!("connections still open after the grace period"),
    }
    Ok(())
}

/// Answers a connection over the limit with `503` and closes it. The request is drained
/// (briefly) after the answer, so closing does not reset the connection before the client
/// reads it.
async fn refuse_busy(mut stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 68\r\n\r\n{\"code\":-1,\"message\":\"too many connections, retry\",\"StatusCode\":503}";
    if stream.write_all(BUSY).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 4096];
    let drain = async {
        let mut left = 64 * 1024usize;
        while let Ok(n @ 1..) = stream.read(&mut sink).await {
            left = left.saturating_sub(n);
            if left == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}
