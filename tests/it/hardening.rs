//! Hardening: invalid UTF-8 on the sockets, and out-of-range ports in origins.

use concierge_tests::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A masked text frame whose payload is not UTF-8: `{`, then bytes no UTF-8 text contains.
fn invalid_utf8_text() -> WsMessage {
    let payload = vec![b'{', 0xff, 0xfe, 0xc3, b'}'];
    WsMessage::Frame(Frame::message(payload, OpCode::Data(Data::Text), true))
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_either_socket_with_1007() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.ws.send(invalid_utf8_text()).await.unwrap();
    assert_eq!(v.closed().await, Some(1007), "visitor socket");

    let mut agent = app.agent().await;
    agent.ws.send(invalid_utf8_text()).await.unwrap();
    assert_eq!(agent.closed().await, Some(1007), "agent socket");
}

#[tokio::test]
async fn a_port_wildcard_origin_refuses_ports_over_65535() {
    let app = spawn_app().await;
    let local = concierge::accounts::create_site(
        &app.app.chat.store,
        "Local dev",
        &["http://localhost:*".to_string()],
        None,
    )
    .await
    .unwrap();
    let url = app.visitor_url(&local.site_key);
    let err = Visitor::connect(&url, Some("http://localhost:99999"))
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status, 403);
    assert_eq!(err.body["code"], "origin_not_allowed");
    // The same pattern still lets a real port in.
    let mut v = Visitor::connect(&url, Some("http://localhost:3000"))
        .await
        .expect("a real port connects");
    v.hello(None, None, None).await.unwrap();
}
