//! Bearer-token authentication of REST calls: the same agent tokens as the agent socket.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use concierge_protocol::ErrorCode;

use crate::app::App;
use crate::error::ApiError;
use crate::store::Agent;

/// The agent behind `Authorization: Bearer TOKEN`.
pub struct AgentAuth(pub Agent);

impl FromRequestParts<Arc<App>> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
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
