//! What the module decides, apart from NGINX: the directives' values, their inheritance, and
//! the check of one request's credentials. Tested without NGINX; `module.rs` feeds it.

use std::borrow::Cow;
use std::fmt::Write as _;

use stackjwt::{Algorithm, Error, Key, Principal, VERIFY_SCRATCH_LEN, Verifier, secret_from_file};
use zeroize::Zeroizing;

/// Where a token may come from besides the headers (`stackjwt_query_tokens`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryTokens {
    /// Never from the query.
    Off,
    /// From the query of WebSocket upgrades (`Upgrade: websocket`) without credential headers.
    WebSocket,
    /// From the query of any request without credential headers.
    Always,
}

/// One block's directives (`None`: not set here, inherited), and the keys built from them.
#[derive(Debug, Default)]
pub struct Settings {
    /// `stackjwt on | off`.
    pub enabled: Option<bool>,
    /// `stackjwt_secret_file`: its path and the secret it held at configuration load.
    pub secret: Option<Secret>,
    /// `stackjwt_previous_secret_file`.
    pub previous: Option<Secret>,
    /// `stackjwt_alg`.
    pub alg: Option<Algorithm>,
    /// `stackjwt_weak_secret on`.
    pub weak: Option<bool>,
    /// `stackjwt_leeway`.
    pub leeway: Option<u64>,
    /// `stackjwt_require_exp`.
    pub require_exp: Option<bool>,
    /// `stackjwt_allow_anonymous` (default on).
    pub allow_anonymous: Option<bool>,
    /// `stackjwt_allow_dev` (default off).
    pub allow_dev: Option<bool>,
    /// `stackjwt_query_tokens` (default websocket).
    pub query: Option<QueryTokens>,
    /// The current and previous keys, built by [`merge`](Self::merge).
    keys: Option<(Key, Option<Key>)>,
}

/// A secret read from a file, wiped when dropped.
#[derive(Clone)]
pub struct Secret {
    /// The file, for messages.
    pub path: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret").field("path", &self.path).finish_non_exhaustive()
    }
}

/// `path` as NGINX reads a file a directive names: as it is when absolute, else from
/// `prefix` (the directory of the configuration file, as `include` and `ssl_certificate`
/// read theirs), not from NGINX's working directory.
#[must_use]
pub fn resolve(prefix: &str, path: &str) -> String {
    if path.starts_with('/') || prefix.is_empty() {
        return path.to_owned();
    }
    let mut full = prefix.to_owned();
    if !full.ends_with('/') {
        full.push('/');
    }
    full.push_str(path);
    full
}

impl Secret {
    /// Reads `path`, trimmed as the `stackjwt` command trims ([`secret_from_file`]).
    ///
    /// # Errors
    /// A message naming the file.
    pub fn read(path: &str) -> Result<Self, String> {
        let contents = Zeroizing::new(std::fs::read(path).map_err(|e| format!("cannot read \"{path}\": {e}"))?);
        let bytes = Zeroizing::new(secret_from_file(&contents).to_vec());
        Ok(Self { path: path.to_owned(), bytes })
    }
}

/// A directive's `on | off`.
///
/// # Errors
/// A message saying what it wants.
pub fn on_off(value: &[u8]) -> Result<bool, String> {
    match value {
        b"on" => Ok(true),
        b"off" => Ok(false),
        other => Err(format!("wants on or off, not \"{}\"", String::from_utf8_lossy(other).escape_debug())),
    }
}

/// `stackjwt_alg`'s value.
///
/// # Errors
/// A message naming the algorithms.
pub fn algorithm(value: &[u8]) -> Result<Algorithm, String> {
    match value.to_ascii_lowercase().as_slice() {
        b"hs256" => Ok(Algorithm::Hs256),
        b"hs384" => Ok(Algorithm::Hs384),
        b"hs512" => Ok(Algorithm::Hs512),
        other => Err(format!(
            "unknown algorithm \"{}\": use hs256, hs384 or hs512",
            String::from_utf8_lossy(other).escape_debug()
        )),
    }
}

/// `stackjwt_leeway`'s value: whole seconds, up to a day.
///
/// # Errors
/// A message saying what it wants.
pub fn seconds(value: &[u8]) -> Result<u64, String> {
    std::str::from_utf8(value)
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .filter(|&s| s <= 86_400)
        .ok_or_else(|| {
            format!("wants whole seconds up to 86400, not \"{}\"", String::from_utf8_lossy(value).escape_debug())
        })
}

/// `stackjwt_query_tokens`' value.
///
/// # Errors
/// A message naming the values.
pub fn query_tokens(value: &[u8]) -> Result<QueryTokens, String> {
    match value {
        b"off" => Ok(QueryTokens::Off),
        b"websocket" => Ok(QueryTokens::WebSocket),
        b"always" => Ok(QueryTokens::Always),
        other => {
            Err(format!("wants off, websocket or always, not \"{}\"", String::from_utf8_lossy(other).escape_debug()))
        }
    }
}

impl Settings {
    /// Takes what this block does not set from `parent`, then builds the keys.
    ///
    /// # Errors
    /// A message for a secret that makes no key (too short, say), or `stackjwt on` without
    /// a secret.
    pub fn merge(&mut self, parent: &Self) -> Result<(), String> {
        let own_keys = self.secret.is_some() || self.previous.is_some() || self.alg.is_some() || self.weak.is_some();
        self.enabled = self.enabled.or(parent.enabled);
        self.secret = self.secret.take().or_else(|| parent.secret.clone());
        self.previous = self.previous.take().or_else(|| parent.previous.clone());
        self.alg = self.alg.or(parent.alg);
        self.weak = self.weak.or(parent.weak);
        self.leeway = self.leeway.or(parent.leeway);
        self.require_exp = self.require_exp.or(parent.require_exp);
        self.allow_anonymous = self.allow_anonymous.or(parent.allow_anonymous);
        self.allow_dev = self.allow_dev.or(parent.allow_dev);
        self.query = self.query.or(parent.query);
        if !own_keys && parent.keys.is_some() {
            self.keys.clone_from(&parent.keys);
            return Ok(());
        }
        let Some(secret) = &self.secret else {
            if self.enabled == Some(true) {
                return Err("\"stackjwt on\" needs \"stackjwt_secret_file\"".into());
            }
            return Ok(());
        };
        let alg = self.alg.unwrap_or(Algorithm::Hs256);
        let weak = self.weak.unwrap_or(false);
        let key = |s: &Secret| {
            let key = if weak { Key::new_weak(alg, &s.bytes) } else { Key::new(alg, &s.bytes) };
            key.map_err(|e| match e {
                Error::WeakSecret { min } => format!(
                    "the secret in \"{}\" is shorter than {min} bytes: use a longer one, or \"stackjwt_weak_secret on\" to accept it",
                    s.path
                ),
                other => format!("the secret in \"{}\": {other}", s.path),
            })
        };
        let current = key(secret)?;
        let previous = self.previous.as_ref().map(key).transpose()?;
        self.keys = Some((current, previous));
        Ok(())
    }

    /// Whether requests here are checked.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled == Some(true) && self.keys.is_some()
    }

    /// Where tokens may come from besides the headers.
    #[must_use]
    pub fn query(&self) -> QueryTokens {
        self.query.unwrap_or(QueryTokens::WebSocket)
    }
}

/// The values a request sent for one header: none, one, or more (refused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Values<'r> {
    /// Not sent.
    #[default]
    None,
    /// Sent once.
    One(&'r [u8]),
    /// Sent more than once.
    Many,
}

impl<'r> Values<'r> {
    /// Counts one more value.
    pub const fn push(&mut self, value: &'r [u8]) {
        *self = match self {
            Self::None => Self::One(value),
            _ => Self::Many,
        };
    }
}

/// The request's parts a check reads.
#[derive(Debug, Default)]
pub struct Credentials<'r> {
    /// `Authorization` values (more than one is refused).
    pub authorization: Values<'r>,
    /// `stream-auth-type` values.
    pub auth_type: Values<'r>,
    /// Whether the request asks for a WebSocket upgrade.
    pub websocket: bool,
    /// The query string (after `?`), raw.
    pub query: &'r [u8],
}

/// Who a request comes from, once allowed; the user id is read in place in the [`Scratch`].
#[derive(Debug, PartialEq, Eq)]
pub struct Allowed<'s> {
    /// `user`, `server`, `dev` or `anonymous` (`$stackjwt_principal`).
    pub principal: &'static str,
    /// The user id (`$stackjwt_user_id`), for users and dev tokens.
    pub user_id: Option<&'s str>,
    /// The token's `exp` (`$stackjwt_exp`).
    pub exp: Option<u64>,
}

/// Where a check decodes a token: 1 KiB on the stack, enough for ordinary tokens (a payload of
/// up to 1 KiB), and the heap only for a longer one, or for the previous key's try.
pub struct Scratch {
    short: [u8; 1024],
    long: Vec<u8>,
    spare: Vec<u8>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Self { short: [0; 1024], long: Vec::new(), spare: Vec::new() }
    }
}

impl Scratch {
    /// Room for a token of `len` bytes (it needs at most 1.5 times that), and a second room
    /// for the previous key's try, made only if it is tried.
    fn for_token(&mut self, len: usize) -> (&mut [u8], &mut Vec<u8>) {
        if len > 512 {
            self.long.resize(VERIFY_SCRATCH_LEN, 0);
            (&mut self.long, &mut self.spare)
        } else {
            (&mut self.short, &mut self.long)
        }
    }
}

/// A refusal: status and Stream's JSON body.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    /// 401, or 500 for the verifier's own faults.
    pub status: u16,
    /// `{"code":..,"message":..,"StatusCode":..}`.
    pub body: String,
}

fn refused(code: i32, message: &str, status: u16) -> Refused {
    let mut body = String::with_capacity(64);
    let _ = write!(body, r#"{{"code":{code},"message":"{message}","StatusCode":{status}}}"#);
    Refused { status, body }
}

fn token_refusal(e: Error) -> Refused {
    let mut out = [0u8; 256];
    match e.stream_json(&mut out) {
        Ok(body) => Refused { status: e.http_status(), body: body.to_owned() },
        Err(_) => refused(-1, "internal error", 500),
    }
}

/// The one value of a credential, visible ASCII.
fn single<'r>(values: Values<'r>, name: &str) -> Result<Option<&'r str>, Refused> {
    match values {
        Values::None => Ok(None),
        Values::One(one) if one.iter().all(|b| matches!(b, b' '..=b'~')) => {
            Ok(std::str::from_utf8(one).ok().map(str::trim))
        }
        Values::One(_) => Err(refused(5, &format!("{name} header is not visible ascii"), 401)),
        Values::Many => Err(refused(5, &format!("duplicate {name} header"), 401)),
    }
}

/// `application/x-www-form-urlencoded` decoding of one query value.
fn decode(value: &[u8]) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16)).and_then(|d| u8::try_from(d).ok());
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let [b, tail @ ..] = rest {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => match (hex(tail.first()), hex(tail.get(1))) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    rest = tail.get(2..).unwrap_or_default();
                }
                _ => out.push(b'%'),
            },
            _ => out.push(*b),
        }
    }
    out
}

/// The credentials in a query string: `authorization` and `stream-auth-type`, decoded.
fn from_query(query: &[u8]) -> Result<(Option<String>, Option<String>), Refused> {
    let (mut authorization, mut auth_type) = (None, None);
    for pair in query.split(|&b| b == b'&') {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let (name, value) = (decode(halves.next().unwrap_or_default()), halves.next().unwrap_or_default());
        let (slot, label) = match name.as_slice() {
            b"authorization" => (&mut authorization, "authorization"),
            b"stream-auth-type" => (&mut auth_type, "stream-auth-type"),
            _ => continue,
        };
        let value = String::from_utf8_lossy(&decode(value)).into_owned();
        if slot.replace(value).is_some() {
            return Err(refused(5, &format!("duplicate {label} query parameter"), 401));
        }
    }
    Ok((authorization, auth_type))
}

/// Whether every HTTP receiver reads `id` back unchanged from a header value: visible ASCII,
/// single spaces inside only (the rule of stackjwt-authz's `is_forwardable`).
#[must_use]
pub fn is_forwardable(id: &str) -> bool {
    let bytes = id.as_bytes();
    let visible = |b: &u8| matches!(b, b'!'..=b'~');
    bytes.first().is_some_and(visible)
        && bytes.last().is_some_and(visible)
        && bytes.iter().all(|b| visible(b) || *b == b' ')
}

/// Checks one request at `now` (Unix seconds), decoding in `scratch`.
///
/// # Errors
/// The refusal to answer: Stream's status and body.
pub fn check<'s>(
    settings: &Settings,
    request: &Credentials<'_>,
    now: u64,
    scratch: &'s mut Scratch,
) -> Result<Allowed<'s>, Refused> {
    let Some((current, previous)) = &settings.keys else {
        return Err(refused(-1, "no key configured", 500));
    };
    let mut authorization = single(request.authorization, "authorization")?.map(Cow::Borrowed);
    let mut auth_type = single(request.auth_type, "stream-auth-type")?.map(Cow::Borrowed);
    let query_allowed = match settings.query() {
        QueryTokens::Off => false,
        QueryTokens::WebSocket => request.websocket,
        QueryTokens::Always => true,
    };
    if authorization.is_none() && auth_type.is_none() && query_allowed {
        let (a, t) = from_query(request.query)?;
        (authorization, auth_type) = (a.map(Cow::Owned), t.map(Cow::Owned));
    }
    let verify = |key: &Key, scratch: &'s mut [u8]| -> Result<Allowed<'s>, Error> {
        let v = Verifier::new(key)
            .leeway(settings.leeway.unwrap_or(0))
            .require_exp(settings.require_exp.unwrap_or(false))
            .allow_dev_tokens(settings.allow_dev.unwrap_or(false));
        let (principal, claims) =
            v.authenticate_claims(auth_type.as_deref(), authorization.as_deref(), now, scratch)?;
        let exp = claims.and_then(|c| c.exp());
        Ok(match principal {
            Principal::User(id) => Allowed { principal: "user", user_id: Some(id), exp },
            Principal::Server => Allowed { principal: "server", user_id: None, exp },
            Principal::Dev(id) => Allowed { principal: "dev", user_id: Some(id), exp },
            Principal::Anonymous => Allowed { principal: "anonymous", user_id: None, exp: None },
        })
    };
    let (first, second) = scratch.for_token(authorization.as_ref().map_or(0, |t| t.len()));
    // The previous key is tried only after the current one's mismatch, in a room of its own.
    let outcome = match (verify(current, first), previous) {
        (Err(first @ (Error::SignatureMismatch | Error::UnknownKid)), Some(previous)) => {
            second.resize(VERIFY_SCRATCH_LEN, 0);
            match verify(previous, second) {
                Err(Error::UnknownKid) => Err(first),
                outcome => outcome,
            }
        }
        (outcome, _) => outcome,
    };
    let allowed = outcome.map_err(token_refusal)?;
    if allowed.principal == "anonymous" && !settings.allow_anonymous.unwrap_or(true) {
        return Err(refused(5, "anonymous access denied", 401));
    }
    if allowed.user_id.is_some_and(|id| !is_forwardable(id)) {
        return Err(refused(5, "user id cannot be forwarded in a header unchanged", 401));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn relative_paths_are_read_from_the_configurations_directory() {
        assert_eq!(resolve("/etc/nginx/", "secrets/k1"), "/etc/nginx/secrets/k1");
        assert_eq!(resolve("/etc/nginx", "k1"), "/etc/nginx/k1");
        assert_eq!(resolve("/etc/nginx/", "/run/secrets/k1"), "/run/secrets/k1");
        assert_eq!(resolve("", "k1"), "k1");
    }

    const SECRET: &[u8] = b"a module test secret of 32 bytes!";

    fn settings(lines: &[(&str, &str)]) -> Settings {
        let mut s = Settings {
            enabled: Some(true),
            secret: Some(secret("secret", &[SECRET, b"\r\n"].concat())),
            ..Settings::default()
        };
        for (name, value) in lines {
            match *name {
                "allow_anonymous" => s.allow_anonymous = Some(on_off(value.as_bytes()).unwrap()),
                "allow_dev" => s.allow_dev = Some(on_off(value.as_bytes()).unwrap()),
                "query" => s.query = Some(query_tokens(value.as_bytes()).unwrap()),
                _ => unreachable!(),
            }
        }
        s.merge(&Settings::default()).unwrap();
        s
    }

    fn token(id: &str) -> String {
        Key::new(Algorithm::Hs256, SECRET).unwrap().user_token(id, None, None, &mut [0u8; 512]).unwrap().to_owned()
    }

    #[test]
    fn credentials_are_read_as_the_axum_layer_reads_them() {
        let s = settings(&[]);
        let t = token("john");
        let jwt = Credentials {
            authorization: Values::One(t.as_bytes()),
            auth_type: Values::One(b"jwt"),
            ..Credentials::default()
        };
        assert_eq!(check(&s, &jwt, 0, &mut Scratch::default()).unwrap().user_id, Some("john"));
        let twice =
            Credentials { authorization: Values::Many, auth_type: Values::One(b"jwt"), ..Credentials::default() };
        assert_eq!(
            check(&s, &twice, 0, &mut Scratch::default()).unwrap_err().body,
            r#"{"code":5,"message":"duplicate authorization header","StatusCode":401}"#
        );
        let query = format!("api_key=k&authorization={}&stream-auth-type=jwt", t.replace('.', "%2E"));
        let ws = Credentials { websocket: true, query: query.as_bytes(), ..Credentials::default() };
        assert_eq!(check(&s, &ws, 0, &mut Scratch::default()).unwrap().principal, "user");
        let plain = Credentials { query: query.as_bytes(), ..Credentials::default() };
        assert_eq!(
            check(&s, &plain, 0, &mut Scratch::default()).unwrap_err().status,
            401,
            "not a WebSocket: the query is not read"
        );
        assert_eq!(
            check(&settings(&[("query", "always")]), &plain, 0, &mut Scratch::default()).unwrap().principal,
            "user"
        );
        assert!(check(&settings(&[("query", "off")]), &ws, 0, &mut Scratch::default()).is_err());
        let anonymous = Credentials { auth_type: Values::One(b"anonymous"), ..Credentials::default() };
        assert_eq!(check(&s, &anonymous, 0, &mut Scratch::default()).unwrap().principal, "anonymous");
        let denied =
            check(&settings(&[("allow_anonymous", "off")]), &anonymous, 0, &mut Scratch::default()).unwrap_err();
        assert_eq!(denied.body, r#"{"code":5,"message":"anonymous access denied","StatusCode":401}"#);
        let spaced = token("admin ");
        let c = Credentials {
            authorization: Values::One(spaced.as_bytes()),
            auth_type: Values::One(b"jwt"),
            ..Credentials::default()
        };
        assert_eq!(
            check(&s, &c, 0, &mut Scratch::default()).unwrap_err().status,
            401,
            "an id a receiver would read as another"
        );
        let bad = Credentials {
            authorization: Values::One(b"a\x01b"),
            auth_type: Values::One(b"jwt"),
            ..Credentials::default()
        };
        assert!(check(&s, &bad, 0, &mut Scratch::default()).unwrap_err().body.contains("not visible ascii"));
    }

    /// A secret in a file of its own (tests run in parallel), read as a directive reads it.
    fn secret(name: &str, bytes: &[u8]) -> Secret {
        static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("stackjwt-nginx-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{n}"));
        std::fs::write(&path, bytes).unwrap();
        let secret = Secret::read(path.to_str().unwrap()).unwrap();
        std::fs::remove_file(path).unwrap();
        secret
    }

    fn jwt(t: &str) -> Credentials<'_> {
        Credentials {
            authorization: Values::One(t.as_bytes()),
            auth_type: Values::One(b"jwt"),
            ..Credentials::default()
        }
    }

    #[test]
    fn a_block_that_names_a_key_part_builds_its_own_keys() {
        const OTHER: &[u8] = b"another module secret of 32 bytes";
        let parent = settings(&[]);
        let by = |alg, secret: &[u8]| {
            Key::new(alg, secret).unwrap().user_token("john", None, None, &mut [0u8; 512]).unwrap().to_owned()
        };
        let passes = |s: &Settings, t: &str| check(s, &jwt(t), 0, &mut Scratch::default()).is_ok();
        let merged = |child: Settings| {
            let mut child = child;
            child.merge(&parent).unwrap();
            child
        };
        // Nothing of its own: the parent's keys.
        let inherits = merged(Settings::default());
        assert!(inherits.enabled() && passes(&inherits, &token("john")));
        // Its own secret: that secret, not the parent's.
        let own = merged(Settings { secret: Some(secret("other", OTHER)), ..Settings::default() });
        assert!(passes(&own, &by(Algorithm::Hs256, OTHER)) && !passes(&own, &token("john")));
        // Its own previous secret: both.
        let rotating = merged(Settings { previous: Some(secret("previous", OTHER)), ..Settings::default() });
        assert!(passes(&rotating, &by(Algorithm::Hs256, OTHER)) && passes(&rotating, &token("john")));
        // Its own algorithm: the parent's secret under it.
        let long = [SECRET, SECRET].concat();
        let mut parent_long =
            Settings { enabled: Some(true), secret: Some(secret("long", &long)), ..Settings::default() };
        parent_long.merge(&Settings::default()).unwrap();
        let mut alg = Settings { alg: Some(Algorithm::Hs512), ..Settings::default() };
        alg.merge(&parent_long).unwrap();
        assert!(passes(&alg, &by(Algorithm::Hs512, &long)) && !passes(&alg, &by(Algorithm::Hs256, &long)));
        // Its own weak_secret: a short secret the parent's setting refuses.
        let short = || Settings { secret: Some(secret("short", b"short secret")), ..Settings::default() };
        assert!(short().merge(&parent).unwrap_err().contains("is shorter than 32 bytes"));
        let weak = merged(Settings { weak: Some(true), ..short() });
        let t = Key::new_weak(Algorithm::Hs256, b"short secret").unwrap();
        assert!(passes(&weak, t.user_token("john", None, None, &mut [0u8; 512]).unwrap()));
    }

    #[test]
    fn a_block_checks_only_when_on_with_a_key() {
        assert!(!Settings { enabled: Some(true), ..Settings::default() }.enabled(), "on, no key");
        assert!(settings(&[]).enabled());
        let mut off = Settings { enabled: Some(false), ..Settings::default() };
        off.merge(&settings(&[])).unwrap();
        assert!(!off.enabled(), "off, with the parent's key");
        let mut unset = Settings::default();
        unset.merge(&Settings::default()).unwrap();
        assert!(!unset.enabled(), "never turned on");
        let no_key = check(&Settings::default(), &Credentials::default(), 0, &mut Scratch::default()).unwrap_err();
        assert_eq!(
            (no_key.status, no_key.body.as_str()),
            (500, r#"{"code":-1,"message":"no key configured","StatusCode":500}"#)
        );
    }

    #[test]
    fn a_long_token_is_checked_with_scratch_from_the_heap() {
        let s = settings(&[]);
        let id = "u".repeat(1200);
        let t = Key::new(Algorithm::Hs256, SECRET)
            .unwrap()
            .user_token(&id, None, None, &mut [0u8; 2048])
            .unwrap()
            .to_owned();
        assert!(t.len() > 1600, "a payload longer than the 1 KiB of stack scratch");
        assert_eq!(check(&s, &jwt(&t), 0, &mut Scratch::default()).unwrap().user_id, Some(id.as_str()));
        // Signed with the previous secret: checked again in a room of its own.
        let mut rotated = Settings {
            secret: Some(secret("new", b"the new module secret of 32 bytes")),
            previous: Some(secret("old", SECRET)),
            ..Settings::default()
        };
        rotated.merge(&s).unwrap();
        assert_eq!(check(&rotated, &jwt(&t), 0, &mut Scratch::default()).unwrap().user_id, Some(id.as_str()));
        let short = token("john");
        assert_eq!(check(&rotated, &jwt(&short), 0, &mut Scratch::default()).unwrap().user_id, Some("john"));
    }

    #[test]
    fn secrets_and_ids_print_safely() {
        let s = secret("printed", SECRET);
        let printed = format!("{s:?}");
        assert!(printed.contains("printed") && printed.contains(".."), "{printed}");
        assert!(!printed.contains("module test secret"), "{printed}");
        assert_eq!(format!("{:?}", Scratch::default()), "Scratch { .. }", "a token's bytes are not printed");
        assert!(is_forwardable("john doe") && is_forwardable("a"));
        for bad in ["", " a", "a ", "a\tb", "a\nb", "é"] {
            assert!(!is_forwardable(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_header_sent_twice_is_seen_as_many() {
        let mut v = Values::None;
        v.push(b"a");
        assert_eq!(v, Values::One(b"a"));
        v.push(b"b");
        assert_eq!(v, Values::Many);
        v.push(b"c");
        assert_eq!(v, Values::Many);
    }

    #[test]
    fn directive_values_are_checked() {
        assert_eq!(on_off(b"on"), Ok(true));
        assert!(on_off(b"yes").unwrap_err().contains("wants on or off"));
        assert_eq!(algorithm(b"HS512"), Ok(Algorithm::Hs512));
        assert!(algorithm(b"rs256").unwrap_err().contains("unknown algorithm"));
        assert_eq!(seconds(b"30"), Ok(30));
        for bad in [&b""[..], b"-1", b"+5", b"1.5", b"86401", b"9999999999999999999999"] {
            assert!(seconds(bad).is_err());
        }
        assert!(query_tokens(b"sometimes").is_err());
        assert_eq!(decode(b"a+b%2e%zz%"), b"a b.%zz%");
        let mut on = Settings { enabled: Some(true), ..Settings::default() };
        assert!(on.merge(&Settings::default()).unwrap_err().contains("needs \"stackjwt_secret_file\""));
    }
}
