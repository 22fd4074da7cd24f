//! A visitor's turn: the one place that decides what happens to a visitor message. Each new
//! message is assessed (escalation scores it against the conversation's history), decided
//! (answer, answer and watch, or hand over), then acted on: the bot answers (or says it does
//! not know), escalation hands over, and what happened is recorded for the next turn. The
//! bot only answers and escalation only decides; neither calls the other.
//!
//! One turn at a time per conversation (a second question waits for the first answer), and
//! the conversation is re-read when the turn starts, so a person who took over is never
//! talked over.
//!
//! - this file: the turn.
//! - `quota`: the plan's bot answers, reserved before the bot answers.

mod quota;

use std::sync::Arc;

use concierge_protocol::{ConversationStatus, Phase};
use dashmap::DashMap;
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::bot::{Bot, BotError, CANNOT_SEARCH, DONT_KNOW};
use crate::escalation::{Assessment, Escalations};
use crate::store::{ConversationRecord, MessageRecord, TurnOutcome};

/// Visitors' turns: assess, decide, act.
pub struct Turns {
    /// Answers (and owns the tasks answers run on).
    pub bot: Arc<Bot>,
    /// Scores each visitor message and decides whether a person takes over.
    pub escalations: Arc<Escalations>,
    /// Serialises turns per conversation.
    locks: DashMap<String, Arc<Mutex<()>>>,
}

impl Turns {
    pub fn new(bot: Arc<Bot>, escalations: Arc<Escalations>) -> Self {
        Turns {
            bot,
            escalations,
            locks: DashMap::new(),
        }
    }

    /// Assesses `message` (sentiment, escalation) and, if the bot handles the conversation,
    /// answers it, in the background.
    pub fn on_visitor_message(
        self: &Arc<Self>,
        conversation: &ConversationRecord,
        message: MessageRecord,
    ) {
        let turns = self.clone();
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
        self.bot.tasks.spawn(
            async move {
                let started = std::time::Instant::now();
                match turns.take(&site_id, &conversation_id, &message).await {
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

    /// Takes one visitor message through its turn; returns the bot's message (None when it
    /// did not answer: a person has the conversation, or it was handed over).
    pub async fn take(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let turn = self
            .locks
            .entry(conversation_id.to_string())
            .or_default()
            .clone();
        let _turn = turn.lock().await;
        let result = self.run(site_id, conversation_id, question).await;
        drop(_turn);
        self.locks
            .remove_if(conversation_id, |_, t| Arc::strong_count(t) == 1);
        result
    }

    async fn run(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let Some(conversation) = self
            .bot
            .chat
            .store
            .conversation(site_id, conversation_id)
            .await?
        else {
            return Ok(None);
        };
        let kb = &self.bot.knowledge;
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
        // A person may have taken the conversation over while the message was assessed (the
        // LLM review of an unsure turn can take seconds): the bot answers only a conversation
        // it still has.
        let conversation = match self
            .bot
            .chat
            .store
            .conversation(site_id, conversation_id)
            .await?
        {
            Some(fresh) if fresh.status == ConversationStatus::Bot => fresh,
            _ => {
                self.outcome(&conversation, &assessment, TurnOutcome::Silent)
                    .await;
                return Ok(None);
            }
        };
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
        self.bot
            .chat
            .bot_phase(&conversation, Phase::Searching)
            .await;
        let retrieval = match async {
            let retrieval = self.bot.retrieve(site_id, &question.text).await;
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
                let m = self
                    .bot
                    .chat
                    .bot_message(&conversation, CANNOT_SEARCH)
                    .await?;
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
            let m = self.bot.chat.bot_message(&conversation, DONT_KNOW).await?;
            return Ok(Some(m));
        };
        let (m, written) = async {
            let (m, written) = self
                .bot
                .stream_answer(&conversation, question, &hits)
                .await?;
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
}
