//! The bot: answers a visitor's question from the site's knowledge base, streamed token by
//! token with citations, or says it does not know. It only answers: whether it answers at all,
//! and what happens when it cannot, is decided by the visitor's turn ([`crate::turn`]).
//!
//! - this file: the answer as a streaming message of the conversation, and the turns the LLM
//!   sees.
//! - [`compose`]: retrieval with its confidence gate and the answer's writing (LLM or
//!   extractive), shared with [`ask`].
//! - [`ask`]: "Ask your docs": the owner asks as a visitor would, without a conversation.

pub mod ask;
pub mod compose;

use std::sync::Arc;

use concierge_protocol::Phase;
use tokio_util::task::TaskTracker;

use crate::chat::Chat;
use crate::rag::llm::Role;
use crate::rag::pii::mask_pii;
use crate::rag::{Knowledge, RagError};
use crate::store::{ConversationRecord, MessageRecord};
use compose::ConversationSink;

/// What the bot says when retrieval finds nothing good enough.
pub const DONT_KNOW: &str = "I couldn't find an answer to that in our help articles, and I \
don't want to guess. Would you like to talk to a person from our team? They can pick this up \
right here.";

/// What the bot says when it cannot search at all (model or index unavailable).
pub const CANNOT_SEARCH: &str = "I can't look through our help articles right now. Would you \
like to talk to a person from our team instead?";

/// Visitor turns (and answers) the LLM sees besides the question.
const HISTORY_MESSAGES: i64 = 6;

pub struct Bot {
    pub chat: Arc<Chat>,
    pub knowledge: Arc<Knowledge>,
    /// Answers in flight (visitors' turns and "Ask your docs"), so shutdown can wait for them.
    pub tasks: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Chat(#[from] crate::chat::ChatError),
    #[error(transparent)]
    Rag(#[from] RagError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Whoever read the answer went away (the owner's "Ask your docs" request was closed).
    #[error("the answer's reader went away")]
    ReaderGone,
}

impl Bot {
    pub fn new(chat: Arc<Chat>, knowledge: Arc<Knowledge>) -> Self {
        Bot {
            chat,
            knowledge,
            tasks: TaskTracker::new(),
        }
    }

    /// Writes the answer as a streaming bot message (deltas as they are written) and
    /// finishes it with its sources.
    pub(crate) async fn stream_answer(
        &self,
        conversation: &ConversationRecord,
        question: &MessageRecord,
        hits: &[crate::rag::Hit],
    ) -> Result<(MessageRecord, compose::Written), BotError> {
        let site_id = &conversation.site_id;
        self.chat.bot_phase(conversation, Phase::Writing).await;
        let mut stream = self
            .chat
            .start_stream(conversation, concierge_protocol::Author::Bot)
            .await?;
        // The conversation so far, for the site's LLM (if it has one).
        let history = match self.knowledge.llm_for(site_id).await {
            Some(_) => self.history(conversation, question.seq).await,
            None => Vec::new(),
        };
        let written = self
            .write_answer(
                site_id,
                &question.text,
                &history,
                hits,
                &mut ConversationSink {
                    chat: &self.chat,
                    stream: &mut stream,
                },
            )
            .await?;
        let m = self.chat.finish_stream(stream, &written.sources).await?;
        Ok((m, written))
    }

    /// Recent turns before the question, oldest first, with PII masked.
    pub(crate) async fn history(
        &self,
        conversation: &ConversationRecord,
        before_seq: i64,
    ) -> Vec<(Role, String)> {
        let after = (before_seq - 1 - HISTORY_MESSAGES).max(0);
        let messages = self
            .chat
            .store
            .messages_after(
                &conversation.site_id,
                &conversation.id,
                after,
                HISTORY_MESSAGES,
            )
            .await
            .unwrap_or_default();
        messages
            .into_iter()
            .filter(|m| m.seq < before_seq && !m.text.is_empty())
            .map(|m| {
                let role = match m.author {
                    concierge_protocol::Author::Visitor => Role::User,
                    _ => Role::Assistant,
                };
                (role, mask_pii(&m.text))
            })
            .collect()
    }
}
