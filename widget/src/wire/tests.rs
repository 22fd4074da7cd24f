//! The hand-written mapping must agree with the protocol crate's serde definitions.

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::widget::{ConversationSummary, Identity};
use concierge_protocol::{
    Author, ConversationStatus, ErrorCode, FeedbackValue, Message, MessageState, Phase, Source,
};

use super::*;

const TRICKY: &str =
    "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 漢 🦀 </script> \u{2028}";

fn message(seq: i64, author: Author, state: MessageState) -> Message {
    Message {
        seq,
        author,
        author_name: (author == Author::Agent).then(|| "Ada".to_string()),
        text: TRICKY.to_string(),
        state,
        client_msg_id: (author == Author::Visitor).then(|| "c-1".to_string()),
        created_at: "2026-11-30T10:00:00Z".into(),
        sources: if author == Author::Bot {
            vec![
                Source {
                    document_id: "billing.md".into(),
                    title: "Billing".into(),
                    url: Some("https://help.test/billing".into()),
                    section: "Billing › Refunds".into(),
                    snippet: TRICKY.into(),
                },
                Source {
                    document_id: "faq.md".into(),
                    title: "FAQ".into(),
                    url: None,
                    section: String::new(),
                    snippet: String::new(),
                },
            ]
        } else {
            vec![]
        },
    }
}

/// One of each server frame. The match makes a new variant a compile error here.
fn server_frames() -> Vec<VisitorServerFrame> {
    let all = vec![
        VisitorServerFrame::Welcome {
            visitor_token: "vt".into(),
            conversation_id: "conv".into(),
            status: ConversationStatus::Waiting,
            messages: vec![
                message(1, Author::Visitor, MessageState::Complete),
                message(2, Author::Bot, MessageState::Complete),
                message(3, Author::Agent, MessageState::Complete),
                message(4, Author::System, MessageState::Complete),
                message(5, Author::Bot, MessageState::Streaming),
            ],
        },
        VisitorServerFrame::Ack {
            client_msg_id: "c-1".into(),
            seq: 9_007_199_254_740_993,
        },
        VisitorServerFrame::Message {
            message: message(7, Author::Bot, MessageState::Complete),
        },
        VisitorServerFrame::Delta {
            seq: 7,
            offset: 12,
            text: TRICKY.into(),
        },
        VisitorServerFrame::Typing {
            on: true,
            who: "Ada".into(),
        },
        VisitorServerFrame::Status {
            status: ConversationStatus::Agent,
            agent_name: Some("Ada".into()),
            phase: Some(Phase::AgentJoined),
        },
        VisitorServerFrame::Status {
            status: ConversationStatus::Bot,
            agent_name: None,
            phase: Some(Phase::Searching),
        },
        VisitorServerFrame::Conversations {
            conversations: vec![ConversationSummary {
                conversation_id: "c2".into(),
                status: ConversationStatus::Resolved,
                preview: TRICKY.into(),
                last_seq: 4,
                updated_at: "2026-11-30T10:00:00Z".into(),
            }],
        },
        VisitorServerFrame::Pong,
        VisitorServerFrame::Error {
            code: ErrorCode::IdentityRequired,
            message: "sign in".into(),
        },
    ];
    for f in &all {
        match f {
            VisitorServerFrame::Welcome { .. }
            | VisitorServerFrame::Ack { .. }
            | VisitorServerFrame::Message { .. }
            | VisitorServerFrame::Delta { .. }
            | VisitorServerFrame::Typing { .. }
            | VisitorServerFrame::Status { .. }
            | VisitorServerFrame::Conversations { .. }
            | VisitorServerFrame::Pong
            | VisitorServerFrame::Error { .. } => {}
        }
    }
    all
}

#[test]
fn every_server_frame_decodes_as_serde_encodes_it() {
    for frame in server_frames() {
        let json = serde_json::to_string(&frame).unwrap();
        assert_eq!(decode_server(&json), Some(frame), "{json}");
        // Pretty-printed (other whitespace) and with unknown fields, too.
        let mut value =
            serde_json::to_value(serde_json::from_str::<serde_json::Value>(&json).unwrap())
                .unwrap();
        value["future_field"] = serde_json::json!({"nested": [1.5, -2e10, null, true]});
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert!(decode_server(&pretty).is_some(), "{pretty}");
    }
}

#[test]
fn every_error_code_decodes() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&VisitorServerFrame::Error {
            code,
            message: String::new(),
        })
        .unwrap();
        assert_eq!(
            decode_server(&json),
            Some(VisitorServerFrame::Error {
                code,
                message: String::new()
            })
        );
    }
}

#[test]
fn every_client_frame_encodes_as_serde_decodes_it() {
    let identity = Identity {
        user_id: "u-1".into(),
        user_hash: "ab12".into(),
        email: Some("a@b.test".into()),
        name: None,
    };
    let frames = vec![
        VisitorClientFrame::Hello {
            v: 1,
            visitor_token: Some("vt".into()),
            conversation_id: Some("conv".into()),
            last_seq: Some(42),
            identity: Some(identity.clone()),
            page_url: Some("https://shop.example/pricing?plan=\"pro\"&x=é".into()),
            lang: Some("fr-CA".into()),
        },
        VisitorClientFrame::Hello {
            v: 1,
            visitor_token: None,
            conversation_id: None,
            last_seq: None,
            identity: None,
            page_url: None,
            lang: None,
        },
        VisitorClientFrame::Send {
            client_msg_id: "c-1".into(),
            text: TRICKY.into(),
        },
        VisitorClientFrame::Typing { on: false },
        VisitorClientFrame::RequestHuman {},
        VisitorClientFrame::Feedback {
            seq: 3,
            value: FeedbackValue::Down,
        },
        VisitorClientFrame::NewConversation {},
        VisitorClientFrame::ListConversations {},
        VisitorClientFrame::Ping,
    ];
    for frame in frames {
        let json = encode_client(&frame);
        let back: VisitorClientFrame =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(back, frame);
    }
    assert_eq!(
        decode_identity(&serde_json::to_string(&identity).unwrap()),
        Some(identity)
    );
}

#[test]
fn broken_json_and_unknown_frames_decode_to_nothing() {
    for text in [
        "",
        "{",
        "{\"type\":\"ack\",\"client_msg_id\":\"x\"}",
        "{\"type\":\"teleport\"}",
        "{\"type\":\"pong\"} trailing",
        "[1,2",
        "\"\\uZZZZ\"",
        &("[".repeat(10_000) + &"]".repeat(10_000)),
    ] {
        assert_eq!(decode_server(text), None, "{text:.40}");
    }
}

#[test]
fn saved_sessions_and_messages_round_trip() {
    let saved = Saved {
        visitor_token: Some("vt".into()),
        conversation_id: None,
        last_seq: 12,
        pending: vec![Pending {
            client_msg_id: "c".into(),
            text: TRICKY.into(),
        }],
        open: true,
    };
    assert_eq!(decode_saved(&encode_saved(&saved)), saved);
    assert_eq!(decode_saved("not json"), Saved::default());
    let m = message(2, Author::Bot, MessageState::Complete);
    let back: Message = serde_json::from_str(&encode_message(&m)).unwrap();
    assert_eq!(back, m);
}
