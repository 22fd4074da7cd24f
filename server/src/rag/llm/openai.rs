//! `OpenAiLlm`: the `Llm` trait over async-openai's streaming chat completions, with this
//! module's own retry and timeout policy (see `super`), usage estimates for servers that report
//! none, and HTTP errors that keep their status whatever the body looks like.

use std::{
    collections::VecDeque,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use async_openai::{
    config::OpenAIConfig,
    error::{ApiError, ApiErrorResponse, OpenAIError},
    middleware::{HttpRequestFactory, ReqwestService},
    types::chat::{
        ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        ChatCompletionResponseStream, ChatCompletionStreamOptions, CreateChatCompletionRequest,
        CreateChatCompletionStreamResponse,
    },
    Client,
};
use futures::{stream::BoxStream, StreamExt};
use tower::ServiceExt;

use super::{Llm, LlmConfig, LlmError, LlmEvent, LlmRequest, Role};

/// Pause before the single retry, so a server that is restarting gets a moment.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Error bodies can be whole HTML pages; keep logs and messages readable.
const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// `Llm` over async-openai, for any OpenAI-compatible `/chat/completions` endpoint.
pub struct OpenAiLlm {
    client: Client<OpenAIConfig>,
    cfg: LlmConfig,
    /// Cleared once the server rejects `stream_options` (older compatible servers), so later
    /// requests do not pay for a rejected attempt.
    ask_for_usage: AtomicBool,
}

impl OpenAiLlm {
    pub fn new(cfg: LlmConfig) -> Self {
        // Explicit empty values keep OPENAI_* environment variables from leaking in.
        let config = OpenAIConfig::new()
            .with_api_base(cfg.base_url.trim_end_matches('/'))
            .with_api_key(cfg.api_key.clone().unwrap_or_default())
            .with_org_id("")
            .with_project_id("");
        // async-openai's default transport retries 5xx and connect errors up to three times with
        // backoff; this module owns the retry policy, so it gets the bare transport, plus a
        // step that keeps the HTTP status of error bodies that are not OpenAI-shaped (FastAPI's
        // `{"detail": …}`, proxies' HTML pages), which async-openai would report as JSON errors.
        let transport = ReqwestService::default();
        let service = tower::service_fn(move |request: HttpRequestFactory| {
            let transport = transport.clone();
            async move {
                let response = transport.oneshot(request).await?;
                let status = response.status();
                if status.is_success() {
                    return Ok(response);
                }
                let body = response.text().await.unwrap_or_default();
                Err(OpenAIError::ApiError(ApiErrorResponse {
                    status_code: status,
                    api_error: ApiError {
                        message: error_message(&body),
                        ..ApiError::default()
                    },
                }))
            }
        });
        Self {
            client: Client::with_config(config).with_http_service(service),
            cfg,
            ask_for_usage: AtomicBool::new(true),
        }
    }

    // `max_tokens` is deprecated by OpenAI in favour of `max_completion_tokens`, but that is
    // the field self-hosted servers (llama.cpp, vLLM, Ollama) read.
    #[allow(deprecated)]
    fn chat_request(&self, req: &LlmRequest, ask_for_usage: bool) -> CreateChatCompletionRequest {
        let messages = req
            .messages
            .iter()
            .map(|(role, text)| -> ChatCompletionRequestMessage {
                match role {
                    Role::System => ChatCompletionRequestSystemMessage::from(text.as_str()).into(),
                    Role::User => ChatCompletionRequestUserMessage::from(text.as_str()).into(),
                    Role::Assistant => {
                        ChatCompletionRequestAssistantMessage::from(text.as_str()).into()
                    }
                }
            })
            .collect();
        CreateChatCompletionRequest {
            model: self.cfg.model.clone(),
            messages,
            max_tokens: Some(req.max_tokens.unwrap_or(self.cfg.max_tokens)),
            temperature: req.temperature,
            stream: Some(true),
            stream_options: ask_for_usage.then_some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            }),
            ..CreateChatCompletionRequest::default()
        }
    }

    /// Sends the request and waits for the first token (or an early end), all within the
    /// first-token timeout.
    async fn open(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<(ChatCompletionResponseStream, Progress), LlmError> {
        let limit = self.cfg.first_token_timeout;
        let attempt = async {
            let mut upstream = self
                .client
                .chat()
                .create_stream(request)
                .await
                .map_err(|e| self.classify(e))?;
            let mut progress = Progress::default();
            while progress.pending.is_empty() && !progress.finished {
                match upstream.next().await {
                    Some(Ok(chunk)) => progress.absorb(chunk),
                    Some(Err(e)) => return Err(self.classify(e)),
                    None => return Err(ended_early()),
                }
            }
            Ok((upstream, progress))
        };
        tokio::time::timeout(limit, attempt)
            .await
            .map_err(|_| LlmError::Timeout(limit))?
    }

    fn classify(&self, error: OpenAIError) -> LlmError {
        match error {
            OpenAIError::ApiError(ApiErrorResponse {
                status_code,
                api_error,
            }) => LlmError::Http {
                status: status_code.as_u16(),
                message: api_error.message,
            },
            OpenAIError::Reqwest(e) if e.is_connect() => LlmError::Unreachable {
                base_url: self.cfg.base_url.clone(),
                message: source_chain(&e),
            },
            OpenAIError::Reqwest(e) => LlmError::Interrupted(source_chain(&e)),
            OpenAIError::StreamError(e) => LlmError::Interrupted(e.to_string()),
            OpenAIError::JSONDeserialize(e, content) => LlmError::Protocol(format!(
                "unreadable chunk ({e}): {}",
                truncate(&content, MAX_ERROR_MESSAGE_CHARS)
            )),
            other => LlmError::Protocol(other.to_string()),
        }
    }
}

#[async_trait::async_trait]
impl Llm for OpenAiLlm {
    fn model(&self) -> &str {
        &self.cfg.model
    }

    async fn stream(
        &self,
        req: LlmRequest,
    ) -> Result<BoxStream<'static, Result<LlmEvent, LlmError>>, LlmError> {
        let prompt_chars: usize = req.messages.iter().map(|(_, t)| t.chars().count()).sum();
        let mut retried = false;
        let (upstream, progress) = loop {
            let ask_for_usage = self.ask_for_usage.load(Ordering::Relaxed);
            match self.open(self.chat_request(&req, ask_for_usage)).await {
                Ok(opened) => break opened,
                Err(LlmError::Http { status, message })
                    if ask_for_usage
                        && matches!(status, 400 | 422)
                        && message.contains("stream_options") =>
                {
                    // Rejected before anything was generated; not counted as the retry.
                    self.ask_for_usage.store(false, Ordering::Relaxed);
                }
                Err(e) if !retried && e.is_transient() => {
                    retried = true;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
                Err(e) => return Err(e),
            }
        };
        let tail = Tail {
            upstream,
            progress,
            idle_timeout: self.cfg.idle_timeout,
            estimated_prompt_tokens: u32::try_from(prompt_chars.div_ceil(4)).unwrap_or(u32::MAX),
        };
        Ok(futures::stream::unfold(Some(tail), |tail| async move {
            let mut tail = tail?;
            let event = tail.next_event().await;
            let keep_going = matches!(event, Ok(LlmEvent::Delta(_)));
            Some((event, keep_going.then_some(tail)))
        })
        .boxed())
    }
}

/// What the answer stream has received and not yet handed on.
#[derive(Default)]
struct Progress {
    pending: VecDeque<String>,
    /// A choice carried `finish_reason`: the answer is complete even if the connection is not
    /// closed cleanly afterwards. async-openai swallows `[DONE]`, so this is the only proof
    /// that a stream ending is not a truncation.
    finished: bool,
    usage: Option<(u32, u32)>,
    deltas: u32,
}

impl Progress {
    fn absorb(&mut self, chunk: CreateChatCompletionStreamResponse) {
        if let Some(usage) = chunk.usage {
            self.usage = Some((usage.prompt_tokens, usage.completion_tokens));
        }
        // Only one choice is requested; the first one is the answer.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                self.deltas += 1;
                self.pending.push_back(text);
            }
            if choice.finish_reason.is_some() {
                self.finished = true;
            }
        }
    }
}

struct Tail {
    upstream: ChatCompletionResponseStream,
    progress: Progress,
    idle_timeout: Duration,
    estimated_prompt_tokens: u32,
}

impl Tail {
    async fn next_event(&mut self) -> Result<LlmEvent, LlmError> {
        loop {
            if let Some(text) = self.progress.pending.pop_front() {
                return Ok(LlmEvent::Delta(text));
            }
            let next = tokio::time::timeout(self.idle_timeout, self.upstream.next()).await;
            match next {
                Ok(Some(Ok(chunk))) => self.progress.absorb(chunk),
                // After `finish_reason` only usage can still come; losing it loses no text.
                _ if self.progress.finished => return Ok(self.done()),
                Err(_) => return Err(LlmError::Stalled(self.idle_timeout)),
                Ok(Some(Err(OpenAIError::JSONDeserialize(e, content)))) => {
                    return Err(LlmError::Protocol(format!(
                        "unreadable chunk ({e}): {}",
                        truncate(&content, MAX_ERROR_MESSAGE_CHARS)
                    )))
                }
                Ok(Some(Err(e))) => return Err(LlmError::Interrupted(e.to_string())),
                Ok(None) => return Err(ended_early()),
            }
        }
    }

    fn done(&self) -> LlmEvent {
        let (prompt, completion) = self
            .progress
            .usage
            .unwrap_or((self.estimated_prompt_tokens, self.progress.deltas));
        LlmEvent::Done {
            prompt_tokens: Some(prompt),
            completion_tokens: Some(completion),
        }
    }
}

fn ended_early() -> LlmError {
    LlmError::Interrupted("the stream ended before the model finished its answer".into())
}

/// The human part of an error body: OpenAI's `{"error": {"message"}}`, FastAPI's `{"detail"}`,
/// or the raw text.
fn error_message(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let found = v
                .pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("detail"))
                .or_else(|| v.get("message"))?;
            Some(match found {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        });
    let message = from_json.unwrap_or_else(|| body.trim().to_string());
    truncate(&message, MAX_ERROR_MESSAGE_CHARS)
}

/// reqwest's top-level message ("error sending request") hides the cause; include it.
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
