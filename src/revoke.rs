//! Token revocation: tokens issued before a cutoff stop working.

use core::hash::BuildHasher;

use heapless::{IndexMap, LinearMap, String};

/// Per-user revocation cutoffs: a user's tokens issued (`iat`) before the cutoff are refused
/// with [`Error::Revoked`](crate::Error::Revoked). A token without `iat` counts as issued at
/// time 0. Implemented for fixed-capacity heapless maps from user id to cutoff; implement it
/// for your own store (a database cache, say) as well.
///
/// ```
/// use heapless::{LinearMap, String};
/// use stackjwt::Revocations;
///
/// let mut cutoffs: LinearMap<String<64>, u64, 16> = LinearMap::new();
/// cutoffs.insert(String::try_from("john").unwrap(), 1_700_000_000).unwrap();
/// assert_eq!(cutoffs.revoked_before("john"), Some(1_700_000_000));
/// assert_eq!(cutoffs.revoked_before("jane"), None);
/// ```
pub trait Revocations {
    /// The cutoff for this user, if their tokens have been revoked.
    fn revoked_before(&self, user_id: &str) -> Option<u64>;
}

impl<const L: usize, const N: usize> Revocations for LinearMap<String<L>, u64, N> {
    fn revoked_before(&self, user_id: &str) -> Option<u64> {
        self.iter().find(|(k, _)| k.as_str() == user_id).map(|(_, &v)| v)
    }
}

impl<const L: usize, S: BuildHasher, const N: usize> Revocations for IndexMap<String<L>, u64, S, N> {
    fn revoked_before(&self, user_id: &str) -> Option<u64> {
        self.get(user_id).copied()
    }
}

impl<R: Revocations + ?Sized> Revocations for &R {
    fn revoked_before(&self, user_id: &str) -> Option<u64> {
        (**self).revoked_before(user_id)
    }
}
