//! The tower layer that checks every request, and the axum extractor that reads its result.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready, ready};
use http::request::Parts;
use http::{HeaderValue, Request, StatusCode, header};
use tower::{Layer, Service};

use crate::{Caller, Keys, Refusal, StreamAuth};

impl<K: Keys> StreamAuth<K> {
    /// The tower layer that checks every request with this configuration.
    #[must_use]
    pub fn layer(self) -> StreamAuthLayer<K> {
        StreamAuthLayer { auth: Arc::new(self) }
    }
}

/// Checks every request's credentials; puts the [`Caller`] into the request's extensions
/// and calls the inner service, or answers the refusal itself (Stream's JSON body, its status,
/// `Content-Type: application/json`). Made by [`StreamAuth::layer`].
#[derive(Debug)]
pub struct StreamAuthLayer<K: Keys = stackjwt::Key> {
    auth: Arc<StreamAuth<K>>,
}

impl<K: Keys> Clone for StreamAuthLayer<K> {
    fn clone(&self) -> Self {
        Self { auth: Arc::clone(&self.auth) }
    }
}

impl<S, K: Keys> Layer<S> for StreamAuthLayer<K> {
    type Service = StreamAuthService<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        StreamAuthService { inner, auth: Arc::clone(&self.auth) }
    }
}

/// The service [`StreamAuthLayer`] wraps around another.
#[derive(Debug)]
pub struct StreamAuthService<S, K: Keys = stackjwt::Key> {
    inner: S,
    auth: Arc<StreamAuth<K>>,
}

impl<S: Clone, K: Keys> Clone for StreamAuthService<S, K> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), auth: Arc::clone(&self.auth) }
    }
}

impl<S, B, K> Service<Request<B>> for StreamAuthService<S, K>
where
    S: Service<Request<B>, Response = Response>,
    K: Keys,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match self.auth.check_request(request.headers(), request.uri()) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                Either::Right(self.inner.call(request))
            }
            Err(refusal) => {
                tracing::debug!(status = refusal.status().as_u16(), code = refusal.stream_code(), %refusal, "refused");
                Either::Left(ready(Ok(refusal.into_response())))
            }
        }
    }
}

/// Stream's JSON error body with its status.
fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        json_response(self.status(), self.stream_json())
    }
}

/// The [`Caller`] extractor's rejection: no [`StreamAuthLayer`] checked this request,
/// which is a bug in the service's setup, answered with a 500 that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingLayer;

impl IntoResponse for MissingLayer {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"code":-1,"message":"no StreamAuthLayer in front of this handler: add StreamAuth::layer to the router","StatusCode":500}"#
                .to_owned(),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = MissingLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Self>().cloned().ok_or(MissingLayer)
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use stackjwt::{Algorithm, Key};

    use super::*;

    /// A service that is never ready: the layer must pass that on, not claim readiness.
    #[derive(Clone)]
    struct Busy;

    impl Service<Request<()>> for Busy {
        type Response = Response;
        type Error = &'static str;
        type Future = Ready<Result<Response, &'static str>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Err("busy"))
        }

        fn call(&mut self, _: Request<()>) -> Self::Future {
            ready(Err("called while not ready"))
        }
    }

    #[test]
    fn readiness_is_the_inner_services() {
        let auth = crate::StreamAuth::new(Key::new(Algorithm::Hs256, &[7; 32]).unwrap());
        let mut service = auth.layer().layer(Busy);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(service.poll_ready(&mut cx), Poll::Ready(Err("busy")));
    }
}
