//! The check itself: an owned verifier configuration, the owned principal it yields, and the
//! refusal with Stream's JSON body.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};
use stackjwt::{Claims, Error, Key, KeySet, KeySource, Revocations, VERIFY_SCRATCH_LEN, Verifier};

use crate::credentials::Credentials;
use crate::revocations::RevocationMirror;

/// Tokens up to this long are checked with a `2 * SHORT_TOKEN`-byte scratch (enough: 1.5
/// times the token's length); longer ones with [`VERIFY_SCRATCH_LEN`].
const SHORT_TOKEN: usize = 512;

/// The keys a [`StreamAuth`] owns: one [`Key`], a [`KeySet`] (rotation by `kid`) or a
/// [`KeyPair`] (rotation by trying the previous secret). Sealed: implemented for these only.
pub trait Keys: Send + Sync + fmt::Debug + 'static + sealed::Sealed {
    /// Runs [`Verifier::authenticate_claims`] with these keys and `options`, and returns the
    /// caller (anonymous callers included) with the token's `exp`.
    #[doc(hidden)]
    fn authenticate(
        &self,
        options: &Options,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &mut [u8],
    ) -> Result<Caller, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for stackjwt::Key {}
    impl<const N: usize> Sealed for stackjwt::KeySet<N> {}
    impl Sealed for super::KeyPair {}
}

/// The owned caller of a verified request.
fn owned(verified: (stackjwt::Principal<'_>, Option<Claims<'_>>)) -> Caller {
    let (principal, claims) = verified;
    let (exp, iat) = (claims.and_then(|c| c.exp()), claims.and_then(|c| c.iat()));
    match principal {
        stackjwt::Principal::User(id) => Caller::User { id: id.to_owned(), exp, iat },
        stackjwt::Principal::Server => Caller::Server { exp, iat },
        stackjwt::Principal::Dev(id) => Caller::Dev { id: id.to_owned(), exp, iat },
        stackjwt::Principal::Anonymous => Caller::Anonymous,
    }
}

impl Keys for Key {
    fn authenticate(
        &self,
        options: &Options,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &mut [u8],
    ) -> Result<Caller, Error> {
        options.apply(Verifier::new(self)).authenticate_claims(auth_type, authorization, now, scratch).map(owned)
    }
}

impl<const N: usize> Keys for KeySet<N> {
    fn authenticate(
        &self,
        options: &Options,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &mut [u8],
    ) -> Result<Caller, Error> {
        options.apply(Verifier::with_keys(self)).authenticate_claims(auth_type, authorization, now, scratch).map(owned)
    }
}

/// An app's current key and, while a secret rotation is under way, its previous one.
///
/// A token is checked with the current key; only when its signature does not match (or it
/// names a `kid` that is not the current key's) is it checked with the previous key: at most
/// two MACs per token. A token whose `kid` names the previous key costs one.
#[derive(Clone, Debug)]
pub struct KeyPair {
    current: Key,
    previous: Option<Key>,
}

impl KeyPair {
    /// `current`, and the key of the secret it replaces (accepted until it is dropped).
    #[must_use]
    pub const fn new(current: Key, previous: Option<Key>) -> Self {
        Self { current, previous }
    }
}

impl Keys for KeyPair {
    fn authenticate(
        &self,
        options: &Options,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &mut [u8],
    ) -> Result<Caller, Error> {
        match (self.current.authenticate(options, auth_type, authorization, now, scratch), &self.previous) {
            (Err(first @ (Error::SignatureMismatch | Error::UnknownKid)), Some(previous)) => {
                // A kid that names neither key, or names the current one (whose MAC did not
                // match), is answered as the current key answered.
                match previous.authenticate(options, auth_type, authorization, now, scratch) {
                    Err(Error::UnknownKid) => Err(first),
                    outcome => outcome,
                }
            }
            (outcome, _) => outcome,
        }
    }
}

/// The [`Verifier`] settings a [`StreamAuth`] applies to every request.
#[derive(Clone, Default)]
#[doc(hidden)]
pub struct Options {
    leeway: u64,
    require_exp: bool,
    allow_dev: bool,
    revoked_before: Option<u64>,
    revocations: Option<Arc<dyn Revocations + Send + Sync>>,
    mirror: Option<Arc<RevocationMirror>>,
}

impl Options {
    fn apply<'k, K: KeySource<'k>>(&'k self, verifier: Verifier<'k, K>) -> Verifier<'k, K> {
        let mut v = verifier.leeway(self.leeway).require_exp(self.require_exp).allow_dev_tokens(self.allow_dev);
        // The later of the fixed cutoff and the mirror's, which changes while serving.
        let live = self.mirror.as_deref().and_then(RevocationMirror::cutoff);
        if let Some(cutoff) = self.revoked_before.max(live) {
            v = v.revoked_before(cutoff);
        }
        if let Some(mirror) = &self.mirror {
            v = v.revocations(&**mirror);
        } else if let Some(per_user) = &self.revocations {
            v = v.revocations(&**per_user);
        }
        v
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("leeway", &self.leeway)
            .field("require_exp", &self.require_exp)
            .field("allow_dev", &self.allow_dev)
            .field("revoked_before", &self.revoked_before)
            .field("revocations", &self.revocations.is_some())
            .field("mirror", &self.mirror.as_deref().map(RevocationMirror::len))
            .finish()
    }
}

/// Where the [`StreamAuthLayer`](crate::StreamAuthLayer) looks for credentials besides the
/// headers (which always come first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryTokens {
    /// Never in the query.
    Never,
    /// In the query of WebSocket upgrade requests (`Upgrade: websocket`) that carry no
    /// credential headers, as Stream's clients connect (default).
    #[default]
    WebSocket,
    /// In the query of any request that carries no credential headers.
    Always,
}

/// What a request is checked with: the keys, owned, and the [`Verifier`] settings. Build it
/// once, then make a [`layer`](Self::layer) of it (shared by every request through an `Arc`).
///
/// ```
/// use stackjwt_axum::{Algorithm, Key, StreamAuth};
///
/// let key = Key::new(Algorithm::Hs256, b"an api secret of 32 bytes or more")?;
/// let auth = StreamAuth::new(key).leeway(30).require_exp(true);
/// # Ok::<(), stackjwt::Error>(())
/// ```
#[derive(Debug)]
pub struct StreamAuth<K: Keys = Key> {
    keys: Arc<K>,
    options: Options,
    deny_anonymous: bool,
    query: QueryTokens,
}

impl<K: Keys> Clone for StreamAuth<K> {
    fn clone(&self) -> Self {
        Self {
            keys: Arc::clone(&self.keys),
            options: self.options.clone(),
            deny_anonymous: self.deny_anonymous,
            query: self.query,
        }
    }
}

impl StreamAuth<Key> {
    /// Checks tokens signed with `key`.
    #[must_use]
    pub fn new(key: Key) -> Self {
        Self::from_keys(key)
    }
}

impl StreamAuth<KeyPair> {
    /// Checks tokens signed with the pair's current key, or its previous one ([`KeyPair`]).
    #[must_use]
    pub fn rotating(keys: KeyPair) -> Self {
        Self::from_keys(keys)
    }
}

impl<const N: usize> StreamAuth<KeySet<N>> {
    /// Checks tokens signed with any key of `keys`, picked by the header's `kid`
    /// ([`Verifier::with_keys`]).
    #[must_use]
    pub fn with_keys(keys: KeySet<N>) -> Self {
        Self::from_keys(keys)
    }
}

impl<K: Keys> StreamAuth<K> {
    fn from_keys(keys: K) -> Self {
        Self { keys: Arc::new(keys), options: Options::default(), deny_anonymous: false, query: QueryTokens::default() }
    }

    /// Seconds of clock skew tolerated ([`Verifier::leeway`]; default 0).
    #[must_use]
    pub const fn leeway(mut self, seconds: u64) -> Self {
        self.options.leeway = seconds;
        self
    }

    /// Whether tokens without `exp` are refused ([`Verifier::require_exp`]; default `false`).
    #[must_use]
    pub const fn require_exp(mut self, require: bool) -> Self {
        self.options.require_exp = require;
        self
    }

    /// Whether development tokens are accepted ([`Verifier::allow_dev_tokens`]; default
    /// `false`). Never in production.
    #[must_use]
    pub const fn allow_dev_tokens(mut self, allow: bool) -> Self {
        self.options.allow_dev = allow;
        self
    }

    /// App-wide revocation ([`Verifier::revoked_before`]).
    #[must_use]
    pub const fn revoked_before(mut self, cutoff: u64) -> Self {
        self.options.revoked_before = Some(cutoff);
        self
    }

    /// Per-user revocation ([`Verifier::revocations`]), from a store shared with whoever
    /// updates it.
    #[must_use]
    pub fn revocations(mut self, per_user: Arc<dyn Revocations + Send + Sync>) -> Self {
        self.options.revocations = Some(per_user);
        self
    }

    /// Revocations that change while serving ([`RevocationMirror`]): its per-user cutoffs
    /// replace [`revocations`](Self::revocations), and its app-wide cutoff applies when later
    /// than [`revoked_before`](Self::revoked_before)'s.
    #[must_use]
    pub fn revocation_mirror(mut self, mirror: Arc<RevocationMirror>) -> Self {
        self.options.mirror = Some(mirror);
        self
    }

    /// Whether anonymous callers (`stream-auth-type: anonymous`) are refused with
    /// [`Refusal::AnonymousDenied`] (default `false`: Stream lets them read public data).
    #[must_use]
    pub const fn deny_anonymous(mut self, deny: bool) -> Self {
        self.deny_anonymous = deny;
        self
    }

    /// Where tokens may come from besides the headers (default [`QueryTokens::WebSocket`]).
    #[must_use]
    pub const fn query_tokens(mut self, query: QueryTokens) -> Self {
        self.query = query;
        self
    }

    /// Checks `credentials` at `now` (Unix seconds), with every check of
    /// [`Verifier::authenticate`].
    ///
    /// # Errors
    /// [`Refusal::Token`] with the verifier's error, or [`Refusal::AnonymousDenied`].
    pub fn check_at(&self, credentials: &Credentials<'_>, now: u64) -> Result<Caller, Refusal> {
        // A token needs at most 1.5 times its length of scratch (twice its decoded payload):
        // ordinary tokens get a small one, so each request does not clear 6 KiB.
        let short = credentials.authorization.as_deref().is_none_or(|t| t.len() <= SHORT_TOKEN);
        if short {
            self.check_with(credentials, now, &mut [0u8; SHORT_TOKEN * 2])
        } else {
            self.check_with(credentials, now, &mut [0u8; VERIFY_SCRATCH_LEN])
        }
    }

    fn check_with(&self, credentials: &Credentials<'_>, now: u64, scratch: &mut [u8]) -> Result<Caller, Refusal> {
        let caller = self
            .keys
            .authenticate(
                &self.options,
                credentials.auth_type.as_deref(),
                credentials.authorization.as_deref(),
                now,
                scratch,
            )
            .map_err(Refusal::Token)?;
        if caller == Caller::Anonymous && self.deny_anonymous {
            return Err(Refusal::AnonymousDenied);
        }
        Ok(caller)
    }

    /// [`check_at`](Self::check_at) with the system clock.
    ///
    /// # Errors
    /// Those of [`check_at`](Self::check_at), and [`Error::ClockBeforeEpoch`] (a 500).
    pub fn check(&self, credentials: &Credentials<'_>) -> Result<Caller, Refusal> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Refusal::Token(Error::ClockBeforeEpoch))?
            .as_secs();
        self.check_at(credentials, now)
    }

    /// Checks a request as the layer does: the headers, else (as
    /// [`query_tokens`](Self::query_tokens) allows) the URI's query.
    ///
    /// # Errors
    /// Those of [`check`](Self::check), and those of finding the credentials
    /// ([`Credentials::from_headers`], [`Credentials::from_uri`]).
    pub fn check_request(&self, headers: &HeaderMap, uri: &http::Uri) -> Result<Caller, Refusal> {
        let mut credentials = Credentials::from_headers(headers)?;
        let from_query = match self.query {
            QueryTokens::Never => false,
            QueryTokens::WebSocket => is_websocket_upgrade(headers),
            QueryTokens::Always => true,
        };
        if credentials.is_empty() && from_query {
            credentials = Credentials::from_query(uri.query().unwrap_or(""))?;
        }
        self.check(&credentials)
    }
}

/// Whether a request asks to become a WebSocket (`Upgrade: websocket`, any case).
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers.get_all(http::header::UPGRADE).iter().any(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

/// Who a checked request comes from: the owned form of [`stackjwt::Principal`] (named apart
/// from it, so that both crates' names import side by side), with the
/// token's `exp` and `iat`. The [`StreamAuthLayer`](crate::StreamAuthLayer) puts it into the request's
/// extensions; handlers take it as an extractor.
///
/// A user id is any non-empty JSON string the token's signer chose. Before you copy one into
/// a header of your own, check it with [`is_forwardable`](crate::is_forwardable) (or use
/// [`user_id_header`](crate::user_id_header)): every HTTP receiver drops a value's leading and
/// trailing whitespace, so `"admin "` would arrive as `admin`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Caller {
    /// A user, by a signed user token (guests included).
    User {
        /// The `user_id` claim.
        id: String,
        /// The `exp` claim, if the token has one.
        exp: Option<u64>,
        /// The `iat` claim, if the token has one.
        iat: Option<u64>,
    },
    /// The app's backend, by a server token.
    Server {
        /// The `exp` claim, if the token has one.
        exp: Option<u64>,
        /// The `iat` claim, if the token has one.
        iat: Option<u64>,
    },
    /// A user by a development token (only when allowed).
    Dev {
        /// The `user_id` claim.
        id: String,
        /// The `exp` claim, if the token has one.
        exp: Option<u64>,
        /// The `iat` claim, if the token has one.
        iat: Option<u64>,
    },
    /// An anonymous caller (no token).
    Anonymous,
}

impl Caller {
    /// `user`, `server`, `dev` or `anonymous` (the `X-Stream-Principal` header's values).
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::User { .. } => "user",
            Self::Server { .. } => "server",
            Self::Dev { .. } => "dev",
            Self::Anonymous => "anonymous",
        }
    }

    /// The user id, for users and development tokens.
    #[must_use]
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::User { id, .. } | Self::Dev { id, .. } => Some(id),
            Self::Server { .. } | Self::Anonymous => None,
        }
    }

    /// The token's `exp`, if it has one.
    #[must_use]
    pub const fn exp(&self) -> Option<u64> {
        match self {
            Self::User { exp, .. } | Self::Server { exp, .. } | Self::Dev { exp, .. } => *exp,
            Self::Anonymous => None,
        }
    }

    /// The token's `iat`, if it has one.
    #[must_use]
    pub const fn iat(&self) -> Option<u64> {
        match self {
            Self::User { iat, .. } | Self::Server { iat, .. } | Self::Dev { iat, .. } => *iat,
            Self::Anonymous => None,
        }
    }
}

/// Why a request was refused. Every refusal is answered with Stream's JSON error body
/// (`{"code":..,"message":..,"StatusCode":..}`) and its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The verifier refused the credentials (or, with a 500, could not check them).
    Token(Error),
    /// A credential header came more than once.
    DuplicateHeader(&'static str),
    /// A credential header's value is not visible ASCII.
    InvalidHeaderValue(&'static str),
    /// A credential query parameter came more than once.
    DuplicateQueryParameter(&'static str),
    /// An anonymous caller, where anonymous access is denied.
    AnonymousDenied,
    /// No `api_key` (where the server checks several apps' tokens), or one the server does not
    /// know.
    UnknownApiKey,
    /// The token is valid, but revocations cannot be trusted (the shared store has been
    /// out of reach for longer than allowed) and the server fails closed. A 503 (Stream code
    /// -1): retry.
    RevocationsUnavailable,
    /// The token is valid, but its user id is not one a header carries unchanged (leading or
    /// trailing whitespace, a control character, DEL, a byte past ASCII: see
    /// [`is_forwardable`](crate::is_forwardable)), so a forward-auth answer cannot name the
    /// user as it is (`--user-id-encoding percent` forwards such ids encoded).
    UnforwardableUserId,
    /// The forwarded-URI headers (`X-Forwarded-Uri`, `X-Original-URI`) disagree: a client
    /// sent its own beside the proxy's. A 400 (Stream code 4).
    ConflictingForwardedUri,
    /// The forwarded URI has a fragment (`#`): NGINX's `$request_uri` keeps what a client sends
    /// after `#`, which the proxy's own `$args` and an upstream's URI parser drop, so an
    /// `api_key` there would pick an app the upstream never sees. A 400 (Stream code 4).
    FragmentInForwardedUri,
    /// The app the request names is configured, but not allowed on this listener or route
    /// (`allowed_api_keys`, `X-Stream-Allowed-Api-Keys`). A 403 (Stream code 17).
    ApiKeyNotAllowed,
}

impl Refusal {
    /// The HTTP status: 401, or 500 for the verifier's own faults ([`Error::http_status`]).
    #[must_use]
    pub fn status(self) -> StatusCode {
        match self {
            Self::Token(e) => StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Self::ConflictingForwardedUri | Self::FragmentInForwardedUri => StatusCode::BAD_REQUEST,
            Self::ApiKeyNotAllowed => StatusCode::FORBIDDEN,
            Self::RevocationsUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// Stream's error code: the verifier's ([`Error::stream_json`]), 4 (input error) for
    /// conflicting forwarded URIs or one with a fragment, 17 (not allowed) for an app not
    /// allowed here, -1 (retry) while revocations are unavailable, else 5 (authentication
    /// error).
    #[must_use]
    pub const fn stream_code(self) -> i32 {
        match self {
            Self::Token(e) => match (e.stream_code(), e.is_authentication_failure()) {
                (Some(code), _) => code as i32,
                (None, true) => 5,
                (None, false) => -1,
            },
            Self::ConflictingForwardedUri | Self::FragmentInForwardedUri => 4,
            Self::ApiKeyNotAllowed => 17,
            Self::RevocationsUnavailable => -1,
            _ => 5,
        }
    }

    /// Why, in one word an alert can select (the `reason` label of the metrics, and of each
    /// refusal's log line): `expired`, `not_yet_valid`, `issued_in_future`, `signature`,
    /// `revoked`, `malformed`, `algorithm`, `kid`, `missing_exp`, `missing`, `auth_type`,
    /// `bearer`, `dev`, `anonymous_denied`, `unknown_api_key`, `not_allowed`, `stale`,
    /// `duplicate`, `bad_header`, `forwarded_uri`, `unforwardable`, or `internal`.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Token(e) => match e {
                Error::Expired => "expired",
                Error::NotYetValid => "not_yet_valid",
                Error::IssuedInFuture => "issued_in_future",
                Error::SignatureMismatch => "signature",
                Error::Revoked => "revoked",
                Error::AlgorithmNotAllowed => "algorithm",
                Error::UnknownKid | Error::MissingKid => "kid",
                Error::MissingExp => "missing_exp",
                Error::MissingToken | Error::MissingAuthType => "missing",
                Error::UnknownAuthType | Error::UnexpectedToken => "auth_type",
                Error::BearerPrefix => "bearer",
                Error::DevTokenNotAllowed => "dev",
                e if e.is_authentication_failure() => "malformed",
                _ => "internal",
            },
            Self::AnonymousDenied => "anonymous_denied",
            Self::UnknownApiKey => "unknown_api_key",
            Self::ApiKeyNotAllowed => "not_allowed",
            Self::RevocationsUnavailable => "stale",
            Self::DuplicateHeader(_) | Self::DuplicateQueryParameter(_) => "duplicate",
            Self::InvalidHeaderValue(_) => "bad_header",
            Self::ConflictingForwardedUri | Self::FragmentInForwardedUri => "forwarded_uri",
            Self::UnforwardableUserId => "unforwardable",
        }
    }

    /// The JSON body Stream's API answers with.
    #[must_use]
    pub fn stream_json(self) -> String {
        // For `Token`, the same bytes as `Error::stream_json` (its messages need no escaping).
        format!(r#"{{"code":{},"message":"{self}","StatusCode":{}}}"#, self.stream_code(), self.status().as_u16())
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(e) => e.fmt(f),
            Self::DuplicateHeader(name) => write!(f, "duplicate {name} header"),
            Self::InvalidHeaderValue(name) => write!(f, "{name} header is not visible ascii"),
            Self::DuplicateQueryParameter(name) => write!(f, "duplicate {name} query parameter"),
            Self::AnonymousDenied => f.write_str("anonymous access denied"),
            Self::UnforwardableUserId => f.write_str("user id cannot be forwarded in a header unchanged"),
            Self::ConflictingForwardedUri => f.write_str("forwarded uri headers disagree"),
            Self::FragmentInForwardedUri => f.write_str("forwarded uri has a fragment (#)"),
            Self::ApiKeyNotAllowed => f.write_str("api_key not allowed here"),
            Self::UnknownApiKey => f.write_str("api_key missing or not one of this server's apps"),
            Self::RevocationsUnavailable => f.write_str("revocations unavailable, retry"),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self::Token(e)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use stackjwt::Algorithm;

    use super::*;

    fn token_of_len(key: &Key, len: usize) -> (String, String) {
        // An id long enough to make the token `len` bytes (within a few), with one escape, so
        // that it is unescaped beside the payload: the most scratch a token of that length needs.
        let mut id = String::from("\"");
        let mut buf = vec![0u8; 8192];
        while key.user_token_len(&id, None, None) < len {
            id.push('x');
        }
        let token = key.user_token(&id, None, None, &mut buf).unwrap().to_owned();
        (id, token)
    }

    #[test]
    fn tokens_of_every_length_have_scratch_enough() {
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let auth = StreamAuth::new(key.clone());
        for len in [100, SHORT_TOKEN - 2, SHORT_TOKEN + 2, 2_000, stackjwt::MAX_TOKEN_LEN - 4] {
            let (id, token) = token_of_len(&key, len);
            assert!(token.len() >= len, "{len}");
            let c = Credentials { auth_type: Some("jwt".into()), authorization: Some(token.as_str().into()) };
            let who = auth.check_at(&c, 0).unwrap();
            assert_eq!(who.kind(), "user", "{len}");
            assert_eq!(who.user_id(), Some(id.as_str()), "{len}");
        }
    }

    #[test]
    fn refusals_keep_the_verifiers_status_and_body() {
        let internal = Refusal::Token(Error::ScratchTooSmall { needed: 9 });
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = [0u8; 256];
        for e in [Error::Expired, Error::SignatureMismatch, Error::Malformed, Error::ScratchTooSmall { needed: 9 }] {
            assert_eq!(Refusal::Token(e).stream_json(), e.stream_json(&mut out).unwrap());
            assert_eq!(Refusal::Token(e).status().as_u16(), e.http_status());
        }
        assert_eq!(
            Refusal::DuplicateHeader("authorization").stream_json(),
            r#"{"code":5,"message":"duplicate authorization header","StatusCode":401}"#
        );
    }

    #[test]
    fn debug_shows_settings_not_keys() {
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let auth = StreamAuth::new(key).leeway(5).require_exp(true).revoked_before(9);
        let text = format!("{auth:?}");
        assert!(
            text.contains("Options { leeway: 5, require_exp: true, allow_dev: false, revoked_before: Some(9), revocations: false, mirror: None }"),
            "{text}"
        );
        assert!(text.contains("Key { alg: Hs256, kid: None, .. }"), "{text}");
    }
}
