//! Sentiment and escalation end to end: an upset visitor reaches a person with a handoff
//! packet; "talk to a person" always works and never escalates twice; repeated failures and
//! thumbs-down escalate; hand-back cools down; tickets and analytics over REST. Owners'
//! policy edits and `concierge triage` are in `escalation_policy`, the LLM review of unsure
//! turns in `escalation_review`, an escalation across two nodes in `multi_node`.

use concierge::escalation::{ESCALATED_OFFLINE, ESCALATED_ONLINE};
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{
    ConversationStatus, ErrorCode, FeedbackValue, Phase, Ticket, TicketStatus,
};
use concierge_protocol::{EscalationReason, Priority};
use concierge_tests::escalation::{api, next_ticket, status_of, system_line};
use concierge_tests::kb::{bot_answer, helpcenter};
use concierge_tests::*;
use serde_json::json;

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn an_angry_visitor_reaches_a_person_with_a_handoff_packet() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();

    v.say("q1", "How long does a refund take?").await.unwrap();
    let answer = bot_answer(&mut v).await;
    assert!(answer.message.text.contains("5 business days"));

    v.say(
        "q2",
        "This is ridiculous, I was charged twice and nobody helps!!!",
    )
    .await
    .unwrap();
    let (name, _) = status_of(&mut v, ConversationStatus::Waiting).await;
    assert_eq!(name, None);
    assert_eq!(system_line(&mut v).await, ESCALATED_ONLINE);

    let ticket = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    assert_eq!(ticket.conversation_id, w.conversation_id);
    assert_eq!(ticket.priority, Priority::High);
    // Upset, not a request only a person can act on: the mood is the reason.
    assert_eq!(
        ticket.reasons,
        [EscalationReason::NegativeMood],
        "{:?}",
        ticket.reasons
    );
    let h = &ticket.handoff;
    assert_eq!(h.summary_by, "extractive");
    assert!(
        h.summary.contains("How long does a refund take?") && h.summary.contains("charged twice"),
        "{}",
        h.summary
    );
    assert_eq!(h.sources[0].document_id, "refunds.md", "{:?}", h.sources);
    assert_eq!(h.mood.len(), 2, "{:?}", h.mood);
    assert!(h.mood[1].sentiment < -0.5 && h.mood[1].mood < h.mood[0].mood);
    assert!(!ticket.awaiting_email, "an agent is online");

    // The bot stays quiet once a person is on the way.
    assert!(v
        .next_within(std::time::Duration::from_millis(500))
        .await
        .is_none_or(|f| !matches!(f, VisitorServerFrame::Delta { .. })));
    let conversation = app.conversation(&w.conversation_id).await;
    assert_eq!(conversation.status, ConversationStatus::Waiting);
    assert!(conversation.mood.unwrap() < -0.3);

    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    let (name, phase) = status_of(&mut v, ConversationStatus::Agent).await;
    assert_eq!(name.as_deref(), Some("Alice"));
    assert_eq!(phase, Some(Phase::AgentJoined));
    let taken = next_ticket(&mut agent, |t| t.status == TicketStatus::Pending).await;
    assert_eq!(taken.assigned_agent.as_deref(), Some("Alice"));
    assert_eq!(taken.first_response_at, None);

    agent
        .reply(
            &w.conversation_id,
            "r1",
            "Sorry about that, refunding the duplicate now.",
        )
        .await
        .unwrap();
    assert_eq!(
        v.agent_message().await.text,
        "Sorry about that, refunding the duplicate now."
    );
    let answered = next_ticket(&mut agent, |t| t.first_response_at.is_some()).await;
    assert_eq!(answered.id, ticket.id);

    agent
        .send(&AgentClientFrame::Resolve {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    let solved = next_ticket(&mut agent, |t| t.status == TicketStatus::Solved).await;
    assert!(solved.resolved_at.is_some());

    // Recorded for analytics, and readable over REST.
    let token = app.agent_token.clone();
    let (status, stats) = api(&app, &token, "escalation-stats?days=7").await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats["tickets"], 1);
    assert_eq!(stats["by_reason"]["negative_mood"], 1);
    assert_eq!(stats["by_priority"]["high"], 1);
    assert_eq!(stats["by_status"]["solved"], 1);
    assert_eq!(stats["first_response"]["count"], 1);
    assert!(stats["first_response"]["median_secs"].as_f64().unwrap() >= 0.0);
    let (_, list) = api(&app, &token, "tickets?status=solved").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, one) = api(&app, &token, &format!("tickets/{}", ticket.id)).await;
    assert_eq!(one["handoff"]["sources"][0]["document_id"], "refunds.md");
    let (status, missing) = api(&app, &token, "tickets/nope").await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, bad) = api(&app, &token, "tickets?status=maybe").await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (400, Some("bad_frame"))
    );

    // A ticket survives a restart of the store (it is a row, not memory).
    let site = app.site_id().await;
    let again = app.app.chat.store.ticket(&site, &ticket.id).await.unwrap();
    assert_eq!(again.unwrap().status, TicketStatus::Solved);
}

#[tokio::test]
async fn asking_for_a_person_always_works_once_and_an_offline_team_gets_an_email() {
    // No documents: the bot is silent, but visitors can still reach people.
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "hi there").await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    status_of(&mut v, ConversationStatus::Waiting).await;
    assert_eq!(system_line(&mut v).await, ESCALATED_OFFLINE);

    // Again: no second ticket, just the current status.
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    status_of(&mut v, ConversationStatus::Waiting).await;
    // Asking in words while waiting does not escalate twice either.
    v.say("q2", "can I talk to a real person please")
        .await
        .unwrap();

    v.say("q3", "sure, it's Ana.Diaz@Example.com")
        .await
        .unwrap();
    let thanks = system_line(&mut v).await;
    assert!(thanks.contains("ana.diaz@example.com"), "{thanks}");

    let (_, list) = api(&app, &app.agent_token, "tickets").await;
    let tickets = list["items"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "{list}");
    let t = &tickets[0];
    assert_eq!(t["conversation_id"], w.conversation_id.as_str());
    assert_eq!(t["reasons"], json!(["asked_for_human"]));
    assert_eq!(t["escalations"], 1);
    assert_eq!(t["contact_email"], "ana.diaz@example.com");
    assert_eq!(t["awaiting_email"], false);

    // An agent signing in sees the ticket in the welcome.
    let welcome = welcome_tickets(&app).await;
    assert_eq!(welcome.len(), 1);
    assert_eq!(
        welcome[0].contact_email.as_deref(),
        Some("ana.diaz@example.com")
    );
}

/// The tickets listed in a fresh agent socket's `welcome`.
async fn welcome_tickets(app: &TestApp) -> Vec<Ticket> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/ws/agent", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", app.agent_token).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"type":"hello","v":1}"#.into(),
    ))
    .await
    .unwrap();
    while let Some(Ok(m)) = ws.next().await {
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            if let Ok(AgentServerFrame::Welcome { tickets, .. }) = serde_json::from_str(&t) {
                return tickets;
            }
        }
    }
    panic!("no welcome");
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn repeated_failures_escalate_and_a_hand_back_cools_down() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();

    v.say("q1", "What is the airspeed velocity of an unladen swallow?")
        .await
        .unwrap();
    let first = bot_answer(&mut v).await;
    assert_eq!(first.message.text, concierge::bot::DONT_KNOW);
    // The second miss in a row goes to a person instead of a second "I don't know".
    v.say("q2", "Which moon of Jupiter has the thickest ice crust?")
        .await
        .unwrap();
    status_of(&mut v, ConversationStatus::Waiting).await;
    let ticket = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    assert_eq!(ticket.reasons, [EscalationReason::RepeatedFailure]);
    assert!(
        ticket.handoff.summary.contains("could not answer"),
        "{}",
        ticket.handoff.summary
    );
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(
        stored
            .iter()
            .filter(|m| m.text == concierge::bot::DONT_KNOW)
            .count(),
        1
    );

    for frame in [
        AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        },
        AgentClientFrame::HandBack {
            conversation_id: w.conversation_id.clone(),
        },
    ] {
        agent.send(&frame).await;
    }
    status_of(&mut v, ConversationStatus::Bot).await;
    let back = next_ticket(&mut agent, |t| {
        t.status == TicketStatus::Pending && t.assigned_agent.is_some()
    })
    .await;
    assert_eq!(back.id, ticket.id);

    // Cooling down: an angry message right after the hand-back does not bounce it back ...
    v.say(
        "q3",
        "this is useless and so annoying, what a waste of time",
    )
    .await
    .unwrap();
    bot_answer(&mut v).await;
    assert_eq!(
        app.conversation(&w.conversation_id).await.status,
        ConversationStatus::Bot
    );
    // ... but asking for a person always works, into the same ticket.
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    status_of(&mut v, ConversationStatus::Waiting).await;
    let reopened = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    assert_eq!(reopened.id, ticket.id);
    assert_eq!(reopened.escalations, 2);
    assert_eq!(
        reopened.reasons,
        [
            EscalationReason::RepeatedFailure,
            EscalationReason::AskedForHuman
        ]
    );
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn thumbs_down_answers_escalate_and_feedback_is_checked() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let mine = v.say("q1", "How long does a refund take?").await.unwrap();
    let a1 = bot_answer(&mut v).await;

    // Only the bot's answers take feedback.
    v.send(&VisitorClientFrame::Feedback {
        seq: mine,
        value: FeedbackValue::Down,
    })
    .await;
    let code = v
        .wait_for(|f| match f {
            VisitorServerFrame::Error { code, .. } => Some(*code),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(code, ErrorCode::BadFrame);
    v.send_raw(r#"{"type":"feedback","seq":1,"value":"meh"}"#)
        .await;
    let code = v
        .wait_for(|f| match f {
            VisitorServerFrame::Error { code, .. } => Some(*code),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(code, ErrorCode::BadFrame);

    v.send(&VisitorClientFrame::Feedback {
        seq: a1.message.seq,
        value: FeedbackValue::Down,
    })
    .await;
    v.say("q2", "When is the store open?").await.unwrap();
    let a2 = bot_answer(&mut v).await;
    assert_eq!(
        app.conversation(&w.conversation_id).await.status,
        ConversationStatus::Bot,
        "one thumbs-down is not enough by default"
    );
    v.send(&VisitorClientFrame::Feedback {
        seq: a2.message.seq,
        value: FeedbackValue::Down,
    })
    .await;
    status_of(&mut v, ConversationStatus::Waiting).await;
    let t = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    assert_eq!(t.reasons, [EscalationReason::ThumbsDown]);
    assert_eq!(t.priority, Priority::High);
    let (_, stats) = api(&app, &app.agent_token, "escalation-stats").await;
    assert_eq!(stats["feedback"], json!({"up": 0, "down": 2}));
}
