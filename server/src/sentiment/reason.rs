//! Why a conversation was escalated and how urgently: recorded on tickets and in analytics.

use serde::{Deserialize, Serialize};

use super::intents::Intent;

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
    pub const ALL: [Reason; 12] = [
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
        Reason::AccountSecurity,
        Reason::Problem,
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
            Reason::AccountSecurity => "account_security",
            Reason::Problem => "problem",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
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
