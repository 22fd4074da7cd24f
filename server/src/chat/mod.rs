//! Conversation service: the one place that decides what happens when a visitor writes, an
//! agent replies or takes over, or the bot streams an answer. The websocket sessions, the REST
//! API and the CLI call these functions; they persist first, then publish on the bus.

mod agent;
mod identity;
mod stream;
mod tickets;
mod visitor;

use std::sync::Arc;

use concierge_protocol::MAX_TEXT_CHARS;

use crate::bus::{Bus, Event, EventKind};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::store::{ConversationRecord, MessageRecord, Store, StoreError};

pub use identity::{MAX_EMAIL_CHARS, MAX_NAME_CHARS, MAX_USER_ID_CHARS};
pub use stream::StreamHandle;
pub use visitor::{
    preview, Hello, VisitorSession, CONVERSATION_LIST_LIMIT, PREVIEW_CHARS, WELCOME_HISTORY_LIMIT,
};

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid visitor token")]
    InvalidToken,
    #[error("conversation not found")]
    UnknownConversation,
    #[error("{0}")]
    BadInput(&'static str),
    #[error("text over {MAX_TEXT_CHARS} characters")]
    TooLong,
    #[error("too many messages; slow down")]
    RateLimited,
    #[error("not allowed for this role")]
    Forbidden,
    /// The site requires a signed identity and the hello carried none.
    #[error("this site requires a signed visitor identity")]
    IdentityRequired,
    /// The identity does not verify; the sentence says what is wrong for the site's developer.
    #[error("{0}")]
    InvalidIdentity(&'static str),
    /// Another agent holds the conversation (status `agent`): take-over and replies are
    /// refused until they hand it back or it is resolved.
    #[error("{agent_name} has already taken over this conversation")]
    TakenBy { agent_name: String },
}

pub type Result<T, E = ChatError> = std::result::Result<T, E>;

/// Shared by every session; cheap to clone behind an `Arc`.
pub struct Chat {
    pub store: Arc<Store>,
    pub bus: Arc<dyn Bus>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
}

impl Chat {
    /// Publishes an event; a failure is logged and counted, never returned: the data is already
    /// persisted and other nodes resync when the bus recovers.
    pub async fn publish(&self, site_id: &str, conversation_id: &str, kind: EventKind) {
        let event = Event {
            site_id: site_id.to_string(),
            conversation_id: conversation_id.to_string(),
            kind,
        };
        if let Err(e) = self.bus.publish(event).await {
            self.metrics.bus_publish_errors.inc();
            tracing::warn!(error = %e, "bus publish failed; peers will resync");
        }
    }

    /// Publishes an account-wide event (agent sockets subscribe per site: one per site).
    pub async fn publish_account(&self, account_id: &str, kind: EventKind) {
        match self.store.sites_for_account(account_id).await {
            Ok(sites) => {
                for site in sites {
                    self.publish(&site.id, "", kind.clone()).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "account event not published"),
        }
    }

    /// An agent's access changed (signed out, removed, password, role): its sockets on every
    /// node re-check their credentials at once.
    pub async fn access_changed(&self, agent: &crate::store::Agent) {
        self.publish_account(
            &agent.account_id,
            EventKind::Access {
                agent_id: agent.id.clone(),
            },
        )
        .await;
    }

    async fn publish_message(&self, conversation: &ConversationRecord, message: &MessageRecord) {
        if message.seq == 1 {
            // First message: the conversation enters the agents' inbox.
            if let Ok(Some(fresh)) = self
                .store
                .conversation(&conversation.site_id, &conversation.id)
                .await
            {
                self.publish_conversation(&fresh).await;
            }
        }
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Message {
                message: message.view(),
            },
        )
        .await;
    }

    async fn publish_conversation(&self, conversation: &ConversationRecord) {
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Conversation {
                conversation: conversation.view(),
            },
        )
        .await;
    }
}

/// Checks a message's id and text; returns the text to store.
pub fn validate_message<'a>(client_msg_id: &str, text: &'a str) -> Result<&'a str> {
    if client_msg_id.is_empty() || client_msg_id.chars().count() > 64 {
        return Err(ChatError::BadInput(
            "client_msg_id must be 1 to 64 characters",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ChatError::TooLong);
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(ChatError::BadInput("message text is empty"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_empty_long_and_bad_ids() {
        assert_eq!(validate_message("a", "  hi \n").unwrap(), "hi");
        assert!(matches!(
            validate_message("", "hi"),
            Err(ChatError::BadInput(_))
        ));
        assert!(matches!(
            validate_message(&"x".repeat(65), "hi"),
            Err(ChatError::BadInput(_))
        ));
        assert!(matches!(
            validate_message("a", "   "),
            Err(ChatError::BadInput(_))
        ));
        assert!(validate_message("a", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(matches!(
            validate_message("a", &"é".repeat(MAX_TEXT_CHARS + 1)),
            Err(ChatError::TooLong)
        ));
    }
}
