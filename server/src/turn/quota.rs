//! The plan's bot answers: each answer is reserved before the bot answers; at the limit the
//! conversation goes to people instead.

use super::Turns;
use crate::bus::EventKind;
use crate::sentiment::{Priority, Reason};
use crate::store::{ConversationRecord, MessageRecord, Reservation};

impl Turns {
    /// Reserves this answer against the account's plan. At the limit the bot stays silent and
    /// the conversation goes to people (reason `quota_reached`): the visitor is told a person
    /// will reply, or asked for an email when nobody is online. Returns whether to answer.
    /// When the plan cannot be read the visitor is answered (availability over billing).
    pub(super) async fn reserve(
        &self,
        conversation: &ConversationRecord,
        question: &MessageRecord,
    ) -> bool {
        let reserved = crate::accounts::plans::reserve_bot_answer(
            &self.bot.chat.store,
            &conversation.site_id,
            &conversation.id,
            question.seq,
        )
        .await;
        match reserved {
            Ok((Reservation::OverLimit { limit }, _)) => {
                tracing::info!(conversation = %conversation.id, limit, "bot answers used up; handing over to people");
                let reasons = [Reason::QuotaReached];
                if let Err(e) = self
                    .escalations
                    .escalate(conversation, &reasons, Priority::Normal)
                    .await
                {
                    tracing::warn!(error = %e, "quota hand-over failed");
                }
                false
            }
            Ok((_, warning)) => {
                if let Some(w) = warning {
                    if let Ok(Some(site)) =
                        self.bot.chat.store.site_by_id(&conversation.site_id).await
                    {
                        self.bot
                            .chat
                            .publish_account(
                                &site.account_id,
                                EventKind::Usage { warning: w.frame() },
                            )
                            .await;
                    }
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "bot answer not reserved; answering anyway");
                true
            }
        }
    }
}
