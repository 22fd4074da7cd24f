//! The one place engine errors become HTTP responses or protocol error frames. Details are
//! logged here and never sent: clients get a stable code and a human sentence.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use concierge_protocol::{ErrorBody, ErrorCode};

use crate::chat::ChatError;

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
    }
}

/// HTTP status for a code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadFrame | ErrorCode::UnsupportedVersion => StatusCode::BAD_REQUEST,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::UnknownSite | ErrorCode::UnknownConversation => StatusCode::NOT_FOUND,
        ErrorCode::OriginNotAllowed | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
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
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> Self {
        let (code, message) = chat_error_code(&e);
        ApiError::new(code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}
