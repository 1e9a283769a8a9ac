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
//!
//! A full read pages through each hash (`HSCAN`, [`PAGE`] fields a command, each command under
//! [`COMMAND_TIMEOUT`], the whole read under none) on a connection of its own, while the
//! previous mirror keeps serving and the channel's changes keep being applied; it logs its
//! progress when it takes more than a second, and the next one waits at least ten times as
//! long as it took (so full reads of a huge hash take at most a tenth of a core). Every
//! change, whoever announced it, is applied by reading the entry back from Redis, one change
//! of an app at a time, so a value read earlier never overwrites one read later.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use tokio::sync::{Mutex, watch};

use crate::authz::Authz;
use crate::metrics::Event;
use crate::revocations::UserCutoffs;

/// Time any one Redis command, connection or subscription gets before the connection counts
/// as broken (a hung server accepts connections and answers nothing).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the mirror checks that its connection still answers.
const PING_EVERY: Duration = Duration::from_millis(500);
/// Hash fields asked for by each `HSCAN` of a full read.
pub const PAGE: usize = 10_000;
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
    let mut state = Retry { backoff: BACKOFF.0, failing: false, persistence_checked: None };
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
    /// The URL whose persistence settings were last looked at.
    persistence_checked: Option<String>,
}

/// A full read under way: every app's per-user cutoffs (`None` for an app whose keys could not
/// be read), in the plan's order.
type FullRead<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Vec<Option<UserCutoffs>>, String>> + Send + 'a>>;

/// One connection's life: connect, subscribe, read everything, then follow the channel until
/// something fails. Full reads run beside the channel: a change announced while one runs is
/// applied at once, and kept over the read's result when it is installed.
///
/// Nothing marks the mirrors fresh before this connection's first full read is installed: an
/// instance that was stale stays stale until it has read everything again, and one whose
/// full reads keep failing never turns fresh.
async fn session(authz: &Authz, plan: &Plan, ready: &watch::Sender<bool>, state: &mut Retry) -> Result<(), String> {
    let client = redis::Client::open(plan.url.as_str()).map_err(|e| e.to_string())?;
    let mut conn = timed(client.get_multiplexed_async_connection()).await?;
    if state.persistence_checked.as_deref() != Some(plan.url.as_str()) {
        warn_unless_persistent(&conn).await;
        state.persistence_checked = Some(plan.url.clone());
    }
    let pubsub = timed(client.get_async_pubsub()).await?;
    let (mut sink, mut messages) = pubsub.split();
    for key in &plan.api_keys {
        timed(sink.subscribe(channel(key))).await?;
    }
    // Full reads have a connection of their own: a change's read-back never waits behind a
    // page of a million-user hash.
    let reader = timed(client.get_multiplexed_async_connection()).await?;
    let mut installed = false;
    let start_read = |installed: bool| -> FullRead<'_> {
        let mut conn = reader.clone();
        Box::pin(async move {
            for key in &plan.api_keys {
                if let Some(mirror) = authz.served_mirror(key) {
                    mirror.applying.lock().await.changed = Some(Vec::new());
                }
            }
            let mut maps = Vec::with_capacity(plan.api_keys.len());
            for key in &plan.api_keys {
                maps.push(app_level(key, read_users(authz, &mut conn, key, installed).await)?);
            }
            Ok(maps)
        })
    };
    let mut reading = Some(start_read(false));
    let mut read_started = tokio::time::Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut full = every(plan.resync);
    loop {
        tokio::select! {
            message = messages.next() => {
                let message = message.ok_or("the subscription was closed")?;
                let named = message.get_channel_name().strip_prefix("stackjwt:").and_then(|c| c.strip_suffix(":revocations"));
                let Some(key) = plan.api_keys.iter().find(|k| Some(k.as_str()) == named) else { continue };
                apply(authz, &mut conn, key, message.get_payload_bytes()).await?;
                if installed {
                    authz.freshness().mark_ok();
                }
            }
            _ = ping.tick() => {
                timed(redis::cmd("PING").query_async::<()>(&mut conn)).await?;
                timed(sink.ping::<()>()).await?;
                if installed {
                    authz.freshness().mark_ok();
                }
            }
            _ = full.tick(), if reading.is_none() => {
                reading = Some(start_read(installed));
                read_started = tokio::time::Instant::now();
            }
            read = async {
                match reading.as_mut() {
                    Some(read) => read.await,
                    None => std::future::pending().await,
                }
            }, if reading.is_some() => {
                reading = None;
                install(authz, &mut conn, &plan.api_keys, read?).await?;
                // Full reads take at most a tenth of the time: a hash so large that one takes
                // seconds is read less often than `resync` says.
                full = every(plan.resync.max(read_started.elapsed().saturating_mul(10)));
                if !std::mem::replace(&mut installed, true) {
                    ready.send_replace(true);
                    if std::mem::take(&mut state.failing) {
                        tracing::warn!("revocation mirror: reconnected and read again");
                    }
                    state.backoff = BACKOFF.0;
                }
            }
        }
    }
}

/// Warns when Redis says (`CONFIG GET`) that it keeps nothing on disk: a restart of it then
/// loses every revocation. Says nothing where `CONFIG` is not allowed.
async fn warn_unless_persistent(conn: &MultiplexedConnection) {
    let get = |name: &'static str| {
        let mut conn = conn.clone();
        async move { timed(redis::cmd("CONFIG").arg("GET").arg(name).query_async::<Vec<String>>(&mut conn)).await }
    };
    match (get("appendonly").await, get("save").await) {
        (Ok(appendonly), Ok(save)) => {
            let value = |pair: &[String]| pair.get(1).map(|v| v.trim().to_owned()).unwrap_or_default();
            if value(&appendonly) == "no" && value(&save).is_empty() {
                tracing::warn!(
                    "Redis keeps nothing on disk (appendonly no, save \"\"): a restart of it loses every revocation; set appendonly yes (or RDB snapshots with save)"
                );
            }
        }
        (Err(e), _) | (_, Err(e)) => tracing::debug!(error = %e, "Redis' persistence settings could not be read"),
    }
}

/// Ticks every `period`, the first a period from now; a late tick delays the next.
fn every(period: Duration) -> tokio::time::Interval {
    let now = tokio::time::Instant::now();
    let mut interval = tokio::time::interval_at(now.checked_add(period).unwrap_or(now), period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}

/// A hash field and its value, as Redis holds them.
type Field = (Vec<u8>, Vec<u8>);

/// A Redis command's failure: the connection's (the session ends and reconnects), or one
/// app's keys' (another type than the layout's, say: that app is stale, the others are not).
#[derive(Debug)]
enum Failure {
    Connection(String),
    App(String),
}

/// One command under [`COMMAND_TIMEOUT`], its failure sorted.
async fn command<T>(f: impl Future<Output = redis::RedisResult<T>>) -> Result<T, Failure> {
    match tokio::time::timeout(COMMAND_TIMEOUT, f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) if e.code() == Some("WRONGTYPE") || e.kind() == redis::ErrorKind::UnexpectedReturnType => {
            Err(Failure::App(e.to_string()))
        }
        Ok(Err(e)) => Err(Failure::Connection(e.to_string())),
        Err(_) => Err(Failure::Connection(format!("no answer within {COMMAND_TIMEOUT:?}"))),
    }
}

/// An app's outcome: `None` (logged, and the app made stale) when its keys could not be read;
/// a connection's failure passes on.
fn app_level<T>(api_key: &str, outcome: Result<T, Failure>) -> Result<Option<T>, String> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(Failure::App(why)) => {
            tracing::warn!(api_key, error = %why, "revocation mirror: this app's revocations cannot be read (its keys are not the layout's types): its user and server tokens are refused as stale until they can");
            Ok(None)
        }
        Err(Failure::Connection(why)) => Err(why),
    }
}

/// Replaces every served app's mirror with a full read's result (`maps`, in `api_keys`'
/// order) and the app-wide cutoff read now. A user whose entry was applied while the read ran
/// keeps the mirror's value: it was read back after the change, which the read may have
/// missed. An app that could not be read is made stale.
async fn install(
    authz: &Authz,
    conn: &mut MultiplexedConnection,
    api_keys: &[String],
    maps: Vec<Option<UserCutoffs>>,
) -> Result<(), String> {
    for (key, users) in api_keys.iter().zip(maps) {
        let Some(mirror) = authz.served_mirror(key) else { continue };
        let mut applying = mirror.applying.lock().await;
        let changed = applying.changed.take().unwrap_or_default();
        let Some(mut users) = users else {
            mirror.unload();
            continue;
        };
        for user in &changed {
            match stackjwt::Revocations::revoked_before(&*mirror, user) {
                Some(t) => users.insert_mut(user.clone(), t),
                None => {
                    users.remove_mut(user.as_str());
                }
            }
        }
        let string = revoked_before_key(key);
        let Some(cutoff) = app_level(key, command(conn.get::<_, Option<Vec<u8>>>(&string)).await)? else {
            mirror.unload();
            continue;
        };
        let old = mirror.replace_map(users, cutoff.map(|t| seconds(&string, &t)));
        drop(applying);
        // Freeing a million entries takes tens of milliseconds: not on the mirror's task,
        // where it would hold up the changes that follow.
        tokio::task::spawn_blocking(move || drop(old));
    }
    authz.metrics().count(Event::Resync);
    authz.freshness().mark_ok();
    Ok(())
}

/// Reads one app's hash of per-user cutoffs, a page at a time. Each page that comes back
/// counts as an answer when `fresh` (the connection's first full read is installed), so the
/// mirror stays fresh through a long read.
async fn read_users(
    authz: &Authz,
    conn: &mut MultiplexedConnection,
    api_key: &str,
    fresh: bool,
) -> Result<UserCutoffs, Failure> {
    let hash = revoked_key(api_key);
    let (start, mut said) = (Instant::now(), Instant::now());
    let mut users = UserCutoffs::new_sync();
    let mut cursor = 0u64;
    loop {
        let (next, page): (u64, Vec<Field>) =
            command(redis::cmd("HSCAN").arg(&hash).arg(cursor).arg("COUNT").arg(PAGE).query_async(conn)).await?;
        for (i, (id, t)) in page.into_iter().enumerate() {
            // A field that is not UTF-8 names no user a token can carry.
            if let Ok(id) = String::from_utf8(id) {
                users.insert_mut(id, seconds(&hash, &t));
            }
            // The channel's changes are served between every thousand entries.
            if i % 1000 == 999 {
                tokio::task::yield_now().await;
            }
        }
        if fresh {
            authz.freshness().mark_ok();
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
        if said.elapsed() >= Duration::from_secs(1) {
            tracing::info!(
                api_key,
                users = users.size(),
                "revocation mirror: reading, the previous mirror serves meanwhile"
            );
            said = Instant::now();
        }
    }
    if start.elapsed() >= Duration::from_secs(1) {
        tracing::info!(
            api_key,
            users = users.size(),
            seconds = start.elapsed().as_secs_f32(),
            "revocation mirror: read"
        );
    }
    Ok(users)
}

/// Applies one change: the user's entry, or (`user` empty) the app-wide cutoff, read back
/// from Redis, while no other change of the app is being applied. An app not served is
/// skipped; one whose keys cannot be read is made stale.
async fn apply(authz: &Authz, conn: &mut MultiplexedConnection, api_key: &str, user: &[u8]) -> Result<(), String> {
    let Some(mirror) = authz.served_mirror(api_key) else { return Ok(()) };
    let mut applying = mirror.applying.lock().await;
    if user.is_empty() {
        let key = revoked_before_key(api_key);
        match app_level(api_key, command(conn.get::<_, Option<Vec<u8>>>(&key)).await)? {
            Some(cutoff) => mirror.set_cutoff(cutoff.map(|t| seconds(&key, &t))),
            None => mirror.unload(),
        }
    } else if let Ok(id) = std::str::from_utf8(user) {
        let key = revoked_key(api_key);
        match app_level(api_key, command(conn.hget::<_, _, Option<Vec<u8>>>(&key, user)).await)? {
            Some(value) => {
                mirror.revoke_user(id, value.map(|t| seconds(&key, &t)));
                if let Some(changed) = applying.changed.as_mut() {
                    changed.push(id.to_owned());
                }
            }
            None => mirror.unload(),
        }
    }
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

    /// Runs `f` on the connection (made first if there is none); a failure drops it, so the
    /// next call connects again.
    async fn with_connection<T, F>(&self, f: impl FnOnce(MultiplexedConnection) -> F) -> Result<T, String>
    where
        F: Future<Output = Result<T, String>>,
    {
        let mut slot = self.conn.lock().await;
        let conn = match slot.as_mut() {
            Some(conn) => conn.clone(),
            None => slot.insert(timed(self.client.get_multiplexed_async_connection()).await?).clone(),
        };
        let outcome = f(conn).await;
        if outcome.is_err() {
            *slot = None;
        }
        outcome
    }

    /// Reads the entry a change touches (the user's cutoff, or with `user_id` `None` the
    /// app-wide cutoff) back from Redis into the app's mirror in `authz`, as the mirror
    /// applies an announced change.
    ///
    /// # Errors
    /// Redis' error, or a timeout.
    pub async fn refresh(&self, authz: &Authz, api_key: &str, user_id: Option<&str>) -> Result<(), String> {
        let user = user_id.unwrap_or("").as_bytes();
        self.with_connection(|mut conn| async move { apply(authz, &mut conn, api_key, user).await }).await
    }

    /// Writes `change` and announces it, in one script that Redis runs atomically, unless the
    /// app-wide cutoff Redis holds at that moment revokes the caller's token (issued at
    /// `caller_iat`; 0 without `iat`): then nothing is written. Done when Redis has answered.
    ///
    /// # Errors
    /// Redis' error, or a timeout.
    pub async fn write(&self, change: &Change<'_>, caller_iat: u64) -> Result<Written, String> {
        let (op, value) = match (change.user_id, change.before) {
            (Some(_), Some(t)) => ("user_set", t.to_string()),
            (Some(_), None) => ("user_del", String::new()),
            (None, Some(t)) => ("app_set", t.to_string()),
            (None, None) => ("app_del", String::new()),
        };
        let mut eval = redis::cmd("EVAL");
        eval.arg(WRITE_SCRIPT)
            .arg(3)
            .arg(revoked_before_key(change.api_key))
            .arg(revoked_key(change.api_key))
            .arg(channel(change.api_key))
            .arg(caller_iat)
            .arg(op)
            .arg(change.user_id.unwrap_or(""))
            .arg(value);
        let outcome: String =
            self.with_connection(|mut conn| async move { timed(eval.query_async(&mut conn)).await }).await?;
        Ok(if outcome == "revoked" { Written::CallerRevoked } else { Written::Done })
    }
}

/// What [`Writer::write`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Written and announced.
    Done,
    /// Nothing: the app-wide cutoff in Redis revokes the caller's token.
    CallerRevoked,
}

/// The admin API's write: the caller's token checked against the app-wide cutoff as Redis
/// holds it (a value that is not a number revokes everything), then the change and its
/// announcement, all at once.
const WRITE_SCRIPT: &str = r"
local cutoff = redis.call('GET', KEYS[1])
if cutoff then
  local c = tonumber(cutoff)
  if c == nil or tonumber(ARGV[1]) < c then return 'revoked' end
end
if ARGV[2] == 'user_set' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
elseif ARGV[2] == 'user_del' then redis.call('HDEL', KEYS[2], ARGV[3])
elseif ARGV[2] == 'app_set' then redis.call('SET', KEYS[1], ARGV[4])
else redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', KEYS[3], ARGV[3])
return 'done'
";
