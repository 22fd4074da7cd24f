//! The LLM review of unsure turns (`EscalationPolicy::llm_review`) end to end, against an
//! OpenAI-compatible stand-in that gives each verdict, or gives it too late.

use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::EscalationReason;
use concierge_protocol::{ConversationStatus, TicketStatus};
use concierge_tests::kb::{bot_answer, bot_answer_within, helpcenter};
use concierge_tests::llm_stub::{is_review, LlmStub, Script};
use concierge_tests::*;
use serde_json::{json, Value};

use concierge_tests::escalation::{next_ticket, put_policy};
/// A site with the help-center documents, the classifier loaded and `llm_review` on, whose
/// LLM (a stand-in) answers every review with `verdict` after `delay`.
async fn reviewing_site(
    verdict: &'static str,
    delay: std::time::Duration,
    timeout_ms: u64,
) -> (LlmStub, TestApp) {
    let stub = LlmStub::start(Script::Review { verdict, delay }).await;
    let app = spawn_with(Options {
        llm_base_url: Some(stub.base_url()),
        ..Options::default()
    })
    .await
    .unwrap();
    app.ingest(&helpcenter()).await;
    // The turns are scored by the classifier alone (no keyword rule matches them).
    app.intent_classifier().await;
    let owner = app.owner_token().await;
    let (status, body) = put_policy(
        &app,
        &owner,
        &json!({"llm_review": true, "llm_review_timeout_ms": timeout_ms}).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (stub, app)
}

/// Turns the classifier is unsure about go to the site's LLM when the owner turns
/// `llm_review` on; its verdict decides them, a slow or failed review leaves the classifier's
/// decision, and sure turns are never sent.
#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn the_sites_llm_decides_the_turns_the_classifier_is_unsure_about() {
    use std::time::Duration;
    // The classifier's scores for the intents that need a person (`concierge triage`: 0.35
    // and 0.62): UNSURE_LOW below the 0.5 the policy escalates from, UNSURE_HIGH above it,
    // both inside the review band [0.1, 0.9).
    const UNSURE_LOW: &str = "how do I get in touch with someone about my bill";
    const UNSURE_HIGH: &str = "maybe a person could help with the invoice";
    const SURE_CALM: &str = "How long does a refund take?";

    struct Case {
        verdict: &'static str,
        delay: Duration,
        // The policy's `llm_review_timeout_ms`: generous where the verdict must arrive (a
        // loaded CI machine must not turn a prompt answer into a timeout), short where it
        // must not.
        timeout_ms: u64,
        text: &'static str,
        escalates: bool,
    }
    let cases = [
        // The LLM calls a turn the classifier leaned calm on a request for a person.
        Case {
            verdict: "human",
            delay: Duration::ZERO,
            timeout_ms: 20_000,
            text: UNSURE_LOW,
            escalates: true,
        },
        // ... and one it leaned towards escalating calm: the bot answers.
        Case {
            verdict: "none",
            delay: Duration::ZERO,
            timeout_ms: 20_000,
            text: UNSURE_HIGH,
            escalates: false,
        },
        // Too slow (the policy allows 300 ms here, the verdict comes after 30 s): the
        // classifier decides, and the bot answers what it leaned calm on.
        Case {
            verdict: "human",
            delay: Duration::from_secs(30),
            timeout_ms: 300,
            text: UNSURE_LOW,
            escalates: false,
        },
    ];
    for case in cases {
        let (stub, app) = reviewing_site(case.verdict, case.delay, case.timeout_ms).await;
        let mut agent = app.agent().await;
        let mut v = app.visitor().await;
        let w = v.hello(None, None, None).await.unwrap();

        // A sure turn: answered, never reviewed.
        v.say("q1", SURE_CALM).await.unwrap();
        bot_answer(&mut v).await;
        assert!(
            !stub.bodies().iter().any(is_review),
            "a sure turn was sent for review"
        );

        v.say("q2", case.text).await.unwrap();
        // The server holds this turn's outcome back until the verdict (at most the policy's
        // timeout), so the wait allows that on top of the usual patience: with `WAIT` alone a
        // verdict that took 12 s on a loaded machine would fail a run the policy allows.
        let budget = Duration::from_millis(case.timeout_ms) + WAIT * 3;
        if case.escalates {
            v.wait_for_within(budget, |f| match f {
                VisitorServerFrame::Status { status, .. } => {
                    (*status == ConversationStatus::Waiting).then_some(())
                }
                _ => None,
            })
            .await
            .expect("the conversation waits for a person");
            let ticket = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
            assert_eq!(ticket.conversation_id, w.conversation_id);
            assert!(
                ticket.reasons.contains(&EscalationReason::AskedForHuman),
                "{:?}",
                ticket.reasons
            );
        } else {
            let answer = bot_answer_within(&mut v, budget).await;
            assert!(!answer.message.text.is_empty());
            assert_eq!(
                app.conversation(&w.conversation_id).await.status,
                ConversationStatus::Bot
            );
        }
        // The review read the turn with the visitor's earlier one, and asked for one word.
        let reviews: Vec<Value> = stub.bodies().into_iter().filter(is_review).collect();
        assert_eq!(reviews.len(), 1, "{reviews:?}");
        let prompt = reviews[0]["messages"][1]["content"].as_str().unwrap();
        assert!(
            prompt.contains(&format!("- {SURE_CALM}\n"))
                && prompt.contains(&format!("LATEST visitor message:\n{}", case.text)),
            "{prompt}"
        );
        assert_eq!(reviews[0]["temperature"], json!(0.0));
        app.shutdown().await;
    }
}

/// An agent who takes the conversation over while the site's LLM reviews the visitor's turn
/// has it: when the verdict ("none": the bot's to answer) arrives, the bot stays silent.
#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_take_over_during_the_review_keeps_the_bot_silent() {
    use concierge_protocol::agent::AgentClientFrame;
    use concierge_protocol::Author;
    use std::time::Duration;
    const UNSURE_HIGH: &str = "maybe a person could help with the invoice";
    let (stub, app) = reviewing_site("none", Duration::from_secs(2), 30_000).await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let cid = w.conversation_id.clone();
    v.say("q1", UNSURE_HIGH).await.unwrap();
    // The review has reached the LLM; the verdict takes 2 s.
    for _ in 0..400 {
        if stub.bodies().iter().any(is_review) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(stub.bodies().iter().any(is_review), "the turn was reviewed");
    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: cid.clone(),
        })
        .await;
    // The turn ends after the verdict: its signals are stored as a silent turn.
    let store = &app.app.chat.store;
    let site = store.site_by_key(&app.site_key).await.unwrap().unwrap();
    let mut outcome = None;
    for _ in 0..1_200 {
        let signals = store
            .recent_signals(&site.id, &cid, i64::MAX, 1)
            .await
            .unwrap();
        if let Some(s) = signals.first() {
            outcome = Some(s.outcome);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(outcome, Some(concierge::store::TurnOutcome::Silent));
    assert_eq!(
        app.conversation(&cid).await.status,
        ConversationStatus::Agent
    );
    let stored = store.messages_after(&site.id, &cid, 0, 100).await.unwrap();
    assert!(
        stored.iter().all(|m| m.author != Author::Bot),
        "the bot answered a conversation a person had: {:?}",
        stored
            .iter()
            .map(|m| (m.author, m.text.clone()))
            .collect::<Vec<_>>()
    );
}
