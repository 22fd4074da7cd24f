use super::*;
use crate::sentiment::{IntentScores, MessageSignals};

fn signals(scores: &[(Intent, f32)], vader: f32) -> Signals {
    let mut intents = IntentScores::default();
    for (i, s) in scores {
        intents.set(*i, *s);
    }
    let sentiment = crate::sentiment::support_sentiment(vader, &intents);
    Signals {
        message: MessageSignals {
            vader,
            sentiment,
            intents,
        },
        explicit_request: false,
        repeated_question: false,
    }
}

fn on() -> EscalationPolicy {
    EscalationPolicy {
        llm_review: true,
        ..EscalationPolicy::default()
    }
}

#[test]
fn only_uncertain_turns_that_the_verdict_could_change_are_reviewed() {
    let h = History::default();
    let p = on();
    // Unsure either way: reviewed.
    assert!(needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.35)], 0.0),
        "",
        &h
    ));
    assert!(needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.6)], 0.0),
        "",
        &h
    ));
    // Split between two escalating intents: the mass counts.
    assert!(needs_review(
        &p,
        &signals(
            &[(Intent::Complaint, 0.3), (Intent::HumanRequest, 0.3)],
            0.0
        ),
        "",
        &h
    ));
    // Sure either way: not reviewed.
    assert!(!needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.02)], 0.0),
        "",
        &h
    ));
    assert!(!needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.95)], 0.0),
        "",
        &h
    ));
    // Off unless the owner turns it on.
    let off = EscalationPolicy::default();
    assert!(!off.llm_review);
    assert!(!needs_review(
        &off,
        &signals(&[(Intent::Complaint, 0.4)], 0.0),
        "",
        &h
    ));
    // Escalates anyway on the mood: the verdict cannot change that.
    assert!(!needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.4)], -0.95),
        "",
        &h
    ));
    // Cannot escalate automatically in the cool-down, whatever the verdict says about a
    // complaint (a request for a person still would: that turn is reviewed).
    let cooling = History {
        in_cooldown: true,
        ..History::default()
    };
    assert!(!needs_review(
        &p,
        &signals(&[(Intent::Complaint, 0.4)], 0.0),
        "",
        &cooling
    ));
    assert!(needs_review(
        &p,
        &signals(&[(Intent::HumanRequest, 0.4)], 0.0),
        "",
        &cooling
    ));
    // The button always escalates.
    let mut pressed = signals(&[(Intent::Complaint, 0.4)], 0.0);
    pressed.explicit_request = true;
    assert!(!needs_review(&p, &pressed, "", &h));
    // The band is the owner's.
    let narrow = EscalationPolicy {
        llm_review_band: [0.45, 0.55],
        ..on()
    };
    assert!(!needs_review(
        &narrow,
        &signals(&[(Intent::Complaint, 0.35)], 0.0),
        "",
        &h
    ));
    assert!(needs_review(
        &narrow,
        &signals(&[(Intent::Complaint, 0.5)], 0.0),
        "",
        &h
    ));
}

#[test]
fn owners_set_the_review_in_the_policy_json_and_bad_values_are_refused() {
    let p: EscalationPolicy = serde_json::from_str(
        r#"{"llm_review": true, "llm_review_band": [0.2, 0.8], "llm_review_timeout_ms": 1500}"#,
    )
    .unwrap();
    assert!(p.llm_review && p.validate().is_ok());
    assert_eq!(p.llm_review_band, [0.2, 0.8]);
    let bad = |json: &str| {
        serde_json::from_str::<EscalationPolicy>(json)
            .map_err(|e| e.to_string())
            .and_then(|p| p.validate())
            .unwrap_err()
    };
    assert!(bad(r#"{"llm_review_band": [0.8, 0.2]}"#).contains("low < high"));
    assert!(bad(r#"{"llm_review_band": [0.1, 1.5]}"#).contains("llm_review_band[1]"));
    assert!(bad(r#"{"llm_review_band": [0.1]}"#).contains("array"));
    assert!(bad(r#"{"llm_review_timeout_ms": 10}"#).contains("llm_review_timeout_ms"));
}

#[test]
fn the_verdict_decides_the_turn_through_the_policy() {
    let h = History::default();
    let p = on();
    let unsure = signals(&[(Intent::Complaint, 0.35), (Intent::Urgency, 0.1)], 0.0);
    assert!(!decide(&p, &unsure, &h).escalates());
    let up = reviewed(&p, &unsure, "", Verdict::Escalate(Intent::Complaint));
    let d = decide(&p, &up, &h);
    assert!(d.escalates());
    // As for a complaint the classifier is sure of: the reason, and the sentiment it
    // pulls down (here far enough for the mood too).
    assert!(
        d.reasons.contains(&crate::sentiment::Reason::Complaint),
        "{:?}",
        d.reasons
    );
    // A complaint pulls the sentiment down, as `analyze` does.
    assert!(up.message.sentiment < unsure.message.sentiment);

    let leaning = signals(&[(Intent::Complaint, 0.7)], 0.0);
    assert!(decide(&p, &leaning, &h).escalates());
    let calm = reviewed(&p, &leaning, "", Verdict::Calm);
    let d = decide(&p, &calm, &h);
    assert!(!d.escalates(), "{d:?}");
    assert_eq!(calm.message.intents.get(Intent::Complaint), 0.0);
    // Intents that do not escalate by themselves are kept (they set the priority).
    let refund = signals(
        &[(Intent::Complaint, 0.6), (Intent::CancelRefund, 0.8)],
        0.0,
    );
    let calm = reviewed(&p, &refund, "", Verdict::Calm);
    assert_eq!(calm.message.intents.get(Intent::CancelRefund), 0.8);
}

#[test]
fn answers_are_read_leniently_and_nothing_is_invented_or_guessed() {
    use Intent::*;
    let cases = [
        ("complaint", Some(Verdict::Escalate(Complaint))),
        ("Complaint.", Some(Verdict::Escalate(Complaint))),
        (" HUMAN\n", Some(Verdict::Escalate(HumanRequest))),
        (
            "The answer is: legal (they mention a chargeback)",
            Some(Verdict::Escalate(LegalThreat)),
        ),
        ("urgent!", Some(Verdict::Escalate(Urgency))),
        ("none", Some(Verdict::Calm)),
        ("**None**", Some(Verdict::Calm)),
        (
            "<think>could be a complaint... no</think>\nnone",
            Some(Verdict::Calm),
        ),
        ("", None),
        ("I am not sure.", None),
        ("nonesuch humane", None),
        // The rubric repeated back names several: no decision.
        ("complaint, human - they complain about the product", None),
        (
            "human - they ask for a person, agent",
            Some(Verdict::Escalate(HumanRequest)),
        ),
    ];
    for (answer, want) in cases {
        assert_eq!(parse_verdict(answer), want, "{answer:?}");
    }
    for v in [
        Verdict::Calm,
        Verdict::Escalate(HumanRequest),
        Verdict::Escalate(Complaint),
        Verdict::Escalate(LegalThreat),
        Verdict::Escalate(Urgency),
    ] {
        assert_eq!(parse_verdict(v.as_str()), Some(v));
    }
}

#[test]
fn the_prompt_carries_recent_context_on_single_lines() {
    let earlier = ["one", "two\nlines", "three"];
    let p = review_prompt(&earlier, "WHERE IS\nTHE TRUCK", 2);
    assert!(!p.contains("- one"), "{p}");
    assert!(p.contains("- two lines\n- three\n"), "{p}");
    assert!(
        p.contains("LATEST visitor message:\nWHERE IS THE TRUCK\n"),
        "{p}"
    );
    let first = review_prompt(&[], "hi", 6);
    assert!(!first.contains("Earlier"), "{first}");
    let long = "x".repeat(5000);
    assert!(review_prompt(&[], &long, 6).len() < 1400);
}
