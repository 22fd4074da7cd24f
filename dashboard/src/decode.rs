//! Reading the two shapes serde can only decode through its buffered `Content` path: the agent
//! socket's frames (an internally tagged enum) and the inbox rows (a flattened conversation).
//! Serde's derived decoder for those instantiates a second deserializer for every type they
//! contain — 98 KB of the wasm before `wasm-opt` (docs/dashboard.md, Size). Here the JSON is
//! read into a `serde_json::Value` once, the tag (or the row's own fields) taken out, and each
//! field decoded with its protocol type's own deserializer, the one every API answer uses.
//!
//! Only the envelope is written here: every field is a `concierge_protocol` type, the struct
//! literals fail to compile when a variant gains or loses a field, and the tests check every
//! variant against serde's derived decoder.

use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::api::{InboxRow, Page};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Field `key` of `map`, decoded as `T` (taken out of the map).
fn take<T: DeserializeOwned>(map: &mut Map<String, Value>, key: &str) -> Option<T> {
    crate::json::typed(map.remove(key)?)
}

/// A `#[serde(default)]` field: absent or null is `T::default()`.
fn take_or_default<T: DeserializeOwned + Default>(
    map: &mut Map<String, Value>,
    key: &str,
) -> Option<T> {
    match map.remove(key) {
        None | Some(Value::Null) => Some(T::default()),
        Some(v) => crate::json::typed(v),
    }
}

/// A frame of the agent socket; `None` for text that is not one (or a frame type this build
/// does not know).
pub fn frame(text: &str) -> Option<AgentServerFrame> {
    let Value::Object(mut m) = serde_json::from_str::<Value>(text).ok()? else {
        return None;
    };
    let kind = match m.remove("type")? {
        Value::String(s) => s,
        _ => return None,
    };
    let m = &mut m;
    Some(match kind.as_str() {
        "welcome" => AgentServerFrame::Welcome {
            agent: take(m, "agent")?,
            sites: take(m, "sites")?,
            conversations: take(m, "conversations")?,
            tickets: take_or_default(m, "tickets")?,
        },
        "conversation" => AgentServerFrame::Conversation {
            conversation: take(m, "conversation")?,
        },
        "message" => AgentServerFrame::Message {
            conversation_id: take(m, "conversation_id")?,
            message: take(m, "message")?,
        },
        "delta" => AgentServerFrame::Delta {
            conversation_id: take(m, "conversation_id")?,
            seq: take(m, "seq")?,
            offset: take(m, "offset")?,
            text: take(m, "text")?,
        },
        "ack" => AgentServerFrame::Ack {
            conversation_id: take(m, "conversation_id")?,
            client_msg_id: take(m, "client_msg_id")?,
            seq: take(m, "seq")?,
        },
        "history" => AgentServerFrame::History {
            conversation_id: take(m, "conversation_id")?,
            messages: take(m, "messages")?,
        },
        "typing" => AgentServerFrame::Typing {
            conversation_id: take(m, "conversation_id")?,
            on: take(m, "on")?,
            who: take(m, "who")?,
        },
        "ticket" => AgentServerFrame::Ticket {
            ticket: take(m, "ticket")?,
        },
        "feedback" => AgentServerFrame::Feedback {
            conversation_id: take(m, "conversation_id")?,
            seq: take(m, "seq")?,
            value: take(m, "value")?,
        },
        "ingest" => AgentServerFrame::Ingest {
            job: take(m, "job")?,
        },
        "usage" => AgentServerFrame::Usage {
            warning: take(m, "warning")?,
        },
        "resync" => AgentServerFrame::Resync,
        "pong" => AgentServerFrame::Pong,
        "error" => AgentServerFrame::Error {
            code: take(m, "code")?,
            message: take(m, "message")?,
        },
        _ => return None,
    })
}

/// One inbox row: the conversation's fields and the row's own, in one object.
pub fn inbox_row(v: Value) -> Option<InboxRow> {
    let Value::Object(mut m) = v else {
        return None;
    };
    let last_message = take_or_default(&mut m, "last_message")?;
    let last_author = take_or_default(&mut m, "last_author")?;
    let last_visitor_message = take_or_default(&mut m, "last_visitor_message")?;
    let assignee_id = take_or_default(&mut m, "assignee_id")?;
    let ticket = take_or_default(&mut m, "ticket")?;
    Some(InboxRow {
        conversation: crate::json::typed(Value::Object(m))?,
        last_message,
        last_author,
        last_visitor_message,
        assignee_id,
        ticket,
    })
}

/// `GET /api/v1/conversations`: a page of inbox rows.
pub fn inbox_page(v: Value) -> Option<Page<InboxRow>> {
    let Value::Object(mut m) = v else {
        return None;
    };
    let items = match m.remove("items")? {
        Value::Array(items) => items
            .into_iter()
            .map(inbox_row)
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    Some(Page {
        items,
        next_cursor: take_or_default(&mut m, "next_cursor")?,
    })
}

#[cfg(test)]
mod tests;
