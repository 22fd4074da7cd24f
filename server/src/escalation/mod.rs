//! Escalation service: scores every visitor message (sentiment, intents, failures), applies
//! the site's [`EscalationPolicy`], and when a person should take over opens (or re-opens) a
//! ticket with a handoff packet, sets the conversation to `waiting`, tells the visitor what
//! happens next, and pushes a `ticket` event to the agents.
//!
//! Called by the bot inside its per-conversation turn lock, so one conversation's messages
//! are assessed in order. The message embedding used for intents is the one retrieval uses
//! next (the embedder's query cache), so escalation costs no extra model call.
//!
//! `triage` replays stored or piped turns through the same decisions (`concierge triage`);
//! `replay` runs it over a site's recent conversations for the dashboard, under a policy not
//! saved yet.

mod classifier;
pub mod handoff;
mod handover;
pub mod presence;
pub mod replay;
mod requests;
pub mod review;
mod signals;
pub mod triage;

use std::sync::Arc;
use std::time::Duration;

use concierge_protocol::ConversationStatus;
use tokio::sync::OnceCell;

use crate::chat::{Chat, ChatError};
use crate::rag::Knowledge;
use crate::sentiment::review::needs_review;
use crate::sentiment::{
    decide, Decision, EscalationModel, EscalationPolicy, History, IntentScores, MessageSignals,
    Reason, Signals,
};
use crate::store::{ConversationRecord, MessageRecord, SignalRecord, StoreError, TurnOutcome};

pub use presence::Presence;

/// What the visitor reads when a person has been asked to join.
pub const ESCALATED_ONLINE: &str = "I've asked a person from our team to join. They'll reply \
right here, usually within a few minutes.";
/// What the visitor reads when nobody is online.
pub const ESCALATED_OFFLINE: &str = "Our team isn't online right now. Leave your email address \
here and we'll reply by email as soon as someone is back.";

/// Visitor turns whose signals the policy reads back.
const HISTORY_TURNS: i64 = 12;
/// How long the LLM may take to refine a handoff summary.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chat(#[from] ChatError),
}

type Result<T, E = EscalationError> = std::result::Result<T, E>;

/// The policy's view of one visitor message, for the bot.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// The conversation went to a person: the bot must not answer.
    pub escalated: bool,
    /// Consecutive "I don't know" answers before this message.
    pub failures: u32,
    /// The visitor message assessed.
    pub seq: i64,
    pub signals: MessageSignals,
    pub policy: EscalationPolicy,
    pub decision: Decision,
}

pub struct Escalations {
    pub chat: Arc<Chat>,
    pub knowledge: Arc<Knowledge>,
    pub presence: Arc<Presence>,
    /// The shipped classifier, once checked against the embedder (`classifier.rs`).
    model: OnceCell<Option<&'static EscalationModel>>,
    /// Serving visitors: never wait for the classifier (see `model_ready`). Offline replays
    /// (`triage`) wait, so every turn gets the same treatment.
    pub live: bool,
}

impl Escalations {
    pub fn new(chat: Arc<Chat>, knowledge: Arc<Knowledge>, presence: Arc<Presence>) -> Self {
        Escalations {
            chat,
            knowledge,
            presence,
            model: OnceCell::new(),
            live: false,
        }
    }

    /// The site's policy (the defaults when the owner never set one, or it cannot be read).
    pub async fn policy(&self, site_id: &str) -> EscalationPolicy {
        match self.chat.store.escalation_policy_json(site_id).await {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::error!(error = %e, site = site_id, "stored escalation policy unreadable; using defaults");
                EscalationPolicy::default()
            }),
            Ok(None) => EscalationPolicy::default(),
            Err(e) => {
                tracing::error!(error = %e, "escalation policy not read; using defaults");
                EscalationPolicy::default()
            }
        }
    }

    fn in_cooldown(conversation: &ConversationRecord, policy: &EscalationPolicy) -> bool {
        conversation.handed_back_at.is_some_and(|at| {
            crate::store::now_ms() - at < (policy.cooldown_secs as i64).saturating_mul(1000)
        })
    }

    /// Assesses a new visitor message and escalates when the policy says so. On a
    /// conversation the bot answers and does not escalate, nothing is written yet: the bot
    /// calls [`record`](Self::record) with what it did once its answer is out, so the
    /// assessment adds only reads before the first token. Otherwise the signals are recorded
    /// here (and an email the visitor was asked for is captured).
    ///
    /// `embed`: use the message embedding (the classifier, "asked again"). The bot passes true
    /// when the site has documents, so the one embedding is shared with retrieval; a chat-only
    /// site gets VADER and the keyword rules, at microseconds per message.
    pub async fn on_visitor_message(
        &self,
        conversation: &ConversationRecord,
        message: &MessageRecord,
        embed: bool,
    ) -> Result<Assessment> {
        let store = &self.chat.store;
        // The reads run while the message is embedded: the assessment adds almost nothing to
        // the time before the bot's first token.
        let (policy, (message_signals, embedding), earlier, thumbs_down) = tokio::join!(
            self.policy(&conversation.site_id),
            self.analyze_with(&message.text, embed),
            store.recent_signals(
                &conversation.site_id,
                &conversation.id,
                message.seq,
                HISTORY_TURNS,
            ),
            store.thumbs_down_since_escalation(
                &conversation.site_id,
                &conversation.id,
                conversation.handed_back_at.unwrap_or(0),
            ),
        );
        let (earlier, thumbs_down) = (earlier?, thumbs_down?);
        let failures = earlier
            .iter()
            .rev()
            .take_while(|s| s.outcome == TurnOutcome::DontKnow)
            .count() as u32;
        let repeated = self
            .repeats(
                &message.text,
                &earlier,
                embedding.as_deref(),
                policy.repeat_similarity,
            )
            .await;
        let history = History {
            sentiments: earlier.iter().map(|s| s.sentiment).collect(),
            failures,
            thumbs_down: thumbs_down.clamp(0, u32::MAX as i64) as u32,
            in_cooldown: Self::in_cooldown(conversation, &policy),
            watching: earlier
                .iter()
                .any(|s| policy.watches(&IntentScores::from_json(&s.intents), s.sentiment)),
        };
        let mut signals = Signals {
            message: message_signals,
            explicit_request: false,
            repeated_question: repeated,
        };
        let mut decision = decide(&policy, &signals, &history);
        // An unsure turn of a conversation the bot handles: the site's LLM decides it, when
        // the owner asked for that (a failed or slow review leaves the classifier's decision).
        let unsure = conversation.status == ConversationStatus::Bot
            && needs_review(&policy, &signals, &message.text, &history);
        let reviewer = match unsure {
            true => self.knowledge.llm_for(&conversation.site_id).await,
            false => None,
        };
        if let Some(llm) = reviewer {
            let earlier = self.earlier_visitor_texts(conversation, message.seq).await;
            let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
            let outcome;
            (signals, decision, outcome) = review::review_and_decide(
                llm.as_ref(),
                &policy,
                signals,
                &history,
                &earlier,
                &message.text,
            )
            .await;
            match outcome {
                Ok(v) => {
                    tracing::debug!(conversation = %conversation.id, verdict = v.as_str(), "LLM review")
                }
                Err(e) => {
                    tracing::warn!(conversation = %conversation.id, failure = ?e, "LLM review unavailable; the classifier decides")
                }
            }
        }
        let mut assessment = Assessment {
            escalated: false,
            failures,
            seq: message.seq,
            signals: signals.message,
            policy,
            decision,
        };
        match conversation.status {
            ConversationStatus::Bot if assessment.decision.escalates() => {
                self.record(conversation, &assessment, TurnOutcome::Escalated)
                    .await?;
                assessment.escalated = self
                    .escalate(
                        conversation,
                        &assessment.decision.reasons,
                        assessment.decision.priority,
                    )
                    .await?
                    .is_some();
            }
            ConversationStatus::Bot => {} // the bot records what it did
            ConversationStatus::Waiting => {
                self.record(conversation, &assessment, TurnOutcome::Silent)
                    .await?;
                self.capture_email(conversation, &message.text).await?;
            }
            ConversationStatus::Agent | ConversationStatus::Resolved => {
                self.record(conversation, &assessment, TurnOutcome::Silent)
                    .await?;
            }
        }
        Ok(assessment)
    }

    /// The visitor's messages before `seq` (at most the reviewer's context), oldest first.
    async fn earlier_visitor_texts(
        &self,
        conversation: &ConversationRecord,
        seq: i64,
    ) -> Vec<String> {
        const LOOK_BACK: i64 = 3 * review::REVIEW_CONTEXT_TURNS as i64;
        let after = (seq - 1 - LOOK_BACK).max(0);
        let messages = self
            .chat
            .store
            .messages_after(&conversation.site_id, &conversation.id, after, LOOK_BACK)
            .await
            .unwrap_or_default();
        let mut texts: Vec<String> = messages
            .into_iter()
            .filter(|m| {
                m.seq < seq && m.author == concierge_protocol::Author::Visitor && !m.text.is_empty()
            })
            .map(|m| m.text)
            .collect();
        let skip = texts.len().saturating_sub(review::REVIEW_CONTEXT_TURNS);
        texts.drain(..skip);
        texts
    }

    /// Stores the message's signals with what happened to it, updates the conversation's
    /// mood and shows it to agents.
    pub async fn record(
        &self,
        conversation: &ConversationRecord,
        assessment: &Assessment,
        outcome: TurnOutcome,
    ) -> Result<()> {
        let signals = SignalRecord {
            seq: assessment.seq,
            vader: assessment.signals.vader,
            sentiment: assessment.signals.sentiment,
            mood: assessment.decision.mood,
            intents: assessment.signals.intents.to_json(),
            outcome,
            created_at: crate::store::now_ms(),
            text: String::new(),
        };
        self.chat
            .store
            .record_signals(&conversation.site_id, &conversation.id, &signals)
            .await?;
        self.chat
            .republish_conversation(&conversation.site_id, &conversation.id)
            .await?;
        Ok(())
    }

    /// The bot could not answer again: escalates instead when that makes `max_failures`.
    /// Returns whether it escalated (the signals are then recorded; otherwise the bot records
    /// its "I don't know").
    pub async fn on_failure(
        &self,
        conversation: &ConversationRecord,
        assessment: &Assessment,
    ) -> Result<bool> {
        let watching = assessment.decision.watching();
        if !assessment
            .policy
            .failures_escalate(assessment.failures + 1, watching)
            || Self::in_cooldown(conversation, &assessment.policy)
        {
            return Ok(false);
        }
        // The reason: the bot could not help (a watched problem at its first failure, any
        // conversation at `max_failures`).
        let mut reasons: Vec<Reason> = assessment.decision.reasons.clone();
        reasons.push(Reason::RepeatedFailure);
        reasons.sort();
        reasons.dedup();
        self.record(conversation, assessment, TurnOutcome::Escalated)
            .await?;
        let escalated = self
            .escalate(conversation, &reasons, assessment.decision.priority)
            .await?
            .is_some();
        Ok(escalated)
    }
}
