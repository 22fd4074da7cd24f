//! Security headers: the ones every response carries, and the stricter set for the
//! dashboard's HTML pages.
//!
//! - [`nosniff`]: `X-Content-Type-Options: nosniff` everywhere, so a browser never runs a JSON
//!   answer or an uploaded document as a script or a style sheet.
//! - [`no_store_when_credentialed`]: `Cache-Control: no-store` on `/api/` answers to requests
//!   that carried credentials, so a shared or browser cache never keeps a site's tickets,
//!   transcripts or secrets.
//! - [`dashboard_pages`]: CSP, framing and referrer rules for the dashboard's pages (`/app/`).

use axum::extract::Request;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tower::layer::util::Stack;
use tower_http::set_header::SetResponseHeaderLayer;

/// The dashboard is Rust compiled to wasm, served from this origin with its own files only:
/// `'wasm-unsafe-eval'` lets it compile its module without allowing `eval` of text; no inline
/// script or style, so an injected `<script>` or `style=` attribute does nothing; no frames
/// around it (clickjacking), no `<base>`, no plugins.
pub const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'; object-src 'none'";

type HeaderLayer = SetResponseHeaderLayer<HeaderValue>;

/// The layers of [`dashboard_pages`].
pub type DashboardHeaders = Stack<HeaderLayer, Stack<HeaderLayer, HeaderLayer>>;

/// `X-Content-Type-Options: nosniff`, for every response.
pub fn nosniff() -> HeaderLayer {
    SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))
}

/// Middleware: `Cache-Control: no-store` on the answer to an `/api/` request that carried an
/// `Authorization` or a `Cookie` header, unless the handler chose its own caching (the public
/// widget config's `no-cache`). A middleware rather than a `set-header` layer: whether to add
/// the header depends on the request, which a response-header layer never sees.
pub async fn no_store_when_credentialed(request: Request, next: Next) -> Response {
    let credentialed = request.uri().path().starts_with("/api/")
        && (request.headers().contains_key(AUTHORIZATION)
            || request.headers().contains_key(COOKIE));
    let mut response = next.run(request).await;
    if credentialed {
        response
            .headers_mut()
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// The headers of the dashboard's HTML pages: [`DASHBOARD_CSP`], `X-Frame-Options: DENY` (for
/// browsers that predate `frame-ancestors`) and `Referrer-Policy:
/// strict-origin-when-cross-origin` (a link out never leaks a conversation's URL). They
/// override whatever a handler set: no page may loosen them.
pub fn dashboard_pages() -> DashboardHeaders {
    let csp = SetResponseHeaderLayer::overriding(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    let frames =
        SetResponseHeaderLayer::overriding(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let referrer = SetResponseHeaderLayer::overriding(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    Stack::new(csp, Stack::new(frames, referrer))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{HeaderMap, Request, StatusCode};
    use axum::response::{Html, IntoResponse};
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    use super::*;

    async fn headers_of(router: Router, request: Request<Body>) -> HeaderMap {
        let response = router.oneshot(request).await.unwrap();
        response.headers().clone()
    }

    fn get_request(path: &str, header: Option<(&str, &str)>) -> Request<Body> {
        let mut request = Request::get(path);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        request.body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn dashboard_pages_get_a_strict_csp_no_framing_and_a_short_referrer() {
        let page = || async {
            // A handler's own, weaker policy does not survive the layer.
            (
                [(X_FRAME_OPTIONS, "SAMEORIGIN")],
                Html("<!doctype html><title>Concierge</title>"),
            )
        };
        let router = Router::new()
            .route("/app/", get(page))
            .layer(dashboard_pages());
        let h = headers_of(router, get_request("/app/", None)).await;
        let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
        ] {
            assert!(
                csp.split("; ").any(|d| d == directive),
                "{directive} in {csp}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h[X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[REFERRER_POLICY], "strict-origin-when-cross-origin");
    }

    fn api_router() -> Router {
        let chosen = || async { ([(CACHE_CONTROL, "no-cache")], "public").into_response() };
        let plain = || async { StatusCode::OK };
        Router::new()
            .route("/api/chosen", get(chosen))
            .route("/api/plain", get(plain))
            .route("/healthz", get(plain))
            .layer(axum::middleware::from_fn(no_store_when_credentialed))
            .layer(nosniff())
    }

    #[tokio::test]
    async fn credentialed_api_answers_are_not_stored_unless_the_handler_chose_caching() {
        for credential in [("authorization", "Bearer t"), ("cookie", "session=s")] {
            let h = headers_of(api_router(), get_request("/api/plain", Some(credential))).await;
            assert_eq!(h[CACHE_CONTROL], "no-store", "{credential:?}");
            let h = headers_of(api_router(), get_request("/api/chosen", Some(credential))).await;
            assert_eq!(h[CACHE_CONTROL], "no-cache", "{credential:?}");
            let h = headers_of(api_router(), get_request("/healthz", Some(credential))).await;
            assert_eq!(h.get(CACHE_CONTROL), None, "{credential:?} outside /api/");
        }
        let h = headers_of(api_router(), get_request("/api/plain", None)).await;
        assert_eq!(h.get(CACHE_CONTROL), None, "no credentials");
    }

    #[tokio::test]
    async fn every_answer_says_nosniff_even_a_404() {
        for path in ["/api/plain", "/healthz", "/nowhere"] {
            let h = headers_of(api_router(), get_request(path, None)).await;
            assert_eq!(h[X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        }
    }
}
