//! The wire format is the contract: these pin the JSON shape of representative frames.

use super::agent::*;
use super::visitor::*;
use super::*;
use serde_json::json;

#[test]
fn hello_without_optional_fields_parses() {
    let f: VisitorClientFrame = serde_json::from_str(r#"{"type":"hello","v":1}"#).unwrap();
    assert_eq!(
        f,
        VisitorClientFrame::Hello {
            v: 1,
            visitor_token: None,
            conversation_id: None,
            last_seq: None
        }
    );
}

#[test]
fn send_and_ack_use_snake_case_tags() {
    let f: VisitorClientFrame =
        serde_json::from_str(r#"{"type":"send","client_msg_id":"a1","text":"hi"}"#).unwrap();
    assert_eq!(
        f,
        VisitorClientFrame::Send {
            client_msg_id: "a1".into(),
            text: "hi".into()
        }
    );
    let ack = VisitorServerFrame::Ack {
        client_msg_id: "a1".into(),
        seq: 3,
    };
    assert_eq!(
        serde_json::to_value(&ack).unwrap(),
        json!({"type": "ack", "client_msg_id": "a1", "seq": 3})
    );
}

#[test]
fn message_snapshot_has_the_documented_fields() {
    let m = Message {
        seq: 2,
        author: Author::Bot,
        author_name: None,
        text: "Hello".into(),
        state: MessageState::Streaming,
        client_msg_id: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        sources: Vec::new(),
    };
    let v = serde_json::to_value(VisitorServerFrame::Message { message: m }).unwrap();
    assert_eq!(
        v,
        json!({"type": "message", "message": {"seq": 2, "author": "bot", "text": "Hello",
               "state": "streaming", "created_at": "2026-01-01T00:00:00Z"}})
    );
}

#[test]
fn error_codes_serialize_to_their_stable_names() {
    for code in ErrorCode::ALL {
        let v = serde_json::to_value(code).unwrap();
        assert_eq!(v, json!(code.as_str()));
    }
}

#[test]
fn unknown_frame_type_is_rejected() {
    assert!(serde_json::from_str::<VisitorClientFrame>(r#"{"type":"launch_missiles"}"#).is_err());
    assert!(serde_json::from_str::<AgentClientFrame>(r#"{"type":"send"}"#).is_err());
}

#[test]
fn agent_frames_round_trip() {
    let frames = vec![
        AgentClientFrame::Hello { v: 1 },
        AgentClientFrame::Reply {
            conversation_id: "c".into(),
            client_msg_id: "m".into(),
            text: "t".into(),
        },
        AgentClientFrame::TakeOver {
            conversation_id: "c".into(),
        },
        AgentClientFrame::HandBack {
            conversation_id: "c".into(),
        },
        AgentClientFrame::Resolve {
            conversation_id: "c".into(),
        },
        AgentClientFrame::Typing {
            conversation_id: "c".into(),
            on: true,
        },
        AgentClientFrame::Sync {
            conversation_id: "c".into(),
            last_seq: 4,
        },
        AgentClientFrame::Ping,
    ];
    for f in frames {
        let s = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<AgentClientFrame>(&s).unwrap(), f);
    }
    let v = serde_json::to_value(AgentClientFrame::TakeOver {
        conversation_id: "c".into(),
    })
    .unwrap();
    assert_eq!(v, json!({"type": "take_over", "conversation_id": "c"}));
}
