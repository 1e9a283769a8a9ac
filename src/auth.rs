//! One call per request: who is calling, from Stream's two auth headers.

use crate::Error;
use crate::claims::Claims;
use crate::keyset::KeySource;
use crate::verify::Verifier;

/// Who a request comes from, as Stream's API decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal<'a> {
    /// A user, by a signed user token (guests included: they get ordinary user tokens).
    User(&'a str),
    /// The app's backend, by a server token (`{"server":true}`).
    Server,
    /// A user by a development token (only when the verifier allows them).
    Dev(&'a str),
    /// An anonymous user (`stream-auth-type: anonymous`, no token): read-only access.
    Anonymous,
}

impl<'k, K: KeySource<'k>> Verifier<'k, K> {
    /// Decides who is calling from the `stream-auth-type` header and the `Authorization`
    /// header (each `None` when absent), with every check of [`verify`](Self::verify).
    ///
    /// - `jwt` needs a token: user, server or (when allowed) development token;
    /// - `anonymous` must come without a token;
    /// - any other or missing auth type is refused.
    ///
    /// Stream's clients send the token bare. A `Bearer ` prefix (any case) is refused with
    /// [`Error::BearerPrefix`] rather than stripped: it means a client that was not written
    /// for this API, and a clear error is the quickest way to find it. An empty
    /// `Authorization` counts as absent.
    ///
    /// ```
    /// use stackjwt::{Algorithm, Error, Key, Principal, Verifier};
    ///
    /// let key = Key::new(Algorithm::Hs256, &[3; 32])?;
    /// let mut buf = [0u8; 256];
    /// let token = key.user_token("john", None, None, &mut buf)?;
    /// let v = Verifier::new(&key);
    /// let mut scratch = [0u8; 256];
    /// assert_eq!(v.authenticate(Some("jwt"), Some(token), 0, &mut scratch)?, Principal::User("john"));
    /// assert_eq!(v.authenticate(Some("anonymous"), None, 0, &mut scratch)?, Principal::Anonymous);
    /// assert_eq!(v.authenticate(Some("jwt"), None, 0, &mut scratch), Err(Error::MissingToken));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::UnknownAuthType`], [`Error::MissingToken`], [`Error::UnexpectedToken`],
    /// [`Error::BearerPrefix`], and every error of [`verify`](Self::verify) for the token.
    pub fn authenticate<'s>(
        &self,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<Principal<'s>, Error> {
        self.authenticate_claims(auth_type, authorization, now, scratch).map(|(principal, _)| principal)
    }

    /// [`authenticate`](Self::authenticate), with the verified token's claims as well (`None`
    /// for an anonymous caller), for a gateway that also needs `exp` or custom claims.
    ///
    /// ```
    /// use stackjwt::{Algorithm, Error, Key, Principal, Verifier};
    ///
    /// let key = Key::new(Algorithm::Hs256, &[3; 32])?;
    /// let mut buf = [0u8; 256];
    /// let token = key.user_token("john", Some(2_000), None, &mut buf)?;
    /// let mut scratch = [0u8; 256];
    /// let (who, claims) = Verifier::new(&key).authenticate_claims(Some("jwt"), Some(token), 0, &mut scratch)?;
    /// assert_eq!(who, Principal::User("john"));
    /// assert_eq!(claims.and_then(|c| c.exp()), Some(2_000));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// Those of [`authenticate`](Self::authenticate).
    pub fn authenticate_claims<'s>(
        &self,
        auth_type: Option<&str>,
        authorization: Option<&str>,
        now: u64,
        scratch: &'s mut [u8],
    ) -> Result<(Principal<'s>, Option<Claims<'s>>), Error> {
        let token = authorization.filter(|t| !t.is_empty());
        match auth_type {
            Some("anonymous") if token.is_some() => Err(Error::UnexpectedToken),
            Some("anonymous") => Ok((Principal::Anonymous, None)),
            Some("jwt") => {
                let token = token.ok_or(Error::MissingToken)?;
                if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
                    return Err(Error::BearerPrefix);
                }
                let claims = self.verify(token, now, scratch)?;
                let principal = match (claims.is_server(), claims.is_dev(), claims.user_id()) {
                    (true, _, _) => Principal::Server,
                    (false, true, Some(id)) => Principal::Dev(id),
                    (false, false, Some(id)) => Principal::User(id),
                    // verify guarantees a user_id or "server":true.
                    (false, _, None) => return Err(Error::MissingSubject),
                };
                Ok((principal, Some(claims)))
            }
            Some(_) => Err(Error::UnknownAuthType),
            None => Err(Error::MissingAuthType),
        }
    }
}
