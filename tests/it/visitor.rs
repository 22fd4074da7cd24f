use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, ConversationStatus, ErrorCode, MessageState};
use concierge_tests::*;

#[tokio::test]
async fn a_new_visitor_gets_a_token_and_an_empty_conversation() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    assert!(w.token.starts_with("vt_"));
    assert!(!w.conversation_id.is_empty());
    assert_eq!(w.status, ConversationStatus::Bot);
    assert!(w.messages.is_empty());
}

#[tokio::test]
async fn a_message_is_acked_with_consecutive_seqs_and_echoed_as_a_snapshot() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    assert_eq!(v.say("m1", "Hello there").await.unwrap(), 1);
    // The authoritative snapshot of our own message follows the ack.
    let m = v
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } => Some(message.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(
        (m.seq, m.author, m.state),
        (1, Author::Visitor, MessageState::Complete)
    );
    assert_eq!(m.text, "Hello there");
    assert_eq!(m.client_msg_id.as_deref(), Some("m1"));
    assert_eq!(v.say("m2", "Second").await.unwrap(), 2);
    assert_eq!(v.say("m3", "Third").await.unwrap(), 3);
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn resending_the_same_client_msg_id_returns_the_same_ack_and_stores_nothing_new() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let first = v.say("dup", "Once").await.unwrap();
    let again = v.say("dup", "Once").await.unwrap();
    let changed_text = v.say("dup", "Different text, same id").await.unwrap();
    assert_eq!((first, again, changed_text), (1, 1, 1));
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].text, "Once");
}

#[tokio::test]
async fn a_known_token_resumes_the_same_conversation_with_its_history() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("a", "one").await.unwrap();
    v.say("b", "two").await.unwrap();
    drop(v);
    let mut v2 = app.visitor().await;
    let w2 = v2.hello(Some(&w.token), None, None).await.unwrap();
    assert_eq!(w2.conversation_id, w.conversation_id);
    assert_eq!(w2.token, w.token);
    assert_eq!(
        w2.messages
            .iter()
            .map(|m| m.text.as_str())
            .collect::<Vec<_>>(),
        vec!["one", "two"]
    );
    // With last_seq only what is missing.
    let mut v3 = app.visitor().await;
    let w3 = v3
        .hello(Some(&w.token), Some(&w.conversation_id), Some(1))
        .await
        .unwrap();
    assert_eq!(
        w3.messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![2]
    );
}

#[tokio::test]
async fn a_forged_visitor_token_is_refused_with_invalid_token_and_the_socket_stays_usable() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.send(&VisitorClientFrame::Hello {
        v: 1,
        visitor_token: Some("vt_forgedforgedforgedforgedforged00".into()),
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    })
    .await;
    match v.next().await.unwrap() {
        VisitorServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::InvalidToken),
        other => panic!("expected error, got {other:?}"),
    }
    // Starting over without a token works on the same socket.
    let w = v.hello(None, None, None).await.unwrap();
    assert!(w.token.starts_with("vt_"));
}

#[tokio::test]
async fn a_visitor_cannot_open_another_visitors_conversation() {
    let app = spawn_app().await;
    let mut alice = app.visitor().await;
    let wa = alice.hello(None, None, None).await.unwrap();
    alice.say("x", "private").await.unwrap();
    let mut bob = app.visitor().await;
    let wb = bob.hello(None, None, None).await.unwrap();
    let mut bob2 = app.visitor().await;
    bob2.send(&VisitorClientFrame::Hello {
        v: 1,
        visitor_token: Some(wb.token.clone()),
        conversation_id: Some(wa.conversation_id.clone()),
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    })
    .await;
    match bob2.next().await.unwrap() {
        VisitorServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::UnknownConversation),
        other => panic!("expected error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_from_another_site_is_invalid_here() {
    let app = spawn_app().await;
    let other =
        concierge::accounts::create_site(&app.app.chat.store, "Other", &[ORIGIN.to_string()], None)
            .await
            .unwrap();
    let mut v = Visitor::connect(&app.visitor_url(&other.site_key), Some(ORIGIN))
        .await
        .unwrap();
    let w = v.hello(None, None, None).await.unwrap();
    let mut here = app.visitor().await;
    here.send(&VisitorClientFrame::Hello {
        v: 1,
        visitor_token: Some(w.token),
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    })
    .await;
    match here.next().await.unwrap() {
        VisitorServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::InvalidToken),
        other => panic!("expected error, got {other:?}"),
    }
}

#[tokio::test]
async fn ping_gets_pong_and_unsupported_versions_are_refused() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.send(&VisitorClientFrame::Ping).await;
    assert_eq!(v.next().await.unwrap(), VisitorServerFrame::Pong);
    v.send(&VisitorClientFrame::Hello {
        v: 2,
        visitor_token: None,
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    })
    .await;
    match v.next().await.unwrap() {
        VisitorServerFrame::Error { code, .. } => assert_eq!(code, ErrorCode::UnsupportedVersion),
        other => panic!("expected error, got {other:?}"),
    }
}
