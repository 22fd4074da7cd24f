//! Frames on the visitor socket, `GET /ws/visitor?site_key=KEY`.

use serde::{Deserialize, Serialize};

use crate::widget::{ConversationSummary, Identity};
use crate::{ConversationStatus, ErrorCode, FeedbackValue, Message, Phase};

/// Client → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorClientFrame {
    /// First frame. Without a token: a new visitor and conversation. With a token: resume;
    /// `last_seq` asks only for messages after it.
    Hello {
        v: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visitor_token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_seq: Option<i64>,
        /// The host page's signed visitor identity (see [`Identity`]). A verified identity
        /// selects that user's visitor on any device; the token it is given in `welcome`
        /// replaces the client's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<Identity>,
        /// The host page's address (`location.href`, at most 2,000 characters), shown to
        /// agents. Only `http(s)` addresses are kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page_url: Option<String>,
        /// The visitor's language, BCP 47 (`navigator.language`, else the page's
        /// `<html lang>`), shown to agents: at most 35 of `A-Z a-z 0-9 -`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lang: Option<String>,
    },
    /// A visitor message. `client_msg_id` (1-64 chars) makes resends safe: the same id always
    /// gets the same `ack` and is stored once.
    Send { client_msg_id: String, text: String },
    /// The visitor is (or stopped) typing.
    Typing { on: bool },
    /// "Talk to a person": escalates the conversation (always allowed; a conversation already
    /// waiting for or handled by a person stays as it is). Answered with `status`.
    RequestHuman {},
    /// Thumbs up or down on the bot answer at `seq`; the latest value counts. Thumbs-down
    /// answers count towards escalation.
    Feedback { seq: i64, value: FeedbackValue },
    /// Starts a new conversation for this visitor; answered with a `welcome` for it (the
    /// socket then belongs to the new conversation).
    NewConversation {},
    /// Asks for this visitor's conversations, newest first; answered with `conversations`.
    ListConversations {},
    /// Application-level keepalive; answered with `pong`.
    Ping,
}

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorServerFrame {
    /// Answer to `hello`: the (possibly new) token to keep, the conversation, and every message
    /// with `seq > last_seq`, in order.
    Welcome {
        visitor_token: String,
        conversation_id: String,
        status: ConversationStatus,
        messages: Vec<Message>,
    },
    /// The message with this `client_msg_id` is durably stored at `seq`.
    Ack {
        client_msg_id: String,
        seq: i64,
    },
    /// Authoritative snapshot of a message (new, or a streaming message's final state).
    Message {
        message: Message,
    },
    /// Appends `text` to the streaming message `seq` at character `offset`. A client that
    /// already holds more than `offset` characters skips what it has.
    Delta {
        seq: i64,
        offset: usize,
        text: String,
    },
    /// Someone else in the conversation is (or stopped) typing; `who` is `agent`, `bot`, or
    /// the agent's name when known.
    Typing {
        on: bool,
        who: String,
    },
    /// The conversation's status changed (an agent joined, handed back, or resolved it), or,
    /// with `phase`, what the bot is doing before its answer arrives.
    Status {
        status: ConversationStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<Phase>,
    },
    /// Answer to `list_conversations`: newest first, at most 50.
    Conversations {
        conversations: Vec<ConversationSummary>,
    },
    Pong,
    Error {
        code: ErrorCode,
        message: String,
    },
}
