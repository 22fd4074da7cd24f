//! The cross-tenant probe: an owner of account A calls every id-taking `/api/v1` route with
//! account B's ids and gets 404 every time, never B's data; B's things are unchanged after.

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_tests::*;
use serde_json::{json, Value};

/// B's ids: a site, an agent, a token, a conversation with a ticket, a job, a document.
struct Other {
    site_key: String,
    agent_id: String,
    token: String,
    token_id: String,
    conversation_id: String,
    ticket_id: String,
    job_id: String,
}

async fn other_account(app: &TestApp) -> Other {
    let store = &app.app.chat.store;
    let site = concierge::accounts::create_site(store, "Rival", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let member = app.member_of("owner", &site.site_key).await;
    let token_id = app.bearer(&member.token).get("/tokens").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut v = Visitor::connect(&app.visitor_url(&site.site_key), Some(ORIGIN))
        .await
        .unwrap();
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", "hello from the rival's visitor").await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let ticket_id = app.ticket_of(&site.id, &w.conversation_id).await.id;
    let kb = &app.app.knowledge;
    let job = kb
        .enqueue(
            &site.id,
            vec![kb.file_item(
                "secret.md".into(),
                "secret.md".into(),
                b"# Secret\n\nRival's pricing.".to_vec(),
            )],
        )
        .await
        .unwrap();
    Other {
        site_key: site.site_key,
        agent_id: member.id,
        token: member.token,
        token_id,
        conversation_id: w.conversation_id,
        ticket_id,
        job_id: job.id,
    }
}

#[tokio::test]
async fn every_id_taking_route_answers_404_for_another_accounts_ids() {
    probe(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_every_id_taking_route_answers_404_for_another_accounts_ids() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    probe(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

async fn probe(app: &TestApp) {
    let b = other_account(app).await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let site = format!("/sites/{}", b.site_key);
    let probes: Vec<(&str, String, Option<Value>)> = vec![
        ("PATCH", site.clone(), Some(json!({"name": "pwned"}))),
        ("POST", format!("{site}/rotate-key"), Some(json!({}))),
        ("GET", format!("{site}/documents"), None),
        ("DELETE", format!("{site}/documents/secret.md"), None),
        ("GET", format!("{site}/jobs"), None),
        ("GET", format!("{site}/jobs/{}", b.job_id), None),
        ("GET", format!("{site}/search?q=pricing"), None),
        ("GET", format!("{site}/knowledge-gaps"), None),
        (
            "POST",
            format!("{site}/knowledge-gaps/{}/dismiss", "0".repeat(64)),
            None,
        ),
        (
            "POST",
            format!("{site}/ask"),
            Some(json!({"question": "pricing?"})),
        ),
        ("POST", format!("{site}/documents/secret.md/reindex"), None),
        ("GET", format!("{site}/installation"), None),
        ("GET", format!("{site}/llm-usage"), None),
        ("GET", format!("{site}/tickets"), None),
        ("GET", format!("{site}/tickets/{}", b.ticket_id), None),
        (
            "PATCH",
            format!("{site}/tickets/{}", b.ticket_id),
            Some(json!({"status": "solved"})),
        ),
        (
            "POST",
            format!("{site}/tickets/{}/assign", b.ticket_id),
            Some(json!({"agent_id": owner.id})),
        ),
        ("GET", format!("{site}/escalation-policy"), None),
        (
            "PUT",
            format!("{site}/escalation-policy"),
            Some(json!({"enabled": false})),
        ),
        ("GET", format!("{site}/escalation-stats"), None),
        ("GET", format!("{site}/widget-config"), None),
        (
            "PUT",
            format!("{site}/widget-config"),
            Some(json!({"title": "pwned"})),
        ),
        (
            "POST",
            format!("{site}/widget-preview"),
            Some(json!({"title": "pwned"})),
        ),
        ("GET", format!("{site}/identity-secret"), None),
        (
            "POST",
            format!("{site}/identity-secret/rotate"),
            Some(json!({})),
        ),
        (
            "GET",
            format!("/conversations?site_key={}", b.site_key),
            None,
        ),
        ("GET", format!("/conversations/{}", b.conversation_id), None),
        (
            "GET",
            format!("/conversations/{}/messages", b.conversation_id),
            None,
        ),
        (
            "POST",
            format!("/conversations/{}/assign", b.conversation_id),
            Some(json!({"agent_id": owner.id})),
        ),
        (
            "PATCH",
            format!("/agents/{}", b.agent_id),
            Some(json!({"role": "agent"})),
        ),
        ("DELETE", format!("/agents/{}", b.agent_id), None),
        (
            "POST",
            format!("/agents/{}/password-reset", b.agent_id),
            Some(json!({})),
        ),
        ("DELETE", format!("/tokens/{}", b.token_id), None),
    ];
    for (method, path, body) in &probes {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = api.call(m, path, body.clone()).await;
        assert_eq!(r.status, 404, "{method} {path}: {:?}", r.body);
        assert!(
            ["unknown_site", "not_found", "unknown_conversation"].contains(&r.code()),
            "{method} {path}: {:?}",
            r.body
        );
        let text = r.body.to_string();
        assert!(
            !text.contains("Rival") && !text.contains("rival's"),
            "{method} {path} leaked {text}"
        );
    }
    // Assigning one of our tickets to B's agent is refused the same way.
    // And B is untouched: its key, agent, token and ticket still work.
    let rival = app.bearer(&b.token);
    assert_eq!(rival.get("/me").await.status, 200);
    let t = rival.get(&format!("{site}/tickets/{}", b.ticket_id)).await;
    assert_eq!(t.status, 200);
    assert_ne!(t.body["status"], "solved");
    let widget = rival.get(&format!("{site}/widget-config")).await;
    assert_ne!(widget.body["title"], "pwned");
    let sites = rival.get("/sites").await;
    assert_eq!(sites.body["items"][0]["site_key"], b.site_key.as_str());
    assert_eq!(sites.body["items"][0]["name"], "Rival");
    // Our inbox never lists B's conversations.
    let inbox = api.get("/conversations").await;
    assert!(!inbox.body.to_string().contains(&b.conversation_id));
}

#[tokio::test]
async fn an_agent_cannot_be_assigned_across_accounts() {
    let app = spawn_app().await;
    let b = other_account(&app).await;
    let owner = app.member("owner").await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", "I need a person").await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let site_id = app.site_id().await;
    app.ticket_of(&site_id, &w.conversation_id).await;
    let api = app.bearer(&owner.token);
    let r = api
        .post(
            &format!("/conversations/{}/assign", w.conversation_id),
            json!({"agent_id": b.agent_id}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    let r = api
        .post(
            &format!("/conversations/{}/assign", w.conversation_id),
            json!({"agent_id": owner.id}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["assigned_agent_id"], owner.id.as_str());
}
