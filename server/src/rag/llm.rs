//! The language-model side of answering: the `Llm` trait the answer pipeline streams from, and
//! `OpenAiLlm`, which speaks the OpenAI streaming chat-completions protocol to any compatible
//! server (OpenAI, llama.cpp, vLLM, Ollama). A trait so the app state can hold `Arc<dyn Llm>`
//! and self-hosters can point at whatever endpoint they run. The implementation lives in
//! `openai.rs`, the grounded prompt in `prompt.rs`, the choice of a site's model (its own, none,
//! or the server's) in `sites.rs`, the dashboard's connection test in `check.rs`.
//!
//! Streaming policy: a visitor sees text as it is generated, so a retry is only safe before the
//! first token (it would otherwise duplicate text). One retry covers a refused connection or a
//! server that does not start answering in time; after that, silence is `Stalled` and a cut
//! connection is `Interrupted`, both delivered after the deltas already sent.

mod check;
mod openai;
mod prompt;
mod sites;
#[cfg(test)]
mod tests;

pub use check::{check_connection, CHECK_TIMEOUT};
pub use openai::OpenAiLlm;
pub use prompt::{grounded_prompt, PromptSource};
pub use sites::{check_endpoint, SiteLlms};

use std::time::Duration;

use futures::stream::BoxStream;

/// Where the model lives and how patient to be with it.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// Base URL including the version prefix, e.g. `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    /// Model name sent with each request (some servers ignore it).
    pub model: String,
    /// Sent as a bearer token when set; self-hosted servers usually need none.
    pub api_key: Option<String>,
    /// How long to wait for the first token of an answer, per attempt.
    pub first_token_timeout: Duration,
    /// How long the stream may stay silent between chunks once it has started.
    pub idle_timeout: Duration,
    /// Answer length cap when the request does not set one.
    pub max_tokens: u32,
}

impl LlmConfig {
    /// A config with the documented defaults: 10 s to first token, 20 s between chunks,
    /// 512 tokens per answer, no API key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            first_token_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(20),
            max_tokens: 512,
        }
    }
}

/// Who said a message in the conversation sent to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One chat completion to stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmRequest {
    pub messages: Vec<(Role, String)>,
    /// Overrides `LlmConfig::max_tokens`.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// What an answer stream yields: text as it comes, then one `Done`.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmEvent {
    Delta(String),
    /// Token counts come from the server when it reports usage; otherwise they are estimated
    /// (prompt: characters / 4, completion: number of deltas).
    Done {
        prompt_tokens: Option<u32>,
        completion_tokens: Option<u32>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the language model at {base_url} is unreachable: {message}")]
    Unreachable { base_url: String, message: String },
    #[error("the language model did not start answering within {0:?}")]
    Timeout(Duration),
    #[error("the language model went silent for {0:?} in the middle of an answer")]
    Stalled(Duration),
    #[error("the language model answered with HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("the language model's answer was cut off: {0}")]
    Interrupted(String),
    #[error("the language model sent something unexpected: {0}")]
    Protocol(String),
}

impl LlmError {
    /// Failures where a second attempt may help and cannot duplicate text (nothing was
    /// streamed yet when these come out of `open`).
    pub(super) fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::Timeout(_) | Self::Interrupted(_)
        )
    }
}

/// A source of streamed answers.
#[async_trait::async_trait]
pub trait Llm: Send + Sync {
    fn model(&self) -> &str;
    async fn stream(
        &self,
        req: LlmRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError>;
}
