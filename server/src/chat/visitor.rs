//! What a visitor can do: say hello (new or resumed), send, type.

use concierge_protocol::{Author, ConversationStatus, MessageState};

use super::{validate_message, Chat, ChatError, Result};
use crate::bus::EventKind;
use crate::store::{AppendOutcome, ConversationRecord, MessageRecord, NewMessage, Site, Visitor};

/// Most messages returned in one `welcome`; older history is paged by the client.
pub const WELCOME_HISTORY_LIMIT: i64 = 500;

/// A visitor after `hello`.
pub struct VisitorSession {
    pub visitor: Visitor,
    /// Present only when a new token was minted (new visitor).
    pub new_token: Option<String>,
    pub conversation: ConversationRecord,
    /// The seq the messages start after: the client's `last_seq`, clamped to what exists.
    pub after_seq: i64,
    /// Messages after `after_seq`, in order.
    pub messages: Vec<MessageRecord>,
}

impl Chat {
    /// Resolves a `hello`: a new visitor without a token; with a token, that visitor's
    /// conversation (the named one, else their latest, else a new one).
    pub async fn visitor_hello(
        &self,
        site: &Site,
        token: Option<&str>,
        conversation_id: Option<&str>,
        last_seq: Option<i64>,
    ) -> Result<VisitorSession> {
        let (visitor, new_token) = match token {
            Some(t) => match self.store.visitor_by_token(&site.id, t).await? {
                Some(v) => (v, None),
                None => return Err(ChatError::InvalidToken),
            },
            None => {
                let (v, t) = self.store.create_visitor(&site.id).await?;
                (v, Some(t))
            }
        };
        let conversation = match conversation_id {
            Some(id) if new_token.is_none() => match self.store.conversation(&site.id, id).await? {
                Some(c) if c.visitor_id == visitor.id => c,
                _ => return Err(ChatError::UnknownConversation),
            },
            _ => match self
                .store
                .latest_conversation_of_visitor(&site.id, &visitor.id)
                .await?
            {
                Some(c) if new_token.is_none() => c,
                _ => {
                    self.store
                        .create_conversation(&site.id, &visitor.id)
                        .await?
                }
            },
        };
        // A fresh visitor has nothing; a claim beyond what exists is clamped.
        let after = if new_token.is_some() {
            0
        } else {
            last_seq.unwrap_or(0).clamp(0, conversation.last_seq)
        };
        let messages = self
            .store
            .messages_after(&site.id, &conversation.id, after, WELCOME_HISTORY_LIMIT)
            .await?;
        Ok(VisitorSession {
            visitor,
            new_token,
            conversation,
            after_seq: after,
            messages,
        })
    }

    /// Stores a visitor message (once per `client_msg_id`) and fans it out. The flag is true
    /// when this call stored it (false for a resend of a stored message).
    pub async fn visitor_send(
        &self,
        visitor: &Visitor,
        conversation: &ConversationRecord,
        client_msg_id: &str,
        text: &str,
    ) -> Result<(MessageRecord, bool)> {
        let text = validate_message(client_msg_id, text)?;
        if let Some(existing) = self
            .store
            .message_by_client_id(&conversation.site_id, &conversation.id, client_msg_id)
            .await?
        {
            return Ok((existing, false));
        }
        if !self.limits.allow_visitor_message(&visitor.id).await {
            return Err(ChatError::RateLimited);
        }
        let outcome = self
            .store
            .append_message(
                &conversation.site_id,
                &conversation.id,
                NewMessage {
                    author: Author::Visitor,
                    agent_id: None,
                    author_name: None,
                    text,
                    state: MessageState::Complete,
                    client_msg_id: Some(client_msg_id),
                },
            )
            .await?;
        if let AppendOutcome::Stored(m) = &outcome {
            // The insert's trigger reopened a resolved conversation with the bot: say so.
            if conversation.status == ConversationStatus::Resolved {
                if let Some(fresh) = self
                    .store
                    .conversation(&conversation.site_id, &conversation.id)
                    .await?
                {
                    self.publish_conversation(&fresh).await;
                }
            }
            self.metrics
                .messages_stored
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.publish_message(conversation, m).await;
        }
        let fresh = matches!(outcome, AppendOutcome::Stored(_));
        Ok((outcome.record().clone(), fresh))
    }

    pub async fn visitor_typing(&self, conversation: &ConversationRecord, on: bool) {
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Typing {
                author: Author::Visitor,
                who: "visitor".into(),
                on,
            },
        )
        .await;
    }
}
