//! Fan-out of conversation events to every socket that should see them, on every node.
//!
//! Each node keeps a [`Hub`]: the local subscribers per conversation (visitor sockets) and per
//! site (agent sockets). A [`Bus`] carries events between nodes: [`LocalBus`] (the default, one
//! node) hands them straight to the hub; [`RedisBus`] also publishes them on a Redis channel
//! that every node subscribes to. Events are hints about what was already persisted, never the
//! source of truth: a socket that may have missed some (bus reconnect, slow consumer) re-reads
//! the store by `last_seq`, which is why a Redis restart loses nothing.

mod hub;
mod redis;

use std::sync::Arc;

use concierge_protocol::{self as proto, Author};
use serde::{Deserialize, Serialize};

pub use hub::{Hub, Subscription};
pub use redis::RedisBus;

/// Something that happened in a conversation, already persisted where it is persistent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub site_id: String,
    pub conversation_id: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum EventKind {
    /// A message snapshot (new, or a streaming message's final state).
    Message { message: proto::Message },
    /// Text appended to a streaming message.
    Delta {
        seq: i64,
        offset: usize,
        text: String,
    },
    /// Typing indicator; `who` is a display name, `author` says which side typed.
    Typing {
        author: Author,
        who: String,
        on: bool,
    },
    /// Conversation created or changed (status, assignment).
    Conversation { conversation: proto::Conversation },
    /// What the bot is doing before its answer's text arrives (visitor sockets only).
    Phase {
        status: proto::ConversationStatus,
        phase: proto::Phase,
    },
    /// An ingestion job of the site progressed (agent sockets only; `conversation_id` is
    /// empty).
    Ingest { job: proto::IngestJob },
    /// An escalation ticket was opened or changed (agent sockets only).
    Ticket { ticket: Box<proto::Ticket> },
    /// An agent's access changed (signed out, removed, password or role changed): that
    /// agent's sockets re-check their credentials (agent sockets only; `conversation_id` is
    /// empty).
    Access { agent_id: String },
    /// The visitor's thumbs on the bot answer at `seq` (agent sockets only).
    Feedback {
        seq: i64,
        value: proto::FeedbackValue,
    },
    /// The account crossed 80 % or 100 % of a plan limit (agent sockets only).
    Usage { warning: proto::agent::UsageWarning },
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("event encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Publishes events to every node (this one included).
#[async_trait::async_trait]
pub trait Bus: Send + Sync {
    /// Delivers to local subscribers at once and hands the event on to other nodes without
    /// waiting for them. An error means other nodes may not see the event; they resync when
    /// the bus recovers.
    async fn publish(&self, event: Event) -> Result<(), BusError>;
    /// Health of the cross-node link, for `/readyz`.
    async fn ping(&self) -> Result<(), BusError>;
    /// Events that never reached the other nodes (they resync instead), for `/metrics`.
    fn failed_publishes(&self) -> u64 {
        0
    }
    fn name(&self) -> &'static str;
}

/// Single-node bus: events only go to this process's sockets.
pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    pub fn new(hub: Arc<Hub>) -> Self {
        LocalBus { hub }
    }
}

#[async_trait::async_trait]
impl Bus for LocalBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        self.hub.deliver(Arc::new(event));
        Ok(())
    }

    async fn ping(&self) -> Result<(), BusError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "in-process"
    }
}
