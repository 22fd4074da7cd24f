use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::{Author, MessageState};
use concierge_tests::*;

#[tokio::test]
async fn a_streamed_answer_arrives_as_snapshot_deltas_and_a_complete_snapshot() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "How do refunds work?").await.unwrap();
    let conv = app.conversation(&w.conversation_id).await;
    let chat = &app.app.chat;
    let mut stream = chat.start_stream(&conv, Author::Bot).await.unwrap();
    for piece in ["Refunds ", "take ", "5 days."] {
        chat.stream_delta(&mut stream, piece).await.unwrap();
    }
    let done = chat.finish_stream(stream, &[]).await.unwrap();
    assert_eq!(done.text, "Refunds take 5 days.");

    let mut text = String::new();
    loop {
        match v.next().await.unwrap() {
            VisitorServerFrame::Message { message } if message.seq == 2 => {
                if message.state == MessageState::Complete {
                    assert_eq!(message.text, text);
                    break;
                }
                assert_eq!(message.author, Author::Bot);
                text = message.text.clone();
            }
            VisitorServerFrame::Delta {
                seq,
                offset,
                text: piece,
            } => {
                assert_eq!(seq, 2);
                assert_eq!(
                    offset,
                    text.chars().count(),
                    "deltas arrive at the client's offset"
                );
                text.push_str(&piece);
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_client_resuming_mid_stream_gets_the_current_snapshot_then_further_deltas() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "Tell me").await.unwrap();
    drop(v);
    let conv = app.conversation(&w.conversation_id).await;
    let chat = &app.app.chat;
    let mut stream = chat.start_stream(&conv, Author::Bot).await.unwrap();
    chat.stream_delta(&mut stream, "Once upon ").await.unwrap();

    let mut v2 = app.visitor().await;
    let w2 = v2.hello(Some(&w.token), None, Some(1)).await.unwrap();
    assert_eq!(w2.messages.len(), 1);
    assert_eq!(w2.messages[0].state, MessageState::Streaming);
    assert_eq!(w2.messages[0].text, "Once upon ");

    chat.stream_delta(&mut stream, "a time").await.unwrap();
    chat.finish_stream(stream, &[]).await.unwrap();
    let mut text = w2.messages[0].text.clone();
    loop {
        match v2.next().await.unwrap() {
            VisitorServerFrame::Delta {
                offset,
                text: piece,
                ..
            } => {
                assert_eq!(offset, text.chars().count());
                text.push_str(&piece);
            }
            VisitorServerFrame::Message { message } if message.state == MessageState::Complete => {
                // The final snapshot is authoritative; what the deltas built is a prefix of it
                // (the whole of it unless the stream finished before our resync read).
                assert_eq!(message.text, "Once upon a time");
                assert!(message.text.starts_with(&text));
                break;
            }
            // A fresher snapshot replaces what the client holds (snapshots are authoritative).
            VisitorServerFrame::Message { message } if message.seq == 2 => {
                assert!(message.text.starts_with(&text));
                text = message.text.clone();
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn a_delta_at_a_wrong_offset_is_never_stored() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "?").await.unwrap();
    let conv = app.conversation(&w.conversation_id).await;
    let store = &app.app.chat.store;
    let mut stream = app.app.chat.start_stream(&conv, Author::Bot).await.unwrap();
    app.app.chat.stream_delta(&mut stream, "abc").await.unwrap();
    // A retried delta at an old offset is refused by the store.
    assert!(!store
        .append_stream_text(&conv.site_id, &conv.id, stream.seq, 0, "abc")
        .await
        .unwrap());
    assert!(store
        .append_stream_text(&conv.site_id, &conv.id, stream.seq, 3, "dé")
        .await
        .unwrap());
    assert!(store
        .append_stream_text(&conv.site_id, &conv.id, stream.seq, 5, "f")
        .await
        .unwrap());
    let m = store
        .message(&conv.site_id, &conv.id, stream.seq)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.text, "abcdéf");
}
