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
//! - this file: the shared views (messages, conversations, tickets).
//! - `error`: error codes, the REST error body and websocket close codes (re-exported here).

use serde::{Deserialize, Serialize};

pub mod agent;
pub mod api;
mod error;
pub mod kb_api;
pub mod origin;
pub mod owner_api;
pub mod site_api;
pub mod theme;
pub mod visitor;
pub mod widget;

pub use error::{close, ApiErrorBody, ErrorBody, ErrorCode};

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
#[serde(rename_all = "snake_case")]
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
#[serde(rename_all = "snake_case")]
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
#[serde(rename_all = "snake_case")]
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
#[serde(rename_all = "snake_case")]
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
}

/// Where an escalation ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Escalated; waiting for a person.
    Open,
    /// A person took it over (or handed it back to the bot without resolving it).
    Pending,
    /// Resolved.
    Solved,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Solved => "solved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => TicketStatus::Open,
            "pending" => TicketStatus::Pending,
            "solved" => TicketStatus::Solved,
            _ => return None,
        })
    }
}

/// Why a conversation was escalated: on tickets, handoff packets and in analytics, in the order
/// the reasons first came up.
// (De)serialized through `as_str`/`parse`: smaller in the dashboard's wasm than derived
// variant visitors, and the names cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum EscalationReason {
    /// The visitor asked for a person (in words, or with the widget's button).
    AskedForHuman,
    /// The visitor's mood fell below the policy's threshold (one very negative message, or a
    /// negative trend over recent turns).
    NegativeMood,
    /// The bot could not answer several times in a row.
    RepeatedFailure,
    /// The visitor asked the same question again: the answer did not help.
    RepeatedQuestion,
    /// The visitor gave answers a thumbs-down.
    ThumbsDown,
    /// Asked to file a formal complaint.
    Complaint,
    /// A cancellation or refund, when the owner made it escalate by itself.
    CancelRefund,
    /// A legal or public threat.
    LegalThreat,
    /// Time pressure, when the owner made it escalate by itself.
    Urgency,
    /// A hacked account, a charge the visitor did not make, fraud.
    AccountSecurity,
    /// A described problem, when the owner made it escalate by itself.
    Problem,
    /// The account used up its plan's bot answers for the month: people answer instead.
    QuotaReached,
}

impl EscalationReason {
    pub const ALL: [EscalationReason; 12] = [
        EscalationReason::AskedForHuman,
        EscalationReason::NegativeMood,
        EscalationReason::RepeatedFailure,
        EscalationReason::RepeatedQuestion,
        EscalationReason::ThumbsDown,
        EscalationReason::Complaint,
        EscalationReason::CancelRefund,
        EscalationReason::LegalThreat,
        EscalationReason::Urgency,
        EscalationReason::AccountSecurity,
        EscalationReason::Problem,
        EscalationReason::QuotaReached,
    ];

    /// As stored and sent (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::AskedForHuman => "asked_for_human",
            EscalationReason::NegativeMood => "negative_mood",
            EscalationReason::RepeatedFailure => "repeated_failure",
            EscalationReason::RepeatedQuestion => "repeated_question",
            EscalationReason::ThumbsDown => "thumbs_down",
            EscalationReason::Complaint => "complaint",
            EscalationReason::CancelRefund => "cancel_refund",
            EscalationReason::LegalThreat => "legal_threat",
            EscalationReason::Urgency => "urgency",
            EscalationReason::AccountSecurity => "account_security",
            EscalationReason::Problem => "problem",
            EscalationReason::QuotaReached => "quota_reached",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How soon a person should pick a ticket up; ordered `normal < high < urgent`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "&'static str")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum Priority {
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::High, Priority::Urgent];

    /// As stored and sent (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl TryFrom<String> for EscalationReason {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown escalation reason {s:?}"))
    }
}

impl From<EscalationReason> for &'static str {
    fn from(r: EscalationReason) -> Self {
        r.as_str()
    }
}

impl TryFrom<String> for Priority {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown priority {s:?}"))
    }
}

impl From<Priority> for &'static str {
    fn from(p: Priority) -> Self {
        p.as_str()
    }
}

/// A conversation escalated to a person, with what the agent needs to take over at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub site_key: String,
    pub conversation_id: String,
    pub status: TicketStatus,
    pub priority: Priority,
    /// Why it was escalated, first escalation first.
    pub reasons: Vec<EscalationReason>,
    /// Name of the agent who took it over or was assigned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent: Option<String>,
    /// Id of that agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent_id: Option<String>,
    /// True while the visitor has been asked for an email address (no agent was online).
    #[serde(default)]
    pub awaiting_email: bool,
    /// The address the visitor left for a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    pub handoff: Handoff,
    /// How many times the conversation was escalated into this ticket.
    pub escalations: i64,
    pub created_at: String,
    /// First agent reply after the escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    pub updated_at: String,
}

/// The handoff packet: the conversation in one glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// A short summary of what the visitor wants and what happened.
    pub summary: String,
    /// `extractive` (built from the visitor's own words) or `llm`.
    pub summary_by: String,
    /// The documents the bot cited in this conversation, most recent answer first.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Sentiment and mood after each visitor message, oldest first.
    #[serde(default)]
    pub mood: Vec<MoodPoint>,
    /// Why it was escalated (as on the ticket).
    #[serde(default)]
    pub reasons: Vec<EscalationReason>,
}

/// One visitor message's sentiment and the conversation's mood after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoodPoint {
    pub seq: i64,
    /// -1..1, this message alone.
    pub sentiment: f32,
    /// -1..1, the weighted trend up to this message.
    pub mood: f32,
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
