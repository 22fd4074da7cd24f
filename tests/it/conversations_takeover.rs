//! Taking over is exclusive: of two agents taking over one conversation at once exactly one
//! wins, the other gets 409 naming the winner; replies to a conversation another agent holds
//! are refused the same way (a resend of a reply already stored still gets it); hand-back and
//! resolve stay open to the whole team. On SQLite and Postgres.

use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::{ConversationStatus, ErrorCode};
use concierge_tests::*;
use serde_json::json;

/// An agent of the test site's account with a display name and a bearer token.
async fn named_agent(app: &TestApp, name: &str) -> (String, String) {
    let store = &app.app.chat.store;
    let email = format!(
        "{}-{}@shop.example",
        name.split(' ').next().unwrap().to_lowercase(),
        &uuid::Uuid::new_v4().to_string()[..8]
    );
    let (agent, _) =
        concierge::accounts::create_agent(store, &email, Some(name), "agent", &app.site_key)
            .await
            .expect("agent created");
    let (_, token) = concierge::accounts::issue_token(store, &email)
        .await
        .expect("token");
    (agent.id, token)
}

/// A conversation with one neutral visitor line (no escalation runs beside the take-over).
async fn browsing(app: &TestApp) -> (Visitor, String) {
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", "Thanks, I am just browsing the catalogue.")
        .await
        .unwrap();
    (v, w.conversation_id)
}

async fn takeover_story(app: &TestApp) {
    let (ana_id, ana_token) = named_agent(app, "Ana Agent").await;
    let (bob_id, bob_token) = named_agent(app, "Bob Builder").await;
    let ana = app.bearer(&ana_token);
    let bob = app.bearer(&bob_token);

    // Several rounds: whoever the scheduler favours, exactly one wins each time.
    for round in 0..4 {
        let (_v, id) = browsing(app).await;
        let path = format!("/conversations/{id}/take-over");
        let (a, b) = tokio::join!(ana.post(&path, json!({})), bob.post(&path, json!({})));
        let statuses = (a.status, b.status);
        assert!(
            statuses == (200, 409) || statuses == (409, 200),
            "round {round}: {statuses:?} {:?} {:?}",
            a.body,
            b.body
        );
        let (winner_id, winner_name, lost) = if a.status == 200 {
            (&ana_id, "Ana Agent", &b)
        } else {
            (&bob_id, "Bob Builder", &a)
        };
        assert_eq!(lost.code(), "conflict");
        assert_eq!(
            lost.body["error"]["message"],
            format!("{winner_name} has already taken over this conversation")
        );
        let held = app.conversation(&id).await;
        assert_eq!(held.status, ConversationStatus::Agent);
        assert_eq!(held.agent_id.as_ref(), Some(winner_id), "the winner stays");
        let joined = app
            .stored_messages(&id)
            .await
            .iter()
            .filter(|m| m.text.ends_with("joined the conversation"))
            .count();
        assert_eq!(joined, 1, "one take-over line, the winner's");
    }

    // Ana holds a conversation: Bob can neither take it nor reply; Ana again is a no-op.
    let (_v, id) = browsing(app).await;
    let path = format!("/conversations/{id}");
    let r = ana
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "a1", "text": "Hi, Ana here."}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let again = ana.post(&format!("{path}/take-over"), json!({})).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["agent_name"], "Ana Agent");
    let steal = bob
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "b1", "text": "Bob here instead."}),
        )
        .await;
    assert_eq!((steal.status, steal.code()), (409, "conflict"));
    assert_eq!(
        steal.body["error"]["message"],
        "Ana Agent has already taken over this conversation"
    );
    let mut bob_socket = Agent::connect(app.addr, &bob_token).await.unwrap();
    bob_socket
        .send(&AgentClientFrame::TakeOver {
            conversation_id: id.clone(),
        })
        .await;
    let (code, message) = bob_socket
        .wait_for(|f| match f {
            AgentServerFrame::Error { code, message } => Some((*code, message.clone())),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(code, ErrorCode::Conflict);
    assert_eq!(
        message,
        "Ana Agent has already taken over this conversation"
    );
    assert_eq!(
        bob_socket.reply(&id, "b2", "Hello from Bob").await.unwrap(),
        -(1 + ErrorCode::Conflict as i64),
        "a socket reply is refused the same way"
    );
    assert_eq!(app.conversation(&id).await.agent_id.as_ref(), Some(&ana_id));
    assert!(
        !app.stored_messages(&id)
            .await
            .iter()
            .any(|m| m.text.contains("Bob")),
        "nothing of Bob's was stored"
    );

    // Anyone of the team may hand back; then Bob takes over by replying, Ana's old reply
    // resent gets its stored message, not a conflict.
    let back = bob.post(&format!("{path}/hand-back"), json!({})).await;
    assert_eq!(
        (back.status, back.body["status"].as_str()),
        (200, Some("bot"))
    );
    let bob_reply = bob
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "b3", "text": "Bob now."}),
        )
        .await;
    assert_eq!(bob_reply.status, 201, "{:?}", bob_reply.body);
    let resent = ana
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "a1", "text": "Hi, Ana here."}),
        )
        .await;
    assert_eq!(resent.status, 201, "{:?}", resent.body);
    assert_eq!(resent.body["seq"], r.body["seq"], "the stored reply");
    let new_from_ana = ana
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "a2", "text": "Me again."}),
        )
        .await;
    assert_eq!(
        (new_from_ana.status, new_from_ana.code()),
        (409, "conflict")
    );
    let solved = ana.post(&format!("{path}/resolve"), json!({})).await;
    assert_eq!(solved.body["status"], "resolved", "anyone may resolve");
}

#[tokio::test]
async fn conversations_taken_over_at_once_go_to_exactly_one_agent() {
    takeover_story(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_conversations_taken_over_at_once_go_to_exactly_one_agent() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    takeover_story(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn a_conversation_held_by_a_removed_agent_can_be_taken_over() {
    let app = spawn_app().await;
    let (_, gone_token) = named_agent(&app, "Gone Agent").await;
    let (_v, id) = browsing(&app).await;
    let gone = app.bearer(&gone_token);
    let r = gone
        .post(&format!("/conversations/{id}/take-over"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let owner = app.member("owner").await;
    let gone_id = app.conversation(&id).await.agent_id.unwrap();
    let removed = app
        .bearer(&owner.token)
        .delete(&format!("/agents/{gone_id}"))
        .await;
    assert_eq!(removed.status, 204, "{:?}", removed.body);
    let alice = app.bearer(&app.agent_token);
    let r = alice
        .post(&format!("/conversations/{id}/take-over"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["agent_name"], "Alice");
}
