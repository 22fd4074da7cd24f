//! Handing a conversation to people: the ticket, the status, what the visitor reads, the
//! ticket event, the LLM summary, and the email left for an offline team.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use concierge_protocol::ConversationStatus;
use futures_util::StreamExt;

use super::{handoff, Escalations, Result, ESCALATED_OFFLINE, ESCALATED_ONLINE, SUMMARY_TIMEOUT};
use crate::chat::ChatError;
use crate::rag::llm::{Llm, LlmEvent, LlmRequest, Role};
use crate::rag::pii::mask_pii;
use crate::sentiment::{Priority, Reason};
use crate::store::{ConversationRecord, MessageRecord, NewEscalation, StoreError, TicketRecord};
use crate::text::find_email;

impl Escalations {
    /// Hands the conversation to people, opens or re-opens the ticket, tells everyone.
    /// `None` when the conversation is already with people (no double escalation), also when
    /// an agent takes it over while this runs.
    pub async fn escalate(
        &self,
        conversation: &ConversationRecord,
        reasons: &[Reason],
        priority: Priority,
    ) -> Result<Option<TicketRecord>> {
        let store = &self.chat.store;
        let current = store
            .conversation(&conversation.site_id, &conversation.id)
            .await?
            .ok_or(ChatError::UnknownConversation)?;
        if matches!(
            current.status,
            ConversationStatus::Waiting | ConversationStatus::Agent
        ) {
            return Ok(None);
        }
        let site = store
            .site_by_id(&current.site_id)
            .await?
            .ok_or(StoreError::NotFound("site"))?;
        let online = self.presence.anyone_online(store, &site.account_id).await?;
        let messages = store
            .messages_after(
                &current.site_id,
                &current.id,
                (current.last_seq - 50).max(0),
                50,
            )
            .await?;
        let signals = store
            .recent_signals(&current.site_id, &current.id, i64::MAX, 50)
            .await?;
        let packet = handoff::build(&messages, &signals, reasons);
        // Conditional: an agent who took the conversation over since it was read keeps it.
        let Some(waiting) = self.chat.hand_to_people(&current).await? else {
            return Ok(None);
        };
        let (ticket, created) = store
            .escalate_ticket(
                &current.site_id,
                &current.id,
                NewEscalation {
                    priority,
                    reasons,
                    awaiting_email: !online,
                    handoff: &packet,
                },
            )
            .await?;
        self.chat
            .system_message(
                &waiting,
                if online {
                    ESCALATED_ONLINE
                } else {
                    ESCALATED_OFFLINE
                },
            )
            .await?;
        self.chat.metrics.escalations.fetch_add(1, Relaxed);
        tracing::info!(
            conversation = %current.id,
            ticket = %ticket.id,
            created,
            priority = priority.as_str(),
            reasons = ?reasons,
            online,
            "escalated to a person"
        );
        self.chat.publish_ticket(&ticket).await;
        if !messages.is_empty() {
            if let Some(llm) = self.knowledge.llm_for(&current.site_id).await {
                self.refine_summary(llm, ticket.clone(), messages);
            }
        }
        Ok(Some(ticket))
    }

    /// Replaces the extractive summary with the site's LLM's, in the background.
    fn refine_summary(
        &self,
        llm: Arc<dyn Llm>,
        ticket: TicketRecord,
        messages: Vec<MessageRecord>,
    ) {
        let chat = self.chat.clone();
        tokio::spawn(async move {
            let request = LlmRequest {
                messages: vec![
                    (
                        Role::System,
                        "You summarise a support chat for the human agent who takes it over. \
                         In at most three short sentences say what the visitor wants, what was \
                         tried, and how they feel. No greeting, no advice."
                            .into(),
                    ),
                    (Role::User, mask_pii(&handoff::transcript(&messages))),
                ],
                max_tokens: Some(120),
                temperature: Some(0.2),
            };
            let collect = async {
                let mut events = llm.stream(request).await.ok()?;
                let mut text = String::new();
                while let Some(event) = events.next().await {
                    match event {
                        Ok(LlmEvent::Delta(t)) => text.push_str(&t),
                        Ok(LlmEvent::Done { .. }) => break,
                        Err(_) => return None,
                    }
                }
                let text = text.trim().to_string();
                (!text.is_empty()).then_some(text)
            };
            let Ok(Some(summary)) = tokio::time::timeout(SUMMARY_TIMEOUT, collect).await else {
                tracing::debug!(ticket = %ticket.id, "LLM summary unavailable; keeping the extractive one");
                return;
            };
            let mut packet = ticket.handoff.clone();
            packet.summary = summary;
            packet.summary_by = "llm".into();
            match chat
                .store
                .set_ticket_handoff(&ticket.site_id, &ticket.id, &packet)
                .await
            {
                Ok(Some(updated)) => chat.publish_ticket(&updated).await,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "LLM summary not stored"),
            }
        });
    }

    /// While waiting with nobody online, an email address in the visitor's message is kept
    /// on the ticket and acknowledged.
    pub(super) async fn capture_email(
        &self,
        conversation: &ConversationRecord,
        text: &str,
    ) -> Result<()> {
        let store = &self.chat.store;
        let Some(ticket) = store
            .active_ticket(&conversation.site_id, &conversation.id)
            .await?
        else {
            return Ok(());
        };
        if !ticket.awaiting_email {
            return Ok(());
        }
        let Some(email) = contact_email(text) else {
            return Ok(());
        };
        if let Some(updated) = store
            .ticket_contact_email(&conversation.site_id, &conversation.id, &email)
            .await?
        {
            self.chat
                .system_message(
                    conversation,
                    &format!(
                        "Thanks! We'll reply to {email} as soon as someone from our team is back."
                    ),
                )
                .await?;
            self.chat.publish_ticket(&updated).await;
        }
        Ok(())
    }
}

/// The first email address in `text`, lowercased as the ticket stores it.
fn contact_email(text: &str) -> Option<String> {
    find_email(text).map(str::to_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found_in_free_text() {
        assert_eq!(
            contact_email("sure, it's Ana.Diaz+shop@Example.co.uk thanks").as_deref(),
            Some("ana.diaz+shop@example.co.uk")
        );
        assert_eq!(contact_email("no address here, just @mentions"), None);
        assert_eq!(contact_email("ana@localhost"), None);
    }
}
