//! Revocations shared by every instance through Redis, mirrored in memory so that a check
//! costs no Redis command.
//!
//! Per app (`{api_key}` is the app's key, as configured):
//! - hash `stackjwt:{api_key}:revoked`: field = user id, value = Unix seconds: that user's
//!   tokens issued before it are revoked;
//! - string `stackjwt:{api_key}:revoked_before`: Unix seconds, the app-wide cutoff;
//! - channel `stackjwt:{api_key}:revocations`: the user id whose entry changed, or an empty
//!   message when the app-wide cutoff did.
//!
//! A value that is not Unix seconds revokes every token it covers (fail closed), with a
//! warning in the log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use tokio::sync::{Mutex, watch};

use crate::authz::Authz;
use crate::metrics::Event;

/// Time any one Redis command, connection or subscription gets before the connection counts
/// as broken (a hung server accepts connections and answers nothing).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the mirror checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_millis(500);
/// First and longest wait between reconnection attempts.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(2));

/// The hash of an app's per-user cutoffs.
#[must_use]
pub fn revoked_key(api_key: &str) -> String {
    format!("stackjwt:{api_key}:revoked")
}

/// The string holding an app's app-wide cutoff.
#[must_use]
pub fn revoked_before_key(api_key: &str) -> String {
    format!("stackjwt:{api_key}:revoked_before")
}

/// The channel announcing an app's changes.
#[must_use]
pub fn channel(api_key: &str) -> String {
    format!("stackjwt:{api_key}:revocations")
}

/// What the mirror follows: the server and the apps. Replaced on reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The Redis URL.
    pub url: String,
    /// The apps' `api_key`s (`""` for a server of one unnamed app).
    pub api_keys: Vec<String>,
    /// Time between full reads.
    pub resync: Duration,
}

/// A Redis value of Unix seconds; anything else (logged) revokes everything it covers.
fn seconds(what: &str, value: &[u8]) -> u64 {
    match std::str::from_utf8(value).ok().and_then(|v| v.trim().parse().ok()) {
        Some(t) => t,
        None => {
            tracing::warn!(key = what, value = %String::from_utf8_lossy(value).escape_debug(), "not Unix seconds: every token it covers is revoked");
            u64::MAX
        }
    }
}

/// Keeps every app's mirror in `authz` equal to Redis while `plan` says so: a full read on
/// every (re)connection and every `resync`, the channel's changes in between, and a ping
/// every half second. Each success marks the mirror fresh; a failure reconnects with a
/// backoff (50 ms doubling to 2 s). `ready` is sent `true` after the first full read.
pub async fn mirror(authz: Arc<Authz>, mut plan: watch::Receiver<Option<Plan>>, ready: watch::Sender<bool>) {
    let mut state = Retry { backoff: BACKOFF.0, failing: false };
    loop {
        let current = plan.borrow_and_update().clone();
        let Some(current) = current else {
            if plan.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            Err(e) = session(&authz, &current, &ready, &mut state) => {
                // One warning per outage, not one per attempt.
                if state.failing {
                    tracing::debug!(error = %e, "revocation mirror: reconnection failed");
                } else {
                    tracing::warn!(error = %e, "revocation mirror: Redis connection lost, reconnecting");
                }
                state.failing = true;
            }
            changed = plan.changed() => {
                if changed.is_err() {
                    return;
                }
                tracing::info!("revocation mirror: following the reloaded configuration");
                continue;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(state.backoff) => {}
            _ = plan.changed() => {}
        }
        state.backoff = state.backoff.saturating_mul(2).min(BACKOFF.1);
    }
}

/// The reconnection state: the next wait, and whether the last attempt failed.
#[derive(Debug)]
struct Retry {
    backoff: Duration,
    failing: bool,
}

/// One connection's life: connect, subscribe, read everything, then follow the channel until
/// something fails.
async fn session(authz: &Authz, plan: &Plan, ready: &watch::Sender<bool>, state: &mut Retry) -> Result<(), String> {
    let client = redis::Client::open(plan.url.as_str()).map_err(|e| e.to_string())?;
    let mut conn = timed(client.get_multiplexed_async_connection()).await?;
    let pubsub = timed(client.get_async_pubsub()).await?;
    let (mut sink, mut messages) = pubsub.split();
    for key in &plan.api_keys {
        timed(sink.subscribe(channel(key))).await?;
    }
    resync(authz, &mut conn, &plan.api_keys).await?;
    ready.send_replace(true);
    if std::mem::take(&mut state.failing) {
        tracing::warn!("revocation mirror: reconnected and read again");
    }
    state.backoff = BACKOFF.0;
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut full = tokio::time::interval(plan.resync);
    full.reset();
    loop {
        tokio::select! {
            message = messages.next() => {
                let message = message.ok_or("the subscription was closed")?;
                let named = message.get_channel_name().strip_prefix("stackjwt:").and_then(|c| c.strip_suffix(":revocations"));
                let Some(key) = plan.api_keys.iter().find(|k| Some(k.as_str()) == named) else { continue };
                apply(authz, &mut conn, key, message.get_payload_bytes()).await?;
            }
            _ = ping.tick() => {
                timed(redis::cmd("PING").query_async::<()>(&mut conn)).await?;
                timed(sink.ping::<()>()).await?;
                authz.freshness().mark_ok();
            }
            _ = full.tick() => resync(authz, &mut conn, &plan.api_keys).await?,
        }
    }
}

/// A hash field and its value, as Redis holds them.
type Field = (Vec<u8>, Vec<u8>);

/// Reads every app's hash and cutoff into its mirror.
async fn resync(authz: &Authz, conn: &mut MultiplexedConnection, api_keys: &[String]) -> Result<(), String> {
    for key in api_keys {
        let (hash, string) = (revoked_key(key), revoked_before_key(key));
        let (users, cutoff): (Vec<Field>, Option<Vec<u8>>) =
            timed(redis::pipe().hgetall(&hash).get(&string).query_async(conn)).await?;
        // A field that is not UTF-8 names no user a token can carry.
        let users: HashMap<String, u64> =
            users.into_iter().filter_map(|(id, t)| Some((String::from_utf8(id).ok()?, seconds(&hash, &t)))).collect();
        let cutoff = cutoff.map(|t| seconds(&string, &t));
        authz.mirror(key).replace(users, cutoff);
    }
    authz.metrics().count(Event::Resync);
    authz.freshness().mark_ok();
    Ok(())
}

/// Applies one announced change: the user's entry, or (empty) the app-wide cutoff, re-read.
async fn apply(authz: &Authz, conn: &mut MultiplexedConnection, api_key: &str, user: &[u8]) -> Result<(), String> {
    let mirror = authz.mirror(api_key);
    if user.is_empty() {
        let key = revoked_before_key(api_key);
        let cutoff: Option<Vec<u8>> = timed(conn.get(&key)).await?;
        mirror.set_cutoff(cutoff.map(|t| seconds(&key, &t)));
    } else if let Ok(id) = std::str::from_utf8(user) {
        let key = revoked_key(api_key);
        let value: Option<Vec<u8>> = timed(conn.hget(&key, user)).await?;
        mirror.revoke_user(id, value.map(|t| seconds(&key, &t)));
    }
    authz.freshness().mark_ok();
    Ok(())
}

async fn timed<T>(f: impl Future<Output = redis::RedisResult<T>>) -> Result<T, String> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {COMMAND_TIMEOUT:?}")),
    }
}

/// Writes revocations for the admin API: one connection, made on first use and again after
/// a failure.
#[derive(Debug)]
pub struct Writer {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
}

/// A change the admin API makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change<'a> {
    /// The app.
    pub api_key: &'a str,
    /// The user, or `None` for the app-wide cutoff.
    pub user_id: Option<&'a str>,
    /// The new cutoff, or `None` to clear it.
    pub before: Option<u64>,
}

impl Writer {
    /// A writer to the server at `url`.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    pub fn new(url: &str) -> Result<Self, String> {
        Ok(Self { client: redis::Client::open(url).map_err(|e| e.to_string())?, conn: Mutex::default() })
    }

    /// Writes `change` and announces it, in one transaction (`MULTI`/`EXEC`); done when Redis
    /// has acknowledged it.
    ///
    /// # Errors
    /// Redis' error, or a timeout.
    pub async fn write(&self, change: &Change<'_>) -> Result<(), String> {
        let mut slot = self.conn.lock().await;
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => slot.insert(timed(self.client.get_multiplexed_async_connection()).await?),
        };
        let mut pipe = redis::pipe();
        pipe.atomic();
        match (change.user_id, change.before) {
            (Some(user), Some(t)) => pipe.hset(revoked_key(change.api_key), user, t),
            (Some(user), None) => pipe.hdel(revoked_key(change.api_key), user),
            (None, Some(t)) => pipe.set(revoked_before_key(change.api_key), t),
            (None, None) => pipe.del(revoked_before_key(change.api_key)),
        };
        pipe.publish(channel(change.api_key), change.user_id.unwrap_or("")).ignore();
        let outcome = timed(pipe.query_async::<()>(conn)).await;
        if outcome.is_err() {
            *slot = None;
        }
        outcome
    }
}
