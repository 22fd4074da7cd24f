//! A second opinion on the turns the intent classifier is unsure about, from the site's
//! language model (`EscalationPolicy::llm_review`). Pure parts only: which turns go to the
//! model, the prompt, reading its answer, and how its verdict changes the signals. The call
//! itself is in `escalation::review`.
//!
//! Why: the classifier reads one message at a time with a small sentence model, so the
//! turns it gets wrong are mostly judgement calls a reader settles from context ("WHERE IS
//! THE TRUCK" after a missed delivery slot, a complaint stated as a bare fact, sarcasm).
//! Those sit in the middle of its score range; a model that reads the conversation decides
//! them, and every other turn keeps the microsecond decision.

use super::intents::Intent;
use super::policy::{decide, EscalationPolicy, History, Signals};

/// What the reviewer said about a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A person should take over now, for this reason.
    Escalate(Intent),
    /// The bot can keep handling it.
    Calm,
}

impl Verdict {
    /// The word the model answers with and `concierge triage` reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Escalate(Intent::HumanRequest) => "human",
            Verdict::Escalate(Intent::Complaint) => "complaint",
            Verdict::Escalate(Intent::LegalThreat) => "legal",
            Verdict::Escalate(Intent::Urgency) => "urgent",
            Verdict::Escalate(Intent::CancelRefund) => "refund",
            Verdict::Calm => "none",
        }
    }
}

/// The escalating intents' combined score: where the classifier stands on "escalate".
pub fn escalation_mass(policy: &EscalationPolicy, signals: &Signals) -> f32 {
    policy
        .escalate_on
        .iter()
        .map(|i| signals.message.intents.get(*i))
        .sum::<f32>()
        .min(1.0)
}

/// The signals as the reviewer's verdict leaves them: a calm turn loses its escalating
/// intents; an escalating one gets its intent at full score (the others stay, they set the
/// priority). The sentiment follows the intents as it does in `analyze`.
pub fn reviewed(
    policy: &EscalationPolicy,
    signals: &Signals,
    text: &str,
    verdict: Verdict,
) -> Signals {
    let mut out = signals.clone();
    match verdict {
        Verdict::Calm => {
            for i in &policy.escalate_on {
                out.message.intents.set(*i, 0.0);
            }
        }
        Verdict::Escalate(i) => out.message.intents.set(i, 1.0),
    }
    out.message.sentiment = super::sentiment_of(text, out.message.vader, &out.message.intents);
    out
}

/// Whether this turn goes to the reviewer: the review is on, the classifier's escalation
/// score is inside the policy's band, and the verdict could change the outcome (a turn that
/// escalates anyway, on a request for a person, the mood, failures or a repeat, or that
/// cannot escalate, e.g. in the cool-down, is not worth a model call).
pub fn needs_review(
    policy: &EscalationPolicy,
    signals: &Signals,
    text: &str,
    history: &History,
) -> bool {
    if !policy.llm_review || signals.explicit_request {
        return false;
    }
    let mass = escalation_mass(policy, signals);
    let [lo, hi] = policy.llm_review_band;
    if !(lo..hi).contains(&mass) {
        return false;
    }
    let strongest = policy
        .escalate_on
        .iter()
        .copied()
        .max_by(|a, b| {
            signals
                .message
                .intents
                .get(*a)
                .total_cmp(&signals.message.intents.get(*b))
        })
        .unwrap_or(Intent::Complaint);
    let calm = decide(
        policy,
        &reviewed(policy, signals, text, Verdict::Calm),
        history,
    );
    let escalated = decide(
        policy,
        &reviewed(policy, signals, text, Verdict::Escalate(strongest)),
        history,
    );
    calm.escalate != escalated.escalate
}

/// How the reviewer is told what to decide (the labelling rules our evaluation transcripts
/// follow, shortened).
pub const REVIEW_SYSTEM: &str = "You triage a website's support chat. A bot answers the \
visitor; you decide whether a human agent must take over now because of the visitor's LATEST \
message, read in the context of their earlier messages. Answer with exactly one word:\n\
human - they ask for a person, agent, manager or a team, or chase a hand-off they asked for \
(\"hello?? still waiting\"); polite or indirect requests count (\"is there anyone I could ask\").\n\
complaint - they complain about the product, service, a charge, a delay, a broken promise or \
the bot's answers, including sarcasm and complaints stated as plain facts (\"paid on the 3rd, \
account still says unpaid\", \"thats the same link again\").\n\
legal - they threaten a lawyer, legal action, a chargeback or dispute, or a regulator.\n\
urgent - they are under high-stakes time pressure the bot cannot resolve (site down, \
stranded, an unrecognised payment).\n\
none - anything the bot can handle: how-to and policy questions, calm problem reports, \
details they were asked for (an order number, an address), thanks, greetings, a calm request \
to cancel or return, innocent uses of words like agent, cancel, urgent or lawyer.";

/// The user message: the visitor's earlier turns (oldest first, at most `max_earlier`) and
/// the latest one.
pub fn review_prompt(earlier: &[&str], latest: &str, max_earlier: usize) -> String {
    let skip = earlier.len().saturating_sub(max_earlier);
    let mut out = String::new();
    if earlier.len() > skip {
        out.push_str("Earlier visitor messages:\n");
        for t in &earlier[skip..] {
            out.push_str("- ");
            out.push_str(&one_line(t, 400));
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("LATEST visitor message:\n");
    out.push_str(&one_line(latest, 1200));
    out.push_str("\n\nAnswer (human, complaint, legal, urgent or none):");
    out
}

fn one_line(text: &str, max_chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect();
    flat.trim().to_string()
}

/// Reads the model's answer: the first of the five words it contains (any case, with or
/// without punctuation or a sentence around it). None when it gave none of them.
pub fn parse_verdict(answer: &str) -> Option<Verdict> {
    // Reasoning models may think aloud first; only what follows counts.
    let answer = answer.rsplit("</think>").next().unwrap_or(answer);
    answer
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .find_map(|w| match w.to_lowercase().as_str() {
            "human" | "person" | "agent" => Some(Verdict::Escalate(Intent::HumanRequest)),
            "complaint" => Some(Verdict::Escalate(Intent::Complaint)),
            "legal" => Some(Verdict::Escalate(Intent::LegalThreat)),
            "urgent" | "urgency" => Some(Verdict::Escalate(Intent::Urgency)),
            "none" => Some(Verdict::Calm),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
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
            &signals(&[(Intent::Complaint, 0.4)], -0.9),
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
        assert!(!decide(&p, &unsure, &h).escalate);
        let up = reviewed(&p, &unsure, "", Verdict::Escalate(Intent::Complaint));
        let d = decide(&p, &up, &h);
        assert!(d.escalate);
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
        assert!(decide(&p, &leaning, &h).escalate);
        let calm = reviewed(&p, &leaning, "", Verdict::Calm);
        let d = decide(&p, &calm, &h);
        assert!(!d.escalate, "{d:?}");
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
    fn answers_are_read_leniently_and_nothing_is_invented() {
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
}
