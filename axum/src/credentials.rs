//! Where a request's credentials are: Stream's two headers, or the query of a WebSocket
//! connect URL (`...&authorization=TOKEN&stream-auth-type=jwt`).

use std::borrow::Cow;

use http::HeaderMap;

use crate::Refusal;

/// The header (and query parameter) that carries the token, bare (no `Bearer `).
pub const AUTHORIZATION: &str = "authorization";
/// The header (and query parameter) that says `jwt` or `anonymous`.
pub const AUTH_TYPE: &str = "stream-auth-type";

/// A request's credentials, as found: each `None` when absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials<'r> {
    /// `stream-auth-type`: `jwt` or `anonymous`.
    pub auth_type: Option<Cow<'r, str>>,
    /// The token.
    pub authorization: Option<Cow<'r, str>>,
}

impl<'r> Credentials<'r> {
    /// Whether neither credential is present.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.auth_type.is_none() && self.authorization.is_none()
    }

    /// The credentials in `Authorization` and `stream-auth-type`.
    ///
    /// # Errors
    /// [`Refusal::DuplicateHeader`] when either header comes more than once (which of them
    /// the client meant is not ours to guess), [`Refusal::InvalidHeaderValue`] when a value is
    /// not visible ASCII.
    pub fn from_headers(headers: &'r HeaderMap) -> Result<Self, Refusal> {
        Ok(Self {
            auth_type: single_header(headers, AUTH_TYPE)?.map(Cow::Borrowed),
            authorization: single_header(headers, AUTHORIZATION)?.map(Cow::Borrowed),
        })
    }

    /// The credentials in a URL's query string (the part after `?`, without it), with
    /// percent-decoding.
    ///
    /// # Errors
    /// [`Refusal::DuplicateQueryParameter`] when either parameter comes more than once.
    pub fn from_query(query: &'r str) -> Result<Self, Refusal> {
        let mut found = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (slot, name) = match &*name {
                AUTHORIZATION => (&mut found.authorization, AUTHORIZATION),
                AUTH_TYPE => (&mut found.auth_type, AUTH_TYPE),
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(Refusal::DuplicateQueryParameter(name));
            }
        }
        Ok(found)
    }

    /// The credentials in the query of a URI or path (`/connect?...`); none without a query.
    ///
    /// # Errors
    /// Those of [`from_query`](Self::from_query).
    pub fn from_uri(uri: &'r str) -> Result<Self, Refusal> {
        uri.split_once('?').map_or_else(|| Ok(Self::default()), |(_, query)| Self::from_query(query))
    }
}

/// The query parameter naming the app a request is for (Stream's clients send it with every
/// request).
pub const API_KEY: &str = "api_key";

/// The `api_key` parameter of a query string (percent-decoded), if present.
///
/// # Errors
/// [`Refusal::DuplicateQueryParameter`] when it comes more than once.
pub fn api_key(query: &str) -> Result<Option<Cow<'_, str>>, Refusal> {
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name == API_KEY && found.replace(value).is_some() {
            return Err(Refusal::DuplicateQueryParameter(API_KEY));
        }
    }
    Ok(found)
}

/// The one value of header `name`, if present.
///
/// # Errors
/// [`Refusal::DuplicateHeader`] when it comes more than once, [`Refusal::InvalidHeaderValue`]
/// when it is not visible ASCII.
pub fn single_header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<Option<&'h str>, Refusal> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Refusal::DuplicateHeader(name));
    }
    value.to_str().map(Some).map_err(|_| Refusal::InvalidHeaderValue(name))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::HeaderValue;

    use super::*;

    #[test]
    fn query_parameters_are_percent_decoded_and_others_ignored() {
        let c = Credentials::from_query("json=%7B%7D&authorization=a.b%2Ec&stream-auth-type=jwt&x=1").unwrap();
        assert_eq!(c.authorization.as_deref(), Some("a.b.c"));
        assert_eq!(c.auth_type.as_deref(), Some("jwt"));
        assert!(!c.is_empty());
        assert!(Credentials::from_query("api_key=k").unwrap().is_empty());
    }

    #[test]
    fn a_repeated_parameter_is_refused() {
        assert_eq!(
            Credentials::from_query("authorization=a&authorization=b"),
            Err(Refusal::DuplicateQueryParameter(AUTHORIZATION))
        );
        assert_eq!(
            Credentials::from_query("stream-auth-type=jwt&stream-auth-type=anonymous"),
            Err(Refusal::DuplicateQueryParameter(AUTH_TYPE))
        );
    }

    #[test]
    fn uris_without_a_query_have_no_credentials() {
        assert!(Credentials::from_uri("/connect").unwrap().is_empty());
        let c = Credentials::from_uri("/connect?stream-auth-type=anonymous").unwrap();
        assert_eq!(c.auth_type.as_deref(), Some("anonymous"));
        assert_eq!(c.authorization, None);
    }

    #[test]
    fn headers_must_be_single_and_ascii() {
        let mut headers = HeaderMap::new();
        assert_eq!(Credentials::from_headers(&headers), Ok(Credentials::default()));
        headers.insert(AUTH_TYPE, HeaderValue::from_static("jwt"));
        headers.insert(AUTHORIZATION, HeaderValue::from_bytes(b"a.b\xffc").unwrap());
        assert_eq!(Credentials::from_headers(&headers), Err(Refusal::InvalidHeaderValue(AUTHORIZATION)));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("t"));
        let c = Credentials::from_headers(&headers).unwrap();
        assert_eq!((c.auth_type.as_deref(), c.authorization.as_deref()), (Some("jwt"), Some("t")));
        headers.append(AUTHORIZATION, HeaderValue::from_static("u"));
        assert_eq!(Credentials::from_headers(&headers), Err(Refusal::DuplicateHeader(AUTHORIZATION)));
        headers.remove(AUTHORIZATION);
        headers.append(AUTH_TYPE, HeaderValue::from_static("jwt"));
        assert_eq!(Credentials::from_headers(&headers), Err(Refusal::DuplicateHeader(AUTH_TYPE)));
    }
}
