//! What crosses to the upstream: a user id in a header that every receiver reads back exactly,
//! and the one forwarded URI a check may trust.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::Refusal;

/// The header that says how `X-Stream-User-Id` is encoded, when it is not sent as it is
/// (`percent`).
pub const USER_ID_ENCODING_HEADER: &str = "x-stream-user-id-encoding";

/// How a user id is written into a header ([`user_id_header`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserIdEncoding {
    /// As it is, when every receiver reads it back exactly ([`is_forwardable`]); any other id
    /// is refused ([`Refusal::UnforwardableUserId`]). The default.
    #[default]
    Plain,
    /// Percent-encoded (RFC 3986: the unreserved `A-Z a-z 0-9 - . _ ~` kept, every other byte
    /// of the UTF-8 as `%XX`), so that every id can be forwarded; the upstream decodes it.
    Percent,
}

impl UserIdEncoding {
    /// `plain` or `percent`, as `--user-id-encoding` takes them.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::Percent => "percent",
        }
    }
}

/// Whether every HTTP receiver reads `id` back byte for byte from a header value: visible
/// ASCII, with single spaces inside only. RFC 9110 receivers (httparse, NGINX, every proxy)
/// drop a value's leading and trailing spaces and tabs, so `"admin "` and `"\tadmin"` arrive
/// as `admin`, another user; controls, DEL and bytes past ASCII are read differently by
/// different receivers, or refused. Copy an id into a header only when this holds, or encode
/// it ([`UserIdEncoding::Percent`]).
#[must_use]
pub fn is_forwardable(id: &str) -> bool {
    let bytes = id.as_bytes();
    let visible = |b: &u8| matches!(b, b'!'..=b'~');
    bytes.first().is_some_and(visible)
        && bytes.last().is_some_and(visible)
        && bytes.iter().all(|b| visible(b) || *b == b' ')
}

/// The header value for `id` in `encoding`.
///
/// # Errors
/// [`Refusal::UnforwardableUserId`] for a [`Plain`](UserIdEncoding::Plain) id that is not
/// [`is_forwardable`].
pub fn user_id_header(id: &str, encoding: UserIdEncoding) -> Result<HeaderValue, Refusal> {
    let value = match encoding {
        UserIdEncoding::Plain if is_forwardable(id) => HeaderValue::from_str(id),
        UserIdEncoding::Plain => return Err(Refusal::UnforwardableUserId),
        UserIdEncoding::Percent => HeaderValue::try_from(percent_encode(id)),
    };
    value.map_err(|_| Refusal::UnforwardableUserId)
}

/// `id` percent-encoded: RFC 3986's unreserved characters kept, every other byte `%XX`.
fn percent_encode(id: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(id.len());
    for &b in id.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Forwarded-URI headers, in the order they are read: Traefik and Caddy send the first, NGINX
/// configurations conventionally set the second.
pub const FORWARDED_URI_HEADERS: [&str; 2] = ["x-forwarded-uri", "x-original-uri"];

/// The forwarded URI that `headers` carry: the value of the headers `names` lists, which must
/// agree when more than one is present (a client's own `X-Forwarded-Uri` passes through a
/// proxy that sets `X-Original-URI`, and one of them would be checked while the other is
/// used).
///
/// # Errors
/// [`Refusal::ConflictingForwardedUri`] when two values differ (two headers, or one header
/// twice); [`Refusal::InvalidHeaderValue`] when a value is not visible ASCII;
/// [`Refusal::FragmentInForwardedUri`] when it has a `#` (NGINX's `$request_uri` keeps a
/// fragment that the proxy and the upstream drop: a query there is one nobody else reads).
pub fn forwarded_uri<'h>(headers: &'h HeaderMap, names: &[HeaderName]) -> Result<Option<&'h str>, Refusal> {
    let mut found: Option<&str> = None;
    for name in names {
        for value in headers.get_all(name) {
            let value = value.to_str().map_err(|_| Refusal::InvalidHeaderValue("x-forwarded-uri"))?;
            if value.contains('#') {
                return Err(Refusal::FragmentInForwardedUri);
            }
            match found {
                Some(seen) if seen != value => return Err(Refusal::ConflictingForwardedUri),
                _ => found = Some(value),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn forwardable_ids_are_read_back_exactly() {
        for id in ["john", "a b", "user@example.com", "!~", "x"] {
            assert!(is_forwardable(id), "{id:?}");
            assert_eq!(user_id_header(id, UserIdEncoding::Plain).unwrap(), id);
        }
        for id in ["admin ", " admin", "\tadmin", "admin\t", "ad\tmin", "a\u{7f}", "zoë", "a\nb", "a\u{0}", "", " "] {
            assert!(!is_forwardable(id), "{id:?}");
            assert_eq!(user_id_header(id, UserIdEncoding::Plain), Err(Refusal::UnforwardableUserId), "{id:?}");
        }
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        let cases = [
            ("john", "john"),
            ("admin ", "admin%20"),
            ("\tadmin", "%09admin"),
            ("zoë", "zo%C3%AB"),
            ("a-b.c_d~e", "a-b.c_d~e"),
            ("%/?#", "%25%2F%3F%23"),
            ("\u{7f}\u{0}", "%7F%00"),
        ];
        for (id, encoded) in cases {
            assert_eq!(user_id_header(id, UserIdEncoding::Percent).unwrap(), encoded, "{id:?}");
        }
    }

    #[test]
    fn forwarded_uris_must_agree() {
        let names = FORWARDED_URI_HEADERS.map(HeaderName::from_static);
        let mut h = HeaderMap::new();
        assert_eq!(forwarded_uri(&h, &names), Ok(None));
        h.insert("x-original-uri", HeaderValue::from_static("/connect?a=1"));
        assert_eq!(forwarded_uri(&h, &names), Ok(Some("/connect?a=1")));
        h.insert("x-forwarded-uri", HeaderValue::from_static("/connect?a=1"));
        assert_eq!(forwarded_uri(&h, &names), Ok(Some("/connect?a=1")), "the same value twice");
        h.insert("x-forwarded-uri", HeaderValue::from_static("/connect?stream-auth-type=anonymous"));
        assert_eq!(forwarded_uri(&h, &names), Err(Refusal::ConflictingForwardedUri));
        // Only the configured header counts: the client's other one is ignored.
        assert_eq!(forwarded_uri(&h, &names[1..]), Ok(Some("/connect?a=1")));
        h.remove("x-forwarded-uri");
        h.append("x-original-uri", HeaderValue::from_static("/other"));
        assert_eq!(forwarded_uri(&h, &names), Err(Refusal::ConflictingForwardedUri), "one header twice");
        // What follows `#` is read by nobody but a check that splits on `?`.
        let mut h = HeaderMap::new();
        h.insert("x-original-uri", HeaderValue::from_static("/p?y=1#&api_key=k2"));
        assert_eq!(forwarded_uri(&h, &names), Err(Refusal::FragmentInForwardedUri));
        h.insert("x-original-uri", HeaderValue::from_static("/p#"));
        assert_eq!(forwarded_uri(&h, &names), Err(Refusal::FragmentInForwardedUri));
        h.insert("x-original-uri", HeaderValue::from_static("/p?q=%23"));
        assert_eq!(forwarded_uri(&h, &names), Ok(Some("/p?q=%23")), "an encoded # is data");
    }
}
