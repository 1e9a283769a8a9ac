//! `stackjwt-authz`: a forward-auth server that checks Stream Chat tokens, for NGINX
//! `auth_request`, Envoy `ext_authz`, Traefik `ForwardAuth` and Caddy `forward_auth`.

// A std crate: the core crate's no_std import lint does not apply.
#![allow(clippy::std_instead_of_core)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use lexopt::prelude::*;
use stackjwt::{Algorithm, Key, secret_from_file};
use stackjwt_axum::authz::{self, Authz, Limits};
use stackjwt_axum::{StreamAuth, UserIdEncoding};
use tokio::net::TcpListener;
use tokio::sync::watch;
use zeroize::Zeroizing;

const USAGE: &str = "\
stackjwt-authz: forward-auth server for Stream Chat tokens (NGINX auth_request, Envoy
ext_authz, Traefik ForwardAuth, Caddy forward_auth)

Usage: stackjwt-authz [OPTIONS]

  --listen ADDR          address to serve checks on (default 127.0.0.1:8080)
  --secret-file PATH     read the API secret from PATH (every trailing CR and LF dropped,
                         nothing else: the same rule as the stackjwt command's); else the
                         STREAM_API_SECRET environment variable. Never an argument.
  --weak-secret          accept a secret shorter than the hash output
  --alg hs256|hs384|hs512  algorithm of the key (default hs256)
  --kid KID              key id: tokens naming another kid are refused
  --leeway SECS          clock skew tolerated on exp, nbf and iat (default 0)
  --require-exp          refuse tokens without exp
  --allow-dev            accept development tokens (never in production)
  --deny-anonymous       refuse stream-auth-type: anonymous
  --metrics ADDR         serve Prometheus metrics on ADDR
  --user-id-encoding plain|percent
                         plain (default): X-Stream-User-Id as it is, and ids that a receiver
                         would read differently (leading or trailing whitespace, controls,
                         bytes past ASCII) refused with 401; percent: every id percent-encoded
                         (RFC 3986 unreserved kept), with X-Stream-User-Id-Encoding: percent
  --forwarded-uri-header NAME
                         read the forwarded URI from NAME only (the header your proxy sets;
                         a client's own in the others is ignored). Default: X-Forwarded-Uri
                         and X-Original-URI, refused with 400 when they disagree
  --header-timeout SECS  time to send a request's headers; idle keep-alive limit (default 10)
  --max-connections N    connections served at once; more get 503 (default 4096)

Every request, any method and path, is one check. Credentials: Authorization +
stream-auth-type headers, else the query of the forwarded URI, else the request's own query. Allowed: 200, X-Stream-Principal and X-Stream-User-Id headers.
Refused: Stream's JSON error body, 401. Logs (tracing) are off unless RUST_LOG is set.
";

struct Config {
    listen: SocketAddr,
    metrics: Option<SocketAddr>,
    auth: StreamAuth,
    user_id_encoding: UserIdEncoding,
    forwarded_uri_header: Option<HeaderName>,
    limits: Limits,
}

fn parse() -> Result<Config, String> {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let (mut metrics, mut secret_file, mut kid) = (None, None, None);
    let (mut weak, mut require_exp, mut allow_dev, mut deny_anonymous) = (false, false, false, false);
    let (mut alg, mut leeway) = (Algorithm::Hs256, 0);
    let mut limits = Limits::default();
    let (mut user_id_encoding, mut forwarded_uri_header) = (UserIdEncoding::default(), None);
    let mut args = lexopt::Parser::from_env();
    let err = |e: lexopt::Error| e.to_string();
    while let Some(arg) = args.next().map_err(err)? {
        match arg {
            Long("listen") => listen = address("--listen", &args.value().map_err(err)?.string().map_err(err)?)?,
            Long("metrics") => {
                metrics = Some(address("--metrics", &args.value().map_err(err)?.string().map_err(err)?)?)
            }
            Long("secret-file") => secret_file = Some(args.value().map_err(err)?),
            Long("weak-secret") => weak = true,
            Long("alg") => {
                alg = match args.value().map_err(err)?.string().map_err(err)?.to_ascii_lowercase().as_str() {
                    "hs256" => Algorithm::Hs256,
                    "hs384" => Algorithm::Hs384,
                    "hs512" => Algorithm::Hs512,
                    other => return Err(format!("unknown algorithm {other:?} (hs256, hs384 or hs512)")),
                }
            }
            Long("kid") => kid = Some(args.value().map_err(err)?.string().map_err(err)?),
            Long("leeway") => leeway = args.value().map_err(err)?.parse().map_err(err)?,
            Long("require-exp") => require_exp = true,
            Long("allow-dev") => allow_dev = true,
            Long("deny-anonymous") => deny_anonymous = true,
            Long("user-id-encoding") => {
                user_id_encoding = match args.value().map_err(err)?.string().map_err(err)?.as_str() {
                    "plain" => UserIdEncoding::Plain,
                    "percent" => UserIdEncoding::Percent,
                    other => return Err(format!("--user-id-encoding wants plain or percent, not {other:?}")),
                }
            }
            Long("forwarded-uri-header") => {
                let name = args.value().map_err(err)?.string().map_err(err)?;
                let header = HeaderName::try_from(name.as_str())
                    .map_err(|_| format!("--forwarded-uri-header wants a header name, not {name:?}"))?;
                forwarded_uri_header = Some(header);
            }
            Long("header-timeout") => {
                limits.header_timeout = Duration::from_secs(args.value().map_err(err)?.parse().map_err(err)?);
            }
            Long("max-connections") => limits.max_connections = args.value().map_err(err)?.parse().map_err(err)?,
            Value(v) if v == "help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            Short('h') | Long("help") => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            Short('V') | Long("version") => {
                println!("stackjwt-authz {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    if limits.max_connections == 0 {
        return Err("--max-connections must be at least 1".into());
    }
    // Every copy of the secret is wiped once the key is built.
    let secret = Zeroizing::new(match secret_file {
        Some(path) => {
            let contents = Zeroizing::new(
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.to_string_lossy()))?,
            );
            secret_from_file(&contents).to_vec()
        }
        None => std::env::var_os("STREAM_API_SECRET")
            .ok_or("set STREAM_API_SECRET or --secret-file to your app's API secret")?
            .into_encoded_bytes(),
    });
    let key = if weak { Key::new_weak(alg, &secret) } else { Key::new(alg, &secret) };
    let mut key = key.map_err(|e| match e {
        stackjwt::Error::WeakSecret { min } => {
            format!("the secret is shorter than {min} bytes: use a longer one, or --weak-secret to accept it")
        }
        other => format!("secret: {other}"),
    })?;
    if let Some(kid) = kid {
        key = key.with_kid(&kid).map_err(|e| format!("--kid: {e}"))?;
    }
    let auth = StreamAuth::new(key)
        .leeway(leeway)
        .require_exp(require_exp)
        .allow_dev_tokens(allow_dev)
        .deny_anonymous(deny_anonymous);
    Ok(Config { listen, metrics, auth, user_id_encoding, forwarded_uri_header, limits })
}

/// An `IP:PORT` or `HOST:PORT` (resolved now, the first address taken).
fn address(flag: &str, text: &str) -> Result<SocketAddr, String> {
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

/// Completes on the first SIGTERM or SIGINT.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run(config: Config) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    let mut authz = Authz::new(config.auth).user_id_encoding(config.user_id_encoding);
    if let Some(name) = config.forwarded_uri_header {
        authz = authz.forwarded_uri_header(name);
    }
    let authz = Arc::new(authz);
    // The first line on standard output names the bound address (useful with port 0).
    println!("stackjwt-authz listening on http://{}", listener.local_addr()?);
    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|&s| s).await;
    };
    let metrics = match config.metrics {
        Some(addr) => {
            let listener = TcpListener::bind(addr).await?;
            println!("metrics on http://{}/metrics", listener.local_addr()?);
            let task = authz::serve_metrics(listener, Arc::clone(&authz), config.limits, wait(stopped.clone()));
            Some(tokio::spawn(task))
        }
        None => None,
    };
    tracing::info!(listen = %config.listen, "serving");
    tokio::spawn(async move {
        terminated().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    authz::serve(listener, authz, config.limits, wait(stopped)).await?;
    if let Some(task) = metrics {
        task.await.map_err(std::io::Error::other)??;
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let config = match parse() {
        Ok(config) => config,
        Err(msg) => {
            eprintln!("error: {msg} (see stackjwt-authz --help)");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
