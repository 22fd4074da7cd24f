//! Every frame type and the inbox row, decoded here and by serde's derived decoder: the same.

use serde_json::json;

use super::*;

const CONVERSATION: &str = r#"{"id": "c1", "site_key": "k", "visitor_id": "v1", "status": "waiting",
    "last_seq": 4, "agent_name": "Ana", "mood": -0.25, "created_at": "2026-12-05T10:00:00Z",
    "updated_at": "2026-12-05T10:01:00Z"}"#;
const MESSAGE: &str = r#"{"seq": 2, "author": "bot", "text": "Hello", "state": "complete",
    "created_at": "2026-12-05T10:00:00Z", "sources": [{"document_id": "faq.md", "title": "FAQ",
    "snippet": "Refunds take five days."}]}"#;
const TICKET: &str = r#"{"id": "t1", "site_key": "k", "conversation_id": "c1", "status": "open",
    "priority": "high", "reasons": ["complaint"], "awaiting_email": false,
    "handoff": {"summary": "Charged twice.", "summary_by": "extractive", "sources": [],
    "mood": [{"seq": 1, "sentiment": -0.5, "mood": -0.5}], "reasons": ["complaint"]},
    "escalations": 1, "created_at": "2026-12-05T10:00:00Z", "updated_at": "2026-12-05T10:00:00Z"}"#;

fn examples() -> Vec<Value> {
    let c: Value = serde_json::from_str(CONVERSATION).unwrap();
    let m: Value = serde_json::from_str(MESSAGE).unwrap();
    let t: Value = serde_json::from_str(TICKET).unwrap();
    vec![
        json!({"type": "welcome", "agent": {"id": "a1", "email": "a@x.test", "name": "Ana",
            "role": "owner", "account_id": "acc"}, "sites": [{"site_key": "k", "name": "Shop"}],
            "conversations": [c.clone()], "tickets": [t.clone()]}),
        json!({"type": "welcome", "agent": {"id": "a1", "email": "a@x.test", "name": "Ana",
            "role": "agent"}, "sites": [], "conversations": []}),
        json!({"type": "conversation", "conversation": c}),
        json!({"type": "message", "conversation_id": "c1", "message": m.clone()}),
        json!({"type": "delta", "conversation_id": "c1", "seq": 2, "offset": 5, "text": " there"}),
        json!({"type": "ack", "conversation_id": "c1", "client_msg_id": "m1", "seq": 3}),
        json!({"type": "history", "conversation_id": "c1", "messages": [m]}),
        json!({"type": "typing", "conversation_id": "c1", "on": true, "who": "visitor"}),
        json!({"type": "ticket", "ticket": t}),
        json!({"type": "feedback", "conversation_id": "c1", "seq": 2, "value": "down"}),
        json!({"type": "ingest", "job": {"id": "j1", "site_key": "k", "status": "running",
            "total": 3, "done": 1, "failed": 0, "created_at": "2026-12-05T10:00:00Z",
            "updated_at": "2026-12-05T10:00:00Z"}}),
        json!({"type": "usage", "warning": {"limit": "bot_answers", "used": 80, "max": 100,
            "percent": 80, "message": "80 % of this month's bot answers are used."}}),
        json!({"type": "resync"}),
        json!({"type": "pong"}),
        json!({"type": "error", "code": "conflict", "message": "Ana has already taken over"}),
    ]
}

/// Which variant a frame is: an exhaustive match, so a new variant fails to compile here
/// until it has an example above.
fn variant(f: &AgentServerFrame) -> &'static str {
    match f {
        AgentServerFrame::Welcome { .. } => "welcome",
        AgentServerFrame::Conversation { .. } => "conversation",
        AgentServerFrame::Message { .. } => "message",
        AgentServerFrame::Delta { .. } => "delta",
        AgentServerFrame::Ack { .. } => "ack",
        AgentServerFrame::History { .. } => "history",
        AgentServerFrame::Typing { .. } => "typing",
        AgentServerFrame::Ticket { .. } => "ticket",
        AgentServerFrame::Feedback { .. } => "feedback",
        AgentServerFrame::Ingest { .. } => "ingest",
        AgentServerFrame::Usage { .. } => "usage",
        AgentServerFrame::Resync => "resync",
        AgentServerFrame::Pong => "pong",
        AgentServerFrame::Error { .. } => "error",
    }
}

#[test]
fn every_frame_decodes_as_serde_decodes_it() {
    let mut seen = std::collections::BTreeSet::new();
    for example in examples() {
        let text = example.to_string();
        let derived: AgentServerFrame = serde_json::from_str(&text).unwrap();
        let ours = frame(&text).unwrap_or_else(|| panic!("not decoded: {text}"));
        assert_eq!(ours, derived, "{text}");
        // What the server writes reads back the same.
        assert_eq!(
            frame(&serde_json::to_string(&derived).unwrap()),
            Some(derived.clone())
        );
        seen.insert(variant(&ours));
    }
    assert_eq!(seen.len(), 14, "an example for every frame type: {seen:?}");
}

#[test]
fn what_is_not_a_frame_is_none() {
    for text in [
        "",
        "[]",
        "{}",
        r#"{"type": 3}"#,
        r#"{"type": "nope"}"#,
        r#"{"type": "ack", "conversation_id": "c1"}"#,
        r#"{"type": "ack", "conversation_id": "c1", "client_msg_id": "m", "seq": "x"}"#,
    ] {
        assert_eq!(frame(text), None, "{text}");
    }
}

#[test]
fn inbox_rows_decode_as_serde_decodes_them() {
    let mut full: Value = serde_json::from_str(CONVERSATION).unwrap();
    let extra = json!({"last_message": "Thanks", "last_author": "agent",
        "last_visitor_message": "Where is my parcel?", "assignee_id": "a1",
        "ticket": {"id": "t1", "status": "open", "priority": "high"}});
    for (k, v) in extra.as_object().unwrap() {
        full[k] = v.clone();
    }
    let bare: Value = serde_json::from_str(CONVERSATION).unwrap();
    let page = json!({"items": [full, bare], "next_cursor": "abc"});
    let derived: Page<InboxRow> = serde_json::from_value(page.clone()).unwrap();
    assert_eq!(inbox_page(page), Some(derived));
    let last = json!({"items": []});
    assert_eq!(
        inbox_page(last.clone()),
        Some(serde_json::from_value(last).unwrap())
    );
    assert_eq!(inbox_page(json!({"items": [{"id": "c1"}]})), None);
}
