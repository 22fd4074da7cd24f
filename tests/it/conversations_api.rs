//! The inbox API: conversations listed newest first with filters (status, assignee, mood,
//! since, text), pages that never overlap, one conversation with its visitor, ticket and
//! messages paged by seq, and ticket assignment and status.

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_tests::*;
use serde_json::json;

async fn escalated(app: &TestApp, text: &str) -> String {
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", text).await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let site_id = app.site_id().await;
    app.ticket_of(&site_id, &w.conversation_id).await;
    w.conversation_id
}

#[tokio::test]
async fn the_inbox_lists_conversations_newest_first_filtered_and_paged() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut v = app.visitor().await;
        let w = v.hello(None, None, None).await.unwrap();
        v.say("m1", &format!("question number {i} about 50%_discounts"))
            .await
            .unwrap();
        ids.push(w.conversation_id);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let waiting = escalated(&app, "I want to talk to a human about my invoice").await;
    let api = app.bearer(&app.agent_token);
    let all = api.get("/conversations?limit=4").await;
    assert_eq!(all.status, 200, "{:?}", all.body);
    let first = all.body["items"].as_array().unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(first[0]["id"], waiting.as_str(), "newest activity first");
    assert!(first[0]["last_message"].as_str().is_some());
    assert_eq!(first[0]["ticket"]["status"], "open");
    let cursor = all.body["next_cursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/conversations?limit=4&cursor={cursor}"))
        .await;
    let second = rest.body["items"].as_array().unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);
    let mut seen: Vec<&str> = first
        .iter()
        .chain(second)
        .filter_map(|c| c["id"].as_str())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "pages neither overlap nor skip");

    let w = api.get("/conversations?status=waiting").await;
    let items = w.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], waiting.as_str());
    let found = api.get("/conversations?q=number%203").await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["id"], ids[3].as_str());
    let literal = api.get("/conversations?q=50%25_disc").await;
    assert_eq!(
        literal.body["items"].as_array().unwrap().len(),
        5,
        "% and _ are literal"
    );
    assert_eq!(
        api.get("/conversations?assignee=me").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        api.get("/conversations?assignee=none").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let future = api.get("/conversations?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future.body["items"].as_array().unwrap().len(), 0);
    for bad in [
        "status=open",
        "mood=grumpy",
        "since=yesterday",
        "limit=0",
        "cursor=x",
    ] {
        let r = api.get(&format!("/conversations?{bad}")).await;
        assert_eq!((r.status, r.code()), (400, "bad_frame"), "{bad}");
    }

    // Assign to me: the Mine filter shows it.
    let me = api.get("/me").await.body["agent"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/conversations/{waiting}/assign"),
            json!({"agent_id": me}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let mine = api.get("/conversations?assignee=me").await;
    assert_eq!(mine.body["items"][0]["id"], waiting.as_str());
    assert_eq!(mine.body["items"][0]["assignee_id"], me.as_str());
    let r = api
        .post(
            &format!("/conversations/{}/assign", ids[0]),
            json!({"agent_id": me}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "conflict"),
        "a bot conversation has no ticket to assign"
    );
}

#[tokio::test]
async fn a_conversation_comes_with_its_visitor_ticket_and_messages_paged_by_seq() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    for i in 0..5 {
        v.say(&format!("m{i}"), &format!("line {i}")).await.unwrap();
    }
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let api = app.bearer(&app.agent_token);
    let site_id = app.site_id().await;
    app.ticket_of(&site_id, &w.conversation_id).await;
    let r = api
        .get(&format!("/conversations/{}?limit=3", w.conversation_id))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["conversation"]["status"], "waiting");
    assert_eq!(r.body["visitor"]["identified"], false);
    assert!(r.body["visitor"]["first_seen_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(r.body["ticket"]["reasons"][0], "asked_for_human");
    assert!(r.body["ticket"]["handoff"]["summary"].is_string());
    let page = &r.body["messages"];
    let seqs: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert_eq!(page["next_cursor"], "3");
    let more = api
        .get(&format!(
            "/conversations/{}/messages?cursor=3&limit=50",
            w.conversation_id
        ))
        .await;
    let next: Vec<i64> = more.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(next[0], 4);
    assert!(
        next.len() >= 3,
        "the visitor's lines and the system note: {next:?}"
    );
    assert_eq!(more.body["next_cursor"], serde_json::Value::Null);
    let missing = api.get("/conversations/nope").await;
    assert_eq!(
        (missing.status, missing.code()),
        (404, "unknown_conversation")
    );

    // Ticket status through the API: pending, then solved resolves the conversation.
    let ticket_id = r.body["ticket"]["id"].as_str().unwrap();
    let path = format!("/sites/{}/tickets/{ticket_id}", app.site_key);
    let p = api.patch(&path, json!({"status": "pending"})).await;
    assert_eq!(
        (p.status, p.body["status"].as_str()),
        (200, Some("pending")),
        "{:?}",
        p.body
    );
    let s = api.patch(&path, json!({"status": "solved"})).await;
    assert_eq!(
        (s.status, s.body["status"].as_str()),
        (200, Some("solved")),
        "{:?}",
        s.body
    );
    assert_eq!(
        app.conversation(&w.conversation_id).await.status,
        concierge_protocol::ConversationStatus::Resolved
    );
    let again = api.patch(&path, json!({"status": "open"})).await;
    assert_eq!((again.status, again.code()), (409, "conflict"));
    let queue = api.get(&format!("/sites/{}/tickets", app.site_key)).await;
    assert_eq!(queue.body["items"][0]["id"], ticket_id);
}

#[tokio::test]
async fn a_script_takes_over_replies_hands_back_and_resolves_over_rest() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    // A neutral line: no escalation runs next to the reply (see the note on the race in
    // docs/api.md).
    v.say("m1", "Thanks, I am just browsing the catalogue.")
        .await
        .unwrap();
    let api = app.bearer(&app.agent_token);
    let path = format!("/conversations/{}", w.conversation_id);
    let r = api
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "r1", "text": "Hi! Alice here."}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let seq = r.body["seq"].as_i64().unwrap();
    let seen = v.agent_message().await;
    assert_eq!(
        (seen.seq, seen.text.as_str()),
        (seq, "Hi! Alice here."),
        "the visitor sees it at once"
    );
    let again = api
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "r1", "text": "Hi! Alice here."}),
        )
        .await;
    assert_eq!(again.body["seq"], seq, "a resend is stored once");
    assert_eq!(
        app.conversation(&w.conversation_id).await.status,
        concierge_protocol::ConversationStatus::Agent
    );
    let empty = api
        .post(
            &format!("{path}/messages"),
            json!({"client_msg_id": "r2", "text": ""}),
        )
        .await;
    assert_eq!((empty.status, empty.code()), (400, "bad_frame"));
    assert_eq!(
        api.post(&format!("{path}/hand-back"), json!({})).await.body["status"],
        "bot"
    );
    assert_eq!(
        api.post(&format!("{path}/take-over"), json!({})).await.body["status"],
        "agent"
    );
    assert_eq!(
        api.post(&format!("{path}/resolve"), json!({})).await.body["status"],
        "resolved"
    );
    let other = app
        .bearer("agt_nope")
        .post(&format!("{path}/resolve"), json!({}))
        .await;
    assert_eq!(other.status, 401);
}

#[tokio::test]
async fn the_inbox_merges_the_accounts_sites_newest_first_and_filters_by_site() {
    let app = spawn_app().await;
    let store = &app.app.chat.store;
    let account = store
        .site_by_key(&app.site_key)
        .await
        .unwrap()
        .unwrap()
        .account_id;
    let second =
        concierge::accounts::create_site(store, "Second", &[ORIGIN.to_string()], Some(&account))
            .await
            .unwrap();
    let mut ids = Vec::new();
    for (i, key) in [
        &app.site_key,
        &second.site_key,
        &app.site_key,
        &second.site_key,
    ]
    .into_iter()
    .enumerate()
    {
        let mut v = Visitor::connect(&app.visitor_url(key), Some(ORIGIN))
            .await
            .unwrap();
        let w = v.hello(None, None, None).await.unwrap();
        v.say("m1", &format!("line {i}")).await.unwrap();
        ids.push(w.conversation_id);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let api = app.bearer(&app.agent_token);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = api
            .get(&format!("/conversations?limit=1&cursor={cursor}"))
            .await;
        for c in r.body["items"].as_array().unwrap() {
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "both sites, newest first, one per page");
    let only = api
        .get(&format!("/conversations?site_key={}", second.site_key))
        .await;
    let only: Vec<&str> = only.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(only, [ids[3].as_str(), ids[1].as_str()]);
}
