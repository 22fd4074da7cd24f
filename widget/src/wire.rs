//! Protocol v1 frames to and from JSON, by hand over [`crate::json`] (see there for why).
//! The tests check every frame against the protocol crate's serde definitions.

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::widget::{ConversationSummary, Identity, WidgetConfig};
use concierge_protocol::{
    Author, ConversationStatus, ErrorCode, Message, MessageState, Phase, Source,
};

use crate::json::{quote, Json, Writer};
use crate::state::{Pending, Saved};

pub fn decode_server(text: &str) -> Option<VisitorServerFrame> {
    let f = Json::parse(text)?;
    Some(match f.str("type")? {
        "welcome" => VisitorServerFrame::Welcome {
            visitor_token: f.opt_string("visitor_token")?,
            conversation_id: f.opt_string("conversation_id")?,
            status: ConversationStatus::parse(f.str("status")?)?,
            messages: f.arr("messages").iter().filter_map(message).collect(),
        },
        "ack" => VisitorServerFrame::Ack {
            client_msg_id: f.opt_string("client_msg_id")?,
            seq: f.int("seq")?,
        },
        "message" => VisitorServerFrame::Message {
            message: message(f.get("message")?)?,
        },
        "delta" => VisitorServerFrame::Delta {
            seq: f.int("seq")?,
            offset: usize::try_from(f.int("offset")?).ok()?,
            text: f.opt_string("text")?,
        },
        "typing" => VisitorServerFrame::Typing {
            on: f.bool("on")?,
            who: f.string("who"),
        },
        "status" => VisitorServerFrame::Status {
            status: ConversationStatus::parse(f.str("status")?)?,
            agent_name: f.opt_string("agent_name"),
            phase: f.str("phase").and_then(Phase::parse),
        },
        "conversations" => VisitorServerFrame::Conversations {
            conversations: f.arr("conversations").iter().filter_map(summary).collect(),
        },
        "pong" => VisitorServerFrame::Pong,
        "error" => VisitorServerFrame::Error {
            code: f
                .str("code")
                .and_then(ErrorCode::parse)
                .unwrap_or(ErrorCode::Internal),
            message: f.string("message"),
        },
        _ => return None,
    })
}

fn message(m: &Json) -> Option<Message> {
    Some(Message {
        seq: m.int("seq")?,
        author: Author::parse(m.str("author")?)?,
        author_name: m.opt_string("author_name"),
        text: m.opt_string("text")?,
        state: MessageState::parse(m.str("state")?)?,
        client_msg_id: m.opt_string("client_msg_id"),
        created_at: m.string("created_at"),
        sources: m.arr("sources").iter().filter_map(source).collect(),
    })
}

fn source(s: &Json) -> Option<Source> {
    Some(Source {
        document_id: s.string("document_id"),
        title: s.opt_string("title")?,
        url: s.opt_string("url"),
        section: s.string("section"),
        snippet: s.string("snippet"),
    })
}

fn summary(c: &Json) -> Option<ConversationSummary> {
    Some(ConversationSummary {
        conversation_id: c.opt_string("conversation_id")?,
        status: ConversationStatus::parse(c.str("status")?)?,
        preview: c.string("preview"),
        last_seq: c.int("last_seq").unwrap_or(0),
        updated_at: c.string("updated_at"),
    })
}

pub fn encode_client(frame: &VisitorClientFrame) -> String {
    let w = |t: &str| Writer::object().str("type", t);
    match frame {
        VisitorClientFrame::Hello {
            v,
            visitor_token,
            conversation_id,
            last_seq,
            identity,
            page_url,
            lang,
        } => {
            let mut o = w("hello")
                .int("v", i64::from(*v))
                .opt_str("visitor_token", visitor_token.as_deref())
                .opt_str("conversation_id", conversation_id.as_deref())
                .opt_str("page_url", page_url.as_deref())
                .opt_str("lang", lang.as_deref());
            if let Some(n) = last_seq {
                o = o.int("last_seq", *n);
            }
            if let Some(i) = identity {
                o = o.raw("identity", &encode_identity(i));
            }
            o.end()
        }
        VisitorClientFrame::Send {
            client_msg_id,
            text,
        } => w("send")
            .str("client_msg_id", client_msg_id)
            .str("text", text)
            .end(),
        VisitorClientFrame::Typing { on } => w("typing").bool("on", *on).end(),
        VisitorClientFrame::RequestHuman {} => w("request_human").end(),
        VisitorClientFrame::Feedback { seq, value } => w("feedback")
            .int("seq", *seq)
            .str("value", value.as_str())
            .end(),
        VisitorClientFrame::NewConversation {} => w("new_conversation").end(),
        VisitorClientFrame::ListConversations {} => w("list_conversations").end(),
        VisitorClientFrame::Ping => w("ping").end(),
    }
}

fn encode_identity(i: &Identity) -> String {
    Writer::object()
        .str("user_id", &i.user_id)
        .str("user_hash", &i.user_hash)
        .opt_str("email", i.email.as_deref())
        .opt_str("name", i.name.as_deref())
        .end()
}

pub fn decode_identity(text: &str) -> Option<Identity> {
    let i = Json::parse(text)?;
    Some(Identity {
        user_id: i.opt_string("user_id")?,
        user_hash: i.opt_string("user_hash")?,
        email: i.opt_string("email"),
        name: i.opt_string("name"),
    })
}

/// The parts of the widget config the wasm uses (the loader applies color and position).
pub fn decode_config(text: &str) -> WidgetConfig {
    let c = Json::parse(text).unwrap_or(Json::Null);
    WidgetConfig {
        site_name: c.string("site_name"),
        title: c.string("title"),
        greeting: c.string("greeting"),
        language: c.string("language"),
        ..WidgetConfig::default()
    }
}

/// `{code, message}` of a refused config request.
pub fn decode_error(text: &str) -> Option<ErrorCode> {
    Json::parse(text)?.str("code").and_then(ErrorCode::parse)
}

pub fn encode_saved(s: &Saved) -> String {
    let mut pending = String::from("[");
    for (i, p) in s.pending.iter().enumerate() {
        if i > 0 {
            pending.push(',');
        }
        pending.push_str(
            &Writer::object()
                .str("client_msg_id", &p.client_msg_id)
                .str("text", &p.text)
                .end(),
        );
    }
    pending.push(']');
    Writer::object()
        .opt_str("visitor_token", s.visitor_token.as_deref())
        .opt_str("conversation_id", s.conversation_id.as_deref())
        .int("last_seq", s.last_seq)
        .raw("pending", &pending)
        .bool("open", s.open)
        .end()
}

pub fn decode_saved(text: &str) -> Saved {
    let Some(s) = Json::parse(text) else {
        return Saved::default();
    };
    Saved {
        visitor_token: s.opt_string("visitor_token"),
        conversation_id: s.opt_string("conversation_id"),
        last_seq: s.int("last_seq").unwrap_or(0),
        pending: s
            .arr("pending")
            .iter()
            .filter_map(|p| {
                Some(Pending {
                    client_msg_id: p.opt_string("client_msg_id")?,
                    text: p.opt_string("text")?,
                })
            })
            .collect(),
        open: s.bool("open").unwrap_or(false),
    }
}

/// A message as JSON for `Concierge.on("message", ...)` listeners.
pub fn encode_message(m: &Message) -> String {
    let mut sources = String::from("[");
    for (i, s) in m.sources.iter().enumerate() {
        if i > 0 {
            sources.push(',');
        }
        sources.push_str(
            &Writer::object()
                .str("document_id", &s.document_id)
                .str("title", &s.title)
                .opt_str("url", s.url.as_deref())
                .str("section", &s.section)
                .str("snippet", &s.snippet)
                .end(),
        );
    }
    sources.push(']');
    let mut author = String::new();
    quote(&mut author, m.author.as_str());
    Writer::object()
        .int("seq", m.seq)
        .raw("author", &author)
        .opt_str("author_name", m.author_name.as_deref())
        .str("text", &m.text)
        .str("state", m.state.as_str())
        .opt_str("client_msg_id", m.client_msg_id.as_deref())
        .str("created_at", &m.created_at)
        .raw("sources", &sources)
        .end()
}

#[cfg(test)]
mod tests;
