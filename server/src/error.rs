//! The one place engine errors become HTTP responses or protocol error frames. Details are
//! logged here and never sent: clients get a stable code and a human sentence.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use concierge_protocol::{ApiErrorBody, ErrorBody, ErrorCode};

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
        ChatError::TakenBy { .. } => (ErrorCode::Conflict, e.to_string()),
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
        ErrorCode::InvalidToken
        | ErrorCode::IdentityRequired
        | ErrorCode::InvalidIdentity
        | ErrorCode::InvalidCredentials
        | ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Csrf | ErrorCode::PlanLimit => StatusCode::FORBIDDEN,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A REST error with the matching status: `{"error": {"code", "message"}}` on `/api/v1`, or
/// the bare `{code, message}` the widget reads (its config and refused socket upgrades).
#[derive(Debug)]
pub struct ApiError {
    body: ErrorBody,
    /// Seconds, for `Retry-After` on 429s.
    retry_after: Option<u64>,
    /// The widget's bare shape instead of the `/api/v1` envelope.
    bare: bool,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            body: ErrorBody {
                code,
                message: message.into(),
            },
            retry_after: None,
            bare: false,
        }
    }

    /// 429 `rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = ApiError::new(
            ErrorCode::RateLimited,
            format!("too many attempts; retry in {retry_after_secs} s"),
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// The widget's bare `{code, message}` body (its loader and socket read that shape).
    pub fn bare(mut self) -> Self {
        self.bare = true;
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    pub fn message(&self) -> &str {
        &self.body.message
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
        RagError::CannotReindex(m) => (ErrorCode::Conflict, m.clone()),
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

/// Code and client-facing sentence for an answer the bot could not write.
pub fn bot_error_code(e: &crate::bot::BotError) -> (ErrorCode, String) {
    use crate::bot::BotError;
    match e {
        BotError::Rag(inner) => rag_error_code(inner),
        BotError::Chat(inner) => chat_error_code(inner),
        BotError::Store(inner) => {
            tracing::error!(error = %inner, "store error");
            (
                ErrorCode::Internal,
                "something went wrong on our side; please retry".into(),
            )
        }
        BotError::ReaderGone => (ErrorCode::Internal, e.to_string()),
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
        let status = status_of(self.body.code);
        let mut response = if self.bare {
            (status, Json(self.body)).into_response()
        } else {
            (status, Json(ApiErrorBody { error: self.body })).into_response()
        };
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<crate::accounts::AccountsError> for ApiError {
    fn from(e: crate::accounts::AccountsError) -> Self {
        use crate::accounts::AccountsError as E;
        let code = match &e {
            E::Store(inner) => {
                tracing::error!(error = %inner, "store error");
                return ApiError::new(
                    ErrorCode::Internal,
                    "something went wrong on our side; please retry",
                );
            }
            E::Hash => {
                tracing::error!("password hashing failed");
                ErrorCode::Internal
            }
            E::Index(inner) => {
                tracing::error!(error = %inner, "vector index");
                return ApiError::new(
                    ErrorCode::Internal,
                    "something went wrong on our side; please retry",
                );
            }
            E::InvalidCredentials => ErrorCode::InvalidCredentials,
            E::PlanLimit { .. } => ErrorCode::PlanLimit,
            E::AgentExists(_) => ErrorCode::Conflict,
            E::UnknownSite(_) => ErrorCode::UnknownSite,
            E::UnknownAgent(_) | E::NotFound(_) | E::UnknownPlan(_) | E::BadLink => {
                ErrorCode::NotFound
            }
            E::Forbidden(_) | E::SignupClosed => ErrorCode::Forbidden,
            E::BadOrigin(_)
            | E::NoOrigin
            | E::BadEmail(_)
            | E::BadRole(_)
            | E::WeakPassword(_)
            | E::BadInput(_) => ErrorCode::BadFrame,
        };
        ApiError::new(code, e.to_string())
    }
}
