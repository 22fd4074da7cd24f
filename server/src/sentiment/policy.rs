//! The escalation policy: when a conversation should go to a person, why, and how urgently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::intents::{Intent, IntentScores};
use super::reason::reason_of_intent;
pub use super::reason::{Priority, Reason};
use super::score::mood;
use super::MessageSignals;

/// A site's escalation settings. Every field has a default; owners change what they need
/// (`PUT /api/v1/sites/{site_key}/escalation-policy`) and replay transcripts with
/// `concierge triage` to see the effect. The mood defaults were chosen on half of the
/// TweetSumm dialogs (`triage tune`); see docs/escalation.md.
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
            // The classifier's probabilities: the intents that need a person together more
            // likely than not (a keyword rule scores 0.95).
            intent_threshold: 0.5,
            intent_thresholds: BTreeMap::new(),
            // What only a person can do hands over at once; a described problem, a
            // cancellation or refund and time pressure are answered first (they raise the
            // priority and make the policy watch: see `Outcome::AnswerThenWatch`).
            escalate_on: Intent::ALL
                .into_iter()
                .filter(|i| i.needs_person())
                .collect(),
            // With the classifier a negative sentiment is `1 - 2p`, p the probability that
            // the visitor is upset: one message escalates at p >= 0.955, the mood (weighted
            // over two or more turns, calm turns counting 0 or above) at -0.675 or below.
            // Chosen on the first half of the TweetSumm dialogs (`triage tune`), the most
            // negative dialogs escalated with at most 20 % of the others (the goal).
            negative_message: -0.91,
            negative_mood: -0.675,
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

    /// Whether a turn with these intents and this sentiment is answered under watch: a
    /// described problem, a cancellation or refund, time pressure, or a negative turn.
    pub fn watches(&self, intents: &IntentScores, sentiment: f32) -> bool {
        [Intent::Problem, Intent::CancelRefund, Intent::Urgency]
            .into_iter()
            .any(|i| intents.get(i) >= self.threshold(i))
            || sentiment <= self.negative_turn
    }

    /// Whether `failures` consecutive "I don't know" answers are enough to escalate: one is,
    /// when the policy is watching the conversation (a described problem the bot could not
    /// help with goes to a person).
    pub fn failures_escalate(&self, failures: u32, watching: bool) -> bool {
        self.enabled && (failures >= self.max_failures || (watching && failures >= 1))
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
    /// An earlier turn was answered under watch ([`Outcome::AnswerThenWatch`]).
    pub watching: bool,
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

/// What happens to a visitor turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The bot answers.
    Answer,
    /// The bot answers, and the policy watches: a described problem, a cancellation or
    /// refund, time pressure, or a negative turn. One "I don't know" then hands over.
    AnswerThenWatch,
    /// A person takes over now.
    HandOver,
}

/// The policy's verdict on one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub outcome: Outcome,
    /// Every reason that applies, in [`Reason`] order (also when not escalating, e.g. in
    /// the cool-down, so analytics and triage can show them).
    pub reasons: Vec<Reason>,
    pub priority: Priority,
    /// The mood after this turn.
    pub mood: f32,
    /// This turn counts as negative (`sentiment <= negative_turn`).
    pub negative: bool,
}

impl Decision {
    /// A person should take over now.
    pub fn escalates(&self) -> bool {
        self.outcome == Outcome::HandOver
    }

    /// The bot answers and the policy watches the conversation.
    pub fn watching(&self) -> bool {
        self.outcome == Outcome::AnswerThenWatch
    }

    /// Hands over after all (the bot could not help a watched conversation, or failed again).
    pub fn hand_over(&mut self, reason: Reason) {
        self.outcome = Outcome::HandOver;
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
            self.reasons.sort();
        }
    }
}

/// Applies `policy` to one visitor turn.
pub fn decide(policy: &EscalationPolicy, signals: &Signals, history: &History) -> Decision {
    let intents = &signals.message.intents;
    let on = |i: Intent| intents.get(i) >= policy.threshold(i);
    let mut reasons = Vec::new();
    if signals.explicit_request || on(Intent::HumanRequest) {
        reasons.push(Reason::AskedForHuman);
    }
    for intent in Intent::ALL {
        if intent != Intent::HumanRequest && on(intent) && policy.escalate_on.contains(&intent) {
            reasons.push(reason_of_intent(intent));
        }
    }
    // Scores split between neighbouring intents ("20 minutes and no reply, seriously?" is
    // part chasing a person, part threat): when no single escalating intent reaches the
    // threshold but together they reach the strongest one's, that one is the reason.
    if reasons.is_empty() {
        let mass: f32 = policy.escalate_on.iter().map(|i| intents.get(*i)).sum();
        let strongest = policy
            .escalate_on
            .iter()
            .copied()
            .max_by(|a, b| intents.get(*a).total_cmp(&intents.get(*b)));
        if let Some(top) = strongest {
            if mass >= policy.threshold(top) && intents.get(top) > 0.0 {
                reasons.push(reason_of_intent(top));
            }
        }
    }
    // The mood over the conversation: one very negative message, or a weighted trend over
    // two or more turns (a worsening conversation counts more than one rude word).
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
    let negative = sentiment <= policy.negative_turn;
    let outcome = if signals.explicit_request || worded || automatic {
        Outcome::HandOver
    } else if history.watching || policy.watches(intents, sentiment) {
        Outcome::AnswerThenWatch
    } else {
        Outcome::Answer
    };

    let priority = if on(Intent::LegalThreat)
        || on(Intent::AccountSecurity)
        || reasons.contains(&Reason::LegalThreat)
        || reasons.contains(&Reason::AccountSecurity)
        || (on(Intent::Urgency) && (negative || on(Intent::Problem)))
    {
        Priority::Urgent
    } else if on(Intent::Complaint)
        || on(Intent::Problem)
        || on(Intent::CancelRefund)
        || on(Intent::Urgency)
        || reasons.iter().any(|r| {
            matches!(
                r,
                Reason::Complaint
                    | Reason::Problem
                    | Reason::CancelRefund
                    | Reason::Urgency
                    | Reason::NegativeMood
                    | Reason::ThumbsDown
            )
        })
    {
        Priority::High
    } else {
        Priority::Normal
    };
    Decision {
        outcome,
        reasons,
        priority,
        mood,
        negative,
    }
}

#[cfg(test)]
mod tests;
