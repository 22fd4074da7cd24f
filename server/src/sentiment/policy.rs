//! The escalation policy: when a conversation should go to a person, why, and how urgently.

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
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::AskedForHuman,
        Reason::NegativeMood,
        Reason::RepeatedFailure,
        Reason::RepeatedQuestion,
        Reason::ThumbsDown,
        Reason::Complaint,
        Reason::CancelRefund,
        Reason::LegalThreat,
        Reason::Urgency,
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
/// (`PUT /api/sites/{site_key}/escalation-policy`) and replay transcripts with
/// `concierge triage` to see the effect. The defaults were calibrated on
/// `tests/fixtures/support_transcripts/dev.jsonl` (see the README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    /// Escalate automatically. A visitor's explicit request for a person always works.
    pub enabled: bool,
    /// An intent counts when its score reaches this.
    pub intent_threshold: f32,
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
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            enabled: true,
            // A keyword rule scores 0.95; the exemplar vote alone needs a clear majority.
            intent_threshold: 0.8,
            escalate_on: Intent::ALL.to_vec(),
            negative_message: -0.5,
            negative_mood: -0.45,
            negative_turn: -0.2,
            mood_window: 4,
            max_failures: 2,
            max_thumbs_down: 2,
            repeat_similarity: 0.9,
            cooldown_secs: 600,
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
        if self.cooldown_secs > 7 * 24 * 3600 {
            return Err("cooldown_secs must be at most 604800 (a week)".into());
        }
        Ok(())
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
    let on = |i: Intent| intents.get(i) >= policy.intent_threshold;
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
    // intent reaches the threshold but together they do, the strongest of them is the
    // reason.
    if reasons.is_empty() {
        let mass: f32 = policy.escalate_on.iter().map(|i| intents.get(*i)).sum();
        let strongest = policy
            .escalate_on
            .iter()
            .copied()
            .max_by(|a, b| intents.get(*a).total_cmp(&intents.get(*b)));
        if let Some(top) = strongest {
            if mass >= policy.intent_threshold && intents.get(top) > 0.0 {
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
mod tests {
    use super::*;
    use crate::sentiment::intents::IntentScores;

    fn signals(sentiment: f32, intents: &[(Intent, f32)]) -> Signals {
        let mut scores = IntentScores::default();
        for (i, s) in intents {
            scores.set(*i, *s);
        }
        Signals {
            message: MessageSignals {
                vader: sentiment,
                sentiment,
                intents: scores,
            },
            explicit_request: false,
            repeated_question: false,
        }
    }

    struct Case {
        name: &'static str,
        signals: Signals,
        history: History,
        escalate: bool,
        reasons: &'static [Reason],
        priority: Priority,
    }

    #[test]
    fn each_reason_table() {
        use Reason::*;
        let calm = History::default();
        let cases = vec![
            Case {
                name: "calm question",
                signals: signals(0.0, &[]),
                history: calm.clone(),
                escalate: false,
                reasons: &[],
                priority: Priority::Normal,
            },
            Case {
                name: "asks for a person in words",
                signals: signals(0.0, &[(Intent::HumanRequest, 0.95)]),
                history: calm.clone(),
                escalate: true,
                reasons: &[AskedForHuman],
                priority: Priority::Normal,
            },
            Case {
                name: "presses the button",
                signals: Signals {
                    explicit_request: true,
                    ..signals(0.0, &[])
                },
                history: calm.clone(),
                escalate: true,
                reasons: &[AskedForHuman],
                priority: Priority::Normal,
            },
            Case {
                name: "one very negative message",
                signals: signals(-0.8, &[]),
                history: calm.clone(),
                escalate: true,
                reasons: &[NegativeMood],
                priority: Priority::High,
            },
            Case {
                name: "a negative trend, no single message past the line",
                signals: signals(-0.45, &[]),
                history: History {
                    sentiments: vec![-0.48, -0.48],
                    ..calm.clone()
                },
                escalate: true,
                reasons: &[NegativeMood],
                priority: Priority::High,
            },
            Case {
                name: "one mildly negative first message is not a trend",
                signals: signals(-0.45, &[]),
                history: calm.clone(),
                escalate: false,
                reasons: &[],
                priority: Priority::Normal,
            },
            Case {
                name: "repeated failure",
                signals: signals(0.0, &[]),
                history: History {
                    failures: 2,
                    ..calm.clone()
                },
                escalate: true,
                reasons: &[RepeatedFailure],
                priority: Priority::Normal,
            },
            Case {
                name: "repeated question",
                signals: Signals {
                    repeated_question: true,
                    ..signals(0.0, &[])
                },
                history: calm.clone(),
                escalate: true,
                reasons: &[RepeatedQuestion],
                priority: Priority::Normal,
            },
            Case {
                name: "thumbs down",
                signals: signals(0.0, &[]),
                history: History {
                    thumbs_down: 2,
                    ..calm.clone()
                },
                escalate: true,
                reasons: &[ThumbsDown],
                priority: Priority::High,
            },
            Case {
                name: "complaint without sentiment words",
                signals: signals(-0.77, &[(Intent::Complaint, 0.95)]),
                history: calm.clone(),
                escalate: true,
                reasons: &[NegativeMood, Complaint],
                priority: Priority::High,
            },
            Case {
                name: "cancellation or refund",
                signals: signals(0.0, &[(Intent::CancelRefund, 0.95)]),
                history: calm.clone(),
                escalate: true,
                reasons: &[CancelRefund],
                priority: Priority::High,
            },
            Case {
                name: "a weak exemplar vote is not an intent",
                signals: signals(0.0, &[(Intent::Complaint, 0.6)]),
                history: calm.clone(),
                escalate: false,
                reasons: &[],
                priority: Priority::Normal,
            },
            Case {
                name: "a vote split between complaint and a person, together past the line",
                signals: signals(
                    0.0,
                    &[(Intent::Complaint, 0.55), (Intent::HumanRequest, 0.35)],
                ),
                history: calm.clone(),
                escalate: true,
                reasons: &[Complaint],
                priority: Priority::High,
            },
            Case {
                name: "a split vote led by a person is a request for one",
                signals: signals(
                    0.0,
                    &[(Intent::HumanRequest, 0.5), (Intent::Complaint, 0.35)],
                ),
                history: calm.clone(),
                escalate: true,
                reasons: &[AskedForHuman],
                priority: Priority::Normal,
            },
            Case {
                name: "a split vote led by a legal threat is urgent",
                signals: signals(
                    0.0,
                    &[(Intent::LegalThreat, 0.45), (Intent::Complaint, 0.4)],
                ),
                history: calm.clone(),
                escalate: true,
                reasons: &[LegalThreat],
                priority: Priority::Urgent,
            },
            Case {
                name: "legal threat is urgent",
                signals: signals(-0.2, &[(Intent::LegalThreat, 0.95)]),
                history: calm.clone(),
                escalate: true,
                reasons: &[LegalThreat],
                priority: Priority::Urgent,
            },
            Case {
                name: "urgent and angry",
                signals: signals(-0.7, &[(Intent::Urgency, 0.95)]),
                history: calm.clone(),
                escalate: true,
                reasons: &[NegativeMood, Urgency],
                priority: Priority::Urgent,
            },
            Case {
                name: "cool-down holds automatic reasons",
                signals: signals(-0.9, &[(Intent::Complaint, 0.95)]),
                history: History {
                    in_cooldown: true,
                    ..calm.clone()
                },
                escalate: false,
                reasons: &[NegativeMood, Complaint],
                priority: Priority::High,
            },
            Case {
                name: "cool-down never holds the button",
                signals: Signals {
                    explicit_request: true,
                    ..signals(0.0, &[])
                },
                history: History {
                    in_cooldown: true,
                    ..calm.clone()
                },
                escalate: true,
                reasons: &[AskedForHuman],
                priority: Priority::Normal,
            },
        ];
        let policy = EscalationPolicy::default();
        for c in cases {
            let d = decide(&policy, &c.signals, &c.history);
            assert_eq!(d.escalate, c.escalate, "{}: {d:?}", c.name);
            assert_eq!(d.reasons, c.reasons, "{}", c.name);
            assert_eq!(d.priority, c.priority, "{}", c.name);
        }
    }

    #[test]
    fn only_escalating_intents_add_up() {
        // Without cancel_refund in escalate_on, its share of a split vote does not count.
        let policy = EscalationPolicy {
            escalate_on: vec![Intent::HumanRequest, Intent::Complaint],
            ..EscalationPolicy::default()
        };
        let s = signals(
            0.0,
            &[(Intent::Complaint, 0.4), (Intent::CancelRefund, 0.5)],
        );
        let d = decide(&policy, &s, &History::default());
        assert!(!d.escalate && d.reasons.is_empty(), "{d:?}");
        // With it, the same vote escalates on its strongest part.
        let d = decide(&EscalationPolicy::default(), &s, &History::default());
        assert!(d.escalate, "{d:?}");
        assert_eq!(d.reasons, vec![Reason::CancelRefund]);
        // Below the line together: nothing.
        let s = signals(
            0.0,
            &[(Intent::Complaint, 0.4), (Intent::HumanRequest, 0.3)],
        );
        assert!(!decide(&EscalationPolicy::default(), &s, &History::default()).escalate);
    }

    #[test]
    fn owners_can_turn_automatic_escalation_off_but_not_the_button() {
        let policy = EscalationPolicy {
            enabled: false,
            ..EscalationPolicy::default()
        };
        let angry = signals(-0.9, &[(Intent::Complaint, 0.95)]);
        assert!(!decide(&policy, &angry, &History::default()).escalate);
        let worded = signals(0.0, &[(Intent::HumanRequest, 0.95)]);
        assert!(decide(&policy, &worded, &History::default()).escalate);
        let button = Signals {
            explicit_request: true,
            ..signals(0.0, &[])
        };
        assert!(decide(&policy, &button, &History::default()).escalate);
        let strict = EscalationPolicy {
            escalate_on: vec![],
            ..EscalationPolicy::default()
        };
        assert!(!decide(&strict, &worded, &History::default()).escalate);
        assert!(decide(&strict, &button, &History::default()).escalate);
        assert!(!policy.failures_escalate(5));
        assert!(EscalationPolicy::default().failures_escalate(2));
    }

    #[test]
    fn thresholds_are_tunable_and_validated() {
        let lenient = EscalationPolicy {
            negative_message: -0.95,
            negative_mood: -0.9,
            ..EscalationPolicy::default()
        };
        assert!(!decide(&lenient, &signals(-0.8, &[]), &History::default()).escalate);
        let calm_refunds = EscalationPolicy {
            escalate_on: vec![Intent::HumanRequest, Intent::Complaint],
            ..EscalationPolicy::default()
        };
        let refund = signals(0.0, &[(Intent::CancelRefund, 0.95)]);
        let d = decide(&calm_refunds, &refund, &History::default());
        assert!(!d.escalate && d.reasons.is_empty());
        assert_eq!(d.priority, Priority::High, "still raises the priority");
        assert!(EscalationPolicy::default().validate().is_ok());
        let bad = EscalationPolicy {
            intent_threshold: 1.5,
            ..EscalationPolicy::default()
        };
        assert!(bad.validate().unwrap_err().contains("intent_threshold"));
        let parsed: Result<EscalationPolicy, _> =
            serde_json::from_str(r#"{"negative_mood": -0.5, "bogus": 1}"#);
        assert!(parsed.is_err(), "unknown fields are refused");
        let parsed: EscalationPolicy = serde_json::from_str(r#"{"negative_mood": -0.5}"#).unwrap();
        assert_eq!(parsed.negative_mood, -0.5);
        assert_eq!(parsed.max_failures, 2);
    }

    #[test]
    fn reasons_and_priorities_have_stable_names() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
        assert_eq!(Priority::parse("urgent"), Some(Priority::Urgent));
        assert!(Priority::Urgent > Priority::High && Priority::High > Priority::Normal);
    }
}
