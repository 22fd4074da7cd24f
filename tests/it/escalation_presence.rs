//! Agent presence: an agent can set themselves away (`PUT /api/v1/me/presence`), and an away
//! agent with the dashboard open does not count as someone who will reply: the visitor is
//! asked for an email instead. Back online, escalations say a person will reply. The flag is
//! a column: it is in `GET /me` and the socket's `welcome`, and survives a restart.

use concierge::escalation::{ESCALATED_OFFLINE, ESCALATED_ONLINE};
use concierge_protocol::api::{AgentView, MeView};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, ConversationStatus};
use concierge_tests::restartable::Restartable;
use concierge_tests::*;
use serde_json::json;

/// A visitor asks for a person; returns the system line they read and whether the ticket
/// waits for their email.
async fn ask_for_a_person(app: &TestApp) -> (String, bool) {
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "hi there").await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    v.wait_for(|f| match f {
        VisitorServerFrame::Status { status, .. } if *status == ConversationStatus::Waiting => {
            Some(())
        }
        _ => None,
    })
    .await
    .expect("waiting");
    let line = v
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } if message.author == Author::System => {
                Some(message.text.clone())
            }
            _ => None,
        })
        .await
        .expect("system line");
    let ticket = app
        .ticket_of(&app.site_id().await, &w.conversation_id)
        .await;
    (line, ticket.awaiting_email)
}

async fn presence_story(app: &TestApp) {
    // The only agent of the account has the dashboard open...
    let socket = app.agent().await;
    assert!(!socket.me.as_ref().unwrap().away, "online by default");
    let alice = app.bearer(&app.agent_token);
    let me: MeView = serde_json::from_value(alice.get("/me").await.body).unwrap();
    assert!(!me.agent.away);

    // ... and steps away: nobody will reply, so the visitor is asked for an email.
    let r = alice.put("/me/presence", json!({"away": true})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let view: AgentView = serde_json::from_value(r.body).unwrap();
    assert!(view.away);
    assert_eq!(view.name, "Alice");
    let me: MeView = serde_json::from_value(alice.get("/me").await.body).unwrap();
    assert!(me.agent.away, "GET /me says so");
    assert_eq!(
        ask_for_a_person(app).await,
        (ESCALATED_OFFLINE.to_string(), true)
    );
    let again = app.agent().await;
    assert!(again.me.as_ref().unwrap().away, "welcome says so");

    // Back online: the next escalation says a person will reply.
    let r = alice.put("/me/presence", json!({"away": false})).await;
    assert_eq!((r.status, r.body["away"].as_bool()), (200, Some(false)));
    assert_eq!(
        ask_for_a_person(app).await,
        (ESCALATED_ONLINE.to_string(), false)
    );
    drop((socket, again));
}

#[tokio::test]
async fn an_away_agent_does_not_count_as_online_for_escalations() {
    presence_story(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_an_away_agent_does_not_count_as_online_for_escalations() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    presence_story(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn being_away_survives_a_restart_and_needs_the_csrf_header_with_a_cookie() {
    let server = Restartable::start(Options::default()).await.unwrap();
    let token = server
        .with_app(async |app: &mut TestApp| {
            let mut browser = app.sign_in(&app.agent_email, &app.agent_password).await;
            browser.send_csrf = false;
            let refused = browser.put("/me/presence", json!({"away": true})).await;
            assert_eq!((refused.status, refused.code()), (403, "csrf"));
            browser.send_csrf = true;
            let r = browser.put("/me/presence", json!({"away": true})).await;
            assert_eq!((r.status, r.body["away"].as_bool()), (200, Some(true)));
            let bad = browser.put("/me/presence", json!({"away": "maybe"})).await;
            assert_eq!((bad.status, bad.code()), (400, "bad_frame"));
            app.agent_token.clone()
        })
        .await;
    server.restart().await.unwrap();
    server
        .with_app(async |app: &mut TestApp| {
            let me = app.bearer(&token).get("/me").await;
            assert_eq!(me.status, 200, "{:?}", me.body);
            assert_eq!(me.body["agent"]["away"], true, "a column, not memory");
        })
        .await;
    server.stop().await;
}
