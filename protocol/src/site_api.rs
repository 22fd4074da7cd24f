//! Bodies of a site's "Bot and escalation" settings under `/api/v1/sites/{site_key}/`: the
//! language model the bot answers with (`llm`, `llm/test`) and the replay of recent
//! conversations under an escalation policy that is not saved yet
//! (`escalation-policy/replay`). Owners and admins only.

use serde::{Deserialize, Serialize};

/// How the bot writes its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum LlmMode {
    /// No language model: answers quote the best passages of the knowledge base.
    Extractive,
    /// An OpenAI-compatible chat-completions endpoint writes grounded answers.
    Llm,
}

impl LlmMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LlmMode::Extractive => "extractive",
            LlmMode::Llm => "llm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "extractive" => Some(LlmMode::Extractive),
            "llm" => Some(LlmMode::Llm),
            _ => None,
        }
    }
}

/// Whose settings a site's bot uses now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmSource {
    /// The site's own (saved with `PUT .../llm`).
    Site,
    /// The server's configuration (`CONCIERGE_LLM_*`; extractive when it names no LLM).
    Server,
}

/// `GET`/`PUT`/`DELETE /api/v1/sites/{site_key}/llm`: what the site's bot uses now. The key
/// itself is never sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteLlmView {
    pub mode: LlmMode,
    /// The endpoint (None in extractive mode when none was ever saved).
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// An API key is stored (for the server's own LLM: configured).
    pub key_set: bool,
    /// `…` and the key's last four characters; None when no key is set, the key is too short
    /// to show any of it, or it is the server's.
    #[serde(default)]
    pub key_hint: Option<String>,
    pub source: LlmSource,
}

/// `PUT /api/v1/sites/{site_key}/llm` and `POST .../llm/test`. In `llm` mode `base_url` (http
/// or https) and `model` are required. `api_key` omitted keeps the stored key, `""` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteLlmBody {
    pub mode: LlmMode,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

/// Why a connection test failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmCheckFailure {
    /// No connection: wrong host or port, the server is down, or DNS failed.
    Unreachable,
    /// HTTP 401/403: the API key is missing or refused.
    Unauthorized,
    /// The endpoint does not know the model.
    UnknownModel,
    /// HTTP 404 without a word about the model: probably not the API's base URL (e.g. the
    /// version prefix `/v1` is missing).
    NotFound,
    /// No first token within the time an answer would wait.
    Timeout,
    /// Another HTTP error (rate limit, server error).
    Http,
    /// An answer that is not an OpenAI-compatible stream.
    Protocol,
}

/// `POST /api/v1/sites/{site_key}/llm/test`: a tiny completion against the (unsaved)
/// settings. Always HTTP 200; `ok` and `message` tell what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmCheckView {
    pub ok: bool,
    pub model: String,
    /// Time to the first token (or to the failure).
    pub latency_ms: u64,
    /// What happened, in words.
    pub message: String,
    /// Set when `ok` is false.
    #[serde(default)]
    pub failure: Option<LlmCheckFailure>,
}

/// `POST /api/v1/sites/{site_key}/escalation-policy/replay`. `policy` has the shape of the
/// `PUT .../escalation-policy` body (the server reads it as its own policy type; the dashboard
/// may use `serde_json::Value`). `last`: how many recent conversations, 1 to 1000 (200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody<P> {
    pub policy: P,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<u32>,
}

/// One conversation that would escalate under the replayed policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayExample {
    pub conversation_id: String,
    /// The visitor's first message (at most 200 characters).
    pub first_message: String,
    /// The first reason of the turn that would escalate (`asked_for_human`, `negative_mood`,
    /// `complaint` ...).
    pub reason: String,
    /// All reasons of that turn.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// It does not escalate under the saved policy.
    #[serde(default)]
    pub newly_escalated: bool,
}

/// The replay's answer: counts over the site's last `conversations` conversations with a
/// visitor message, under the replayed policy and under the saved one. Nothing is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayView {
    pub conversations: u32,
    /// Visitor turns replayed.
    #[serde(default)]
    pub turns: u32,
    /// Conversations that would escalate under the replayed policy.
    pub would_escalate: u32,
    /// Conversations that escalate under the saved policy (replayed the same way).
    pub escalated_now: u32,
    pub newly_escalated: u32,
    pub no_longer_escalated: u32,
    /// Up to 10: the newly escalated first, then the most recent.
    pub examples: Vec<ReplayExample>,
}
