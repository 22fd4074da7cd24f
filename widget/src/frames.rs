//! What the server's frames (other than messages) do to the panel: status line, typing,
//! errors in words, past conversations.

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_protocol::widget::ConversationSummary;
use concierge_protocol::{Author, ConversationStatus, ErrorCode, Message, Phase};
use wasm_bindgen::prelude::*;

use crate::app::{with, App};
use crate::dom::{self, attr, button, el_text, show};
use crate::i18n::Text;
use crate::view;
use crate::wire;

impl App {
    pub(crate) fn announce(&self, m: &Message) {
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

    pub(crate) fn typing(&mut self, on: bool, who: &str) {
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

    pub(crate) fn status(
        &mut self,
        status: ConversationStatus,
        agent: Option<&str>,
        phase: Option<Phase>,
    ) {
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
        if let Some(p) = &self.panel {
            if status != ConversationStatus::Agent {
                show(&p.agent, false);
            }
            // Already with (or waiting for) a person: no need to ask for one.
            show(
                &p.human,
                matches!(
                    status,
                    ConversationStatus::Bot | ConversationStatus::Resolved
                ),
            );
        }
        self.emit("status", &JsValue::from_str(status.as_str()));
    }

    pub(crate) fn error(&mut self, code: ErrorCode, message: &str) {
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

    pub(crate) fn resend_pending(&mut self) {
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

    pub(crate) fn history(&self, conversations: &[ConversationSummary]) {
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
        // A message not yet acked belongs to the conversation on screen: switch once it is.
        if !self.thread.pending.is_empty() {
            return;
        }
        self.saved.conversation_id = Some(id.to_string());
        self.persist();
        self.restart_socket();
    }
}
