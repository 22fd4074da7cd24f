//! `POST /api/v1/sites/{site_key}/ask`: "Ask your docs". The answer the bot would give, streamed
//! as `application/x-ndjson` (one [`AskEvent`] per line, each written as soon as it exists):
//! the retrieved passages, the answer's pieces, then the whole answer with its citations. Any
//! agent of the account may ask; nothing is stored but the LLM tokens spent.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use concierge_protocol::kb_api::{AskBody, AskEvent};
use concierge_protocol::{ErrorCode, MAX_TEXT_CHARS};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::auth::AgentAuth;
use super::kb::site_of;
use super::page::ApiJson;
use crate::app::App;
use crate::error::{bot_error_code, ApiError};

/// Events buffered between the answer and a slow reader before the answer waits.
const BUFFERED_EVENTS: usize = 32;

/// `{question}`: the body of the ask route ([`AskBody`] on the wire).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AskSchema {
    /// 1 to 4,000 characters.
    pub question: String,
}

#[utoipa::path(
    post,
    path = "/sites/{site_key}/ask",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = AskSchema,
    responses((status = 200, description = "application/x-ndjson, one object per line, tagged by `type`: `passages` {passages: [{document_id, title, url, section, score, similarity, text}], best_similarity, threshold} first, then `delta` {text} pieces of the answer, then `done` {answer, citations, answered} (answered = false: the bot would say it does not know); `error` {code, message} instead of the rest when the answer cannot be written", content_type = "application/x-ndjson", body = String), (status = "4XX", description = "A coded error before any line: unauthenticated, csrf, not_found, bad_frame (empty or over 4,000 characters), rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn ask(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<AskBody>,
) -> Result<Response, ApiError> {
    let site = site_of(&app, &auth, &site_key).await?;
    let question = body.question.trim().to_string();
    if question.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            "question must not be empty",
        ));
    }
    if question.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            format!("question is over {MAX_TEXT_CHARS} characters"),
        ));
    }
    let (tx, rx) = mpsc::channel::<AskEvent>(BUFFERED_EVENTS);
    let bot = app.bot.clone();
    app.bot.tasks.spawn(async move {
        if let Err(e) = bot.ask(&site.id, &question, &tx).await {
            let (code, message) = bot_error_code(&e);
            let _ = tx.send(AskEvent::Error { code, message }).await;
        }
    });
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = rx.recv().await?;
        Some((Ok::<_, Infallible>(ndjson_line(&event)), rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            // Proxies (nginx) would otherwise hold the lines back until the answer ends.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(lines),
    )
        .into_response())
}

fn ndjson_line(event: &AskEvent) -> Bytes {
    let mut line = serde_json::to_vec(event).unwrap_or_else(|_| {
        br#"{"type":"error","code":"internal","message":"an event could not be written"}"#.to_vec()
    });
    line.push(b'\n');
    Bytes::from(line)
}
