//! Why a conversation was escalated and how urgently: recorded on tickets and in analytics.

use super::intents::Intent;

/// Why a conversation was escalated, and how urgently: the wire's enums (`protocol`), so the
/// decision, the stored ticket and what agents read are one type.
pub use concierge_protocol::{EscalationReason as Reason, Priority};

/// The reason an intent that hands over by itself is recorded with.
pub(super) fn reason_of_intent(intent: Intent) -> Reason {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored words may never change: tickets and analytics hold them.
    #[test]
    fn reasons_and_priorities_read_back_what_they_store_and_match_their_serde_names() {
        let reasons: Vec<&str> = Reason::ALL.into_iter().map(Reason::as_str).collect();
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
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let priorities: Vec<&str> = Priority::ALL.into_iter().map(Priority::as_str).collect();
        assert_eq!(priorities, ["normal", "high", "urgent"]);
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }
}
