//! Policy unit tests: one table row per reason, and the owner's settings.
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
            name: "a calm cancellation stays with the bot, at a higher priority",
            signals: signals(0.0, &[(Intent::CancelRefund, 0.95)]),
            history: calm.clone(),
            escalate: false,
            reasons: &[],
            priority: Priority::High,
        },
        Case {
            name: "a weak exemplar vote is not an intent",
            signals: signals(0.0, &[(Intent::Complaint, 0.4)]),
            history: calm.clone(),
            escalate: false,
            reasons: &[],
            priority: Priority::Normal,
        },
        Case {
            name: "a vote split between complaint and a person, together past the line",
            signals: signals(
                0.0,
                &[(Intent::Complaint, 0.3), (Intent::HumanRequest, 0.25)],
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
                &[(Intent::HumanRequest, 0.3), (Intent::Complaint, 0.25)],
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
    // cancel_refund is not in the default escalate_on: its share of a split vote does not
    // count.
    let s = signals(
        0.0,
        &[(Intent::Complaint, 0.25), (Intent::CancelRefund, 0.3)],
    );
    let d = decide(&EscalationPolicy::default(), &s, &History::default());
    assert!(!d.escalate && d.reasons.is_empty(), "{d:?}");
    // An owner who adds it: the same vote escalates on its strongest part.
    let policy = EscalationPolicy {
        escalate_on: Intent::ALL.to_vec(),
        ..EscalationPolicy::default()
    };
    let d = decide(&policy, &s, &History::default());
    assert!(d.escalate, "{d:?}");
    assert_eq!(d.reasons, vec![Reason::CancelRefund]);
    // Below the line together: nothing.
    let s = signals(
        0.0,
        &[(Intent::Complaint, 0.25), (Intent::HumanRequest, 0.2)],
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
    let refunds_to_people = EscalationPolicy {
        escalate_on: Intent::ALL.to_vec(),
        ..EscalationPolicy::default()
    };
    let d = decide(&refunds_to_people, &refund, &History::default());
    assert!(
        d.escalate && d.reasons == vec![Reason::CancelRefund],
        "{d:?}"
    );
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
fn per_intent_thresholds_replace_the_common_one() {
    let policy = EscalationPolicy {
        intent_thresholds: BTreeMap::from([(Intent::Urgency, 0.8), (Intent::Complaint, 0.3)]),
        ..EscalationPolicy::default()
    };
    assert_eq!(policy.threshold(Intent::Urgency), 0.8);
    assert_eq!(policy.threshold(Intent::Complaint), 0.3);
    assert_eq!(
        policy.threshold(Intent::HumanRequest),
        policy.intent_threshold
    );
    // An urgent how-to question at 0.6: escalates under the common 0.5, not under 0.8
    // (also not through the summed scores: their strongest, urgency, needs 0.8).
    let urgent = signals(0.0, &[(Intent::Urgency, 0.6)]);
    let d = decide(&EscalationPolicy::default(), &urgent, &History::default());
    assert!(d.escalate && d.reasons == vec![Reason::Urgency], "{d:?}");
    let d = decide(&policy, &urgent, &History::default());
    assert!(!d.escalate && d.reasons.is_empty(), "{d:?}");
    assert_eq!(d.priority, Priority::Normal, "urgency below its threshold");
    let split = signals(0.0, &[(Intent::Urgency, 0.45), (Intent::HumanRequest, 0.2)]);
    assert!(!decide(&policy, &split, &History::default()).escalate);
    // A complaint stated as a bare fact at 0.35: only the lowered threshold catches it.
    let fact = signals(0.0, &[(Intent::Complaint, 0.35)]);
    assert!(!decide(&EscalationPolicy::default(), &fact, &History::default()).escalate);
    let d = decide(&policy, &fact, &History::default());
    assert!(d.escalate && d.reasons == vec![Reason::Complaint], "{d:?}");
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
