//! The widget's websocket: connect, hello, frames in, reconnect with exponential backoff and
//! jitter, resume by `last_seq`, resend what was not acked.

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::widget::ConversationSummary;
use concierge_protocol::{Author, ConversationStatus, ErrorCode, Message, MessageState, Phase};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::app::{with, App};
use crate::dom::{self, attr, button, el_text, show};
use crate::i18n::Text;
use crate::state::Change;
use crate::view;
use crate::wire;

/// Longest wait between reconnection attempts.
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// A socket and the callbacks it holds (dropped with it).
pub struct Socket {
    ws: WebSocket,
    _callbacks: [Closure<dyn FnMut(JsValue)>; 3],
}

impl Socket {
    pub fn send(&self, frame: &VisitorClientFrame) -> bool {
        self.ws.send_with_str(&wire::encode_client(frame)).is_ok()
    }

    fn shut(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// `http://host` → `ws://host`, `https://host` → `wss://host`.
fn socket_url(server: &str, site_key: &str) -> String {
    let mut url = String::from(if server.starts_with("https:") {
        "wss"
    } else {
        "ws"
    });
    let rest = server
        .strip_prefix("https")
        .or_else(|| server.strip_prefix("http"));
    url.push_str(rest.unwrap_or(server));
    url.push_str("/ws/visitor?site_key=");
    url.push_str(&String::from(js_sys::encode_uri_component(site_key)));
    url
}

impl App {
    /// Opens a socket (once; reconnects come through here too).
    pub fn connect(&mut self) {
        if self.fatal || self.socket.is_some() {
            return;
        }
        let Ok(ws) = WebSocket::new(&socket_url(&self.server, &self.site_key)) else {
            self.schedule_reconnect();
            return;
        };
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let me = self.me.clone();
        let opened = Closure::<dyn FnMut(JsValue)>::new({
            let me = me.clone();
            move |_| with(&me, |a| a.opened(generation))
        });
        let message = Closure::<dyn FnMut(JsValue)>::new({
            let me = me.clone();
            move |e: JsValue| {
                let text = e
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string());
                if let Some(text) = text {
                    with(&me, |a| {
                        if a.generation == generation {
                            a.frame(&text)
                        }
                    })
                }
            }
        });
        let closed = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let code = e.dyn_ref::<CloseEvent>().map_or(1006, |c| c.code());
            with(&me, |a| {
                if a.generation == generation {
                    a.closed(code)
                }
            })
        });
        ws.set_onopen(Some(opened.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(closed.as_ref().unchecked_ref()));
        self.socket = Some(Socket {
            ws,
            _callbacks: [opened, message, closed],
        });
    }

    /// Drops the current socket and connects again now (new identity, another conversation).
    pub fn restart_socket(&mut self) {
        if let Some(s) = self.socket.take() {
            s.shut();
        }
        self.welcomed = false;
        self.generation = self.generation.wrapping_add(1);
        self.attempt = 0;
        self.connect();
    }

    fn opened(&mut self, generation: u32) {
        if generation != self.generation {
            return;
        }
        let resume = self.thread.conversation_id.is_some()
            && self.thread.conversation_id == self.saved.conversation_id;
        let hello = VisitorClientFrame::Hello {
            v: concierge_protocol::PROTOCOL_VERSION,
            visitor_token: self.saved.visitor_token.clone(),
            conversation_id: self.saved.conversation_id.clone(),
            // Resuming on this page: only what was missed. A fresh page: the whole history.
            last_seq: resume.then(|| self.thread.last_seq()),
            identity: self.identity.clone(),
        };
        if let Some(s) = &self.socket {
            s.send(&hello);
        }
    }

    fn closed(&mut self, code: u16) {
        self.socket = None;
        self.welcomed = false;
        if self.fatal {
            return;
        }
        self.banner(Some("offline"), false);
        self.emit("status", &JsValue::from_str("offline"));
        if code == concierge_protocol::close::POLICY_VIOLATION {
            self.attempt = self.attempt.max(4);
        }
        self.schedule_reconnect();
    }

    /// Exponential backoff (0.5 s, 1 s, 2 s, ... up to 30 s) with equal jitter, so a restarted
    /// server is not hit by every widget at once.
    fn schedule_reconnect(&mut self) {
        let base = (500.0 * f64::from(1u32 << self.attempt.min(6))).min(MAX_BACKOFF_MS);
        let delay = base / 2.0 + js_sys::Math::random() * base / 2.0;
        self.attempt = self.attempt.saturating_add(1);
        let me = self.me.clone();
        dom::later(delay as i32, move || with(&me, |a| a.connect()));
    }

    fn frame(&mut self, text: &str) {
        let Some(frame) = wire::decode_server(text) else {
            return;
        };
        match frame {
            VisitorServerFrame::Welcome {
                visitor_token,
                conversation_id,
                status,
                messages,
            } => self.welcome(visitor_token, conversation_id, status, messages),
            VisitorServerFrame::Ack { client_msg_id, seq } => {
                let stored = self.thread.ack(&client_msg_id, seq, "").cloned();
                if let Some(li) = self.take_pending_item(&client_msg_id) {
                    match stored {
                        Some(m) => {
                            view::render_message(&li, &m, self.lang, None);
                            self.items.insert(seq, li);
                        }
                        // The snapshot came first and has its own item.
                        None => li.remove(),
                    }
                }
                self.persist();
            }
            VisitorServerFrame::Message { message } => {
                self.message(message, true);
                self.persist();
            }
            VisitorServerFrame::Delta { seq, offset, text } => {
                if self.thread.delta(seq, offset, &text) == Change::Updated {
                    self.redraw(seq);
                    self.scroll_to_end();
                }
            }
            VisitorServerFrame::Typing { on, who } => self.typing(on, &who),
            VisitorServerFrame::Status {
                status,
                agent_name,
                phase,
            } => self.status(status, agent_name.as_deref(), phase),
            VisitorServerFrame::Conversations { conversations } => self.history(&conversations),
            VisitorServerFrame::Error { code, message } => self.error(code, &message),
            VisitorServerFrame::Pong => {}
        }
    }

    fn welcome(
        &mut self,
        token: String,
        conversation_id: String,
        status: ConversationStatus,
        messages: Vec<Message>,
    ) {
        if self.thread.conversation_id.as_deref() != Some(conversation_id.as_str()) {
            self.thread.switch_to(&conversation_id);
            for (_, li) in self.items.take() {
                li.remove();
            }
            self.feedback.take();
        }
        self.saved.visitor_token = Some(token);
        self.saved.conversation_id = Some(conversation_id);
        self.welcomed = true;
        self.attempt = 0;
        self.banner(None, false);
        for m in messages {
            self.message(m, false);
        }
        self.status(status, None, None);
        // Everything not acked goes (again): client_msg_id makes that safe.
        for p in self.thread.pending.clone() {
            self.send(&VisitorClientFrame::Send {
                client_msg_id: p.client_msg_id,
                text: p.text,
            });
        }
        self.update_greeting();
        self.persist();
        self.scroll_to_end();
        self.emit("ready", &JsValue::NULL);
    }

    /// Applies a snapshot; `live` messages (not history) are announced and counted as unread.
    fn message(&mut self, m: Message, live: bool) {
        let seq = m.seq;
        let pending_li = m
            .client_msg_id
            .as_ref()
            .and_then(|id| self.take_pending_item(id));
        let change = self.thread.snapshot(m.clone());
        if change == Change::Unchanged && pending_li.is_none() && self.items.contains(seq) {
            return;
        }
        let li = match (pending_li, self.items.get(seq)) {
            (Some(li), Some(old)) => {
                old.remove();
                li
            }
            (Some(li), None) => li,
            (None, Some(li)) => li.clone(),
            (None, None) => self.insert_item(seq),
        };
        self.items.insert(seq, li);
        self.redraw(seq);
        let from_others = m.author != Author::Visitor;
        if live && from_others && change == Change::Added && !self.is_open {
            self.unread += 1;
            self.update_badge();
        }
        if m.state == MessageState::Complete && from_others {
            if m.author == Author::Bot && self.status == ConversationStatus::Bot {
                self.status_line("", "");
            }
            if live && change != Change::Unchanged {
                self.announce(&m);
            }
        }
        if m.author == Author::Agent {
            if let Some(p) = &self.panel {
                show(&p.typing, false);
            }
        }
        self.update_greeting();
        self.scroll_to_end();
    }

    /// A new `<li>` at its place by seq (before pending messages, which come last).
    fn insert_item(&self, seq: i64) -> web_sys::Element {
        let li = view::message_item();
        let Some(p) = &self.panel else { return li };
        let next = self
            .items
            .after(seq)
            .or_else(|| self.pending_items.first().map(|(_, e)| e))
            .cloned();
        let _ = match next {
            Some(n) => p.list.insert_before(&li, Some(&n)),
            None => p.list.append_child(&li),
        };
        li
    }

    fn take_pending_item(&mut self, client_msg_id: &str) -> Option<web_sys::Element> {
        let i = self
            .pending_items
            .iter()
            .position(|(id, _)| id == client_msg_id)?;
        Some(self.pending_items.remove(i).1)
    }

    fn redraw(&self, seq: i64) {
        if let (Some(li), Some(m)) = (self.items.get(seq), self.thread.messages.get(seq)) {
            view::render_message(li, m, self.lang, self.feedback.get(seq).copied());
        }
    }

    fn announce(&self, m: &Message) {
        let Some(p) = &self.panel else { return };
        let who = match m.author {
            Author::Agent => m.author_name.as_deref().unwrap_or(self.lang.t(Text::Agent)),
            Author::Bot => self.lang.t(Text::Assistant),
            _ => self.lang.t(Text::NewMessage),
        };
        let mut text = String::from(who);
        text.push_str(": ");
        text.extend(m.text.chars().take(300));
        p.live.set_text_content(Some(&text));
        if let Ok(v) = js_sys::JSON::parse(&wire::encode_message(m)) {
            self.emit("message", &v);
        }
    }

    fn typing(&mut self, on: bool, who: &str) {
        let Some(p) = &self.panel else { return };
        let name = match who {
            "bot" => self.lang.t(Text::Assistant),
            "agent" => self.lang.t(Text::Agent),
            other => other,
        };
        let mut text = String::from(name);
        text.push(' ');
        text.push_str(self.lang.t(Text::Typing));
        p.typing.set_text_content(Some(&text));
        show(&p.typing, on);
        self.typing_generation = self.typing_generation.wrapping_add(1);
        if on {
            // A lost "stopped typing" must not leave the indicator on forever.
            let (me, g) = (self.me.clone(), self.typing_generation);
            dom::later(10_000, move || {
                with(&me, |a| {
                    if a.typing_generation == g {
                        if let Some(p) = &a.panel {
                            show(&p.typing, false);
                        }
                    }
                })
            });
        }
    }

    fn status(&mut self, status: ConversationStatus, agent: Option<&str>, phase: Option<Phase>) {
        self.status = status;
        let lang = self.lang;
        match (phase, status) {
            (Some(Phase::Searching), _) => self.status_line("searching", lang.t(Text::Searching)),
            (Some(Phase::Writing), _) => self.status_line("writing", lang.t(Text::Writing)),
            (_, ConversationStatus::Waiting) => self.status_line("waiting", lang.t(Text::Waiting)),
            (_, ConversationStatus::Agent) => {
                let name = agent.unwrap_or(lang.t(Text::Agent));
                let mut line = String::from(name);
                line.push(' ');
                line.push_str(lang.t(Text::Joined));
                self.status_line("agent_joined", &line);
                if let Some(p) = &self.panel {
                    dom::clear(&p.agent);
                    let avatar = el_text("span", "cw-avatar", &view::initials(name));
                    attr(&avatar, "aria-hidden", "true");
                    dom::append(&p.agent, &avatar);
                    dom::append(&p.agent, &el_text("span", "cw-agent-name", name));
                    show(&p.agent, true);
                }
            }
            (_, ConversationStatus::Resolved) => {
                self.status_line("resolved", lang.t(Text::Resolved))
            }
            (_, ConversationStatus::Bot) => self.status_line("", ""),
        }
        if status != ConversationStatus::Agent {
            if let Some(p) = &self.panel {
                show(&p.agent, false);
            }
        }
        self.emit("status", &JsValue::from_str(status.as_str()));
    }

    fn error(&mut self, code: ErrorCode, message: &str) {
        match code {
            ErrorCode::RateLimited => {
                self.banner(Some(code.as_str()), true);
                // The refused message is still pending: try it again once the limit eases.
                let me = self.me.clone();
                dom::later(5000, move || with(&me, |a| a.resend_pending()));
            }
            ErrorCode::TooLarge | ErrorCode::Unavailable => self.banner(Some(code.as_str()), true),
            ErrorCode::InvalidToken => {
                // The server does not know this visitor (a reset database): start afresh.
                self.saved.visitor_token = None;
                self.saved.conversation_id = None;
                self.thread.conversation_id = None;
                self.restart_socket();
            }
            ErrorCode::UnknownConversation => {
                self.saved.conversation_id = None;
                self.thread.conversation_id = None;
                self.restart_socket();
            }
            ErrorCode::IdentityRequired
            | ErrorCode::InvalidIdentity
            | ErrorCode::UnknownSite
            | ErrorCode::OriginNotAllowed => {
                self.fatal = true;
                self.banner(Some(code.as_str()), false);
                if let Some(s) = self.socket.take() {
                    s.shut();
                }
            }
            _ => {}
        }
        let detail = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&detail, &"code".into(), &code.as_str().into());
        let _ = js_sys::Reflect::set(&detail, &"message".into(), &message.into());
        self.emit("error", &detail);
    }

    fn resend_pending(&mut self) {
        for p in self.thread.pending.clone() {
            self.send(&VisitorClientFrame::Send {
                client_msg_id: p.client_msg_id,
                text: p.text,
            });
        }
    }

    pub fn toggle_history(&mut self) {
        let shown = self
            .panel
            .as_ref()
            .is_some_and(|p| !p.history.has_attribute("hidden"));
        if shown {
            self.hide_history();
        } else {
            self.send(&VisitorClientFrame::ListConversations {});
        }
    }

    pub fn hide_history(&self) {
        if let Some(p) = &self.panel {
            show(&p.history, false);
            show(&p.list, true);
        }
    }

    fn history(&self, conversations: &[ConversationSummary]) {
        let Some(p) = &self.panel else { return };
        dom::clear(&p.history);
        dom::append(&p.history, &button("cw-back", self.lang.t(Text::Back), ""));
        let others: Vec<_> = conversations
            .iter()
            .filter(|c| Some(&c.conversation_id) != self.thread.conversation_id.as_ref())
            .collect();
        if others.is_empty() {
            dom::append(
                &p.history,
                &el_text("p", "", self.lang.t(Text::NoConversations)),
            );
        }
        for c in others {
            let preview = if c.preview.is_empty() {
                "…"
            } else {
                c.preview.as_str()
            };
            let b = button("cw-conv", preview, "");
            attr(&b, "data-conversation", &c.conversation_id);
            dom::append(&p.history, &b);
        }
        show(&p.list, false);
        show(&p.history, true);
    }

    pub fn switch_conversation(&mut self, id: &str) {
        self.hide_history();
        self.saved.conversation_id = Some(id.to_string());
        self.persist();
        self.restart_socket();
    }
}
