//! Plans and usage limits: the bot-answer quota at its boundary (end to end on SQLite, and
//! concurrently on two nodes sharing Postgres), the seat, document and site limits, the usage
//! report, and the operators' CLI.

use concierge::accounts::plans::reserve_bot_answer;
use concierge::store::{PlanRecord, Reservation};
use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::EscalationReason;
use concierge_protocol::{Author, ConversationStatus};
use concierge_tests::kb::{bot_answer, helpcenter};
use concierge_tests::pg::PgDatabase;
use concierge_tests::*;
use serde_json::json;

async fn put_plan(
    app: &TestApp,
    name: &str,
    bot_answers: Option<i64>,
    seats: Option<i64>,
    documents: Option<i64>,
    sites: Option<i64>,
) {
    let store = &app.app.chat.store;
    store
        .put_plan(&PlanRecord {
            name: name.into(),
            bot_answers,
            seats,
            documents,
            sites,
        })
        .await
        .unwrap();
    let site = store.site_by_key(&app.site_key).await.unwrap().unwrap();
    assert!(store
        .set_account_plan(&site.account_id, name)
        .await
        .unwrap());
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn the_99th_and_100th_answers_are_given_and_the_101st_visitor_waits_for_a_person() {
    let app = spawn_app().await;
    put_plan(&app, "free", Some(100), Some(1), Some(20), Some(1)).await;
    app.ingest(&helpcenter()).await;
    let store = &app.app.chat.store;
    let site_id = app.site_id().await;
    // 98 answers were given earlier this month (in another conversation).
    let mut earlier = app.visitor().await;
    let w0 = earlier.hello(None, None, None).await.unwrap();
    for seq in 1..=98 {
        let (r, _) = reserve_bot_answer(store, &site_id, &w0.conversation_id, 1_000 + seq)
            .await
            .unwrap();
        assert!(matches!(r, Reservation::Granted { .. }), "{r:?}");
    }
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q99", "How long does a refund take?").await.unwrap();
    assert!(bot_answer(&mut v)
        .await
        .message
        .text
        .contains("5 business days"));
    v.say("q100", "How much is shipping?").await.unwrap();
    bot_answer(&mut v).await;
    let warning = agent
        .wait_for(|f| match f {
            AgentServerFrame::Usage { warning } => Some(warning.clone()),
            _ => None,
        })
        .await
        .expect("the agents are told the answers are used up");
    assert_eq!(
        (
            warning.limit.as_str(),
            warning.used,
            warning.max,
            warning.percent
        ),
        ("bot_answers", 100, 100, 100)
    );

    // The 101st: stored and acked as always, no bot answer, a person is on the way.
    let seq = v
        .say("q101", "Can I change my delivery address?")
        .await
        .unwrap();
    let said = v
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } if message.author != Author::Visitor => {
                Some(message.clone())
            }
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        said.author,
        Author::System,
        "no bot answer past the limit: {said:?}"
    );
    assert!(
        said.text.contains("person") || said.text.contains("email"),
        "{}",
        said.text
    );
    let stored = app.stored_messages(&w.conversation_id).await;
    assert!(stored
        .iter()
        .any(|m| m.seq == seq && m.text.contains("delivery address")));
    assert_eq!(
        app.conversation(&w.conversation_id).await.status,
        ConversationStatus::Waiting
    );
    let ticket = store
        .active_ticket(&site_id, &w.conversation_id)
        .await
        .unwrap()
        .expect("a ticket");
    assert_eq!(ticket.reasons, [EscalationReason::QuotaReached]);

    // A resent message is not counted again; the usage says what happens now.
    let q99 = stored
        .iter()
        .find(|m| m.client_msg_id.as_deref() == Some("q99"))
        .unwrap();
    let (again, _) = reserve_bot_answer(store, &site_id, &w.conversation_id, q99.seq)
        .await
        .unwrap();
    assert_eq!(again, Reservation::AlreadyGranted);
    let owner = app.member("owner").await;
    let usage = app.bearer(&owner.token).get("/usage").await;
    assert_eq!(
        usage.body["bot_answers"],
        json!({"used": 100, "limit": 100})
    );
    let warnings = usage.body["warnings"].as_array().unwrap();
    let full = warnings
        .iter()
        .find(|w| w["limit"] == "bot_answers")
        .expect("a bot-answer warning");
    assert_eq!(full["percent"], 100);
    assert!(full["message"]
        .as_str()
        .unwrap()
        .contains("a person will reply"));
    assert_eq!(usage.body["daily_bot_answers"][0]["count"], 100);
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn two_nodes_sharing_postgres_never_grant_more_answers_than_the_plan() {
    let pg = concierge_tests::needs::postgres();
    let db = PgDatabase::create(&pg).await.unwrap();
    let opts = Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    };
    let a = spawn_with(opts.clone()).await.unwrap();
    let b = spawn_with(opts).await.unwrap();
    put_plan(&a, "tiny", Some(100), None, None, None).await;
    let site_id = a.site_id().await;
    let mut v = a.visitor().await;
    let cid = v.hello(None, None, None).await.unwrap().conversation_id;
    // 99 given before; then 40 visitor messages race for the last answer on both nodes.
    for seq in 1..=99 {
        reserve_bot_answer(&a.app.chat.store, &site_id, &cid, seq)
            .await
            .unwrap();
    }
    let mut racers = Vec::new();
    for seq in 100..140 {
        let store = if seq % 2 == 0 {
            a.app.chat.store.clone()
        } else {
            b.app.chat.store.clone()
        };
        let (site_id, cid) = (site_id.clone(), cid.clone());
        racers.push(tokio::spawn(async move {
            reserve_bot_answer(&store, &site_id, &cid, seq)
                .await
                .unwrap()
                .0
        }));
    }
    let mut granted = 0;
    for r in racers {
        match r.await.unwrap() {
            Reservation::Granted { used, limit } => {
                granted += 1;
                assert_eq!((used, limit), (100, Some(100)));
            }
            Reservation::OverLimit { limit } => assert_eq!(limit, 100),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(granted, 1, "exactly one message gets the 100th answer");
    // The 99th resent on the other node is not counted twice, and never refused.
    let (resent, _) = reserve_bot_answer(&b.app.chat.store, &site_id, &cid, 99)
        .await
        .unwrap();
    assert_eq!(resent, Reservation::AlreadyGranted);
    let owner = a.member("owner").await;
    let usage = b.bearer(&owner.token).get("/usage").await;
    assert_eq!(
        usage.body["bot_answers"],
        json!({"used": 100, "limit": 100})
    );
    drop((a, b));
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn over_the_seat_document_and_site_limits_the_request_is_refused_naming_the_limit() {
    let app = spawn_app().await;
    put_plan(&app, "small", None, Some(2), Some(2), Some(1)).await;
    let owner = app.member("owner").await; // the test agent + this owner = 2 seats
    let api = app.bearer(&owner.token);
    let r = api
        .post(
            "/invitations",
            json!({"email": "third@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "plan_limit"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("seats"),
        "{:?}",
        r.body
    );
    let r = api
        .post(
            "/sites",
            json!({"name": "Second", "allowed_origins": ["https://second.example"]}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "plan_limit"));
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sites"));
    let upload = |names: &'static [&'static str]| {
        let mut form = reqwest::multipart::Form::new();
        for n in names {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(
                    format!("# {n}\n\nSome text about {n}.").into_bytes(),
                )
                .file_name(*n),
            );
        }
        reqwest::Client::new()
            .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
            .bearer_auth(&owner.token)
            .multipart(form)
    };
    let r = upload(&["a.md", "b.md", "c.md"]).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "plan_limit");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 documents"),
        "{body}"
    );
    assert!(
        app.app
            .chat
            .store
            .jobs(&app.site_id().await, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was queued"
    );
    let r = upload(&["a.md", "b.md"]).send().await.unwrap();
    assert_eq!(r.status(), 202, "within the limit the upload goes through");
    let usage = api.get("/usage").await;
    assert_eq!(usage.body["seats"], json!({"used": 2, "limit": 2}));
    assert_eq!(usage.body["sites"], json!({"used": 1, "limit": 1}));
    let limits: Vec<&str> = usage.body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["limit"].as_str())
        .collect();
    assert!(
        limits.contains(&"seats") && limits.contains(&"sites"),
        "{limits:?}"
    );
    let start = usage.body["period"]["start"].as_str().unwrap();
    assert!(start.ends_with("-01T00:00:00Z"), "{start}");
}
