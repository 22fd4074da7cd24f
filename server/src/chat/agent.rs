//! What an agent can do: reply, take over, hand back, resolve, type, read history.
//! Agents act on any conversation of their account's sites and nothing else.

use concierge_protocol::{Author, ConversationStatus, MessageState};

use super::{validate_message, Chat, ChatError, Result};
use crate::bus::EventKind;
use crate::store::{Agent, AppendOutcome, ConversationRecord, MessageRecord, NewMessage, TakeOver};

/// Most messages in one `history` answer.
pub const HISTORY_LIMIT: i64 = 500;

impl Chat {
    /// The conversation, if it belongs to one of the agent's sites.
    pub async fn agent_conversation(
        &self,
        agent: &Agent,
        conversation_id: &str,
    ) -> Result<ConversationRecord> {
        self.store
            .conversation_in_account(&agent.account_id, conversation_id)
            .await?
            .ok_or(ChatError::UnknownConversation)
    }

    /// Stores an agent reply (once per `client_msg_id`) and fans it out. Replying to a
    /// conversation the bot is answering (or nobody yet) takes it over first; one another
    /// agent holds is refused with [`ChatError::TakenBy`] (a resend of a reply stored before
    /// still gets its stored message).
    pub async fn agent_reply(
        &self,
        agent: &Agent,
        conversation_id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<MessageRecord> {
        let text = validate_message(client_msg_id, text)?;
        let mut conversation = self.agent_conversation(agent, conversation_id).await?;
        let assigned_to_me = conversation.status == ConversationStatus::Agent
            && conversation.agent_id.as_deref() == Some(agent.id.as_str());
        if !assigned_to_me {
            // A resend of a reply stored before someone else took over must not take over
            // again; it only gets its ack back.
            if let Some(existing) = self
                .store
                .message_by_client_id(&conversation.site_id, &conversation.id, client_msg_id)
                .await?
            {
                return Ok(existing);
            }
            conversation = self.take_over(agent, conversation_id).await?;
        }
        // On the common path the store itself catches a resend (unique client_msg_id) and
        // returns the stored reply: no look-up before the insert.
        let outcome = self
            .store
            .append_message(
                &conversation.site_id,
                &conversation.id,
                NewMessage {
                    author: Author::Agent,
                    agent_id: Some(&agent.id),
                    author_name: Some(&agent.name),
                    text,
                    state: MessageState::Complete,
                    client_msg_id: Some(client_msg_id),
                },
            )
            .await?;
        if let AppendOutcome::Stored(m) = &outcome {
            self.metrics.messages_stored.inc();
            self.publish_message(&conversation, m).await;
            // The first human answer after an escalation: time to first response.
            let answered = self
                .store
                .ticket_first_response(&conversation.site_id, &conversation.id)
                .await?;
            self.ticket_changed(answered).await;
        }
        Ok(outcome.record().clone())
    }

    /// Status `agent`, assigned to this agent; the visitor is told who joined. A conversation
    /// another agent holds stays theirs: [`ChatError::TakenBy`] names them.
    pub async fn take_over(
        &self,
        agent: &Agent,
        conversation_id: &str,
    ) -> Result<ConversationRecord> {
        let current = self.agent_conversation(agent, conversation_id).await?;
        let taken = match self
            .store
            .take_over_conversation(&current.site_id, &current.id, &agent.id)
            .await?
            .ok_or(ChatError::UnknownConversation)?
        {
            TakeOver::Taken(c) => c,
            TakeOver::AlreadyHeld(c) => return Ok(c),
            TakeOver::HeldByOther(c) => return Err(taken_by(&c)),
        };
        let note = format!("{} joined the conversation", agent.name);
        let updated = self.announce(&taken, &note).await?;
        let ticket = self
            .store
            .ticket_taken_over(&updated.site_id, &updated.id, &agent.id)
            .await?;
        self.ticket_changed(ticket).await;
        Ok(updated)
    }

    /// Status `bot` again.
    pub async fn hand_back(
        &self,
        agent: &Agent,
        conversation_id: &str,
    ) -> Result<ConversationRecord> {
        let note = format!(
            "{} handed the conversation back to the assistant",
            agent.name
        );
        let updated = self
            .change_status(agent, conversation_id, ConversationStatus::Bot, &note)
            .await?;
        // Automatic escalation cools down from here; the ticket stays pending.
        self.store
            .set_handed_back(&updated.site_id, &updated.id)
            .await?;
        let ticket = self
            .store
            .ticket_handed_back(&updated.site_id, &updated.id)
            .await?;
        self.ticket_changed(ticket).await;
        Ok(updated)
    }

    /// Status `resolved`; a later visitor message reopens it.
    pub async fn resolve(
        &self,
        agent: &Agent,
        conversation_id: &str,
    ) -> Result<ConversationRecord> {
        let note = format!("{} marked the conversation as resolved", agent.name);
        let updated = self
            .change_status(agent, conversation_id, ConversationStatus::Resolved, &note)
            .await?;
        let ticket = self
            .store
            .ticket_solved(&updated.site_id, &updated.id)
            .await?;
        self.ticket_changed(ticket).await;
        Ok(updated)
    }

    /// Hand back or resolve: any agent of the account may, whoever holds the conversation.
    async fn change_status(
        &self,
        agent: &Agent,
        conversation_id: &str,
        status: ConversationStatus,
        note: &str,
    ) -> Result<ConversationRecord> {
        debug_assert_ne!(status, ConversationStatus::Agent, "take_over decides that");
        let current = self.agent_conversation(agent, conversation_id).await?;
        if current.status == status {
            return Ok(current);
        }
        let updated = self
            .store
            .set_conversation_status(&current.site_id, &current.id, status, None)
            .await?;
        self.announce(&updated, note).await
    }

    /// A system line in the transcript (so a resuming visitor sees what happened), then the
    /// conversation and the line to everyone.
    async fn announce(
        &self,
        updated: &ConversationRecord,
        note: &str,
    ) -> Result<ConversationRecord> {
        let appended = self
            .store
            .append_message(
                &updated.site_id,
                &updated.id,
                NewMessage {
                    author: Author::System,
                    agent_id: None,
                    author_name: None,
                    text: note,
                    state: MessageState::Complete,
                    client_msg_id: None,
                },
            )
            .await?;
        let updated = self
            .store
            .conversation(&updated.site_id, &updated.id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        self.publish_conversation(&updated).await;
        self.publish(
            &updated.site_id,
            &updated.id,
            EventKind::Message {
                message: appended.record().view(),
            },
        )
        .await;
        Ok(updated)
    }

    pub async fn agent_typing(&self, agent: &Agent, conversation_id: &str, on: bool) -> Result<()> {
        let conversation = self.agent_conversation(agent, conversation_id).await?;
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Typing {
                author: Author::Agent,
                who: agent.name.clone(),
                on,
            },
        )
        .await;
        Ok(())
    }

    /// Messages after `last_seq` in one of the agent's conversations.
    pub async fn agent_history(
        &self,
        agent: &Agent,
        conversation_id: &str,
        last_seq: i64,
    ) -> Result<Vec<MessageRecord>> {
        let conversation = self.agent_conversation(agent, conversation_id).await?;
        Ok(self
            .store
            .messages_after(
                &conversation.site_id,
                &conversation.id,
                last_seq.max(0),
                HISTORY_LIMIT,
            )
            .await?)
    }
}

/// The refusal of a take-over (or reply) on a conversation another agent holds.
fn taken_by(held: &ConversationRecord) -> ChatError {
    ChatError::TakenBy {
        agent_name: held
            .agent_name
            .clone()
            .unwrap_or_else(|| "Another agent".to_string()),
    }
}
