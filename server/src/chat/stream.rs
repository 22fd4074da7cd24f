//! Streaming a message token by token (the bot's answers): the message gets its seq when the
//! stream starts, each delta is persisted at its character offset before it is published, and
//! the final snapshot has state `complete`. A client that joins mid-stream gets the current
//! text in its `welcome` and continues from the deltas; offsets make overlaps harmless.

use concierge_protocol::{Author, MessageState};

use super::{Chat, Result};
use crate::bus::EventKind;
use crate::store::{ConversationRecord, MessageRecord, NewMessage};

/// A message being streamed.
#[derive(Debug)]
pub struct StreamHandle {
    pub site_id: String,
    pub conversation_id: String,
    pub seq: i64,
    /// Characters written so far.
    pub offset: usize,
}

impl Chat {
    /// Starts an empty streaming message by `author` (normally the bot).
    pub async fn start_stream(
        &self,
        conversation: &ConversationRecord,
        author: Author,
    ) -> Result<StreamHandle> {
        let outcome = self
            .store
            .append_message(
                &conversation.site_id,
                &conversation.id,
                NewMessage {
                    author,
                    agent_id: None,
                    author_name: None,
                    text: "",
                    state: MessageState::Streaming,
                    client_msg_id: None,
                },
            )
            .await?;
        let record = outcome.record();
        self.publish_message(conversation, record).await;
        Ok(StreamHandle {
            site_id: record.site_id.clone(),
            conversation_id: record.conversation_id.clone(),
            seq: record.seq,
            offset: 0,
        })
    }

    /// Persists and publishes one piece of text.
    pub async fn stream_delta(&self, handle: &mut StreamHandle, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let stored = self
            .store
            .append_stream_text(
                &handle.site_id,
                &handle.conversation_id,
                handle.seq,
                handle.offset,
                text,
            )
            .await?;
        if !stored {
            return Err(super::ChatError::BadInput(
                "stream is not open at this offset",
            ));
        }
        let offset = handle.offset;
        handle.offset += text.chars().count();
        self.publish(
            &handle.site_id,
            &handle.conversation_id,
            EventKind::Delta {
                seq: handle.seq,
                offset,
                text: text.to_string(),
            },
        )
        .await;
        Ok(())
    }

    /// Posts a complete bot message in one piece (e.g. "I don't know").
    pub async fn bot_message(
        &self,
        conversation: &ConversationRecord,
        text: &str,
    ) -> Result<MessageRecord> {
        self.complete_message(conversation, Author::Bot, text).await
    }

    /// Appends a complete message without an idempotency key (bot or system) and publishes it.
    pub(super) async fn complete_message(
        &self,
        conversation: &ConversationRecord,
        author: Author,
        text: &str,
    ) -> Result<MessageRecord> {
        let outcome = self
            .store
            .append_message(
                &conversation.site_id,
                &conversation.id,
                NewMessage {
                    author,
                    agent_id: None,
                    author_name: None,
                    text,
                    state: MessageState::Complete,
                    client_msg_id: None,
                },
            )
            .await?;
        let record = outcome.record().clone();
        self.publish_message(conversation, &record).await;
        Ok(record)
    }

    /// Tells the conversation's visitors what the bot is doing (`status` with `phase`).
    pub async fn bot_phase(
        &self,
        conversation: &ConversationRecord,
        phase: concierge_protocol::Phase,
    ) {
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Phase {
                status: conversation.status,
                phase,
            },
        )
        .await;
    }

    /// Completes the message (with its citations, if any) and publishes its final snapshot.
    pub async fn finish_stream(
        &self,
        handle: StreamHandle,
        sources: &[concierge_protocol::Source],
    ) -> Result<MessageRecord> {
        let record = self
            .store
            .complete_stream(
                &handle.site_id,
                &handle.conversation_id,
                handle.seq,
                sources,
            )
            .await?;
        self.publish(
            &handle.site_id,
            &handle.conversation_id,
            EventKind::Message {
                message: record.view(),
            },
        )
        .await;
        Ok(record)
    }
}
