//! The widget's websocket: connect, hello, frames in, reconnect with exponential backoff and
//! jitter, resume by `last_seq`, resend what was not acked.

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, ConversationStatus, Message, MessageState};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::app::{with, App};
use crate::dom::{self, show};
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

    pub(crate) fn shut(self) {
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

/// The host page's address for the agents, cut to the 2,000 characters the server keeps.
fn page_url() -> Option<String> {
    let mut url = dom::window().location().href().ok()?;
    if let Some((end, _)) = url.char_indices().nth(2_000) {
        url.truncate(end);
    }
    (!url.is_empty()).then_some(url)
}

/// The visitor's language for the agents: the browser's, else the page's `<html lang>`.
fn visitor_lang() -> Option<String> {
    dom::window()
        .navigator()
        .language()
        .filter(|l| !l.is_empty())
        .or_else(|| {
            dom::document()
                .document_element()
                .and_then(|e| e.get_attribute("lang"))
                .filter(|l| !l.is_empty())
        })
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
            page_url: page_url(),
            lang: visitor_lang(),
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
        self.emit("connected", &JsValue::NULL);
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
}
