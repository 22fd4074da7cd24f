//! Policy unit tests: the owner's settings and watched conversations here; one table row per
//! reason and distinction in `table`.
use super::*;
use crate::sentiment::intents::IntentScores;

mod table;

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

#[test]
fn a_watched_problem_goes_to_a_person_at_the_first_failure() {
    let policy = EscalationPolicy::default();
    // A plain question: two "I don't know" answers in a row.
    assert!(!policy.failures_escalate(1, false));
    assert!(policy.failures_escalate(2, false));
    // A described problem the bot could not help with: the first.
    assert!(policy.failures_escalate(1, true));
    let mut d = decide(
        &policy,
        &signals(-0.3, &[(Intent::Problem, 0.9)]),
        &History::default(),
    );
    assert!(d.watching() && !d.escalates());
    d.hand_over(Reason::RepeatedFailure);
    assert!(d.escalates() && d.reasons == vec![Reason::RepeatedFailure]);
    // Automatic escalation off: never.
    let off = EscalationPolicy {
        enabled: false,
        ..EscalationPolicy::default()
    };
    assert!(!off.failures_escalate(1, true) && !off.failures_escalate(5, false));
}

#[test]
fn only_escalating_intents_add_up() {
    // problem and cancel_refund are not in the default escalate_on: their share of a split
    // score does not count.
    let s = signals(0.0, &[(Intent::Problem, 0.25), (Intent::CancelRefund, 0.3)]);
    let d = decide(&EscalationPolicy::default(), &s, &History::default());
    assert!(!d.escalates() && d.reasons.is_empty(), "{d:?}");
    // An owner who adds them: the same scores escalate on their strongest part.
    let policy = EscalationPolicy {
        escalate_on: Intent::ALL.to_vec(),
        ..EscalationPolicy::default()
    };
    let d = decide(&policy, &s, &History::default());
    assert!(d.escalates(), "{d:?}");
    assert_eq!(d.reasons, vec![Reason::CancelRefund]);
    // Below the line together: nothing.
    let s = signals(
        0.0,
        &[(Intent::Complaint, 0.25), (Intent::HumanRequest, 0.2)],
    );
    assert!(!decide(&EscalationPolicy::default(), &s, &History::default()).escalates());
}

#[test]
fn owners_can_turn_automatic_escalation_off_but_not_the_button() {
    let policy = EscalationPolicy {
        enabled: false,
        ..EscalationPolicy::default()
    };
    let angry = signals(-0.95, &[(Intent::Complaint, 0.95)]);
    assert!(!decide(&policy, &angry, &History::default()).escalates());
    let worded = signals(0.0, &[(Intent::HumanRequest, 0.95)]);
    assert!(decide(&policy, &worded, &History::default()).escalates());
    let button = Signals {
        explicit_request: true,
        ..signals(0.0, &[])
    };
    assert!(decide(&policy, &button, &History::default()).escalates());
    let strict = EscalationPolicy {
        escalate_on: vec![],
        ..EscalationPolicy::default()
    };
    assert!(!decide(&strict, &worded, &History::default()).escalates());
    assert!(decide(&strict, &button, &History::default()).escalates());
}

#[test]
fn thresholds_are_tunable_and_validated() {
    let lenient = EscalationPolicy {
        negative_message: -0.99,
        negative_mood: -0.99,
        ..EscalationPolicy::default()
    };
    assert!(!decide(&lenient, &signals(-0.95, &[]), &History::default()).escalates());
    let strict = EscalationPolicy {
        negative_message: -0.6,
        ..EscalationPolicy::default()
    };
    assert!(decide(&strict, &signals(-0.7, &[]), &History::default()).escalates());
    // Owners who want described problems handed over at once add them.
    let problems_to_people = EscalationPolicy {
        escalate_on: vec![Intent::HumanRequest, Intent::Problem],
        ..EscalationPolicy::default()
    };
    let problem = signals(0.0, &[(Intent::Problem, 0.95)]);
    let d = decide(&problems_to_people, &problem, &History::default());
    assert!(d.escalates() && d.reasons == vec![Reason::Problem], "{d:?}");
    assert!(EscalationPolicy::default().validate().is_ok());
    let bad = EscalationPolicy {
        intent_threshold: 1.5,
        ..EscalationPolicy::default()
    };
    assert!(bad.validate().unwrap_err().contains("intent_threshold"));
    let parsed: Result<EscalationPolicy, _> =
        serde_json::from_str(r#"{"negative_mood": -0.5, "bogus": 1}"#);
    assert!(parsed.is_err(), "unknown fields are refused");
    let parsed: EscalationPolicy = serde_json::from_str(r#"{"negative_mood": -0.4}"#).unwrap();
    assert_eq!(parsed.negative_mood, -0.4);
    assert_eq!(parsed.max_failures, 2);
    assert_eq!(
        parsed.escalate_on,
        vec![
            Intent::HumanRequest,
            Intent::Complaint,
            Intent::LegalThreat,
            Intent::AccountSecurity
        ]
    );
}

#[test]
fn per_intent_thresholds_replace_the_common_one() {
    let policy = EscalationPolicy {
        intent_thresholds: BTreeMap::from([(Intent::HumanRequest, 0.8), (Intent::Complaint, 0.3)]),
        ..EscalationPolicy::default()
    };
    assert_eq!(policy.threshold(Intent::HumanRequest), 0.8);
    assert_eq!(policy.threshold(Intent::Complaint), 0.3);
    assert_eq!(policy.threshold(Intent::Urgency), policy.intent_threshold);
    // A request for a person at 0.6: escalates under the common 0.5, not under 0.8 (also
    // not through the summed scores: their strongest needs 0.8).
    let unsure = signals(0.0, &[(Intent::HumanRequest, 0.6)]);
    let d = decide(&EscalationPolicy::default(), &unsure, &History::default());
    assert!(
        d.escalates() && d.reasons == vec![Reason::AskedForHuman],
        "{d:?}"
    );
    let d = decide(&policy, &unsure, &History::default());
    assert!(!d.escalates() && d.reasons.is_empty(), "{d:?}");
    // A complaint request at 0.35: only the lowered threshold catches it.
    let fact = signals(0.0, &[(Intent::Complaint, 0.35)]);
    assert!(!decide(&EscalationPolicy::default(), &fact, &History::default()).escalates());
    let d = decide(&policy, &fact, &History::default());
    assert!(
        d.escalates() && d.reasons == vec![Reason::Complaint],
        "{d:?}"
    );
    // Owners set them in the same JSON; out-of-range ones are refused by name.
    let parsed: EscalationPolicy =
        serde_json::from_str(r#"{"intent_thresholds": {"urgency": 0.9}}"#).unwrap();
    assert_eq!(parsed.threshold(Intent::Urgency), 0.9);
    let bad: EscalationPolicy =
        serde_json::from_str(r#"{"intent_thresholds": {"complaint": 0}}"#).unwrap();
    assert_eq!(
        bad.validate().unwrap_err(),
        "intent_thresholds.complaint must be between 0.05 and 1"
    );
    let unknown: Result<EscalationPolicy, _> =
        serde_json::from_str(r#"{"intent_thresholds": {"grumpy": 0.5}}"#);
    assert!(unknown.is_err(), "unknown intents are refused");
}
