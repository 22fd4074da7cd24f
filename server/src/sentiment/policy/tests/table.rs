//! One row per reason and per distinction the policy makes (answer, watch, hand over), with
//! the reasons and priority each gets.
use super::*;

struct Case {
    name: &'static str,
    signals: Signals,
    history: History,
    outcome: Outcome,
    reasons: &'static [Reason],
    priority: Priority,
}

#[test]
fn each_distinction_table() {
    use Outcome::*;
    use Reason::*;
    let calm = History::default();
    let cases = vec![
        Case {
            name: "calm question",
            signals: signals(0.0, &[]),
            history: calm.clone(),
            outcome: Answer,
            reasons: &[],
            priority: Priority::Normal,
        },
        // What only a person can do: at once.
        Case {
            name: "asks for a person in words",
            signals: signals(0.0, &[(Intent::HumanRequest, 0.95)]),
            history: calm.clone(),
            outcome: HandOver,
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
            outcome: HandOver,
            reasons: &[AskedForHuman],
            priority: Priority::Normal,
        },
        Case {
            name: "asks to file a formal complaint",
            signals: signals(0.0, &[(Intent::Complaint, 0.9)]),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[Complaint],
            priority: Priority::High,
        },
        Case {
            name: "legal threat is urgent",
            signals: signals(-0.2, &[(Intent::LegalThreat, 0.95)]),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[LegalThreat],
            priority: Priority::Urgent,
        },
        Case {
            name: "hacked account is urgent",
            signals: signals(0.0, &[(Intent::AccountSecurity, 0.8)]),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[AccountSecurity],
            priority: Priority::Urgent,
        },
        // A described problem: answered first, watched.
        Case {
            name: "a described problem is answered first, at a higher priority",
            signals: signals(-0.3, &[(Intent::Problem, 0.9)]),
            history: calm.clone(),
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::High,
        },
        Case {
            name: "a calm cancellation stays with the bot, at a higher priority",
            signals: signals(0.0, &[(Intent::CancelRefund, 0.95)]),
            history: calm.clone(),
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::High,
        },
        Case {
            name: "time pressure alone is answered, watched",
            signals: signals(0.0, &[(Intent::Urgency, 0.95)]),
            history: calm.clone(),
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::High,
        },
        Case {
            name: "a problem after a watched turn stays watched",
            signals: signals(0.1, &[]),
            history: History {
                watching: true,
                ..calm.clone()
            },
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::Normal,
        },
        // Mood over the conversation, not one word.
        Case {
            name: "one rude but not furious message is watched, not handed over",
            signals: signals(-0.7, &[]),
            history: calm.clone(),
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::Normal,
        },
        Case {
            name: "one furious message",
            signals: signals(-0.95, &[]),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[NegativeMood],
            priority: Priority::High,
        },
        Case {
            name: "a worsening conversation, no single message past the line",
            signals: signals(-0.85, &[]),
            history: History {
                sentiments: vec![-0.3, -0.7],
                ..calm.clone()
            },
            outcome: HandOver,
            reasons: &[NegativeMood],
            priority: Priority::High,
        },
        Case {
            name: "one bad turn after calm ones is not a trend",
            signals: signals(-0.7, &[]),
            history: History {
                sentiments: vec![0.3, 0.2],
                ..calm.clone()
            },
            outcome: AnswerThenWatch,
            reasons: &[],
            priority: Priority::Normal,
        },
        // The bot could not help.
        Case {
            name: "repeated failure",
            signals: signals(0.0, &[]),
            history: History {
                failures: 2,
                ..calm.clone()
            },
            outcome: HandOver,
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
            outcome: HandOver,
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
            outcome: HandOver,
            reasons: &[ThumbsDown],
            priority: Priority::High,
        },
        Case {
            name: "a weak score is not an intent",
            signals: signals(0.0, &[(Intent::Complaint, 0.4)]),
            history: calm.clone(),
            outcome: Answer,
            reasons: &[],
            priority: Priority::Normal,
        },
        Case {
            name: "scores split between a person and a complaint, together past the line",
            signals: signals(
                0.0,
                &[(Intent::Complaint, 0.3), (Intent::HumanRequest, 0.25)],
            ),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[Complaint],
            priority: Priority::High,
        },
        Case {
            name: "a split led by a legal threat is urgent",
            signals: signals(
                0.0,
                &[(Intent::LegalThreat, 0.45), (Intent::HumanRequest, 0.1)],
            ),
            history: calm.clone(),
            outcome: HandOver,
            reasons: &[LegalThreat],
            priority: Priority::Urgent,
        },
        Case {
            name: "cool-down holds automatic reasons",
            signals: signals(-0.95, &[(Intent::Complaint, 0.95)]),
            history: History {
                in_cooldown: true,
                ..calm.clone()
            },
            outcome: AnswerThenWatch,
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
            outcome: HandOver,
            reasons: &[AskedForHuman],
            priority: Priority::Normal,
        },
    ];
    let policy = EscalationPolicy::default();
    for c in cases {
        let d = decide(&policy, &c.signals, &c.history);
        assert_eq!(d.outcome, c.outcome, "{}: {d:?}", c.name);
        assert_eq!(d.reasons, c.reasons, "{}", c.name);
        assert_eq!(d.priority, c.priority, "{}", c.name);
    }
}
