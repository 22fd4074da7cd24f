//! Bearer-token authentication of REST calls: the same agent tokens as the agent socket, and
//! the operator's metrics token for `/metrics`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use concierge_protocol::ErrorCode;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::App;
use crate::error::ApiError;
use crate::store::Agent;

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The agent behind `Authorization: Bearer TOKEN`.
pub struct AgentAuth(pub Agent);

impl FromRequestParts<Arc<App>> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken, "missing bearer token"))?;
        match app.chat.store.agent_by_token(token).await? {
            Some(agent) => Ok(AgentAuth(agent)),
            None => Err(ApiError::new(
                ErrorCode::InvalidToken,
                "invalid or revoked bearer token",
            )),
        }
    }
}

/// A scraper of `/metrics` on the main listener: `Authorization: Bearer` with the configured
/// `metrics_token`. With no token configured the endpoint does not exist there (404, as any
/// unknown path), so a default install exposes nothing.
pub struct MetricsScraper;

impl FromRequestParts<Arc<App>> for MetricsScraper {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = app
            .config
            .metrics_token
            .as_ref()
            .map(|t| t.expose_secret())
            .filter(|t| !t.is_empty())
        else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        match bearer(parts) {
            Some(presented) if same_token(expected, presented) => Ok(MetricsScraper),
            _ => Err(
                ApiError::new(ErrorCode::InvalidToken, "missing or wrong metrics token")
                    .into_response(),
            ),
        }
    }
}

/// Compares in constant time. Hashing first makes the inputs equally long, so not even the
/// token's length leaks through timing.
fn same_token(expected: &str, presented: &str) -> bool {
    let expected = Sha256::digest(expected.as_bytes());
    let presented = Sha256::digest(presented.as_bytes());
    expected.as_slice().ct_eq(presented.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::same_token;

    #[test]
    fn the_metrics_token_must_match_exactly() {
        assert!(same_token("s3cret-token", "s3cret-token"));
        for wrong in [
            "",
            "s3cret",
            "s3cret-token ",
            "S3CRET-TOKEN",
            "s3cret-tokem",
        ] {
            assert!(!same_token("s3cret-token", wrong), "{wrong:?}");
        }
    }
}
