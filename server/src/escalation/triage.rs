//! Offline replay of visitor turns through a site's policy (`concierge triage`): the same
//! signals, history and decision as live traffic, without a socket or a ticket.
//!
//! Per conversation it keeps what the live path reads back from the store: earlier
//! sentiments, the run of "I don't know" answers (when the site has documents, each turn is
//! searched and the bot's confidence gate applied), and earlier questions for "asked again".
//! Each turn's verdict is reported; `already_escalated` says that live traffic would already
//! have handed the conversation to a person at an earlier turn; `llm_review` is the site's
//! LLM's verdict (as live: its own, none, or the server's) on an unsure turn when the policy
//! has `llm_review` on and there is an LLM (or why there was none: `timeout`, `error`,
//! `unreadable`). The dashboard's replay (`replay`) runs the same turns.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::Escalations;
use crate::rag::llm::Llm;
use crate::rag::SearchMode;
use crate::sentiment::review::needs_review;
use crate::sentiment::{decide, Decision, EscalationPolicy, History, Reason, Signals};

#[derive(Default)]
struct State {
    sentiments: Vec<f32>,
    failures: u32,
    questions: Vec<Arc<[f32]>>,
    /// Earlier turns' text, for the LLM review.
    texts: Vec<String>,
    escalated: bool,
    /// An earlier turn was answered under watch.
    watching: bool,
}

/// What the replay decided for one visitor turn.
pub struct TurnVerdict {
    pub signals: Signals,
    pub decision: Decision,
    /// Live traffic would already have handed the conversation to a person earlier.
    pub already_escalated: bool,
    /// With documents: whether the bot's gate let it answer (None: escalated, or no documents).
    pub answered: Option<bool>,
    /// The LLM review's verdict, or why there was none, when the turn was reviewed.
    pub review: Option<&'static str>,
}

pub struct Triage<'a> {
    escalations: &'a Escalations,
    policy: EscalationPolicy,
    /// The site whose documents answer (None: no knowledge base, no failures).
    site_id: Option<String>,
    /// Use the message embedding (the classifier, "asked again").
    embed: bool,
    /// Reviews unsure turns when the policy asks: the named site's LLM, else the server's.
    llm: Option<Arc<dyn Llm>>,
    states: HashMap<String, State>,
}

impl<'a> Triage<'a> {
    /// A replay under the site's saved policy (the defaults when no site is named).
    pub async fn new(escalations: &'a Escalations, site_id: Option<String>) -> Triage<'a> {
        let policy = match &site_id {
            Some(id) => escalations.policy(id).await,
            None => EscalationPolicy::default(),
        };
        Self::build(escalations, site_id, policy).await
    }

    /// A replay of a site's turns under `policy`, saved or not (the dashboard's "replay
    /// recent conversations"): the site's documents and LLM, as live.
    pub async fn for_site(
        escalations: &'a Escalations,
        site_id: String,
        policy: EscalationPolicy,
    ) -> Triage<'a> {
        Self::build(escalations, Some(site_id), policy).await
    }

    async fn build(
        escalations: &'a Escalations,
        site_id: Option<String>,
        policy: EscalationPolicy,
    ) -> Triage<'a> {
        let knowledge = &escalations.knowledge;
        let llm = match &site_id {
            Some(id) => knowledge.llm_for(id).await,
            None => knowledge.llm.clone(),
        };
        let site_id = match site_id {
            Some(id) => match knowledge.store.count_chunks(&id).await {
                Ok(n) if n > 0 => Some(id),
                _ => None,
            },
            None => None,
        };
        Triage {
            escalations,
            policy,
            embed: true,
            site_id,
            llm,
            states: HashMap::new(),
        }
    }

    /// A replay under an explicit policy and no knowledge base (threshold calibration).
    pub fn with_policy(escalations: &'a Escalations, policy: EscalationPolicy) -> Triage<'a> {
        Triage {
            escalations,
            policy,
            site_id: None,
            embed: true,
            llm: escalations.knowledge.llm.clone(),
            states: HashMap::new(),
        }
    }

    pub fn policy(&self) -> &EscalationPolicy {
        &self.policy
    }

    /// This turn's signals and the conversation's history before it, as the policy sees them.
    async fn signals(
        &mut self,
        conversation_id: &str,
        text: &str,
    ) -> (Signals, History, Option<Arc<[f32]>>) {
        // As live: the message embedding, for the classifier.
        let (message, embedding) = self.escalations.analyze_with(text, self.embed).await;
        let state = self.states.entry(conversation_id.to_string()).or_default();
        // The live path's rule (`Escalations::repeats`) over the questions remembered here.
        let repeated = embedding.as_deref().is_some_and(|e| {
            super::signals::repeats_any(
                text,
                e,
                state.questions.iter().map(|q| &q[..]),
                self.policy.repeat_similarity,
            )
        });
        let history = History {
            sentiments: state.sentiments.clone(),
            failures: state.failures,
            thumbs_down: 0,
            in_cooldown: false,
            watching: state.watching,
        };
        let signals = Signals {
            message,
            explicit_request: false,
            repeated_question: repeated,
        };
        (signals, history, embedding)
    }

    /// Remembers a turn's sentiment and question for the conversation's later turns.
    fn remember(
        &mut self,
        conversation_id: &str,
        text: &str,
        sentiment: f32,
        e: Option<Arc<[f32]>>,
    ) {
        let state = self.states.entry(conversation_id.to_string()).or_default();
        state.sentiments.push(sentiment);
        state.texts.push(text.to_string());
        if let Some(e) = e {
            if super::signals::is_question(text) {
                state.questions.push(e);
            }
        }
    }

    /// A turn's signals and history without a decision, for sweeping many policies over
    /// one replay (`triage cv`). Only for replays without a knowledge base (`with_policy`):
    /// the bot's failures there depend on the decisions.
    pub async fn observe(&mut self, conversation_id: &str, text: &str) -> (Signals, History) {
        debug_assert!(self.site_id.is_none());
        let (signals, history, embedding) = self.signals(conversation_id, text).await;
        self.remember(conversation_id, text, signals.message.sentiment, embedding);
        (signals, history)
    }

    /// One visitor turn: the JSON line `concierge triage` writes.
    pub async fn turn(&mut self, conversation_id: &str, text: &str) -> Value {
        let v = self.judge(conversation_id, text).await;
        let round = |x: f32| (x * 1000.0).round() / 1000.0;
        let mut out = json!({
            "conversation_id": conversation_id,
            "sentiment": round(v.signals.message.sentiment),
            "intents": v.signals.message.intents.to_json(),
            "escalate": v.decision.escalates(),
            "outcome": v.decision.outcome,
            "reasons": v.decision.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "priority": v.decision.priority.as_str(),
            "vader": round(v.signals.message.vader),
            "mood": round(v.decision.mood),
            "negative": v.decision.negative,
            "already_escalated": v.already_escalated,
        });
        if let Some(a) = v.answered {
            out["answered"] = json!(a);
        }
        if let Some(r) = v.review {
            out["llm_review"] = json!(r);
        }
        out
    }

    /// One visitor turn's verdict (what [`turn`](Self::turn) writes as JSON).
    pub async fn judge(&mut self, conversation_id: &str, text: &str) -> TurnVerdict {
        let (mut signals, history, embedding) = self.signals(conversation_id, text).await;
        let mut decision = decide(&self.policy, &signals, &history);
        // As live: an unsure turn goes to the site's LLM when the policy asks for it (a turn
        // live traffic would not have reached the bot with is reviewed all the same, so the
        // replay scores every turn).
        let mut review = None;
        if let Some(llm) = &self.llm {
            if needs_review(&self.policy, &signals, text, &history) {
                let state = self.states.entry(conversation_id.to_string()).or_default();
                let earlier: Vec<&str> = state.texts.iter().map(String::as_str).collect();
                let outcome;
                (signals, decision, outcome) = super::review::review_and_decide(
                    llm.as_ref(),
                    &self.policy,
                    signals,
                    &history,
                    &earlier,
                    text,
                )
                .await;
                review = Some(match outcome {
                    Ok(verdict) => verdict.as_str(),
                    Err(failure) => failure.as_str(),
                });
            }
        }
        let state = self.states.entry(conversation_id.to_string()).or_default();
        // The bot answers what was not escalated; with documents, its gate says whether it
        // could, and another failure may escalate as it does live.
        let mut answered = None;
        if !decision.escalates() {
            if let Some(site_id) = &self.site_id {
                let kb = &self.escalations.knowledge;
                let known = match kb
                    .search(site_id, text, kb.config.answer_passages, SearchMode::Hybrid)
                    .await
                {
                    Ok(o) => !o.hits.is_empty() && o.best_similarity >= kb.config.min_similarity,
                    Err(_) => false,
                };
                answered = Some(known);
                if known {
                    state.failures = 0;
                } else if self
                    .policy
                    .failures_escalate(state.failures + 1, decision.watching())
                {
                    decision.hand_over(Reason::RepeatedFailure);
                    state.failures = 0;
                } else {
                    state.failures += 1;
                }
            }
        } else {
            state.failures = 0;
        }
        let already = state.escalated;
        state.escalated |= decision.escalates();
        state.watching |= decision.watching();
        self.remember(conversation_id, text, signals.message.sentiment, embedding);
        TurnVerdict {
            signals,
            decision,
            already_escalated: already,
            answered,
            review,
        }
    }
}
