//! Revocations that change while a server runs: an in-memory mirror of an app's per-user
//! cutoffs and its app-wide cutoff, read by every check without a lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

use arc_swap::ArcSwap;
use rpds::HashTrieMapSync;

use stackjwt::Revocations;

/// Per-user cutoffs: a persistent hash trie, so that a change copies one path of the trie
/// (a few nodes), not the map.
pub(crate) type UserCutoffs = HashTrieMapSync<String, u64>;

/// One app's revocations, in memory: per user, "tokens issued before T are revoked" (Stream's
/// `revoke_tokens_issued_before`), and the same for the whole app (server tokens included).
///
/// Whoever owns the source of truth (`stackjwt-authz` mirrors a Redis hash) writes it; every
/// [`StreamAuth`](crate::StreamAuth) given it with
/// [`revocation_mirror`](crate::StreamAuth::revocation_mirror) reads it on each check, so a
/// check costs a hash lookup, never a round trip. Reads take no lock (checks on every core
/// would otherwise contend for one); a write makes a new version of a persistent hash trie
/// that shares all but one path with the old (read-copy-update), so a change costs the same
/// with ten revoked users or ten million.
///
/// ```
/// use stackjwt::Revocations as _;
/// use stackjwt_axum::RevocationMirror;
///
/// let mirror = RevocationMirror::default();
/// mirror.revoke_user("john", Some(1_700_000_000));
/// assert_eq!(mirror.revoked_before("john"), Some(1_700_000_000));
/// mirror.revoke_user("john", None); // cleared
/// assert_eq!(mirror.revoked_before("john"), None);
/// ```
#[derive(Debug)]
pub struct RevocationMirror {
    users: ArcSwap<UserCutoffs>,
    /// The app-wide cutoff; 0 for none (no token is issued before the epoch).
    cutoff: AtomicU64,
    /// Whether a full read of the source has filled it ([`replace`](Self::replace)).
    loaded: AtomicBool,
    /// Held while a change is read from the source and applied, so that a value read
    /// earlier is never applied over one read later.
    pub(crate) applying: tokio::sync::Mutex<Applying>,
}

/// What the [`RevocationMirror::applying`] lock guards.
#[derive(Debug, Default)]
pub(crate) struct Applying {
    /// While a full read runs: the users whose entries were applied since it began (their
    /// values, read after it began, win over the read's).
    pub(crate) changed: Option<Vec<String>>,
}

impl Default for RevocationMirror {
    fn default() -> Self {
        Self {
            users: ArcSwap::from_pointee(UserCutoffs::new_sync()),
            cutoff: AtomicU64::new(0),
            loaded: AtomicBool::new(false),
            applying: tokio::sync::Mutex::new(Applying::default()),
        }
    }
}

impl RevocationMirror {
    /// Sets (`Some`) or clears (`None`) one user's cutoff.
    pub fn revoke_user(&self, user_id: &str, before: Option<u64>) {
        self.users.rcu(|users| {
            // A clone of the trie is a pointer copy; the change copies one path of it.
            let mut users = UserCutoffs::clone(users);
            match before {
                Some(t) => users.insert_mut(user_id.to_owned(), t),
                None => {
                    users.remove_mut(user_id);
                }
            }
            users
        });
    }

    /// Sets (`Some`) or clears (`None`) the app-wide cutoff.
    pub fn set_cutoff(&self, before: Option<u64>) {
        self.cutoff.store(before.unwrap_or(0), Relaxed);
    }

    /// The app-wide cutoff, if one is set.
    #[must_use]
    pub fn cutoff(&self) -> Option<u64> {
        Some(self.cutoff.load(Relaxed)).filter(|&t| t != 0)
    }

    /// Replaces everything at once (after a full read of the source), and counts the mirror
    /// as [`loaded`](Self::is_loaded).
    pub fn replace(&self, users: impl IntoIterator<Item = (String, u64)>, cutoff: Option<u64>) {
        drop(self.replace_map(users.into_iter().collect(), cutoff));
    }

    /// [`replace`](Self::replace) with a map already built; returns the map it replaced (a
    /// large one is better dropped off the caller's thread).
    pub(crate) fn replace_map(&self, users: UserCutoffs, cutoff: Option<u64>) -> Arc<UserCutoffs> {
        let old = self.users.swap(Arc::new(users));
        self.set_cutoff(cutoff);
        // Release: a check that sees it loaded sees the map and cutoff stored before.
        self.loaded.store(true, Release);
        old
    }

    /// Counts the mirror as not loaded (its source could not be read): its app is stale
    /// until the next full read.
    pub(crate) fn unload(&self) {
        self.loaded.store(false, Release);
    }

    /// Whether a full read of the source has filled it: until then, it may lack revocations
    /// the source holds.
    #[must_use]
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Acquire)
    }

    /// How many users have a cutoff.
    #[must_use]
    pub fn len(&self) -> usize {
        self.users.load().size()
    }

    /// Whether no user has a cutoff.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Revocations for RevocationMirror {
    fn revoked_before(&self, user_id: &str) -> Option<u64> {
        self.users.load().get(user_id).copied()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use stackjwt::{Algorithm, Error, Key};

    use super::*;
    use crate::{Credentials, StreamAuth};

    #[test]
    fn a_mirror_revokes_users_and_the_app_while_serving() {
        let key = Key::new(Algorithm::Hs256, &[7; 32]).unwrap();
        let mirror = std::sync::Arc::new(RevocationMirror::default());
        let auth = StreamAuth::new(key.clone()).revoked_before(100).revocation_mirror(mirror.clone());
        let mut buf = [0u8; 512];
        let token =
            |id: &str, iat: u64, buf: &mut [u8; 512]| key.user_token(id, None, Some(iat), buf).unwrap().to_owned();
        let check = |token: &str| {
            let c = Credentials { auth_type: Some("jwt".into()), authorization: Some(token.into()) };
            auth.check_at(&c, 1_000).map(|c| c.kind())
        };
        let (john, jane) = (token("john", 500, &mut buf), token("jane", 500, &mut buf));
        assert_eq!(check(&john), Ok("user"));
        mirror.revoke_user("john", Some(501));
        assert_eq!(check(&john), Err(crate::Refusal::Token(Error::Revoked)));
        assert_eq!(check(&jane), Ok("user"));
        assert_eq!((mirror.len(), mirror.is_empty()), (1, false));
        // The app-wide cutoff applies when later than the fixed one, to server tokens too.
        let server = key.server_token(&mut buf).unwrap().to_owned();
        mirror.set_cutoff(Some(50));
        assert_eq!(check(&jane), Ok("user"));
        mirror.set_cutoff(Some(501));
        assert_eq!(check(&jane), Err(crate::Refusal::Token(Error::Revoked)));
        assert_eq!(check(&server), Err(crate::Refusal::Token(Error::Revoked)));
        assert!(!mirror.is_loaded());
        mirror.replace([], None);
        assert_eq!((check(&john), mirror.cutoff(), mirror.is_empty()), (Ok("user"), None, true));
        assert!(mirror.is_loaded());
    }
}
