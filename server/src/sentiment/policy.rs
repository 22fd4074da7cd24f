//! The escalation policy: when a conversation should go to a person, why, and how urgently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::intents::Intent;
use super::score::mood;
use super::MessageSignals;

/// Why a conversation was escalated. Serialized in snake_case; recorded on tickets and in
/// analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The visitor asked for a person (in words, or with the widget's button).
    AskedForHuman,
    /// The visitor's mood fell below the policy's threshold (one very negative message, or a
    /// negative trend over recent turns).
    NegativeMood,
    /// The bot could not answer several times in a row.
    RepeatedFailure,
    /// The visitor asked the same question again: the answer did not help.
    RepeatedQuestion,
    /// The visitor gave answers a thumbs-down.
    ThumbsDown,
    Complaint,
    CancelRefund,
    LegalThreat,
    Urgency,
    /// The account used up its plan's bot answers for the month: people answer instead.
    QuotaReached,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::AskedForHuman,
        Reason::NegativeMood,
        Reason::RepeatedFailure,
        Reason::RepeatedQuestion,
        Reason::ThumbsDown,
        Reason::Complaint,
        Reason::CancelRefund,
        Reason::LegalThreat,
        Reason::Urgency,
        Reason::QuotaReached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::AskedForHuman => "asked_for_human",
            Reason::NegativeMood => "negative_mood",
            Reason::RepeatedFailure => "repeated_failure",
            Reason::RepeatedQuestion => "repeated_question",
            Reason::ThumbsDown => "thumbs_down",
            Reason::Complaint => "complaint",
            Reason::CancelRefund => "cancel_refund",
            Reason::LegalThreat => "legal_threat",
            Reason::Urgency => "urgency",
            Reason::QuotaReached => "quota_reached",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    fn of_intent(intent: Intent) -> Reason {
        match intent {
            Intent::HumanRequest => Reason::AskedForHuman,
            Intent::Complaint => Reason::Complaint,
            Intent::CancelRefund => Reason::CancelRefund,
            Intent::LegalThreat => Reason::LegalThreat,
            Intent::Urgency => Reason::Urgency,
        }
    }
}

/// How soon a person should pick the ticket up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        [Priority::Normal, Priority::High, Priority::Urgent]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A site's escalation settings. Every field has a default; owners change what they need
/// (`PUT /api/v1/sites/{site_key}/escalation-policy`) and replay transcripts with
/// `concierge triage` to see the effect. The intent defaults were chosen on the training
/// writers' transcripts and dev (`triage cv`), the sentiment ones on dev (`triage
/// calibrate`); see docs/escalation.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Escalate automatically. A visitor's explicit request for a person always works.
    pub enabled: bool,
    /// An intent counts when its score reaches this (unless `intent_thresholds` names it).
    pub intent_threshold: f32,
    /// Per-intent thresholds that replace `intent_threshold` for the intents they name,
    /// e.g. `{"urgency": 0.8}` so only a clearly urgent message escalates on urgency.
    pub intent_thresholds: BTreeMap<Intent, f32>,
    /// Intents that escalate by themselves (the others only raise the priority).
    pub escalate_on: Vec<Intent>,
    /// One visitor message at or below this sentiment escalates (`negative_mood`).
    pub negative_message: f32,
    /// The mood (weighted trend of recent turns, at least two) at or below this escalates.
    pub negative_mood: f32,
    /// A turn at or below this sentiment is reported as negative (analytics, triage).
    pub negative_turn: f32,
    /// Visitor turns the mood looks back over.
    pub mood_window: usize,
    /// Consecutive "I don't know" answers that escalate.
    pub max_failures: u32,
    /// Thumbs-down answers (since the last escalation) that escalate.
    pub max_thumbs_down: u32,
    /// Embedding similarity from which a question counts as asked again.
    pub repeat_similarity: f32,
    /// After an agent hands a conversation back to the bot, automatic escalation waits this
    /// long (an explicit request still escalates at once).
    pub cooldown_secs: u64,
    /// Ask the site's language model (when one is configured) about the turns the intent
    /// classifier is unsure of: its verdict, read with the visitor's earlier messages,
    /// decides them. Off by default; see docs/escalation.md for what it was measured with.
    pub llm_review: bool,
    /// The classifier's escalation score (the escalating intents together) from which, and
    /// below which, a turn is unsure: `[low, high]`.
    pub llm_review_band: [f32; 2],
    /// How long the bot waits for the verdict before deciding without it.
    pub llm_review_timeout_ms: u64,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            enabled: true,
            // The classifier's probabilities: the escalating intents together more likely
            // than not (a keyword rule scores 0.95). Chosen with `escalate_on` by holding
            // out each of nine writers' transcripts in turn (`triage cv`).
            intent_threshold: 0.5,
            intent_thresholds: BTreeMap::new(),
            // A calm cancellation or refund stays with the bot (it only raises the
            // priority); an upset one escalates as a complaint or on the mood.
            escalate_on: vec![
                Intent::HumanRequest,
                Intent::Complaint,
                Intent::LegalThreat,
                Intent::Urgency,
            ],
            negative_message: -0.5,
            negative_mood: -0.45,
            negative_turn: -0.2,
            mood_window: 4,
            max_failures: 2,
            max_thumbs_down: 2,
            repeat_similarity: 0.9,
            cooldown_secs: 600,
            llm_review: false,
            llm_review_band: [0.1, 0.9],
            llm_review_timeout_ms: 3000,
        }
    }
}

impl EscalationPolicy {
    /// Checks ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f32, lo: f32, hi: f32| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be between {lo} and {hi}"))
            }
        };
        unit("intent_threshold", self.intent_threshold, 0.05, 1.0)?;
        for (intent, t) in &self.intent_thresholds {
            unit(
                &format!("intent_thresholds.{}", intent.as_str()),
                *t,
                0.05,
                1.0,
            )?;
        }
        unit("negative_message", self.negative_message, -1.0, 0.0)?;
        unit("negative_mood", self.negative_mood, -1.0, 0.0)?;
        unit("negative_turn", self.negative_turn, -1.0, 0.0)?;
        unit("repeat_similarity", self.repeat_similarity, 0.5, 1.0)?;
        if !(1..=20).contains(&self.mood_window) {
            return Err("mood_window must be between 1 and 20".into());
        }
        if !(1..=20).contains(&self.max_failures) {
            return Err("max_failures must be between 1 and 20".into());
        }
        if !(1..=20).contains(&self.max_thumbs_down) {
            return Err("max_thumbs_down must be between 1 and 20".into());
        }
        let [lo, hi] = self.llm_review_band;
        unit("llm_review_band[0]", lo, 0.0, 1.0)?;
        unit("llm_review_band[1]", hi, 0.0, 1.0)?;
        if lo >= hi {
            return Err("llm_review_band must be [low, high] with low < high".into());
        }
        if !(100..=30_000).contains(&self.llm_review_timeout_ms) {
            return Err("llm_review_timeout_ms must be between 100 and 30000".into());
        }
        if self.cooldown_secs > 7 * 24 * 3600 {
            return Err("cooldown_secs must be at most 604800 (a week)".into());
        }
        Ok(())
    }

    /// The score from which `intent` counts.
    pub fn threshold(&self, intent: Intent) -> f32 {
        self.intent_thresholds
            .get(&intent)
            .copied()
            .unwrap_or(self.intent_threshold)
    }

    /// Whether `failures` consecutive "I don't know" answers are enough to escalate.
    pub fn failures_escalate(&self, failures: u32) -> bool {
        self.enabled && failures >= self.max_failures
    }
}

/// What the conversation looked like before this turn.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Sentiments of the earlier visitor turns, oldest first.
    pub sentiments: Vec<f32>,
    /// Consecutive "I don't know" answers right before this turn.
    pub failures: u32,
    /// Thumbs-down answers since the last escalation.
    pub thumbs_down: u32,
    /// An agent handed the conversation back less than `cooldown_secs` ago.
    pub in_cooldown: bool,
}

/// This turn's signals.
#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub message: MessageSignals,
    /// The visitor pressed "talk to a person" (`request_human`).
    pub explicit_request: bool,
    /// The question repeats an earlier one (embedding similarity).
    pub repeated_question: bool,
}

/// The policy's verdict on one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub escalate: bool,
    /// Every reason that applies, in [`Reason`] order (also when not escalating, e.g. in
    /// the cool-down, so analytics and triage can show them).
    pub reasons: Vec<Reason>,
    pub priority: Priority,
    /// The mood after this turn.
    pub mood: f32,
    /// This turn counts as negative (`sentiment <= negative_turn`).
    pub negative: bool,
}

/// Applies `policy` to one visitor turn.
pub fn decide(policy: &EscalationPolicy, signals: &Signals, history: &History) -> Decision {
    let intents = &signals.message.intents;
    let on = |i: Intent| intents.get(i) >= policy.threshold(i);
    let mut reasons = Vec::new();
    if signals.explicit_request || on(Intent::HumanRequest) {
        reasons.push(Reason::AskedForHuman);
    }
    for intent in [
        Intent::Complaint,
        Intent::CancelRefund,
        Intent::LegalThreat,
        Intent::Urgency,
    ] {
        if on(intent) && policy.escalate_on.contains(&intent) {
            reasons.push(Reason::of_intent(intent));
        }
    }
    // Exemplar scores split between neighbouring intents ("20 minutes and no reply,
    // seriously?" is part complaint, part chasing a person): when no single escalating
    // intent reaches the threshold but together they reach the strongest one's, that one is
    // the reason.
    if reasons.is_empty() {
        let mass: f32 = policy.escalate_on.iter().map(|i| intents.get(*i)).sum();
        let strongest = policy
            .escalate_on
            .iter()
            .copied()
            .max_by(|a, b| intents.get(*a).total_cmp(&intents.get(*b)));
        if let Some(top) = strongest {
            if mass >= policy.threshold(top) && intents.get(top) > 0.0 {
                reasons.push(Reason::of_intent(top));
            }
        }
    }
    let sentiment = signals.message.sentiment;
    let mut turns = history.sentiments.clone();
    turns.push(sentiment);
    let mood = mood(&turns, policy.mood_window);
    let trend = turns.len() >= 2 && mood <= policy.negative_mood;
    if sentiment <= policy.negative_message || trend {
        reasons.push(Reason::NegativeMood);
    }
    if history.failures >= policy.max_failures {
        reasons.push(Reason::RepeatedFailure);
    }
    if signals.repeated_question {
        reasons.push(Reason::RepeatedQuestion);
    }
    if history.thumbs_down >= policy.max_thumbs_down {
        reasons.push(Reason::ThumbsDown);
    }
    reasons.sort();
    reasons.dedup();

    // A request for a person escalates even when automatic escalation is off or cooling
    // down (a worded one unless the owner removed `human_request` from `escalate_on`); the
    // other reasons only when automatic escalation is on and not cooling down.
    let worded = reasons.contains(&Reason::AskedForHuman)
        && policy.escalate_on.contains(&Intent::HumanRequest);
    let automatic = policy.enabled
        && !history.in_cooldown
        && reasons.iter().any(|r| *r != Reason::AskedForHuman);
    let escalate = signals.explicit_request || worded || automatic;

    let negative = sentiment <= policy.negative_turn;
    let priority = if on(Intent::LegalThreat)
        || reasons.contains(&Reason::LegalThreat)
        || (on(Intent::Urgency) && (negative || on(Intent::Complaint)))
    {
        Priority::Urgent
    } else if on(Intent::Complaint)
        || on(Intent::CancelRefund)
        || on(Intent::Urgency)
        || reasons.contains(&Reason::Complaint)
        || reasons.contains(&Reason::CancelRefund)
        || reasons.contains(&Reason::Urgency)
        || reasons.contains(&Reason::NegativeMood)
        || reasons.contains(&Reason::ThumbsDown)
    {
        Priority::High
    } else {
        Priority::Normal
    };
    Decision {
        escalate,
        reasons,
        priority,
        mood,
        negative,
    }
}

#[cfg(test)]
mod tests;
