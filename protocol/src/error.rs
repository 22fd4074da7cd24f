//! Error codes every client switches on, the REST error body, and websocket close codes.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients switch on these; the `message` next to them is
/// for humans and may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum ErrorCode {
    /// Not JSON, not a known frame type, a missing field, or a frame sent before `hello`.
    BadFrame,
    /// Frame over 16 KiB or text over 4,000 characters.
    TooLarge,
    /// Too many messages or frames; slow down.
    RateLimited,
    UnknownSite,
    OriginNotAllowed,
    /// Visitor token or agent bearer token unknown or revoked.
    InvalidToken,
    UnsupportedVersion,
    /// The conversation does not exist or does not belong to this visitor / agent.
    UnknownConversation,
    /// The agent's role does not allow this action.
    Forbidden,
    /// A REST resource (document, job) does not exist on this site.
    NotFound,
    /// A part the request needs is not ready or not reachable (the embedding model, the
    /// vector index, the LLM); retry later.
    Unavailable,
    /// The site requires a signed visitor identity and the `hello` carried none.
    IdentityRequired,
    /// The visitor identity's `user_hash` does not match its `user_id`.
    InvalidIdentity,
    Internal,
    /// Sign-in refused: wrong email or password (the same answer for both).
    InvalidCredentials,
    /// No session cookie or bearer token, or the session ended (signed out, expired, revoked).
    Unauthenticated,
    /// A state-changing request authenticated by the session cookie without a matching
    /// `X-CSRF-Token` header.
    Csrf,
    /// The account's plan does not allow one more (seat, document, site); the message names
    /// the limit.
    PlanLimit,
    /// The thing to create already exists (an agent's email, a pending invitation).
    Conflict,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::UnknownSite => "unknown_site",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::UnknownConversation => "unknown_conversation",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::IdentityRequired => "identity_required",
            ErrorCode::InvalidIdentity => "invalid_identity",
            ErrorCode::Internal => "internal",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Csrf => "csrf",
            ErrorCode::PlanLimit => "plan_limit",
            ErrorCode::Conflict => "conflict",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Every code, for metrics labels and documentation.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::BadFrame,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::UnknownSite,
        ErrorCode::OriginNotAllowed,
        ErrorCode::InvalidToken,
        ErrorCode::UnsupportedVersion,
        ErrorCode::UnknownConversation,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Unavailable,
        ErrorCode::IdentityRequired,
        ErrorCode::InvalidIdentity,
        ErrorCode::Internal,
        ErrorCode::InvalidCredentials,
        ErrorCode::Unauthenticated,
        ErrorCode::Csrf,
        ErrorCode::PlanLimit,
        ErrorCode::Conflict,
    ];
}

/// An error's code and human sentence: the body of the widget's config refusal and of the 4xx
/// answer to a refused websocket upgrade, and the `error` of an [`ApiErrorBody`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

/// Body of every `/api/v1` error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: ErrorBody,
}

/// Websocket close codes the server uses, so clients know whether to reconnect.
pub mod close {
    /// Server restarting (SIGTERM): reconnect, possibly to another node.
    pub const SERVICE_RESTART: u16 = 1012;
    /// Repeated abuse (bad frames, floods): do not reconnect immediately.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A websocket message over the hard cap.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// A text frame that is not valid UTF-8 (RFC 6455 §7.4.1).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// No traffic (not even pongs) within the idle timeout.
    pub const IDLE_TIMEOUT: u16 = 1001;
    /// The agent's session or token ended (signed out, password changed, agent removed): sign
    /// in again rather than reconnect with the same credentials.
    pub const ACCESS_REVOKED: u16 = 4001;
}
