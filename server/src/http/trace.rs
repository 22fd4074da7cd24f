//! Following one request in the logs: every HTTP request gets a request id (the client's
//! `x-request-id` when it is a sane one, else a fresh UUID), echoed in the response, and runs
//! in an `http` span carrying it with the method and path. Websocket sessions start their own
//! span (`ws::upgrade`) with the same request id, so an upgrade's line and the session's
//! lines join up.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::{Level, Span};

/// The request id header, set on every request and response.
pub const REQUEST_ID: &str = "x-request-id";

/// Longest client-chosen request id kept (anything longer, or with other characters than
/// letters, digits, `-`, `_`, `.`, `:` is replaced: ids end up in log lines).
const MAX_CLIENT_ID: usize = 64;

/// Wraps every route of `router` (layers added with `Router::layer` run after routing, so the
/// span knows the route's template).
pub fn traced<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                )
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_odd_request_id))
}

/// The request's id as set by [`traced`] (empty outside it).
pub fn request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn request_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    // Capability tokens in a path (invitation, reset, preview links) are logged as the
    // route's template; everything else by its real path, so ids can be grepped.
    let path = match route {
        Some(r) if r.contains("{token}") => r,
        _ => req.uri().path(),
    };
    tracing::info_span!(
        "http",
        method = %req.method(),
        path = %path,
        request_id = %request_id(req.headers()),
    )
}

async fn drop_odd_request_id(mut req: Request) -> Request {
    let odd = req
        .headers()
        .get(REQUEST_ID)
        .is_some_and(|v| !sane_client_id(v));
    if odd {
        req.headers_mut().remove(REQUEST_ID);
    }
    req
}

fn sane_client_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_CLIENT_ID
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_kept_only_when_short_and_plain() {
        let ok = |s: &str| sane_client_id(&HeaderValue::from_str(s).unwrap());
        assert!(ok("3f0c2a9e-1b7d-4c55-9a0e-5d1f0f2b7c11"));
        assert!(ok("lb:abc_123.4"));
        assert!(!ok(""));
        assert!(!ok("two words"));
        assert!(!ok("a\"quote"));
        assert!(!ok(&"x".repeat(65)));
    }
}
