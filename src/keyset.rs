//! Several keys at once, chosen by the token header's `kid`: key rotation.

use core::fmt;

use heapless::Vec;

use crate::Error;
use crate::key::Key;

/// Up to `N` keys, each with its own kid and algorithm, plus an optional default for tokens
/// whose header has no `kid`. Verify with [`Verifier::with_keys`](crate::Verifier::with_keys):
/// a token that names a kid is checked against that key only, never against the others.
///
/// ```
/// use stackjwt::{Algorithm, Key, KeySet, Verifier};
///
/// let old = Key::new(Algorithm::Hs256, &[1; 32])?.with_kid("2026-10")?;
/// let new = Key::new(Algorithm::Hs256, &[2; 32])?.with_kid("2026-11")?;
/// let mut buf = [0u8; 256];
/// let token = old.user_token("john", None, None, &mut buf)?.to_owned();
///
/// let mut keys: KeySet<4> = KeySet::new();
/// keys.insert(old)?;
/// keys.insert(new)?;
/// keys.set_default("2026-11")?;
/// let mut scratch = [0u8; 256];
/// let claims = Verifier::with_keys(&keys).verify(&token, 0, &mut scratch)?;
/// assert_eq!(claims.user_id(), Some("john"));
/// # Ok::<(), stackjwt::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeySet<const N: usize> {
    keys: Vec<Key, N>,
    default: Option<usize>,
}

impl<const N: usize> Default for KeySet<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> KeySet<N> {
    /// An empty set.
    #[must_use]
    pub const fn new() -> Self {
        Self { keys: Vec::new(), default: None }
    }

    /// Adds a key, which must have a kid.
    ///
    /// # Errors
    /// [`Error::InvalidKid`] for a key without kid, [`Error::DuplicateKid`] when the set has a
    /// key with the same kid, [`Error::KeySetFull`] when it holds `N` keys already.
    pub fn insert(&mut self, key: Key) -> Result<(), Error> {
        let kid = key.kid().ok_or(Error::InvalidKid)?;
        if self.get(kid).is_some() {
            return Err(Error::DuplicateKid);
        }
        self.keys.push(key).map_err(|_| Error::KeySetFull)
    }

    /// Makes the key with this kid the one for tokens without `kid`.
    ///
    /// # Errors
    /// [`Error::UnknownKid`] when no key has this kid.
    pub fn set_default(&mut self, kid: &str) -> Result<(), Error> {
        let i = self.keys.iter().position(|k| k.kid() == Some(kid)).ok_or(Error::UnknownKid)?;
        self.default = Some(i);
        Ok(())
    }

    /// The key with this kid.
    #[must_use]
    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }

    /// The key for tokens without `kid`, if one was set.
    #[must_use]
    pub fn default_key(&self) -> Option<&Key> {
        self.default.and_then(|i| self.keys.get(i))
    }

    /// How many keys the set holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Where a [`Verifier`](crate::Verifier) takes its keys from: one [`Key`] (`&Key`) or a
/// [`KeySet`] (`&KeySet<N>`). A type parameter rather than a runtime choice, so a program that
/// verifies with one key links no key-set code. Sealed: implemented for these two only.
pub trait KeySource<'k>: Copy + fmt::Debug + sealed::Sealed {
    /// The key whose own header segment is byte-identical to `header`.
    #[doc(hidden)]
    fn own_header_key(self, header: &[u8]) -> Option<&'k Key>;

    /// The key a header selects; `kid` tells whether a key's kid is the header's, and is
    /// `None` when the header has no kid.
    #[doc(hidden)]
    fn key_for(self, kid: Option<&dyn Fn(&str) -> bool>) -> Result<&'k Key, Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &crate::Key {}
    impl<const N: usize> Sealed for &crate::KeySet<N> {}
}

/// One key: a header's kid, if any, must name it when the key has a kid.
impl<'k> KeySource<'k> for &'k Key {
    fn own_header_key(self, header: &[u8]) -> Option<&'k Key> {
        self.is_own_header(header).then_some(self)
    }

    fn key_for(self, kid: Option<&dyn Fn(&str) -> bool>) -> Result<&'k Key, Error> {
        match (kid, self.kid()) {
            (Some(is_header_kid), Some(own)) if !is_header_kid(own) => Err(Error::UnknownKid),
            _ => Ok(self),
        }
    }
}

/// A key set: the header's kid picks the key, and no kid means the default key.
impl<'k, const N: usize> KeySource<'k> for &'k KeySet<N> {
    fn own_header_key(self, header: &[u8]) -> Option<&'k Key> {
        self.keys.iter().find(|k| k.is_own_header(header))
    }

    fn key_for(self, kid: Option<&dyn Fn(&str) -> bool>) -> Result<&'k Key, Error> {
        match kid {
            Some(is_header_kid) => {
                self.keys.iter().find(|k| k.kid().is_some_and(is_header_kid)).ok_or(Error::UnknownKid)
            }
            None => self.default_key().ok_or(Error::MissingKid),
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]
mod tests {
    use super::*;
    use crate::Algorithm;

    fn key(kid: &str) -> Key {
        Key::new(Algorithm::Hs256, &[9; 32]).unwrap().with_kid(kid).unwrap()
    }

    #[test]
    fn insert_rules() {
        let mut set: KeySet<2> = KeySet::new();
        assert!(set.is_empty());
        assert_eq!(set.insert(Key::new(Algorithm::Hs256, &[9; 32]).unwrap()), Err(Error::InvalidKid));
        set.insert(key("a")).unwrap();
        assert_eq!(set.insert(key("a")), Err(Error::DuplicateKid));
        set.insert(key("b")).unwrap();
        assert_eq!(set.insert(key("c")), Err(Error::KeySetFull));
        assert_eq!(set.len(), 2);
        assert!(set.default_key().is_none());
        assert_eq!(set.set_default("z"), Err(Error::UnknownKid));
        set.set_default("b").unwrap();
        assert_eq!(set.default_key().and_then(Key::kid), Some("b"));
        assert_eq!(set.get("a").and_then(Key::kid), Some("a"));
    }
}
