use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::ErrorCode;
use concierge_tests::*;

async fn expect_error(v: &mut Visitor) -> ErrorCode {
    match v.next().await.unwrap() {
        VisitorServerFrame::Error { code, message } => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_and_unknown_frames_get_bad_frame_and_the_socket_survives() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    for junk in [
        "not json",
        "{}",
        r#"{"type":"launch"}"#,
        r#"{"type":"send"}"#,
        "[1,2]",
        r#"{"type":"send","client_msg_id":"","text":"x"}"#,
    ] {
        v.send_raw(junk).await;
        assert_eq!(expect_error(&mut v).await, ErrorCode::BadFrame, "{junk}");
    }
    v.send_raw(r#"{"type":"send","client_msg_id":"e","text":"   "}"#)
        .await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::BadFrame);
    // Still usable, and nothing was stored by the junk.
    assert_eq!(v.say("ok", "fine").await.unwrap(), 1);
    assert_eq!(app.stored_messages(&w.conversation_id).await.len(), 1);
}

#[tokio::test]
async fn frames_before_hello_are_refused() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.send(&VisitorClientFrame::Send {
        client_msg_id: "a".into(),
        text: "hi".into(),
    })
    .await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::BadFrame);
}

#[tokio::test]
async fn oversize_frames_and_texts_get_too_large() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    // Over the 4,000 character text cap (but under the frame cap).
    let long = "é".repeat(4_001);
    v.send(&VisitorClientFrame::Send {
        client_msg_id: "long".into(),
        text: long,
    })
    .await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::TooLarge);
    // Over the 16 KiB frame cap: error frame, socket kept.
    let big = format!(
        r#"{{"type":"send","client_msg_id":"big","text":"{}"}}"#,
        "a".repeat(20_000)
    );
    v.send_raw(&big).await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::TooLarge);
    assert_eq!(v.say("small", "ok").await.unwrap(), 1);
    v.wait_for(|f| matches!(f, VisitorServerFrame::Message { .. }).then_some(()))
        .await
        .unwrap();
    // Over the hard cap: error frame, then the socket closes with 1009.
    let huge = "x".repeat(100_000);
    v.send_raw(&huge).await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::TooLarge);
    assert_eq!(v.closed().await, Some(1009));
    assert_eq!(app.stored_messages(&w.conversation_id).await.len(), 1);
}

#[tokio::test]
async fn a_page_from_a_foreign_origin_is_refused_with_403() {
    let app = spawn_app().await;
    for origin in [
        Some("https://evil.example"),
        Some("https://shop.example.evil.com"),
        None,
    ] {
        let err = Visitor::connect(&app.visitor_url(&app.site_key), origin)
            .await
            .err()
            .unwrap();
        assert_eq!(err.status, 403, "{origin:?}");
        assert_eq!(err.body["code"], "origin_not_allowed");
    }
}

#[tokio::test]
async fn an_unknown_site_key_is_refused() {
    let app = spawn_app().await;
    let err = Visitor::connect(&app.visitor_url("site_doesnotexist"), Some(ORIGIN))
        .await
        .err()
        .unwrap();
    assert_eq!(err.status, 404);
    assert_eq!(err.body["code"], "unknown_site");
}

#[tokio::test]
async fn a_message_flood_is_rate_limited_and_nothing_over_the_limit_is_stored() {
    let mut opts = Options::default();
    opts.limits.messages_per_minute = 5;
    let app = spawn_with(opts).await.unwrap();
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let mut acked = 0;
    let mut limited = 0;
    for i in 0..8 {
        v.send(&VisitorClientFrame::Send {
            client_msg_id: format!("f{i}"),
            text: "spam".into(),
        })
        .await;
        loop {
            match v.next().await.unwrap() {
                VisitorServerFrame::Ack { .. } => {
                    acked += 1;
                    break;
                }
                VisitorServerFrame::Error { code, .. } => {
                    assert_eq!(code, ErrorCode::RateLimited);
                    limited += 1;
                    break;
                }
                _ => continue,
            }
        }
    }
    assert_eq!((acked, limited), (5, 3));
    assert_eq!(app.stored_messages(&w.conversation_id).await.len(), 5);
    // A reconnect does not reset the visitor's budget.
    drop(v);
    let mut again = app.visitor().await;
    again.hello(Some(&w.token), None, None).await.unwrap();
    again
        .send(&VisitorClientFrame::Send {
            client_msg_id: "after".into(),
            text: "x".into(),
        })
        .await;
    assert_eq!(expect_error(&mut again).await, ErrorCode::RateLimited);
}

#[tokio::test]
async fn repeated_abuse_closes_the_socket_with_a_policy_violation() {
    let mut opts = Options::default();
    opts.limits.strikes_before_close = 5;
    let app = spawn_with(opts).await.unwrap();
    let mut v = app.visitor().await;
    for _ in 0..4 {
        v.send_raw("garbage").await;
        assert_eq!(expect_error(&mut v).await, ErrorCode::BadFrame);
    }
    v.send_raw("garbage").await;
    assert_eq!(expect_error(&mut v).await, ErrorCode::BadFrame);
    assert_eq!(v.closed().await, Some(1008));
}

#[tokio::test]
async fn a_frame_flood_is_rate_limited() {
    let mut opts = Options::default();
    opts.limits.frames_per_second = 1;
    opts.limits.frame_burst = 3;
    let app = spawn_with(opts).await.unwrap();
    let mut v = app.visitor().await;
    let mut codes = Vec::new();
    for _ in 0..5 {
        v.send(&VisitorClientFrame::Ping).await;
    }
    for _ in 0..5 {
        match v.next().await.unwrap() {
            VisitorServerFrame::Pong => codes.push(None),
            VisitorServerFrame::Error { code, .. } => codes.push(Some(code)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(codes.iter().filter(|c| c.is_none()).count(), 3);
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == Some(ErrorCode::RateLimited))
            .count(),
        2
    );
}

#[tokio::test]
async fn connection_attempts_per_ip_are_limited() {
    let mut opts = Options::default();
    opts.limits.connections_per_ip_per_minute = 3;
    let app = spawn_with(opts).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.visitor().await);
    }
    let err = Visitor::connect(&app.visitor_url(&app.site_key), Some(ORIGIN))
        .await
        .err()
        .unwrap();
    assert_eq!(err.status, 429);
    assert_eq!(err.body["code"], "rate_limited");
}
