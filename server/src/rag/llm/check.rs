//! The dashboard's "Test connection": one tiny streamed completion against an endpoint, with
//! what went wrong said in words. Nothing is billed or recorded.

use std::time::{Duration, Instant};

use concierge_protocol::site_api::{LlmCheckFailure, LlmCheckView};
use futures::StreamExt;

use super::{Llm, LlmConfig, LlmError, LlmEvent, LlmRequest, OpenAiLlm, Role};

/// The longest a test waits for the first token (less when answers wait less).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Enough for any model to start answering; a test should cost next to nothing.
const CHECK_MAX_TOKENS: u32 = 4;

/// Streams a four-token completion from `cfg`'s endpoint, waiting for the first token at most
/// as long as an answer would (capped at [`CHECK_TIMEOUT`]).
pub async fn check_connection(mut cfg: LlmConfig) -> LlmCheckView {
    let limit = cfg.first_token_timeout.min(CHECK_TIMEOUT);
    cfg.first_token_timeout = limit;
    cfg.idle_timeout = limit;
    cfg.max_tokens = CHECK_MAX_TOKENS;
    let model = cfg.model.clone();
    let base_url = cfg.base_url.trim_end_matches('/').to_string();
    let llm = OpenAiLlm::new(cfg);
    let request = LlmRequest {
        messages: vec![
            (Role::System, "Reply with the word OK.".into()),
            (Role::User, "Are you there?".into()),
        ],
        max_tokens: Some(CHECK_MAX_TOKENS),
        temperature: Some(0.0),
    };
    let started = Instant::now();
    // The client retries a refused connection once; the test never waits past its limit.
    let first = tokio::time::timeout(limit + Duration::from_millis(500), async {
        let mut events = llm.stream(request).await?;
        match events.next().await {
            Some(Ok(LlmEvent::Delta(text))) => Ok(text),
            Some(Ok(LlmEvent::Done { .. })) | None => Ok(String::new()),
            Some(Err(e)) => Err(e),
        }
    })
    .await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let outcome = match first {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(LlmError::Timeout(limit)),
    };
    let (failure, message) = match outcome {
        Ok(()) => (
            None,
            format!("{model} answered at {base_url}: first token after {latency_ms} ms"),
        ),
        Err(e) => {
            let (failure, message) = explain(&e, &model, &base_url);
            (Some(failure), message)
        }
    };
    LlmCheckView {
        ok: failure.is_none(),
        model,
        latency_ms,
        message,
        failure,
    }
}

/// What a failure means to someone who typed the endpoint, model and key.
fn explain(e: &LlmError, model: &str, base_url: &str) -> (LlmCheckFailure, String) {
    match e {
        LlmError::Unreachable { message, .. } => (
            LlmCheckFailure::Unreachable,
            format!("could not connect to {base_url}: {message}"),
        ),
        LlmError::Timeout(limit) | LlmError::Stalled(limit) => (
            LlmCheckFailure::Timeout,
            format!(
                "{base_url} did not start answering within {} s; answers would fall back to the \
                 extractive ones",
                limit.as_secs_f32()
            ),
        ),
        LlmError::Http { status, message } => {
            let about_model = mentions_unknown_model(message);
            match status {
                401 | 403 => (
                    LlmCheckFailure::Unauthorized,
                    format!("the endpoint refused the API key (HTTP {status}): {message}"),
                ),
                404 | 400 | 422 if about_model => (
                    LlmCheckFailure::UnknownModel,
                    format!("the endpoint does not know the model {model:?} (HTTP {status}): {message}"),
                ),
                404 => (
                    LlmCheckFailure::NotFound,
                    format!(
                        "nothing answers at {base_url}/chat/completions (HTTP 404); the base URL \
                         usually ends with the API version, such as /v1"
                    ),
                ),
                _ => (
                    LlmCheckFailure::Http,
                    format!("the endpoint answered HTTP {status}: {message}"),
                ),
            }
        }
        LlmError::Interrupted(message) | LlmError::Protocol(message) => (
            LlmCheckFailure::Protocol,
            format!(
                "{base_url} did not answer like an OpenAI-compatible chat-completions API: {message}"
            ),
        ),
    }
}

/// OpenAI (`The model ... does not exist`), vLLM, Ollama (`model "x" not found`) and
/// LiteLLM all name the model when they do not know it.
fn mentions_unknown_model(message: &str) -> bool {
    let m = message.to_lowercase();
    m.contains("model")
        && ["not found", "does not exist", "unknown", "invalid"]
            .iter()
            .any(|w| m.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_explained_by_what_the_owner_can_fix() {
        let http = |status, message: &str| LlmError::Http {
            status,
            message: message.into(),
        };
        let kind = |e: LlmError| explain(&e, "gpt-x", "https://llm.example/v1").0;
        assert_eq!(kind(http(401, "bad key")), LlmCheckFailure::Unauthorized);
        assert_eq!(
            kind(http(404, "The model `gpt-x` does not exist")),
            LlmCheckFailure::UnknownModel
        );
        assert_eq!(
            kind(http(404, "model \"gpt-x\" not found, try pulling it first")),
            LlmCheckFailure::UnknownModel
        );
        assert_eq!(kind(http(404, "Not Found")), LlmCheckFailure::NotFound);
        assert_eq!(kind(http(429, "slow down")), LlmCheckFailure::Http);
        assert_eq!(
            kind(LlmError::Timeout(Duration::from_secs(1))),
            LlmCheckFailure::Timeout
        );
    }
}
