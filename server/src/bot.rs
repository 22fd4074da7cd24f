//! The bot: answers each new visitor message of a conversation it is handling, from the site's
//! knowledge base, streamed token by token with citations, or says it does not know and
//! offers a human.
//!
//! A site without any document has no bot: its conversations are live chat with agents only.
//! One answer at a time per conversation (a second question waits for the first answer), and
//! the conversation is re-read before answering so a human who took over is never talked over.
//!
//! - this file: the coordinator of a visitor's turn (assess, reserve, retrieve, answer).
//! - [`compose`]: retrieval with its confidence gate and the answer's writing (LLM or
//!   extractive), shared with [`ask`].
//! - [`ask`]: "Ask your docs": the owner asks as a visitor would, without a conversation.
//! - `quota`: the plan's bot answers.

pub mod ask;
pub mod compose;
mod quota;

use std::sync::Arc;

use concierge_protocol::{ConversationStatus, Phase};
use dashmap::DashMap;
use tokio::sync::Mutex;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::chat::Chat;
use crate::escalation::{Assessment, Escalations};
use crate::rag::llm::Role;
use crate::rag::pii::mask_pii;
use crate::rag::{Knowledge, RagError};
use crate::store::{ConversationRecord, MessageRecord, TurnOutcome};
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
    /// Scores each visitor message and escalates before (or instead of) answering.
    pub escalations: Arc<Escalations>,
    /// Serialises answers per conversation.
    turns: DashMap<String, Arc<Mutex<()>>>,
    /// Answers in flight, so shutdown can wait for them.
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
    pub fn new(chat: Arc<Chat>, knowledge: Arc<Knowledge>, escalations: Arc<Escalations>) -> Self {
        Bot {
            chat,
            knowledge,
            escalations,
            turns: DashMap::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Assesses `message` (sentiment, escalation) and, if the bot handles the conversation,
    /// answers it, in the background.
    pub fn on_visitor_message(
        self: &Arc<Self>,
        conversation: &ConversationRecord,
        message: MessageRecord,
    ) {
        let bot = self.clone();
        let conversation_id = conversation.id.clone();
        let site_id = conversation.site_id.clone();
        // Its own span (the task outlives the socket's frame): `retrieve`, `stream` and `llm`
        // nest in it, so one answer reads as one block of the log.
        let span = tracing::info_span!(
            parent: None,
            "bot_answer",
            site = %site_id,
            conversation = %conversation_id,
            seq = message.seq,
        );
        self.tasks.spawn(
            async move {
                let started = std::time::Instant::now();
                match bot.answer(&site_id, &conversation_id, &message).await {
                    Ok(m) => tracing::info!(
                        answered_seq = m.as_ref().map(|m| m.seq),
                        ms = started.elapsed().as_millis() as u64,
                        "bot turn done"
                    ),
                    Err(e) => tracing::warn!(error = %e, "bot answer failed"),
                }
            }
            .instrument(span),
        );
    }

    /// Answers one visitor message; returns the bot's message (None when a human handles the
    /// conversation).
    pub async fn answer(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let turn = self
            .turns
            .entry(conversation_id.to_string())
            .or_default()
            .clone();
        let _turn = turn.lock().await;
        let result = self.answer_locked(site_id, conversation_id, question).await;
        drop(_turn);
        self.turns
            .remove_if(conversation_id, |_, t| Arc::strong_count(t) == 1);
        result
    }

    async fn answer_locked(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let Some(conversation) = self
            .chat
            .store
            .conversation(site_id, conversation_id)
            .await?
        else {
            return Ok(None);
        };
        let kb = &self.knowledge;
        // A site without documents uses Concierge as live chat only: the bot stays silent.
        let has_documents = kb.store.count_chunks(site_id).await? > 0;
        // Every visitor message is assessed, whoever answers it: the mood is shown to agents,
        // an email left for an offline team is captured, and the bot's conversations escalate.
        // The message is embedded for the classifier whether or not the site has documents;
        // with documents, retrieval finds that embedding in the query cache.
        let assessment = match self
            .escalations
            .on_visitor_message(&conversation, question, true)
            .await
        {
            Ok(a) if a.escalated => return Ok(None),
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "escalation assessment failed; answering anyway");
                None
            }
        };
        if conversation.status != ConversationStatus::Bot {
            return Ok(None);
        }
        if !has_documents {
            self.outcome(&conversation, &assessment, TurnOutcome::Silent)
                .await;
            return Ok(None);
        }
        if !self.reserve(&conversation, question).await {
            self.outcome(&conversation, &assessment, TurnOutcome::Escalated)
                .await;
            return Ok(None);
        }
        self.chat.bot_phase(&conversation, Phase::Searching).await;
        let retrieval = match async {
            let retrieval = self.retrieve(site_id, &question.text).await;
            if let Ok(r) = &retrieval {
                tracing::info!(
                    hits = r.outcome.hits.len(),
                    best_similarity = r.outcome.best_similarity,
                    "retrieved"
                );
            }
            retrieval
        }
        .instrument(tracing::info_span!("retrieve"))
        .await
        {
            Ok(retrieval) => retrieval,
            Err(e) => {
                // The visitor is told at once rather than left with "searching" forever.
                tracing::error!(error = %e, "knowledge search failed; the bot cannot answer");
                if self.failed(&conversation, &assessment).await {
                    return Ok(None);
                }
                let m = self.chat.bot_message(&conversation, CANNOT_SEARCH).await?;
                return Ok(Some(m));
            }
        };
        let Some(hits) = retrieval.answerable() else {
            tracing::info!("below the confidence gate: the bot does not know");
            kb.store
                .record_gap(
                    site_id,
                    Some(conversation_id),
                    &question.text,
                    retrieval.outcome.best_similarity as f64,
                )
                .await?;
            if self.failed(&conversation, &assessment).await {
                return Ok(None);
            }
            let m = self.chat.bot_message(&conversation, DONT_KNOW).await?;
            return Ok(Some(m));
        };
        let (m, written) = async {
            let (m, written) = self.stream_answer(&conversation, question, &hits).await?;
            tracing::info!(
                seq = m.seq,
                answered = written.answered,
                sources = written.sources.len(),
                "bot answered"
            );
            Ok::<_, BotError>((m, written))
        }
        .instrument(tracing::info_span!("stream"))
        .await?;
        let outcome = if written.answered {
            TurnOutcome::Answered
        } else {
            TurnOutcome::DontKnow
        };
        self.outcome(&conversation, &assessment, outcome).await;
        Ok(Some(m))
    }

    /// Writes the answer as a streaming bot message (deltas as they are written) and
    /// finishes it with its sources.
    async fn stream_answer(
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

    /// Records the message's signals with what the bot did (mood, failure streak).
    async fn outcome(
        &self,
        conversation: &ConversationRecord,
        assessment: &Option<Assessment>,
        outcome: TurnOutcome,
    ) {
        let Some(a) = assessment else {
            return;
        };
        if let Err(e) = self.escalations.record(conversation, a, outcome).await {
            tracing::warn!(error = %e, "message signals not recorded");
        }
    }

    /// The bot cannot answer: escalates instead when that is one failure too many (true), or
    /// records the failure (false) before the bot says so.
    async fn failed(
        &self,
        conversation: &ConversationRecord,
        assessment: &Option<Assessment>,
    ) -> bool {
        if let Some(a) = assessment {
            match self.escalations.on_failure(conversation, a).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "escalation after a failure did not happen"),
            }
        }
        self.outcome(conversation, assessment, TurnOutcome::DontKnow)
            .await;
        false
    }

    /// Recent turns before the question, oldest first, with PII masked.
    async fn history(
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
