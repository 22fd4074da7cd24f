//! The one place engine errors become HTTP responses or protocol error frames. Details are
//! logged here and never sent: clients get a stable code and a human sentence.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use concierge_protocol::{ErrorBody, ErrorCode};

use crate::chat::ChatError;
use crate::rag::RagError;
use crate::widget::WidgetError;

/// Code and client-facing sentence for a chat error.
pub fn chat_error_code(e: &ChatError) -> (ErrorCode, String) {
    match e {
        ChatError::Store(inner) => {
            tracing::error!(error = %inner, "store error");
            (
                ErrorCode::Internal,
                "something went wrong on our side; please retry".into(),
            )
        }
        ChatError::InvalidToken => (
            ErrorCode::InvalidToken,
            "unknown visitor token; say hello without one to start over".into(),
        ),
        ChatError::UnknownConversation => (
            ErrorCode::UnknownConversation,
            "no such conversation for you".into(),
        ),
        ChatError::BadInput(m) => (ErrorCode::BadFrame, (*m).to_string()),
        ChatError::TooLong => (ErrorCode::TooLarge, e.to_string()),
        ChatError::RateLimited => (ErrorCode::RateLimited, e.to_string()),
        ChatError::Forbidden => (ErrorCode::Forbidden, e.to_string()),
        ChatError::IdentityRequired => (
            ErrorCode::IdentityRequired,
            "this site talks only to signed-in visitors: send identity {user_id, user_hash} in hello"
                .into(),
        ),
        ChatError::InvalidIdentity(m) => (ErrorCode::InvalidIdentity, (*m).to_string()),
    }
}

/// HTTP status for a code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadFrame | ErrorCode::UnsupportedVersion => StatusCode::BAD_REQUEST,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::UnknownSite | ErrorCode::UnknownConversation | ErrorCode::NotFound => {
            StatusCode::NOT_FOUND
        }
        ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::OriginNotAllowed | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::InvalidToken | ErrorCode::IdentityRequired | ErrorCode::InvalidIdentity => {
            StatusCode::UNAUTHORIZED
        }
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A REST error: JSON `{code, message}` with the matching status.
#[derive(Debug)]
pub struct ApiError(ErrorBody);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(ErrorBody {
            code,
            message: message.into(),
        })
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        let (code, message) = chat_error_code(&e);
        ApiError::new(code, message)
    }
}

/// Code and client-facing sentence for a knowledge-base error.
pub fn rag_error_code(e: &RagError) -> (ErrorCode, String) {
    match e {
        RagError::BadInput(m) => (ErrorCode::BadFrame, m.clone()),
        RagError::NotFound(what) => (ErrorCode::NotFound, format!("no such {what} on this site")),
        // Provisioning errors are operator advice (which variable to set), not internals.
        RagError::Provision(inner) => {
            tracing::error!(error = %inner, "model provisioning");
            (ErrorCode::Unavailable, inner.to_string())
        }
        RagError::Embed(inner) => {
            tracing::error!(error = %inner, "embedding");
            (
                ErrorCode::Unavailable,
                "the embedding model is not available; retry later".into(),
            )
        }
        RagError::Llm(inner) => {
            tracing::error!(error = %inner, "llm");
            (
                ErrorCode::Unavailable,
                "the language model did not answer".into(),
            )
        }
        RagError::Store(inner) => {
            tracing::error!(error = %inner, "store error");
            (
                ErrorCode::Internal,
                "something went wrong on our side; please retry".into(),
            )
        }
        RagError::Index(inner) => {
            tracing::error!(error = %inner, "vector index");
            (
                ErrorCode::Internal,
                "the search index failed; please retry".into(),
            )
        }
    }
}

impl From<RagError> for ApiError {
    fn from(e: RagError) -> Self {
        let (code, message) = rag_error_code(&e);
        ApiError::new(code, message)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        RagError::Store(e).into()
    }
}

impl From<WidgetError> for ApiError {
    fn from(e: WidgetError) -> Self {
        match e {
            WidgetError::BadConfig(m) => ApiError::new(ErrorCode::BadFrame, m),
            WidgetError::UnknownSite => ApiError::new(ErrorCode::UnknownSite, e.to_string()),
            WidgetError::OriginNotAllowed => {
                ApiError::new(ErrorCode::OriginNotAllowed, e.to_string())
            }
            WidgetError::Store(inner) => inner.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}
