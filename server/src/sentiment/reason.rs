//! Why a conversation was escalated and how urgently: recorded on tickets and in analytics.

use serde::{Deserialize, Serialize};

use super::intents::Intent;

/// Why a conversation was escalated. Serialized in snake_case; recorded on tickets and in
/// analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(test, derive(strum::EnumIter))]
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
    /// Asked to file a formal complaint.
    Complaint,
    CancelRefund,
    LegalThreat,
    Urgency,
    /// A hacked account, a charge the visitor did not make, fraud.
    AccountSecurity,
    /// A described problem, when the owner made [`Intent::Problem`] escalate by itself.
    Problem,
    /// The account used up its plan's bot answers for the month: people answer instead.
    QuotaReached,
}

impl Reason {
    /// As stored on tickets (`reasons`) and in analytics; the same as its serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub(super) fn of_intent(intent: Intent) -> Reason {
        match intent {
            Intent::HumanRequest => Reason::AskedForHuman,
            Intent::Complaint => Reason::Complaint,
            Intent::CancelRefund => Reason::CancelRefund,
            Intent::LegalThreat => Reason::LegalThreat,
            Intent::Urgency => Reason::Urgency,
            Intent::AccountSecurity => Reason::AccountSecurity,
            Intent::Problem => Reason::Problem,
        }
    }
}

/// How soon a person should pick the ticket up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum Priority {
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// As stored on tickets (`priority`); the same as its serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    /// The stored words may never change: tickets and analytics hold them.
    #[test]
    fn reasons_and_priorities_read_back_what_they_store_and_match_their_serde_names() {
        let reasons: Vec<&str> = Reason::iter().map(Reason::as_str).collect();
        assert_eq!(
            reasons,
            [
                "asked_for_human",
                "negative_mood",
                "repeated_failure",
                "repeated_question",
                "thumbs_down",
                "complaint",
                "cancel_refund",
                "legal_threat",
                "urgency",
                "account_security",
                "problem",
                "quota_reached",
            ]
        );
        for r in Reason::iter() {
            assert_eq!(r.as_str().parse::<Reason>().ok(), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let priorities: Vec<&str> = Priority::iter().map(Priority::as_str).collect();
        assert_eq!(priorities, ["normal", "high", "urgent"]);
        for p in Priority::iter() {
            assert_eq!(p.as_str().parse::<Priority>().ok(), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
