//! `stackjwt-authz`: a forward-auth server that checks Stream Chat tokens, for NGINX
//! `auth_request`, Envoy `ext_authz`, Traefik `ForwardAuth` and Caddy `forward_auth`; for
//! several apps, with secret rotation on SIGHUP and revocations shared through Redis.

// A std crate: the core crate's no_std import lint does not apply.
#![allow(clippy::std_instead_of_core)]

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use stackjwt_axum::authz::{self, Authz};
use stackjwt_axum::metrics::Event;
use stackjwt_axum::server::admin::Admin;
use stackjwt_axum::server::config::{self, Command, Config, Flags, USAGE};
use stackjwt_axum::server::redis::{self, Plan, Writer};
use tokio::net::TcpListener;
use tokio::sync::watch;

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

/// What the Redis mirror follows under `config`.
fn plan(config: &Config) -> Option<Plan> {
    let redis = config.redis.as_ref()?;
    let api_keys = if config.api_keys.is_empty() { vec![String::new()] } else { config.api_keys.clone() };
    Some(Plan { url: redis.url.clone(), api_keys, resync: redis.resync })
}

fn writer(config: &Config) -> Result<Option<Writer>, String> {
    config.redis.as_ref().map(|r| Writer::new(&r.url)).transpose()
}

/// What a reload cannot change: the listeners, and their connection limits.
type Fixed = (std::net::SocketAddr, Option<std::net::SocketAddr>, Option<std::net::SocketAddr>, authz::Limits);

/// SIGHUP, listened for from the process' start, so that a hangup never ends it.
#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

/// SIGHUP, listened for from now on; `None` where it cannot be.
#[cfg(unix)]
fn hangups() -> Hangups {
    use tokio::signal::unix::{SignalKind, signal};
    let hangups = signal(SignalKind::hangup());
    if hangups.is_err() {
        tracing::warn!("cannot listen for SIGHUP: reloads are off");
    }
    hangups.ok()
}

/// Re-reads the configuration on every SIGHUP; a configuration that does not load leaves the
/// running one in place.
#[cfg(unix)]
async fn reload_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    flags: Flags,
    first: Fixed,
    authz: Arc<Authz>,
    admin: Option<Arc<Admin>>,
    plan_tx: watch::Sender<Option<Plan>>,
) {
    while hangups.recv().await.is_some() {
        let loaded = config::load(&flags).and_then(|c| writer(&c).map(|w| (c, w)));
        match loaded {
            Ok((config, writer)) => {
                if (config.listen, config.admin, config.metrics) != (first.0, first.1, first.2) {
                    tracing::warn!("listen, admin and metrics addresses change on a restart, not a reload");
                }
                if config.limits != first.3 {
                    tracing::warn!("header_timeout and max_connections change on a restart, not a reload");
                }
                authz.freshness().set_max_staleness(config.redis.as_ref().map(|r| r.max_staleness));
                if let Some(admin) = &admin {
                    admin.set_redis(writer);
                }
                // The apps first, then what the mirror follows: it writes only to served apps.
                let next = plan(&config);
                authz.reload(config.settings);
                plan_tx.send_if_modified(|p| {
                    let changed = *p != next;
                    *p = next;
                    changed
                });
                authz.metrics().count(Event::ReloadOk);
                tracing::info!(apps = config.api_keys.len().max(1), "configuration reloaded");
            }
            Err(msg) => {
                authz.metrics().count(Event::ReloadError);
                tracing::error!("reload refused, the previous configuration keeps serving: {msg}");
            }
        }
    }
}

/// Logs each app turning stale (a warning) and fresh again (information).
async fn log_staleness(authz: Arc<Authz>) {
    let mut stale: Vec<String> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let now = authz.stale_apps();
        for app in now.iter().filter(|a| !stale.contains(a)) {
            tracing::warn!(app = %app, "revocations stale: this app's user and server tokens get what [redis] unavailable says (503 with \"deny\") until Redis answers");
        }
        for app in stale.iter().filter(|a| !now.contains(a)) {
            tracing::info!(app = %app, "revocations fresh again");
        }
        stale = now;
    }
}

async fn run(flags: Flags, config: Config, hangups: Hangups) -> std::io::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    let metrics_listener = match config.metrics {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let admin_listener = match config.admin {
        Some(addr) => Some(TcpListener::bind(addr).await?),
        None => None,
    };
    let limits = config.limits;
    let first = (config.listen, config.admin, config.metrics, limits);
    let writer = writer(&config).map_err(std::io::Error::other)?;
    let (plan_tx, plan_rx) = watch::channel(plan(&config));
    let max_staleness = config.redis.as_ref().map(|r| r.max_staleness);
    let authz = Arc::new(Authz::new(config.settings));
    authz.freshness().set_max_staleness(max_staleness);
    let (ready_tx, mut ready_rx) = watch::channel(false);
    tokio::spawn(redis::mirror(Arc::clone(&authz), plan_rx, ready_tx));
    if let Some(max) = max_staleness {
        // Serve once revocations are loaded, or (warned) after a few seconds without them.
        let wait = max.min(Duration::from_secs(5));
        if tokio::time::timeout(wait, ready_rx.wait_for(|&r| r)).await.is_err() {
            tracing::warn!("Redis did not answer within {wait:?}: serving, revocations stale until it does");
        }
    }
    if max_staleness.is_some() {
        tokio::spawn(log_staleness(Arc::clone(&authz)));
    }
    // The first line on standard output names the bound address (useful with port 0).
    println!("stackjwt-authz listening on http://{}", listener.local_addr()?);
    let (stop, stopped) = watch::channel(false);
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|&s| s).await;
    };
    let mut tasks = Vec::new();
    if let Some(listener) = metrics_listener {
        println!("metrics on http://{}/metrics", listener.local_addr()?);
        tasks.push(tokio::spawn(authz::serve_metrics(listener, Arc::clone(&authz), limits, wait(stopped.clone()))));
    }
    let admin = admin_listener.map(|l| (l, Arc::new(Admin::new(Arc::clone(&authz), writer))));
    let admin_api = admin.as_ref().map(|(_, a)| Arc::clone(a));
    if let Some((listener, admin)) = admin {
        println!("admin on http://{}/revoke", listener.local_addr()?);
        let respond = move |request| {
            let admin = Arc::clone(&admin);
            async move { Ok::<_, Infallible>(admin.respond(request).await) }
        };
        tasks.push(tokio::spawn(authz::serve_with(listener, limits, wait(stopped.clone()), respond)));
    }
    #[cfg(unix)]
    if let Some(hangups) = hangups {
        tokio::spawn(reload_on_hangup(hangups, flags, first, Arc::clone(&authz), admin_api, plan_tx));
    }
    #[cfg(not(unix))]
    let _ = (flags, admin_api, plan_tx, hangups);
    tracing::info!(listen = %first.0, "serving");
    tokio::spawn(async move {
        terminated().await;
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
    authz::serve(listener, authz, limits, wait(stopped)).await?;
    for task in tasks {
        task.await.map_err(std::io::Error::other)??;
    }
    Ok(())
}

fn main() -> ExitCode {
    // Info, warnings and errors (reloads, a lost Redis connection) unless RUST_LOG says otherwise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let flags = match Flags::parse(std::env::args_os().skip(1)) {
        Ok(Command::Serve(flags)) => *flags,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("stackjwt-authz {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
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
    runtime.block_on(async move {
        #[cfg(unix)]
        let hangups = hangups();
        #[cfg(not(unix))]
        let hangups = ();
        let config = match config::load(&flags) {
            Ok(config) => config,
            Err(msg) => {
                eprintln!("error: {msg} (see stackjwt-authz --help)");
                return ExitCode::from(2);
            }
        };
        if flags.check {
            let file = flags.config.as_deref().map_or_else(String::new, |p| p.display().to_string());
            let redis = config.redis.as_ref().map_or("no Redis".to_owned(), |r| config::redact(&r.url));
            println!("{file}: good ({} apps, {redis}, checks on {})", config.api_keys.len().max(1), config.listen);
            return ExitCode::SUCCESS;
        }
        match run(flags, config, hangups).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
