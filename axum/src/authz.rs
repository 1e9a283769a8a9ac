//! The forward-auth server behind `stackjwt-authz`: every request, any method and path, is one
//! check of the original request's credentials.
//!
//! NGINX (`auth_request`), Envoy (`ext_authz`, HTTP mode), Traefik (`ForwardAuth`) and Caddy
//! (`forward_auth`) send the original request's headers here and let the request through on a
//! 2xx. Credentials come from `Authorization` + `stream-auth-type`, else (unless
//! [`Settings::query_tokens`] turns it off) from the query of the forwarded URI
//! (`X-Forwarded-Uri` or `X-Original-URI`, which must agree when both come, and hold no `#`;
//! or the one header [`Settings::forwarded_uri_header`] names), else from this request's own
//! query (Envoy appends the original path to the check request's). Allowed: `200`, empty body,
//! `X-Stream-Api-Key` (the app whose key verified the token), `X-Stream-Principal:
//! user|server|dev|anonymous`, `X-Stream-User-Id` (empty for server and anonymous callers;
//! only ids that every receiver reads back unchanged, or percent-encoded) and
//! `X-Stream-User-Id-Encoding: plain|percent`. Refused: Stream's JSON error body and status,
//! and the same body in `X-Stream-Error` for proxies that answer the client themselves.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::credentials::{Credentials, api_key};
use crate::forward::{FORWARDED_URI_HEADERS, USER_ID_ENCODING_HEADER, UserIdEncoding, forwarded_uri, user_id_header};
use crate::metrics::{Counters, DEFAULT_APP, Event, Gauge, Metrics};
use crate::revocations::RevocationMirror;
use crate::{Caller, KeyPair, Refusal, StreamAuth};

/// The header naming the kind of caller on an allowed request.
pub const PRINCIPAL_HEADER: &str = "x-stream-principal";
/// The header naming the app whose key verified an allowed request's token (its `api_key`;
/// empty for a server of one app started without one). An upstream that serves one app
/// compares it with its own `api_key`: a token of another app of the same server is valid
/// for that other app.
pub const API_KEY_HEADER: &str = "x-stream-api-key";
/// A request header a proxy may set on the check, per route: the `api_key`s allowed there
/// (comma-separated). It narrows [`Settings::allowed_api_keys`], never widens it, so a
/// client's own copy can only refuse its own request.
pub const ALLOWED_API_KEYS_HEADER: &str = "x-stream-allowed-api-keys";
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

/// What to answer user and server tokens while revocations cannot be trusted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unavailable {
    /// 503 with Stream's JSON body (fail closed; anonymous callers are still served).
    #[default]
    Deny,
    /// Serve from the last mirror, counted in `stackjwt_authz_served_stale_total`.
    Allow,
}

/// One app: the `api_key` its clients send (none: whatever they send, for a server of one app
/// started without a name for it) and how its tokens are checked.
#[derive(Debug)]
struct App {
    api_key: Option<String>,
    /// `api_key` as the `X-Stream-Api-Key` value, made once (a clone per answer is a
    /// reference count, not a copy).
    api_key_value: HeaderValue,
    auth: StreamAuth<KeyPair>,
    counters: Arc<Counters>,
    mirror: Arc<RevocationMirror>,
}

impl App {
    fn label(&self) -> &str {
        self.api_key.as_deref().unwrap_or(DEFAULT_APP)
    }
}

/// A forward-auth configuration: the apps and how answers are made. [`Authz`] serves one and
/// [`reload`](Authz::reload)s the next without dropping a request.
#[derive(Debug)]
pub struct Settings {
    apps: Vec<(Option<String>, StreamAuth<KeyPair>)>,
    user_id_encoding: UserIdEncoding,
    forwarded_uri_headers: Vec<HeaderName>,
    unavailable: Unavailable,
    allowed_api_keys: Option<Vec<String>>,
    query_tokens: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            apps: Vec::new(),
            user_id_encoding: UserIdEncoding::default(),
            forwarded_uri_headers: FORWARDED_URI_HEADERS.map(HeaderName::from_static).to_vec(),
            unavailable: Unavailable::default(),
            allowed_api_keys: None,
            query_tokens: true,
        }
    }
}

impl Settings {
    /// Adds the one app, whose clients may send any `api_key` (or none), checked with `auth`
    /// (for a server of one app that does not name it).
    #[must_use]
    pub fn any_app(mut self, auth: StreamAuth<KeyPair>) -> Self {
        self.apps.push((None, auth));
        self
    }

    /// Adds the app whose clients send `api_key`. With one app, a request without `api_key`
    /// is that app's; with several, it is refused ([`Refusal::UnknownApiKey`]), as is an
    /// `api_key` that no app has.
    #[must_use]
    pub fn app(mut self, api_key: &str, auth: StreamAuth<KeyPair>) -> Self {
        self.apps.push((Some(api_key.to_owned()), auth));
        self
    }

    /// How `X-Stream-User-Id` carries the user id ([`UserIdEncoding`]; default `Plain`).
    #[must_use]
    pub const fn user_id_encoding(mut self, encoding: UserIdEncoding) -> Self {
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

    /// What user and server tokens get while revocations are stale (default
    /// [`Unavailable::Deny`]).
    #[must_use]
    pub const fn unavailable(mut self, unavailable: Unavailable) -> Self {
        self.unavailable = unavailable;
        self
    }

    /// Serves only the apps with these `api_key`s: a request for another configured app is
    /// refused ([`Refusal::ApiKeyNotAllowed`]), so that a deployment in front of one app's
    /// upstream never lets another app's token through. Default: every configured app.
    #[must_use]
    pub fn allowed_api_keys(mut self, api_keys: Vec<String>) -> Self {
        self.allowed_api_keys = Some(api_keys);
        self
    }

    /// Whether credentials may come from the query of the forwarded URI (or of the check
    /// request) when the headers carry none (default `true`: NGINX does not pass `Upgrade` to
    /// an `auth_request` subrequest, so a WebSocket connect cannot be told apart). `false`
    /// keeps tokens out of URLs, and so out of URL logs.
    #[must_use]
    pub const fn query_tokens(mut self, allowed: bool) -> Self {
        self.query_tokens = allowed;
        self
    }
}

/// The settings being served, with each app's counters and revocation mirror attached.
#[derive(Debug)]
struct Live {
    apps: Vec<App>,
    user_id_encoding: UserIdEncoding,
    forwarded_uri_headers: Vec<HeaderName>,
    unavailable: Unavailable,
    allowed_api_keys: Option<Vec<String>>,
    query_tokens: bool,
}

/// Whether the revocation mirrors can be trusted: the last time their source answered. (An
/// app's mirror is also untrusted until its first full read: [`Authz::stale_apps`].)
#[derive(Debug)]
pub struct Freshness {
    start: Instant,
    /// Milliseconds after `start` of the last good answer; 0 for never.
    last_ok_ms: AtomicU64,
    /// Milliseconds without one before the mirror is stale; `u64::MAX` without a source.
    max_staleness_ms: AtomicU64,
}

impl Default for Freshness {
    fn default() -> Self {
        Self { start: Instant::now(), last_ok_ms: AtomicU64::new(0), max_staleness_ms: AtomicU64::new(u64::MAX) }
    }
}

impl Freshness {
    /// Says the source answered just now.
    pub fn mark_ok(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
        self.last_ok_ms.store(ms, Relaxed);
    }

    /// Sets how long the mirror stays trusted without an answer (`None`: there is no source,
    /// so it is always trusted).
    pub fn set_max_staleness(&self, max: Option<Duration>) {
        let ms = max.map_or(u64::MAX, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.max_staleness_ms.store(ms, Relaxed);
    }

    /// Whether there is a source to be fresh from.
    #[must_use]
    pub fn has_source(&self) -> bool {
        self.max_staleness_ms.load(Relaxed) != u64::MAX
    }

    /// Whether the mirror is stale: a source is configured, and it has not answered for
    /// longer than allowed (or never has).
    #[must_use]
    pub fn is_stale(&self) -> bool {
        let max = self.max_staleness_ms.load(Relaxed);
        if max == u64::MAX {
            return false;
        }
        let last = self.last_ok_ms.load(Relaxed);
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        last == 0 || now.saturating_sub(last) > max
    }
}

/// The forward-auth service: the apps being served (replaced whole by
/// [`reload`](Self::reload)), their revocation mirrors, and the counters.
#[derive(Debug)]
pub struct Authz {
    live: ArcSwap<Live>,
    mirrors: Mutex<HashMap<String, Arc<RevocationMirror>>>,
    freshness: Freshness,
    metrics: Metrics,
}

impl Authz {
    /// A forward-auth service serving `settings`.
    #[must_use]
    pub fn new(settings: Settings) -> Self {
        let empty = Live {
            apps: Vec::new(),
            user_id_encoding: UserIdEncoding::default(),
            forwarded_uri_headers: Vec::new(),
            unavailable: Unavailable::default(),
            allowed_api_keys: None,
            query_tokens: true,
        };
        let authz = Self {
            live: ArcSwap::from_pointee(empty),
            mirrors: Mutex::default(),
            freshness: Freshness::default(),
            metrics: Metrics::default(),
        };
        authz.reload(settings);
        authz
    }

    /// Serves `settings` from now on. Requests being checked finish with the settings they
    /// started with; the counters and revocation mirror of an app that stays are kept. The
    /// mirror of an app that goes is dropped, so that an app added (again) is stale until its
    /// first full read.
    pub fn reload(&self, settings: Settings) {
        {
            let mut mirrors = self.mirrors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            mirrors.retain(|key, _| settings.apps.iter().any(|(k, _)| k.as_deref().unwrap_or("") == key));
        }
        let apps = settings
            .apps
            .into_iter()
            .map(|(api_key, auth)| {
                let mirror = self.mirror(api_key.as_deref().unwrap_or(""));
                let counters = self.metrics.app(api_key.as_deref().unwrap_or(DEFAULT_APP));
                // api_keys are visible ASCII (the configuration checks them).
                let api_key_value = HeaderValue::from_str(api_key.as_deref().unwrap_or(""))
                    .unwrap_or_else(|_| HeaderValue::from_static(""));
                App { auth: auth.revocation_mirror(Arc::clone(&mirror)), api_key, api_key_value, counters, mirror }
            })
            .collect();
        self.live.store(Arc::new(Live {
            apps,
            user_id_encoding: settings.user_id_encoding,
            forwarded_uri_headers: settings.forwarded_uri_headers,
            unavailable: settings.unavailable,
            allowed_api_keys: settings.allowed_api_keys,
            query_tokens: settings.query_tokens,
        }));
    }

    /// The revocation mirror of the app with this `api_key` (`""` for an app without one),
    /// made on first use and kept across reloads.
    #[must_use]
    pub fn mirror(&self, api_key: &str) -> Arc<RevocationMirror> {
        let mut mirrors = self.mirrors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(mirrors.entry(api_key.to_owned()).or_default())
    }

    /// Whether the revocation source answers.
    #[must_use]
    pub const fn freshness(&self) -> &Freshness {
        &self.freshness
    }

    /// The revocation mirror of a served app (`""` for an app without an `api_key`), `None`
    /// for an app not served (any more): what a source's reader writes to.
    #[must_use]
    pub fn served_mirror(&self, api_key: &str) -> Option<Arc<RevocationMirror>> {
        let mirrors = self.mirrors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        mirrors.get(api_key).map(Arc::clone)
    }

    /// The labels of the apps whose revocations cannot be trusted now (empty when every app's
    /// can): `/readyz`, and the log's "stale" and "fresh again" lines.
    #[must_use]
    pub fn stale_apps(&self) -> Vec<String> {
        let live = self.live.load();
        live.apps.iter().filter(|a| self.app_is_stale(a)).map(|a| a.label().to_owned()).collect()
    }

    /// Whether an app's revocations cannot be trusted: a source is configured, and it has not
    /// answered for longer than allowed, or has not been read in full for this app.
    fn app_is_stale(&self, app: &App) -> bool {
        self.freshness.has_source() && (self.freshness.is_stale() || !app.mirror.is_loaded())
    }

    /// The counters, for the metrics endpoint.
    #[must_use]
    pub const fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The metrics endpoint's page: the counters, whether revocations are stale, and the
    /// revocations mirrored per app.
    #[must_use]
    pub fn render_metrics(&self) -> String {
        let live = self.live.load();
        let stale = Gauge {
            name: "stackjwt_authz_revocations_stale",
            help: "1 while an app's revocations cannot be trusted (Redis out of reach for longer than max_staleness, or the app not yet read in full).",
            samples: live
                .apps
                .iter()
                .map(|a| (format!("app=\"{}\"", a.label()), u64::from(self.app_is_stale(a))))
                .collect(),
        };
        let mirrored = Gauge {
            name: "stackjwt_authz_revocations",
            help: "Users with a revocation cutoff, mirrored per app.",
            samples: live
                .apps
                .iter()
                .map(|a| (format!("app=\"{}\"", a.label()), u64::try_from(a.mirror.len()).unwrap_or(u64::MAX)))
                .collect(),
        };
        self.metrics.render(&[stale, mirrored])
    }

    /// Checks the credential headers of a request for the app `api_key` names (as
    /// [`check`](Self::check) selects it), with every rule of [`check`](Self::check)
    /// (staleness included, whatever `unavailable` says: this is for writes), and returns
    /// that app's `api_key` (`""` for a server of one unnamed app) with the caller.
    ///
    /// # Errors
    /// Every [`Refusal`] of [`check`](Self::check).
    pub fn check_headers(&self, api_key: Option<&str>, headers: &HeaderMap) -> Result<(String, Caller), Refusal> {
        let live = self.live.load();
        let app = select(&live.apps, api_key)?;
        allowed(&live, app, headers)?;
        let caller = app.auth.check(&Credentials::from_headers(headers)?)?;
        if caller != Caller::Anonymous && self.app_is_stale(app) {
            return Err(Refusal::RevocationsUnavailable);
        }
        Ok((app.api_key.clone().unwrap_or_default(), caller))
    }

    /// Checks one forwarded request's credentials: the app its `api_key` names, then the
    /// credential headers, else the query of the forwarded URI, else of `uri`.
    ///
    /// # Errors
    /// Every [`Refusal`].
    pub fn check(&self, headers: &HeaderMap, uri: &http::Uri) -> Result<Caller, Refusal> {
        let live = self.live.load();
        self.check_with(&live, headers, uri).0
    }

    /// The check, and the counters of the app it was for.
    fn check_with<'l>(
        &self,
        live: &'l Live,
        headers: &HeaderMap,
        uri: &http::Uri,
    ) -> (Result<Caller, Refusal>, Option<&'l App>) {
        let forwarded = match forwarded_uri(headers, &live.forwarded_uri_headers) {
            Ok(f) => f,
            Err(refusal) => return (Err(refusal), None),
        };
        let query = forwarded.map_or(uri.query(), |f| f.split_once('?').map(|(_, q)| q)).unwrap_or("");
        let app = match api_key(query).and_then(|key| select(&live.apps, key.as_deref())) {
            Ok(app) => app,
            Err(refusal) => return (Err(refusal), None),
        };
        if let Err(refusal) = allowed(live, app, headers) {
            return (Err(refusal), Some(app));
        }
        let caller = Credentials::from_headers(headers)
            .and_then(|c| if c.is_empty() && live.query_tokens { Credentials::from_query(query) } else { Ok(c) })
            .and_then(|credentials| app.auth.check(&credentials))
            .and_then(|caller| {
                if caller == Caller::Anonymous || !self.app_is_stale(app) {
                    return Ok(caller);
                }
                match live.unavailable {
                    Unavailable::Deny => Err(Refusal::RevocationsUnavailable),
                    Unavailable::Allow => {
                        self.metrics.count(Event::ServedStale);
                        Ok(caller)
                    }
                }
            });
        (caller, Some(app))
    }

    /// The answer to one forwarded request, counted in the metrics.
    #[must_use]
    pub fn respond(&self, headers: &HeaderMap, uri: &http::Uri) -> Response<Full<Bytes>> {
        let start = Instant::now();
        let live = self.live.load();
        let (outcome, app) = self.check_with(&live, headers, uri);
        let outcome = outcome.and_then(|principal| {
            // A verified user id is any JSON string; one that a receiver would read as
            // another (`"admin "`) is refused, or encoded when the operator chose so.
            let user_id = principal.user_id().map(|id| user_id_header(id, live.user_id_encoding)).transpose();
            user_id.map(|id| (principal, id))
        });
        let counters = app.map_or(self.metrics.unknown(), |a| &*a.counters);
        counters.record(outcome.as_ref().map(|(p, _)| p), start.elapsed());
        match outcome {
            Ok((principal, user_id)) => {
                let mut response = Response::new(Full::new(Bytes::new()));
                let h = response.headers_mut();
                h.insert(API_KEY_HEADER, app.map_or_else(|| HeaderValue::from_static(""), |a| a.api_key_value.clone()));
                h.insert(PRINCIPAL_HEADER, HeaderValue::from_static(principal.kind()));
                // Always sent, empty without a user (and the encoding always): proxies that
                // copy a header only when present (Traefik, Caddy) then replace a client's own.
                h.insert(USER_ID_HEADER, user_id.unwrap_or_else(|| HeaderValue::from_static("")));
                h.insert(USER_ID_ENCODING_HEADER, HeaderValue::from_static(live.user_id_encoding.name()));
                response
            }
            Err(refusal) => refusal_response(refusal),
        }
    }
}

/// The app a request's `api_key` names.
fn select<'a>(apps: &'a [App], api_key: Option<&str>) -> Result<&'a App, Refusal> {
    match (apps, api_key) {
        ([only], None) => Ok(only),
        ([only @ App { api_key: None, .. }], Some(_)) => Ok(only),
        (apps, Some(key)) => apps.iter().find(|a| a.api_key.as_deref() == Some(key)).ok_or(Refusal::UnknownApiKey),
        (_, None) => Err(Refusal::UnknownApiKey),
    }
}

/// Whether `app` may be served here: listed in the settings' `allowed_api_keys` (if any) and in
/// the request's [`ALLOWED_API_KEYS_HEADER`] (if sent).
fn allowed(live: &Live, app: &App, headers: &HeaderMap) -> Result<(), Refusal> {
    let key = app.api_key.as_deref().unwrap_or("");
    if live.allowed_api_keys.as_ref().is_some_and(|keys| !keys.iter().any(|k| k == key)) {
        return Err(Refusal::ApiKeyNotAllowed);
    }
    for value in headers.get_all(ALLOWED_API_KEYS_HEADER) {
        let listed = value.to_str().map_err(|_| Refusal::InvalidHeaderValue(ALLOWED_API_KEYS_HEADER))?;
        if !listed.split(',').any(|k| k.trim() == key) {
            return Err(Refusal::ApiKeyNotAllowed);
        }
    }
    Ok(())
}

/// Stream's JSON error body and status for `refusal`, with the body also in
/// [`ERROR_HEADER`].
#[must_use]
pub fn refusal_response(refusal: Refusal) -> Response<Full<Bytes>> {
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

/// Serves forward-auth checks on `listener` until `shutdown` completes, then lets in-flight
/// requests finish (up to [`Limits::shutdown_grace`]).
///
/// # Errors
/// None in practice: failed accepts (out of file descriptors, say) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    authz: Arc<Authz>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let respond = move |request: Request<Incoming>| {
        let response = authz.respond(request.headers(), request.uri());
        async move { Ok::<_, Infallible>(response) }
    };
    serve_with(listener, limits, shutdown, respond).await
}

/// Serves, until `shutdown`: `GET /metrics`, the counters of `authz` in Prometheus' text
/// format; `GET /healthz`, 200 while the process serves; `GET /readyz`, 200 when every app's
/// revocations can be trusted, else 503 naming the stale apps; 404 on any other path.
///
/// # Errors
/// None in practice, as [`serve`].
pub async fn serve_metrics(
    listener: TcpListener,
    authz: Arc<Authz>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let respond = move |request: Request<Incoming>| {
        let (status, content_type, body) = match request.uri().path() {
            "/metrics" => (http::StatusCode::OK, "text/plain; version=0.0.4", authz.render_metrics()),
            "/healthz" => (http::StatusCode::OK, "text/plain", "ok\n".to_owned()),
            "/readyz" => match authz.stale_apps() {
                stale if stale.is_empty() => (http::StatusCode::OK, "text/plain", "ready\n".to_owned()),
                stale => (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("revocations stale for: {}\n", stale.join(" ")),
                ),
            },
            _ => (http::StatusCode::NOT_FOUND, "text/plain", "GET /metrics, /healthz or /readyz\n".to_owned()),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        async move { Ok::<_, Infallible>(response) }
    };
    serve_with(listener, limits, shutdown, respond).await
}

/// Serves `respond` on `listener` with the connection limits of [`serve`], until `shutdown`.
///
/// # Errors
/// None in practice, as [`serve`].
pub async fn serve_with<F, Fut>(
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
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n\
        x-stream-error: {\"code\":-1,\"message\":\"too many connections, retry\",\"StatusCode\":503}\r\ncontent-length: 68\r\n\r\n\
        {\"code\":-1,\"message\":\"too many connections, retry\",\"StatusCode\":503}";
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
