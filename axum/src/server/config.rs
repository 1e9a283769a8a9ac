//! `stackjwt-authz`'s configuration: its flags, its TOML file (`--config`), and the secrets
//! they name, read into [`Settings`] at start and again on every SIGHUP.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::HeaderName;
use serde::Deserialize;
use stackjwt::{Algorithm, Key, secret_from_file};
use zeroize::Zeroizing;

use crate::authz::{Limits, Settings, Unavailable};
use crate::metrics::UNKNOWN_APP;
use crate::{KeyPair, StreamAuth, UserIdEncoding};

/// `stackjwt-authz --help`.
pub const USAGE: &str = "\
stackjwt-authz: forward-auth server for Stream Chat tokens (NGINX auth_request, Envoy
ext_authz, Traefik ForwardAuth, Caddy forward_auth)

Usage: stackjwt-authz [OPTIONS]

  --config FILE          read settings, apps and Redis from a TOML file (below); the flags
                         given here override the file's. SIGHUP re-reads it and every secret
  --check-config FILE    read and check FILE (and every secret it names) as --config would,
                         then exit: 0 when good, 2 with what to fix. Serves and connects nothing
  --listen ADDR          address to serve checks on (default 127.0.0.1:8080)
  --admin ADDR           serve the admin API (POST /revoke) on ADDR, never on --listen
  --metrics ADDR         serve GET /metrics (Prometheus), /healthz and /readyz (503 while
                         an app's revocations are stale) on ADDR
  --secret-file PATH     read the API secret from PATH (every trailing CR and LF dropped,
                         nothing else: the same rule as the stackjwt command's); else the
                         STREAM_API_SECRET environment variable. Never an argument.
  --previous-secret-file PATH
                         the secret being rotated out, also accepted until dropped
  --api-key KEY          the api_key of the one app (default: any api_key is this app's)
  --allowed-api-keys K1,K2
                         serve only these apps here: a request for another configured app
                         gets 403 (code 17). A proxy may narrow it per route with the
                         X-Stream-Allowed-Api-Keys header on the check
  --weak-secret          accept a secret shorter than the hash output
  --alg hs256|hs384|hs512  algorithm of the key (default hs256)
  --kid KID              key id: tokens naming another kid are refused
  --leeway SECS          clock skew tolerated on exp, nbf and iat (default 0)
  --require-exp          refuse tokens without exp
  --allow-dev            accept development tokens (never in production)
  --deny-anonymous       refuse stream-auth-type: anonymous
  --user-id-encoding plain|percent
                         plain (default): X-Stream-User-Id as it is, and ids that a receiver
                         would read differently (leading or trailing whitespace, controls,
                         bytes past ASCII) refused with 401; percent: every id percent-encoded
                         (RFC 3986 unreserved kept), with X-Stream-User-Id-Encoding: percent
  --forwarded-uri-header NAME
                         read the forwarded URI from NAME only (the header your proxy sets;
                         a client's own in the others is ignored). Default: X-Forwarded-Uri
                         and X-Original-URI, refused with 400 when they disagree (or hold #)
  --query-tokens always|off
                         always (default): credentials may come from the query when the
                         headers carry none (Stream's WebSocket connect); off: headers only,
                         so no token is ever in a URL
  --header-timeout SECS  time to send a request's headers; idle keep-alive limit (default 10)
  --max-connections N    connections served at once; more get 503 (default 4096)

Every request, any method and path, is one check. The app: the api_key query parameter of
the forwarded URI, else of the request's own query. Credentials: Authorization +
stream-auth-type headers, else the same query. Allowed: 200 with X-Stream-Api-Key (the app
that verified: an upstream of one app compares it with its own), X-Stream-Principal,
X-Stream-User-Id and X-Stream-User-Id-Encoding. Refused: Stream's JSON error body, 401 (403
for an app not allowed here, 503 while revocations cannot be trusted). Logs go to standard
error: information, warnings and errors, or what RUST_LOG says.

The admin API (POST /revoke?api_key=K, a server token of app K) takes one of two bodies:
  {\"user_id\": \"john\", \"revoke_tokens_issued_before\": T}   one user
  {\"scope\": \"app\", \"revoke_tokens_issued_before\": T}        the whole app
T: Unix seconds or an RFC 3339 time, at most 60 s ahead of now; null clears.

The file (every key optional but one [[app]]):

  listen = \"127.0.0.1:8080\"
  admin = \"127.0.0.1:8081\"
  metrics = \"127.0.0.1:9090\"
  leeway = 5                  # also require_exp, allow_dev, deny_anonymous, user_id_encoding,
                              # forwarded_uri_header, query_tokens, header_timeout,
                              # max_connections (these two change on a restart only)
  allowed_api_keys = [\"k1\"]   # default: every [[app]]
  [redis]
  url = \"redis://127.0.0.1:6379/0\"
  unavailable = \"deny\"        # or \"allow\": user and server tokens while Redis is out of reach
  max_staleness = 30          # seconds
  resync = 60                 # seconds between full reads
  [[app]]
  api_key = \"k1\"
  secret_file = \"/run/secrets/k1\"
  previous_secret_file = \"/run/secrets/k1.old\"
  alg = \"hs256\"               # also kid, previous_kid, weak_secret
  revoked_before = 1700000000
";

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Serve with these flags.
    Serve(Box<Flags>),
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
}

/// The flags, as given (each `None` when absent, so that the file's value stands).
#[derive(Clone, Debug, Default)]
#[allow(missing_docs)]
pub struct Flags {
    pub config: Option<PathBuf>,
    /// `--check-config`: check the file, serve nothing.
    pub check: bool,
    pub listen: Option<String>,
    pub admin: Option<String>,
    pub metrics: Option<String>,
    pub secret_file: Option<PathBuf>,
    pub previous_secret_file: Option<PathBuf>,
    pub api_key: Option<String>,
    pub allowed_api_keys: Option<Vec<String>>,
    pub query_tokens: Option<String>,
    pub weak_secret: bool,
    pub alg: Option<String>,
    pub kid: Option<String>,
    pub leeway: Option<u64>,
    pub require_exp: bool,
    pub allow_dev: bool,
    pub deny_anonymous: bool,
    pub user_id_encoding: Option<String>,
    pub forwarded_uri_header: Option<String>,
    pub header_timeout: Option<u64>,
    pub max_connections: Option<usize>,
}

impl Flags {
    /// Parses the arguments after the program's name.
    ///
    /// # Errors
    /// A message naming the flag or value that is wrong.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
        use lexopt::prelude::*;
        let mut f = Self::default();
        let mut args = lexopt::Parser::from_args(args);
        let err = |e: lexopt::Error| e.to_string();
        while let Some(arg) = args.next().map_err(err)? {
            match arg {
                Long("config") => f.config = Some(args.value().map_err(err)?.into()),
                Long("check-config") => {
                    f.config = Some(args.value().map_err(err)?.into());
                    f.check = true;
                }
                Long("allowed-api-keys") => {
                    f.allowed_api_keys = Some(text(&mut args)?.split(',').map(|k| k.trim().to_owned()).collect());
                }
                Long("query-tokens") => f.query_tokens = Some(text(&mut args)?),
                Long("listen") => f.listen = Some(text(&mut args)?),
                Long("admin") => f.admin = Some(text(&mut args)?),
                Long("metrics") => f.metrics = Some(text(&mut args)?),
                Long("secret-file") => f.secret_file = Some(args.value().map_err(err)?.into()),
                Long("previous-secret-file") => f.previous_secret_file = Some(args.value().map_err(err)?.into()),
                Long("api-key") => f.api_key = Some(text(&mut args)?),
                Long("weak-secret") => f.weak_secret = true,
                Long("alg") => f.alg = Some(text(&mut args)?),
                Long("kid") => f.kid = Some(text(&mut args)?),
                Long("leeway") => f.leeway = Some(args.value().map_err(err)?.parse().map_err(err)?),
                Long("require-exp") => f.require_exp = true,
                Long("allow-dev") => f.allow_dev = true,
                Long("deny-anonymous") => f.deny_anonymous = true,
                Long("user-id-encoding") => f.user_id_encoding = Some(text(&mut args)?),
                Long("forwarded-uri-header") => f.forwarded_uri_header = Some(text(&mut args)?),
                Long("header-timeout") => f.header_timeout = Some(args.value().map_err(err)?.parse().map_err(err)?),
                Long("max-connections") => f.max_connections = Some(args.value().map_err(err)?.parse().map_err(err)?),
                Value(v) if v == "help" => return Ok(Command::Help),
                Short('h') | Long("help") => return Ok(Command::Help),
                Short('V') | Long("version") => return Ok(Command::Version),
                other => return Err(other.unexpected().to_string()),
            }
        }
        Ok(Command::Serve(Box::new(f)))
    }
}

/// A flag's value, as UTF-8.
fn text(args: &mut lexopt::Parser) -> Result<String, String> {
    use lexopt::ValueExt as _;
    args.value().and_then(|v| v.string()).map_err(|e| e.to_string())
}

/// The configuration file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    admin: Option<String>,
    metrics: Option<String>,
    leeway: Option<u64>,
    require_exp: Option<bool>,
    allow_dev: Option<bool>,
    deny_anonymous: Option<bool>,
    user_id_encoding: Option<String>,
    forwarded_uri_header: Option<String>,
    query_tokens: Option<String>,
    allowed_api_keys: Option<Vec<String>>,
    header_timeout: Option<u64>,
    max_connections: Option<usize>,
    redis: Option<RedisFile>,
    #[serde(default)]
    app: Vec<AppFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RedisFile {
    url: String,
    unavailable: Option<String>,
    max_staleness: Option<u64>,
    resync: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    api_key: String,
    secret_file: PathBuf,
    previous_secret_file: Option<PathBuf>,
    alg: Option<String>,
    kid: Option<String>,
    previous_kid: Option<String>,
    weak_secret: Option<bool>,
    revoked_before: Option<u64>,
}

/// Where and how revocations are shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redis {
    /// `redis://` or `redis+unix://` URL.
    pub url: String,
    /// What user and server tokens get while revocations are stale.
    pub unavailable: Unavailable,
    /// Time without a working connection before the mirror is stale.
    pub max_staleness: Duration,
    /// Time between full reads of every app's revocations.
    pub resync: Duration,
}

/// Everything read from the flags, the file and the secrets.
#[derive(Debug)]
pub struct Config {
    /// The check listener.
    pub listen: SocketAddr,
    /// The admin API's listener.
    pub admin: Option<SocketAddr>,
    /// The metrics listener.
    pub metrics: Option<SocketAddr>,
    /// Connection limits.
    pub limits: Limits,
    /// The shared revocation store.
    pub redis: Option<Redis>,
    /// The configured `api_key`s (empty for one app without a name).
    pub api_keys: Vec<String>,
    /// The apps and answers, for [`Authz`](crate::authz::Authz).
    pub settings: Settings,
}

/// Reads the configuration: `flags` over the file they name (if any), and every secret.
///
/// # Errors
/// A message that names the file, key or flag at fault and what to do.
pub fn load(flags: &Flags) -> Result<Config, String> {
    // Every message names the file it is about (TOML's own errors already do).
    load_file(flags).map_err(|e| match &flags.config {
        Some(path) if !e.starts_with(&path.display().to_string()) => format!("{}: {e}", path.display()),
        _ => e,
    })
}

fn load_file(flags: &Flags) -> Result<Config, String> {
    let file = match &flags.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            toml::from_str::<File>(&text).map_err(|e| toml_error(path, &text, &e))?
        }
        None => File::default(),
    };
    let from = |flag: &str, key: &str| {
        if flags.config.is_some() { format!("{flag} (or {key} in the file)") } else { flag.to_owned() }
    };
    let listen = address(
        &from("--listen", "listen"),
        flags.listen.as_deref().or(file.listen.as_deref()).unwrap_or("127.0.0.1:8080"),
    )?;
    let admin =
        flags.admin.as_deref().or(file.admin.as_deref()).map(|a| address(&from("--admin", "admin"), a)).transpose()?;
    let metrics = flags
        .metrics
        .as_deref()
        .or(file.metrics.as_deref())
        .map(|a| address(&from("--metrics", "metrics"), a))
        .transpose()?;
    if admin.is_some_and(|a| a == listen && a.port() != 0) {
        return Err("the admin API needs an address of its own, not the check listener's".into());
    }
    let mut limits = Limits::default();
    if let Some(secs) = flags.header_timeout.or(file.header_timeout) {
        limits.header_timeout = Duration::from_secs(secs);
    }
    if let Some(n) = flags.max_connections.or(file.max_connections) {
        limits.max_connections = n;
    }
    if limits.max_connections == 0 {
        return Err(format!("{} must be at least 1", from("--max-connections", "max_connections")));
    }
    let mut settings = Settings::default();
    match flags.user_id_encoding.as_deref().or(file.user_id_encoding.as_deref()) {
        None | Some("plain") => {}
        Some("percent") => settings = settings.user_id_encoding(UserIdEncoding::Percent),
        Some(other) => {
            return Err(format!(
                "{} wants plain or percent, not {other:?}",
                from("--user-id-encoding", "user_id_encoding")
            ));
        }
    }
    if let Some(name) = flags.forwarded_uri_header.as_deref().or(file.forwarded_uri_header.as_deref()) {
        let header = HeaderName::try_from(name).map_err(|_| {
            format!("{} wants a header name, not {name:?}", from("--forwarded-uri-header", "forwarded_uri_header"))
        })?;
        settings = settings.forwarded_uri_header(header);
    }
    match flags.query_tokens.as_deref().or(file.query_tokens.as_deref()) {
        None | Some("always") => {}
        Some("off") => settings = settings.query_tokens(false),
        Some(other) => {
            return Err(format!("{} wants always or off, not {other:?}", from("--query-tokens", "query_tokens")));
        }
    }
    let redis = file.redis.map(redis).transpose()?;
    if let Some(r) = &redis {
        settings = settings.unavailable(r.unavailable);
    }
    let options = |auth: StreamAuth<KeyPair>| {
        auth.leeway(flags.leeway.or(file.leeway).unwrap_or(0))
            .require_exp(flags.require_exp || file.require_exp.unwrap_or(false))
            .allow_dev_tokens(flags.allow_dev || file.allow_dev.unwrap_or(false))
            .deny_anonymous(flags.deny_anonymous || file.deny_anonymous.unwrap_or(false))
    };
    let single_flags = flags.secret_file.is_some()
        || flags.previous_secret_file.is_some()
        || flags.api_key.is_some()
        || flags.alg.is_some()
        || flags.kid.is_some()
        || flags.weak_secret;
    let mut api_keys = Vec::new();
    if file.app.is_empty() {
        if flags.config.is_some() && !single_flags {
            return Err("the file has no [[app]]: add one (api_key, secret_file) per app".into());
        }
        let secret = match &flags.secret_file {
            Some(path) => read_secret(path)?,
            None => Zeroizing::new(
                std::env::var_os("STREAM_API_SECRET")
                    .ok_or("set STREAM_API_SECRET or --secret-file to your app's API secret")?
                    .into_encoded_bytes(),
            ),
        };
        let alg = algorithm(flags.alg.as_deref(), "--alg")?;
        let current = key(alg, &secret, flags.weak_secret, flags.kid.as_deref(), "the secret", false)?;
        let previous = flags
            .previous_secret_file
            .as_deref()
            .map(|p| key(alg, &read_secret(p)?, flags.weak_secret, None, &p.display().to_string(), false))
            .transpose()?;
        let auth = options(StreamAuth::rotating(KeyPair::new(current, previous)));
        settings = match &flags.api_key {
            Some(api_key) => {
                check_api_key(api_key)?;
                api_keys.push(api_key.clone());
                settings.app(api_key, auth)
            }
            None => settings.any_app(auth),
        };
    } else {
        if single_flags {
            return Err("--secret-file, --previous-secret-file, --api-key, --alg, --kid and --weak-secret describe \
                        one app: with [[app]] in the file, set them there"
                .into());
        }
        for app in file.app {
            check_api_key(&app.api_key)?;
            if api_keys.contains(&app.api_key) {
                return Err(format!("api_key {:?} has two [[app]] entries", app.api_key));
            }
            let at = format!("[[app]] {:?}", app.api_key);
            let alg = algorithm(app.alg.as_deref(), &format!("{at}: alg"))?;
            let weak = app.weak_secret.unwrap_or(false);
            let current = key(
                alg,
                &read_secret(&app.secret_file)?,
                weak,
                app.kid.as_deref(),
                &app.secret_file.display().to_string(),
                true,
            )?;
            let previous = app
                .previous_secret_file
                .as_deref()
                .map(|p| key(alg, &read_secret(p)?, weak, app.previous_kid.as_deref(), &p.display().to_string(), true))
                .transpose()?;
            let mut auth = options(StreamAuth::rotating(KeyPair::new(current, previous)));
            if let Some(cutoff) = app.revoked_before {
                auth = auth.revoked_before(cutoff);
            }
            settings = settings.app(&app.api_key, auth);
            api_keys.push(app.api_key);
        }
    }
    if let Some(allowed) = flags.allowed_api_keys.as_ref().or(file.allowed_api_keys.as_ref()) {
        let what = from("--allowed-api-keys", "allowed_api_keys");
        if allowed.is_empty() {
            return Err(format!("{what} is empty: name at least one app, or leave it out to serve every app"));
        }
        if let Some(stray) = allowed.iter().find(|k| !api_keys.contains(k)) {
            return Err(format!("{what} names {stray:?}, which no app has (the apps: {api_keys:?})"));
        }
        settings = settings.allowed_api_keys(allowed.clone());
    }
    Ok(Config { listen, admin, metrics, limits, redis, api_keys, settings })
}

/// A TOML error on one line, `FILE: line L, column C: what` (a line-based log keeps it
/// whole), quoting none of the file: a broken line may hold a Redis password.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let at = e.span().map_or_else(String::new, |span| {
        let before = text.get(..span.start).unwrap_or(text);
        let line = before.matches('\n').count().saturating_add(1);
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()).saturating_add(1);
        format!(" line {line}, column {column}:")
    });
    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}:{at} {}", path.display(), redact(&message))
}

/// `text` with the password of every URL in it (`scheme://user:PASSWORD@host`, and a query's
/// `pass=` or `password=`, as `redis+unix://` URLs carry it) replaced by `***`.
#[must_use]
pub fn redact(text: &str) -> String {
    let text = redact_userinfo(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(['?', '&']) {
        let (head, tail) = rest.split_at(i.saturating_add(1));
        out.push_str(head);
        rest = tail;
        for name in ["pass=", "password="] {
            if let Some(value) = rest.strip_prefix(name) {
                out.push_str(name);
                out.push_str("***");
                let end = value.find(['&', '"', '\'', '`', ' ', '#']).unwrap_or(value.len());
                rest = value.get(end..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// [`redact`]'s `user:PASSWORD@` part.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i.saturating_add(3));
        out.push_str(head);
        // The authority ends where a path, a quote or a space begins; a userinfo ends at its
        // last '@'.
        let end = tail.find(['/', '"', '\'', '`', ' ', '?', '#']).unwrap_or(tail.len());
        let (authority, after) = tail.split_at(end);
        match authority.rfind('@') {
            Some(at) => {
                let (userinfo, host) = authority.split_at(at);
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str("***"),
                }
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn redis(file: RedisFile) -> Result<Redis, String> {
    let unavailable = match file.unavailable.as_deref() {
        None | Some("deny") => Unavailable::Deny,
        Some("allow") => Unavailable::Allow,
        Some(other) => return Err(format!("[redis] unavailable wants \"deny\" or \"allow\", not {other:?}")),
    };
    if file.url.starts_with("rediss://") {
        return Err("[redis] url: rediss:// (TLS) is not built into stackjwt-authz; use redis:// on a private \
                    network, or a local TLS tunnel (stunnel, spiped) to reach a remote Redis"
            .into());
    }
    if !(file.url.starts_with("redis://") || file.url.starts_with("redis+unix://")) {
        return Err("[redis] url wants redis://HOST:PORT/DB (or redis+unix:///PATH)".into());
    }
    // Parsed, never connected to.
    if let Err(e) = ::redis::Client::open(file.url.as_str()) {
        return Err(format!("[redis] url is not a Redis URL: {}", redact(&e.to_string())));
    }
    let max_staleness = file.max_staleness.unwrap_or(30);
    let resync = file.resync.unwrap_or(60);
    if max_staleness == 0 || resync == 0 {
        return Err("[redis] max_staleness and resync are seconds, at least 1".into());
    }
    Ok(Redis {
        url: file.url,
        unavailable,
        max_staleness: Duration::from_secs(max_staleness),
        resync: Duration::from_secs(resync),
    })
}

/// An `api_key` fit for a metric label and a Redis key: 1 to 128 visible ASCII characters,
/// without `"` and `\`.
fn check_api_key(api_key: &str) -> Result<(), String> {
    let fits =
        (1..=128).contains(&api_key.len()) && api_key.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if !fits {
        return Err(format!("api_key {api_key:?}: use 1 to 128 visible ASCII characters, without \" and \\"));
    }
    if api_key == UNKNOWN_APP {
        return Err(format!("api_key {UNKNOWN_APP:?} is the metrics' label for requests of no app: rename it"));
    }
    Ok(())
}

fn algorithm(name: Option<&str>, what: &str) -> Result<Algorithm, String> {
    match name.map(str::to_ascii_lowercase).as_deref() {
        None | Some("hs256") => Ok(Algorithm::Hs256),
        Some("hs384") => Ok(Algorithm::Hs384),
        Some("hs512") => Ok(Algorithm::Hs512),
        Some(other) => Err(format!("{what}: unknown algorithm {other:?} (hs256, hs384 or hs512)")),
    }
}

/// A secret file's contents, trimmed by [`secret_from_file`]; every copy wiped when dropped.
fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, String> {
    let contents = Zeroizing::new(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    Ok(Zeroizing::new(secret_from_file(&contents).to_vec()))
}

/// The key of `secret`; `what` names it in messages (and whether it comes from the file).
fn key(alg: Algorithm, secret: &[u8], weak: bool, kid: Option<&str>, what: &str, in_file: bool) -> Result<Key, String> {
    let accept = if in_file { "weak_secret = true in its [[app]]" } else { "--weak-secret" };
    let key = if weak { Key::new_weak(alg, secret) } else { Key::new(alg, secret) };
    let key = key.map_err(|e| match e {
        stackjwt::Error::WeakSecret { min } => {
            format!("{what} is shorter than {min} bytes: use a longer one, or {accept} to accept it")
        }
        other => format!("{what}: {other}"),
    })?;
    match kid {
        Some(kid) => key.with_kid(kid).map_err(|e| format!("kid {kid:?}: {e}")),
        None => Ok(key),
    }
}

/// An `IP:PORT` or `HOST:PORT` (resolved now, the first address taken).
///
/// # Errors
/// A message naming `flag` and what it wants.
pub fn address(flag: &str, text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs as _;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let wants = || format!("{flag} wants IP:PORT or HOST:PORT (127.0.0.1:8080, localhost:8080), not {text:?}");
    let (_, port) = text.rsplit_once(':').ok_or_else(wants)?;
    port.parse::<u16>().map_err(|_| wants())?;
    let mut found = text.to_socket_addrs().map_err(|e| format!("{flag}: cannot resolve {text:?}: {e}"))?;
    found.next().ok_or_else(|| format!("{flag}: {text:?} resolves to no address"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn redis_file(url: &str, max_staleness: Option<u64>, resync: Option<u64>) -> RedisFile {
        RedisFile { url: url.into(), unavailable: None, max_staleness, resync }
    }

    #[test]
    fn redis_urls_and_periods_are_checked() {
        for url in ["redis://h:6379/0", "redis://:pw@h:6379/0", "redis+unix:///run/redis.sock"] {
            assert!(redis(redis_file(url, None, None)).is_ok(), "{url}");
        }
        for url in ["http://h", "h:6379", "", "REDIS://h"] {
            assert!(redis(redis_file(url, None, None)).unwrap_err().contains("url wants redis://"), "{url}");
        }
        let tls = redis(redis_file("rediss://h:6380/0", None, None)).unwrap_err();
        assert!(tls.contains("rediss:// (TLS) is not built into"), "{tls}");
        let bad = redis(redis_file("redis://:s3cret@h:port/0", None, None)).unwrap_err();
        assert!(bad.contains("not a Redis URL") && !bad.contains("s3cret"), "{bad}");
        let r = redis(redis_file("redis://h", None, None)).unwrap();
        assert_eq!(
            (r.max_staleness, r.resync, r.unavailable),
            (Duration::from_secs(30), Duration::from_secs(60), Unavailable::Deny)
        );
        let r = redis(redis_file("redis://h", Some(1), Some(1))).unwrap();
        assert_eq!((r.max_staleness, r.resync), (Duration::from_secs(1), Duration::from_secs(1)));
        for (max_staleness, resync) in [(Some(0), None), (None, Some(0))] {
            let err = redis(redis_file("redis://h", max_staleness, resync)).unwrap_err();
            assert!(err.contains("at least 1"), "{err}");
        }
    }

    #[test]
    fn url_passwords_are_redacted() {
        for (text, want) in [
            ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
            ("redis://user:s3cret@h/0 and rediss://u:p@h2", "redis://user:***@h/0 and rediss://u:***@h2"),
            ("string \"redis://s3cret@h\", expected u64", "string \"redis://***@h\", expected u64"),
            ("redis://h:6379/0", "redis://h:6379/0"),
            ("redis://a:b@c@h/x", "redis://a:***@h/x"),
            ("no url here", "no url here"),
            ("trailing ://", "trailing ://"),
            ("redis+unix:///run/redis.sock?db=1&pass=s3cret", "redis+unix:///run/redis.sock?db=1&pass=***"),
            ("redis+unix:///r.sock?password=s3cret&db=1 next", "redis+unix:///r.sock?password=***&db=1 next"),
            ("a?b&c", "a?b&c"),
        ] {
            assert_eq!(redact(text), want, "{text}");
        }
    }

    #[test]
    fn toml_errors_are_one_line_and_quote_nothing() {
        let text = "leeway = 1\n[redis]\nurl = \"redis://:s3cret@h:6379/0\" oops\n";
        let e = toml::from_str::<File>(text).unwrap_err();
        let line = toml_error(Path::new("/etc/a.toml"), text, &e);
        assert!(line.starts_with("/etc/a.toml: line 3, column "), "{line}");
        assert!(!line.contains('\n') && !line.contains("s3cret"), "{line}");
        let text = "leeway = \"redis://:s3cret@h\"\n";
        let e = toml::from_str::<File>(text).unwrap_err();
        let line = toml_error(Path::new("a.toml"), text, &e);
        assert!(line.contains("line 1") && !line.contains("s3cret"), "{line}");
    }

    #[test]
    fn api_keys_fit_a_metric_label_and_a_redis_key() {
        for good in ["k1", "a-b_c.d:e/f", &"k".repeat(128)] {
            assert_eq!(check_api_key(good), Ok(()), "{good}");
        }
        for bad in ["", "k 1", "k\"1", "k\\1", "k\n1", "kë", &"k".repeat(129)] {
            assert!(check_api_key(bad).unwrap_err().contains("visible ASCII"), "{bad:?}");
        }
        assert!(check_api_key(UNKNOWN_APP).unwrap_err().contains("rename it"));
    }
}
