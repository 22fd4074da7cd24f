//! Frames on the agent socket, `GET /ws/agent` with `Authorization: Bearer TOKEN`.

use serde::{Deserialize, Serialize};

use crate::{Conversation, ErrorCode, FeedbackValue, IngestJob, Message, Ticket};

/// The signed-in agent, as shown to themselves and to visitors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `owner`, `admin` or `agent`.
    pub role: String,
    /// Set themselves away (`PUT /api/v1/me/presence`): escalations do not count them.
    #[serde(default)]
    pub away: bool,
}

/// A site the agent works on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub site_key: String,
    pub name: String,
}

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentClientFrame {
    Hello {
        v: u32,
    },
    /// A reply to a visitor. Replying to a conversation the bot is handling takes it over.
    Reply {
        conversation_id: String,
        client_msg_id: String,
        text: String,
    },
    /// Status becomes `agent`; the bot stops answering.
    TakeOver {
        conversation_id: String,
    },
    /// Status becomes `bot` again.
    HandBack {
        conversation_id: String,
    },
    /// Status becomes `resolved`.
    Resolve {
        conversation_id: String,
    },
    Typing {
        conversation_id: String,
        on: bool,
    },
    /// Ask for every message after `last_seq`; answered with `history`.
    Sync {
        conversation_id: String,
        #[serde(default)]
        last_seq: i64,
    },
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentServerFrame {
    /// Answer to `hello`: who you are, your sites, and the conversations that are not resolved.
    Welcome {
        agent: AgentInfo,
        sites: Vec<SiteInfo>,
        conversations: Vec<Conversation>,
        /// Tickets that are not solved (open and pending), most urgent first.
        #[serde(default)]
        tickets: Vec<Ticket>,
    },
    /// A conversation was created or changed (status, last_seq).
    Conversation {
        conversation: Conversation,
    },
    /// Authoritative snapshot of a message in one of your sites' conversations.
    Message {
        conversation_id: String,
        message: Message,
    },
    /// Appends to a streaming message, as on the visitor socket.
    Delta {
        conversation_id: String,
        seq: i64,
        offset: usize,
        text: String,
    },
    /// Your reply with this `client_msg_id` is durably stored at `seq`.
    Ack {
        conversation_id: String,
        client_msg_id: String,
        seq: i64,
    },
    /// Answer to `sync`: messages after the asked `last_seq`, in order.
    History {
        conversation_id: String,
        messages: Vec<Message>,
    },
    /// Someone in a conversation is typing: `visitor`, `bot`, or another agent's name.
    Typing {
        conversation_id: String,
        on: bool,
        who: String,
    },
    /// An escalation ticket on one of your sites was opened or changed (taken over, handed
    /// back, solved, re-escalated, the visitor left an email, the summary was refined).
    Ticket {
        ticket: Box<Ticket>,
    },
    /// The visitor gave a thumbs up or down on the bot answer at `seq` (the latest counts).
    Feedback {
        conversation_id: String,
        seq: i64,
        value: FeedbackValue,
    },
    /// A document ingestion job on one of your sites progressed or finished.
    Ingest {
        job: IngestJob,
    },
    /// The account passed 80 % or 100 % of a plan limit (as in `GET /api/v1/usage`).
    Usage {
        warning: UsageWarning,
    },
    /// Events may have been missed (the cross-node bus reconnected): `sync` open conversations.
    Resync,
    Pong,
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// A plan limit at or past 80 %: which limit (`bot_answers`, `seats`, `documents`, `sites`),
/// how much is used of how much, and a sentence saying what happens at the limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageWarning {
    pub limit: String,
    pub used: i64,
    pub max: i64,
    pub percent: i64,
    pub message: String,
}
