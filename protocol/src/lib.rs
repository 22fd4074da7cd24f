//! Concierge wire protocol, version 1.
//!
//! JSON text frames over websockets, each an object with a `type` tag in snake_case. This crate
//! holds only serde types so that the server, the wasm widget and the wasm dashboard share one
//! definition of the contract. `README.md` next to this file documents every frame.
//!
//! Layout:
//! - [`visitor`]: frames on `GET /ws/visitor?site_key=KEY` (the embeddable widget).
//! - [`agent`]: frames on `GET /ws/agent` (the agents' dashboard).
//! - [`api`]: bodies of the `/api/v1` routes the dashboard uses.
//! - [`widget`]: the widget's settings and a visitor's signed identity.
//! - this file: the shared views (messages, conversations).
//! - `ticket`: escalation tickets, their reasons, priorities and handoff packets (re-exported
//!   here).
//! - `error`: error codes, the REST error body and websocket close codes (re-exported here).

use serde::{Deserialize, Serialize};

/// Serde through a name enum's own `as_str`/`parse` (`#[serde(try_from = "String", into =
/// "&'static str")]`): one name table per enum instead of a derived variant visitor too, which
/// keeps the dashboard's wasm smaller, and the wire names cannot drift from `as_str`.
macro_rules! serde_by_name {
    ($($t:ty),* $(,)?) => {$(
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                <$t>::parse(&s).ok_or_else(|| format!("unknown {} {s:?}", stringify!($t)))
            }
        }
        impl From<$t> for &'static str {
            fn from(v: $t) -> Self {
                v.as_str()
            }
        }
    )*};
}

pub mod agent;
pub mod api;
mod error;
pub mod kb_api;
pub mod origin;
pub mod owner_api;
pub mod site_api;
pub mod theme;
mod ticket;
pub mod visitor;
pub mod widget;

pub use error::{close, ApiErrorBody, ErrorBody, ErrorCode};
pub use ticket::{EscalationReason, Handoff, MoodPoint, Priority, Ticket, TicketStatus};

/// The escalation policy's intents by their stored names (`escalate_on`, intent thresholds),
/// in the order the owner's console lists them; the server's `Intent` enum has exactly these.
pub const ESCALATION_INTENTS: [&str; 7] = [
    "human_request",
    "complaint",
    "legal_threat",
    "account_security",
    "problem",
    "cancel_refund",
    "urgency",
];

serde_by_name!(
    Author,
    MessageState,
    ConversationStatus,
    Phase,
    TicketStatus,
    EscalationReason,
    Priority,
    ErrorCode,
    site_api::LlmMode,
);

/// The protocol version a client names in its `hello`. A server refuses other versions with
/// [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest websocket message the server reads without answering `too_large` (bytes).
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

/// Largest message text, in characters (Unicode scalar values).
pub const MAX_TEXT_CHARS: usize = 4_000;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum Author {
    Visitor,
    Bot,
    Agent,
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Visitor => "visitor",
            Author::Bot => "bot",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "visitor" => Author::Visitor,
            "bot" => Author::Bot,
            "agent" => Author::Agent,
            "system" => Author::System,
            _ => return None,
        })
    }
}

/// Whether a message is still being written (a streamed bot answer) or final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum MessageState {
    Streaming,
    Complete,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Streaming => "streaming",
            MessageState::Complete => "complete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "streaming" => Some(MessageState::Streaming),
            "complete" => Some(MessageState::Complete),
            _ => None,
        }
    }
}

/// Who is answering a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum ConversationStatus {
    /// The bot answers.
    Bot,
    /// Escalated; waiting for a human.
    Waiting,
    /// A human agent has taken over.
    Agent,
    /// Closed; a new visitor message reopens it with the bot.
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Bot => "bot",
            ConversationStatus::Waiting => "waiting",
            ConversationStatus::Agent => "agent",
            ConversationStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "bot" => ConversationStatus::Bot,
            "waiting" => ConversationStatus::Waiting,
            "agent" => ConversationStatus::Agent,
            "resolved" => ConversationStatus::Resolved,
            _ => return None,
        })
    }
}

/// Authoritative snapshot of one message. Clients replace what they hold for `seq` with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Position in the conversation: 1, 2, 3, ... without gaps.
    pub seq: i64,
    pub author: Author,
    /// Display name of the agent who wrote it (agent messages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Full text so far (Markdown subset). For a streaming message, `text` grows through deltas.
    pub text: String,
    pub state: MessageState,
    /// The sender's idempotency key, echoed so a client can match its optimistic copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The documents a bot answer is grounded in, in citation order (`[1]` is the first).
    /// Empty for other messages; set on the final snapshot of a streamed answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
}

/// One citation under a bot answer: where the visitor can read more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The document's id on its site (a relative path, or its URL when crawled).
    pub document_id: String,
    pub title: String,
    /// Link to the original page, when the document came from a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Section heading path inside the document ("Title › Section").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub section: String,
    /// The passage the answer used, shortened to at most 300 characters.
    pub snippet: String,
}

/// What the bot is doing before its answer's text arrives, carried by visitor `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum Phase {
    /// Looking through the site's documents.
    Searching,
    /// Composing the answer; deltas follow.
    Writing,
    /// A person took over the conversation (with status `agent` and the agent's name).
    AgentJoined,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Searching => "searching",
            Phase::Writing => "writing",
            Phase::AgentJoined => "agent_joined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "searching" => Phase::Searching,
            "writing" => Phase::Writing,
            "agent_joined" => Phase::AgentJoined,
            _ => return None,
        })
    }
}

/// Progress of a document ingestion job, as listed by the API and pushed to agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestJob {
    pub id: String,
    pub site_key: String,
    /// `queued`, `processing`, `ready` or `failed`.
    pub status: String,
    /// Documents in the job.
    pub total: i64,
    /// Documents finished (indexed, unchanged, or failed).
    pub done: i64,
    /// Documents that failed; each has its reason in the job's items.
    pub failed: i64,
    /// Why the whole job failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What an agent sees of a conversation in the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub site_key: String,
    pub visitor_id: String,
    pub status: ConversationStatus,
    /// Highest `seq` stored so far (0 for an empty conversation).
    pub last_seq: i64,
    /// Name of the agent who took over, when status is `agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// The visitor's mood: a weighted trend of the sentiment of recent visitor messages, from
    /// -1 (angry) to 1 (happy). Absent until the visitor has written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mood: Option<f32>,
    pub created_at: String,
    pub updated_at: String,
    /// The conversation's revision: it increases with every change. Snapshots can arrive out
    /// of order; of two, the one with the higher `rev` is the newer.
    #[serde(default)]
    pub rev: i64,
}

/// A visitor's verdict on a bot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "snake_case")]
pub enum FeedbackValue {
    Up,
    Down,
}

impl FeedbackValue {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackValue::Up => "up",
            FeedbackValue::Down => "down",
        }
    }
}

#[cfg(test)]
mod tests;
