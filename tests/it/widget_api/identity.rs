//! Signed identities on the visitor socket (one visitor on every device, refusals, sites that
//! require them) and a visitor's several conversations.

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::widget::Identity;
use concierge_protocol::{Author, ConversationStatus, ErrorCode};
use concierge_tests::pg::PgDatabase;
use concierge_tests::*;
use serde_json::Value;

use super::{api, error_code, hello, identity_secret, public_config, signed, welcome};

/// One user, two devices, no shared token: one visitor and one conversation.
async fn a_signed_user_is_one_visitor_on_every_device(app: &TestApp) {
    let owner = app.owner_token().await;
    let secret = identity_secret(app, &owner).await;
    let mut laptop = app.visitor().await;
    let wl = welcome(hello(&mut laptop, None, None, Some(signed(&secret, "u-1"))).await);
    laptop.say("l1", "Asked on the laptop").await.unwrap();

    let mut phone = app.visitor().await;
    let wp = welcome(hello(&mut phone, None, None, Some(signed(&secret, "u-1"))).await);
    assert_eq!(wp.token, wl.token, "the same visitor, the same token");
    assert_eq!(wp.conversation_id, wl.conversation_id);
    assert_eq!(wp.messages.len(), 1);
    assert_eq!(wp.messages[0].text, "Asked on the laptop");
    // Live: the phone sees what the laptop writes next, and the laptop's token still works.
    laptop.say("l2", "And again").await.unwrap();
    let seen = phone
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } if message.author == Author::Visitor => {
                Some(message.text.clone())
            }
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(seen, "And again");
    let mut by_token = app.visitor().await;
    let wt = by_token.hello(Some(&wl.token), None, None).await.unwrap();
    assert_eq!(wt.conversation_id, wl.conversation_id);

    // Someone else's token with this identity: the identity wins.
    let mut other = app.visitor().await;
    let stranger = other.hello(None, None, None).await.unwrap();
    let mut mixed = app.visitor().await;
    let frame = hello(
        &mut mixed,
        Some(&stranger.token),
        Some(&stranger.conversation_id),
        Some(signed(&secret, "u-1")),
    )
    .await;
    let wm = welcome(frame);
    assert_eq!(
        (
            wm.token.as_str(),
            wm.conversation_id.as_str(),
            wm.messages.len()
        ),
        (wl.token.as_str(), wl.conversation_id.as_str(), 2)
    );

    let store = &app.app.chat.store;
    let site_id = app.site_id().await;
    let profile = store.visitor_by_external_id(&site_id, "u-1").await.unwrap();
    let profile = profile.expect("the identified visitor is stored");
    assert_eq!(profile.email.as_deref(), Some("u-1@customer.example"));
    assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        app.conversation(&wl.conversation_id).await.visitor_id,
        profile.visitor.id
    );

    // Rotating the secret: old hashes stop verifying, the user keeps their conversation
    // under a new token, and the old token is gone.
    let (_, body) = api(app, "POST", &owner, "identity-secret/rotate", "").await;
    let rotated = body["identity_secret"].as_str().unwrap().to_string();
    let mut late = app.visitor().await;
    let frame = hello(&mut late, None, None, Some(signed(&secret, "u-1"))).await;
    assert_eq!(error_code(frame), ErrorCode::InvalidIdentity);
    let frame = hello(&mut late, None, None, Some(signed(&rotated, "u-1"))).await;
    let wr = welcome(frame);
    assert_eq!(wr.conversation_id, wl.conversation_id);
    assert_ne!(wr.token, wl.token);
    let mut stale = app.visitor().await;
    let frame = hello(&mut stale, Some(&wl.token), None, None).await;
    assert_eq!(error_code(frame), ErrorCode::InvalidToken);
}

#[tokio::test]
async fn a_signed_user_is_one_visitor_on_every_device_on_sqlite() {
    a_signed_user_is_one_visitor_on_every_device(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn a_signed_user_is_one_visitor_on_every_device_on_postgres() {
    let admin = concierge_tests::needs::postgres();
    let db = PgDatabase::create(&admin).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    a_signed_user_is_one_visitor_on_every_device(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn a_wrong_user_hash_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let owner = app.owner_token().await;
    let secret = identity_secret(&app, &owner).await;
    let mut v = app.visitor().await;
    let mut forged = signed(&secret, "u-1");
    forged.user_id = "u-2".into();
    let too_long = signed(&secret, &"x".repeat(256));
    for bad in [forged, signed(&"0".repeat(64), "u-2"), too_long] {
        let frame = hello(&mut v, None, None, Some(bad)).await;
        assert_eq!(error_code(frame), ErrorCode::InvalidIdentity);
    }
    let site_id = app.site_id().await;
    let store = &app.app.chat.store;
    assert!(store
        .visitor_by_external_id(&site_id, "u-2")
        .await
        .unwrap()
        .is_none());
    // No session was opened: other frames still need a hello, and a good one works.
    v.send(&VisitorClientFrame::ListConversations {}).await;
    assert_eq!(error_code(v.next().await.unwrap()), ErrorCode::BadFrame);
    welcome(hello(&mut v, None, None, Some(signed(&secret, "u-2"))).await);
}

#[tokio::test]
async fn a_site_that_requires_identity_refuses_anonymous_visitors() {
    let app = spawn_app().await;
    let owner = app.owner_token().await;
    let mut earlier = app.visitor().await;
    let anonymous = earlier.hello(None, None, None).await.unwrap();
    let (status, _) = api(
        &app,
        "PUT",
        &owner,
        "widget-config",
        r#"{"require_identity": true}"#,
    )
    .await;
    assert_eq!(status, 200);
    let r = public_config(&app, &app.site_key, Some(ORIGIN)).await;
    assert_eq!(r.json::<Value>().await.unwrap()["require_identity"], true);

    let mut v = app.visitor().await;
    let frame = hello(&mut v, None, None, None).await;
    assert_eq!(error_code(frame), ErrorCode::IdentityRequired);
    let frame = hello(&mut v, Some(&anonymous.token), None, None).await;
    assert_eq!(error_code(frame), ErrorCode::IdentityRequired);
    // Before the owner ever fetched a secret nobody can sign: refused, not let through.
    let unsigned = Identity {
        user_id: "u-1".into(),
        user_hash: "0".repeat(64),
        email: None,
        name: None,
    };
    let frame = hello(&mut v, None, None, Some(unsigned)).await;
    assert_eq!(error_code(frame), ErrorCode::InvalidIdentity);
    let secret = identity_secret(&app, &owner).await;
    let w = welcome(hello(&mut v, None, None, Some(signed(&secret, "u-1"))).await);
    assert_eq!(v.say("m", "signed in").await.unwrap(), 1);
    assert_ne!(w.conversation_id, anonymous.conversation_id);
}

#[tokio::test]
async fn visitors_start_new_conversations_and_list_them_newest_first() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.send(&VisitorClientFrame::NewConversation {}).await;
    assert_eq!(error_code(v.next().await.unwrap()), ErrorCode::BadFrame);
    let first = v.hello(None, None, None).await.unwrap();
    let long = format!(
        "Hello, a question about the {}store",
        "downtown ".repeat(30)
    );
    v.say("a", &long).await.unwrap();

    v.send(&VisitorClientFrame::NewConversation {}).await;
    let second = v
        .wait_for(|f| matches!(f, VisitorServerFrame::Welcome { .. }).then(|| welcome(f.clone())))
        .await
        .unwrap();
    assert_ne!(second.conversation_id, first.conversation_id);
    assert_eq!(second.token, first.token);
    assert_eq!(
        (second.status, second.messages.len()),
        (ConversationStatus::Bot, 0)
    );
    // The socket now follows the new conversation. (The pause keeps the two conversations'
    // last activity in different milliseconds, so "newest first" has one answer.)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(v.say("b", "Another question").await.unwrap(), 1);
    let echoed = v
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } => Some(message.text.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(echoed, "Another question");
    let stored = app.stored_messages(&first.conversation_id).await;
    assert_eq!(stored.len(), 1, "{stored:?}");

    v.send(&VisitorClientFrame::ListConversations {}).await;
    let list = v
        .wait_for(|f| match f {
            VisitorServerFrame::Conversations { conversations } => Some(conversations.clone()),
            _ => None,
        })
        .await
        .unwrap();
    let ids: Vec<_> = list.iter().map(|c| c.conversation_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            second.conversation_id.as_str(),
            first.conversation_id.as_str()
        ]
    );
    assert_eq!(list[0].preview, "Another question");
    assert_eq!(list[1].preview.chars().count(), 120);
    assert!(
        list[1]
            .preview
            .starts_with("Hello, a question about the downtown")
            && list[1].preview.ends_with('…')
    );
    assert_eq!((list[0].last_seq, list[1].last_seq), (1, 1));
    assert!(list[0].updated_at.ends_with('Z') && list[0].updated_at.contains('T'));

    // The earlier conversation can still be reopened by id; a stranger sees none of these.
    let mut back = app.visitor().await;
    let w = back
        .hello(Some(&first.token), Some(&first.conversation_id), None)
        .await
        .unwrap();
    assert_eq!(w.messages.len(), 1);
    let mut stranger = app.visitor().await;
    stranger.hello(None, None, None).await.unwrap();
    stranger
        .send(&VisitorClientFrame::ListConversations {})
        .await;
    let theirs = stranger
        .wait_for(|f| match f {
            VisitorServerFrame::Conversations { conversations } => Some(conversations.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(theirs.len(), 1);
    assert!(!ids.contains(&theirs[0].conversation_id.as_str()));
}
