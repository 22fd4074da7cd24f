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
            last_seq: None,
            identity: None,
            page_url: None,
            lang: None,
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

#[test]
fn escalation_frames_have_the_documented_shape() {
    let f: VisitorClientFrame = serde_json::from_str(r#"{"type":"request_human"}"#).unwrap();
    assert_eq!(f, VisitorClientFrame::RequestHuman {});
    let f: VisitorClientFrame =
        serde_json::from_str(r#"{"type":"feedback","seq":4,"value":"down"}"#).unwrap();
    assert_eq!(
        f,
        VisitorClientFrame::Feedback {
            seq: 4,
            value: FeedbackValue::Down
        }
    );
    assert!(serde_json::from_str::<VisitorClientFrame>(
        r#"{"type":"feedback","seq":4,"value":"meh"}"#
    )
    .is_err());
    let status = VisitorServerFrame::Status {
        status: ConversationStatus::Agent,
        agent_name: Some("Ana".into()),
        phase: Some(Phase::AgentJoined),
    };
    assert_eq!(
        serde_json::to_value(&status).unwrap(),
        json!({"type": "status", "status": "agent", "agent_name": "Ana", "phase": "agent_joined"})
    );
    let ticket = Ticket {
        id: "t1".into(),
        site_key: "k".into(),
        conversation_id: "c1".into(),
        status: TicketStatus::Open,
        priority: Priority::High,
        reasons: vec![EscalationReason::Complaint],
        assigned_agent: None,
        assigned_agent_id: None,
        awaiting_email: false,
        contact_email: None,
        handoff: Handoff {
            summary: "Charged twice.".into(),
            summary_by: "extractive".into(),
            sources: vec![],
            mood: vec![MoodPoint {
                seq: 1,
                sentiment: -0.5,
                mood: -0.5,
            }],
            reasons: vec![EscalationReason::Complaint],
        },
        escalations: 1,
        created_at: "2026-01-01T00:00:00Z".into(),
        first_response_at: None,
        resolved_at: None,
        updated_at: "2026-01-01T00:00:00Z".into(),
        rev: 7,
    };
    let v = serde_json::to_value(AgentServerFrame::Ticket {
        ticket: Box::new(ticket.clone()),
    })
    .unwrap();
    assert_eq!(v["type"], "ticket");
    assert_eq!(v["ticket"]["status"], "open");
    assert_eq!(v["ticket"]["handoff"]["mood"][0]["seq"], 1);
    assert!(v["ticket"].get("assigned_agent").is_none());
    assert_eq!(v["ticket"]["rev"], 7);
    let back: AgentServerFrame = serde_json::from_value(v).unwrap();
    assert_eq!(
        back,
        AgentServerFrame::Ticket {
            ticket: Box::new(ticket)
        }
    );
}

#[test]
fn hello_carries_the_page_and_language_only_when_known() {
    let f: VisitorClientFrame = serde_json::from_str(
        r#"{"type":"hello","v":1,"page_url":"https://shop.example/pricing","lang":"fr-CA"}"#,
    )
    .unwrap();
    let VisitorClientFrame::Hello { page_url, lang, .. } = &f else {
        panic!("{f:?}");
    };
    assert_eq!(page_url.as_deref(), Some("https://shop.example/pricing"));
    assert_eq!(lang.as_deref(), Some("fr-CA"));
    let bare = VisitorClientFrame::Hello {
        v: 1,
        visitor_token: None,
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    };
    assert_eq!(
        serde_json::to_value(&bare).unwrap(),
        json!({"type": "hello", "v": 1}),
        "absent, not null: older servers read the same hello"
    );
}

#[test]
fn agents_see_the_visitors_thumbs_and_their_own_presence() {
    let f = AgentServerFrame::Feedback {
        conversation_id: "c1".into(),
        seq: 4,
        value: FeedbackValue::Down,
    };
    let v = serde_json::to_value(&f).unwrap();
    assert_eq!(
        v,
        json!({"type": "feedback", "conversation_id": "c1", "seq": 4, "value": "down"})
    );
    assert_eq!(serde_json::from_value::<AgentServerFrame>(v).unwrap(), f);
    // An agent from before presence existed reads as online.
    let info: AgentInfo = serde_json::from_value(
        json!({"id": "a", "email": "a@b.test", "name": "Ana", "role": "agent"}),
    )
    .unwrap();
    assert!(!info.away);
}

#[test]
fn api_bodies_have_the_documented_shape() {
    use crate::api::*;
    // From JSON, so fields added later (with serde defaults) do not break this test.
    let v = json!({
        "id": "c1", "site_key": "k", "visitor_id": "v", "status": "waiting", "last_seq": 3,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "last_message": "Hi", "last_author": "visitor", "assignee_id": null,
        "ticket": {"id": "t1", "status": "open", "priority": "high"}
    });
    let row: InboxRow = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        row.conversation.id, "c1",
        "the conversation's fields are flattened"
    );
    assert_eq!(row.conversation.status, ConversationStatus::Waiting);
    assert_eq!(row.last_author, Some(Author::Visitor));
    assert_eq!(
        row.ticket.as_ref().map(|t| t.status),
        Some(TicketStatus::Open)
    );
    let back = serde_json::to_value(&row).unwrap();
    for key in [
        "id",
        "status",
        "last_message",
        "last_author",
        "assignee_id",
        "ticket",
    ] {
        assert_eq!(back[key], v[key], "{key}");
    }
    let mark = FeedbackMark {
        seq: 2,
        value: FeedbackValue::Up,
    };
    assert_eq!(
        serde_json::to_value(mark).unwrap(),
        json!({"seq": 2, "value": "up"})
    );
}

/// Every name enum: the hand-written name is the serde name, and `parse` reads it back.
/// Iterating the variants (`EnumIter`, test-only) means a new variant cannot be missed.
#[test]
fn names_are_the_serde_names_and_parse_back() {
    use strum::IntoEnumIterator;

    fn check<T>(as_str: fn(T) -> &'static str, parse: Option<fn(&str) -> Option<T>>)
    where
        T: IntoEnumIterator + Copy + PartialEq + std::fmt::Debug + serde::Serialize,
    {
        for v in T::iter() {
            assert_eq!(serde_json::to_value(v).unwrap(), json!(as_str(v)), "{v:?}");
            if let Some(parse) = parse {
                assert_eq!(parse(as_str(v)), Some(v), "{v:?}");
            }
        }
    }
    check(Author::as_str, Some(Author::parse));
    check(MessageState::as_str, Some(MessageState::parse));
    check(ConversationStatus::as_str, Some(ConversationStatus::parse));
    check(Phase::as_str, Some(Phase::parse));
    check(TicketStatus::as_str, Some(TicketStatus::parse));
    check(FeedbackValue::as_str, None);
    check(site_api::LlmMode::as_str, Some(site_api::LlmMode::parse));
    check(ErrorCode::as_str, Some(ErrorCode::parse));
    check(EscalationReason::as_str, Some(EscalationReason::parse));
    check(Priority::as_str, Some(Priority::parse));
    assert_eq!(
        EscalationReason::ALL.to_vec(),
        EscalationReason::iter().collect::<Vec<_>>()
    );
    assert_eq!(Priority::ALL.to_vec(), Priority::iter().collect::<Vec<_>>());
    assert!(Priority::Normal < Priority::High && Priority::High < Priority::Urgent);
    assert_eq!(
        ErrorCode::ALL.to_vec(),
        ErrorCode::iter().collect::<Vec<_>>()
    );
}
