//! Conversation-side effects of escalation: system lines in the transcript, status changes
//! made by the system (not by an agent), and ticket events for the agents' inboxes.

use concierge_protocol::{Author, ConversationStatus};

use super::{Chat, ChatError, Result};
use crate::bus::EventKind;
use crate::store::{ConversationRecord, MessageRecord, TicketRecord};

impl Chat {
    /// Appends a system line (seen by the visitor and the agents) and publishes it.
    pub async fn system_message(
        &self,
        conversation: &ConversationRecord,
        text: &str,
    ) -> Result<MessageRecord> {
        self.complete_message(conversation, Author::System, text)
            .await
    }

    /// Sets the status on the system's behalf (escalation) and publishes the conversation.
    pub async fn set_status(
        &self,
        conversation: &ConversationRecord,
        status: ConversationStatus,
    ) -> Result<ConversationRecord> {
        let updated = self
            .store
            .set_conversation_status(&conversation.site_id, &conversation.id, status, None)
            .await?;
        self.publish_conversation(&updated).await;
        Ok(updated)
    }

    /// Hands the conversation to people (status `waiting`) unless they have it already;
    /// publishes the change. `None`: people had it (nothing changed).
    pub async fn hand_to_people(
        &self,
        conversation: &ConversationRecord,
    ) -> Result<Option<ConversationRecord>> {
        let updated = self
            .store
            .hand_to_people(&conversation.site_id, &conversation.id)
            .await?;
        if let Some(c) = &updated {
            self.publish_conversation(c).await;
        }
        Ok(updated)
    }

    /// Re-reads the conversation and publishes it (its mood changed).
    pub async fn republish_conversation(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<ConversationRecord> {
        let fresh = self
            .store
            .conversation(site_id, conversation_id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        self.publish_conversation(&fresh).await;
        Ok(fresh)
    }

    pub async fn publish_ticket(&self, ticket: &TicketRecord) {
        self.publish(
            &ticket.site_id,
            &ticket.conversation_id,
            EventKind::Ticket {
                ticket: Box::new(ticket.view()),
            },
        )
        .await;
    }

    /// Publishes the ticket an agent action changed, if there was one.
    pub(super) async fn ticket_changed(&self, changed: Option<TicketRecord>) {
        if let Some(t) = changed {
            self.publish_ticket(&t).await;
        }
    }
}
