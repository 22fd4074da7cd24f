//! What a visitor wants besides an answer, scored in [0, 1] per intent.
//!
//! Two kinds, and the difference is the point of escalation (docs/escalation.md):
//! - **only a person can do it**: talk to a person, file a formal complaint, a legal or public
//!   threat, a hacked account or fraud. These hand the conversation over at once.
//! - **a described problem** (a late parcel, an error message, a missing invoice), a
//!   cancellation or refund, time pressure: the bot answers first; they only raise the
//!   priority and make the policy watch the next turns.

use serde::{Deserialize, Serialize};

/// What a visitor wants besides an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum Intent {
    /// "can I talk to a real person", "put me through to someone".
    HumanRequest,
    /// Asks to file a formal complaint ("how do I lodge a complaint").
    Complaint,
    /// Lawyers, regulators, chargebacks, going public.
    LegalThreat,
    /// A hacked or taken-over account, a charge or order the visitor did not make, fraud.
    AccountSecurity,
    /// Describes a problem or dissatisfaction ("expected 4 packages, only 2 came", "the app
    /// keeps crashing"): the knowledge base answers it first.
    Problem,
    /// Wants to cancel, return, or get money back.
    CancelRefund,
    /// Time pressure or high stakes ("our shop is down", "asap").
    Urgency,
}

/// Number of intents.
pub const INTENTS: usize = 7;

impl Intent {
    pub const ALL: [Intent; INTENTS] = [
        Intent::HumanRequest,
        Intent::Complaint,
        Intent::LegalThreat,
        Intent::AccountSecurity,
        Intent::Problem,
        Intent::CancelRefund,
        Intent::Urgency,
    ];

    /// The intent's name in stored signals, the policy and the classifier's labels; the
    /// same as its serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Only a person can do what the visitor asks: the default policy hands over at once.
    pub fn needs_person(self) -> bool {
        matches!(
            self,
            Intent::HumanRequest
                | Intent::Complaint
                | Intent::LegalThreat
                | Intent::AccountSecurity
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A score in [0, 1] per intent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntentScores([f32; INTENTS]);

impl IntentScores {
    pub fn get(&self, intent: Intent) -> f32 {
        self.0[intent.index()]
    }

    pub fn set(&mut self, intent: Intent, score: f32) {
        self.0[intent.index()] = score.clamp(0.0, 1.0);
    }

    /// Keeps the higher score of each intent.
    pub fn merge_max(&mut self, other: &IntentScores) {
        for i in Intent::ALL {
            self.set(i, self.get(i).max(other.get(i)));
        }
    }

    pub fn max(&self) -> f32 {
        self.0.iter().copied().fold(0.0, f32::max)
    }

    /// Intents at or above `threshold`, strongest first.
    pub fn above(&self, threshold: f32) -> Vec<Intent> {
        let mut out: Vec<Intent> = Intent::ALL
            .into_iter()
            .filter(|&i| self.get(i) >= threshold && self.get(i) > 0.0)
            .collect();
        out.sort_by(|a, b| self.get(*b).total_cmp(&self.get(*a)));
        out
    }

    /// `{"human_request": 0.93, ...}` with three decimals, every intent present.
    pub fn to_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = Intent::ALL
            .into_iter()
            .map(|i| {
                let v = (self.get(i) * 1000.0).round() / 1000.0;
                (i.as_str().to_string(), serde_json::json!(v))
            })
            .collect();
        serde_json::Value::Object(map)
    }

    /// Reads [`to_json`](Self::to_json)'s form; unknown names are ignored (signals stored by
    /// an earlier version).
    pub fn from_json(value: &serde_json::Value) -> IntentScores {
        let mut scores = IntentScores::default();
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                if let (Ok(i), Some(s)) = (k.parse::<Intent>(), v.as_f64()) {
                    scores.set(i, s as f32);
                }
            }
        }
        scores
    }
}

/// `v` scaled to unit length (unchanged when zero).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    /// The names are stored (signals, policies) and are the classifier's labels.
    #[test]
    fn intents_read_back_their_names_and_all_lists_every_intent_once() {
        let names: Vec<&str> = Intent::iter().map(Intent::as_str).collect();
        assert_eq!(
            names,
            [
                "human_request",
                "complaint",
                "legal_threat",
                "account_security",
                "problem",
                "cancel_refund",
                "urgency",
            ]
        );
        // The owner's console lists the intents from the protocol's copy of these names.
        assert_eq!(names, concierge_protocol::ESCALATION_INTENTS);
        assert_eq!(Intent::ALL.to_vec(), Intent::iter().collect::<Vec<_>>());
        for i in Intent::iter() {
            assert_eq!(i.as_str().parse::<Intent>().ok(), Some(i));
            assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
        }
    }

    #[test]
    fn scores_round_trip_through_json() {
        let mut s = IntentScores::default();
        s.set(Intent::Urgency, 0.25);
        s.set(Intent::Complaint, 2.0);
        let back = IntentScores::from_json(&s.to_json());
        assert_eq!(back, s);
        assert_eq!(back.get(Intent::Complaint), 1.0);
        assert_eq!(s.above(0.2), vec![Intent::Complaint, Intent::Urgency]);
    }

    #[test]
    fn only_requests_a_person_must_handle_need_one() {
        let person: Vec<Intent> = Intent::ALL
            .into_iter()
            .filter(|i| i.needs_person())
            .collect();
        assert_eq!(
            person,
            vec![
                Intent::HumanRequest,
                Intent::Complaint,
                Intent::LegalThreat,
                Intent::AccountSecurity
            ]
        );
    }
}
