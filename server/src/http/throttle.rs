//! REST rate limits on `/api/v1`: per bearer token or session, and per client IP. Over either
//! budget the request is answered 429 `rate_limited` with `Retry-After`, before any handler
//! runs.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::credential_from;
use crate::accounts::Credential;
use crate::app::App;
use crate::error::ApiError;
use crate::limits::Throttle;
use crate::store::hash_token;

pub async fn api_rate_limit(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limits = &app.chat.limits;
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    if let Err(wait) = limits.throttle(Throttle::ApiIp, &ip).await {
        return ApiError::rate_limited(wait).into_response();
    }
    // Keyed by the credential's hash: the secret itself never becomes a map key or Redis key.
    if let Some(credential) = credential_from(request.headers()) {
        let key = match &credential {
            Credential::Bearer(t) | Credential::Session(t) => hash_token(t),
        };
        if let Err(wait) = limits.throttle(Throttle::ApiToken, &key).await {
            return ApiError::rate_limited(wait).into_response();
        }
    }
    next.run(request).await
}
