//! What a visitor asks for directly: a person (the widget's button), or a verdict on one of
//! the bot's answers (thumbs up or down, which may hand the conversation over).

use concierge_protocol::{ConversationStatus, FeedbackValue};

use super::{Escalations, Result, HISTORY_TURNS};
use crate::chat::ChatError;
use crate::sentiment::{Priority, Reason};
use crate::store::{ConversationRecord, TicketRecord};

impl Escalations {
    /// The visitor pressed "talk to a person". Always escalates a conversation the bot is
    /// handling; one already waiting for or with a person stays as it is.
    pub async fn request_human(
        &self,
        conversation: &ConversationRecord,
    ) -> Result<Option<TicketRecord>> {
        let policy = self.policy(&conversation.site_id).await;
        let earlier = self
            .chat
            .store
            .recent_signals(
                &conversation.site_id,
                &conversation.id,
                i64::MAX,
                HISTORY_TURNS,
            )
            .await?;
        // The mood decides the priority; the request itself is the reason.
        let mood = earlier.last().map(|s| s.mood).unwrap_or(0.0);
        let priority = if mood <= policy.negative_mood {
            Priority::High
        } else {
            Priority::Normal
        };
        self.escalate(conversation, &[Reason::AskedForHuman], priority)
            .await
    }

    /// A thumbs up or down on a bot answer. Returns `Err(ChatError::UnknownConversation)`-like
    /// errors for a seq that is not a bot answer. A thumbs-down may escalate.
    pub async fn feedback(
        &self,
        conversation: &ConversationRecord,
        seq: i64,
        value: FeedbackValue,
    ) -> Result<bool> {
        let store = &self.chat.store;
        let target = store
            .message(&conversation.site_id, &conversation.id, seq)
            .await?;
        if !target.is_some_and(|m| m.author == concierge_protocol::Author::Bot) {
            return Err(ChatError::BadInput("feedback is only for the bot's answers").into());
        }
        store
            .record_feedback(&conversation.site_id, &conversation.id, seq, value)
            .await?;
        self.chat
            .publish(
                &conversation.site_id,
                &conversation.id,
                crate::bus::EventKind::Feedback { seq, value },
            )
            .await;
        if value == FeedbackValue::Up {
            return Ok(false);
        }
        let current = store
            .conversation(&conversation.site_id, &conversation.id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        if current.status != ConversationStatus::Bot {
            return Ok(false);
        }
        let policy = self.policy(&current.site_id).await;
        let downs = store
            .thumbs_down_since_escalation(
                &current.site_id,
                &current.id,
                current.handed_back_at.unwrap_or(0),
            )
            .await?;
        if !policy.enabled
            || downs < policy.max_thumbs_down as i64
            || Self::in_cooldown(&current, &policy)
        {
            return Ok(false);
        }
        let escalated = self
            .escalate(&current, &[Reason::ThumbsDown], Priority::High)
            .await?;
        Ok(escalated.is_some())
    }
}
