//! The panel's own behaviour: building it, the composer (send, typing), thumbs, and the
//! buttons in its header.

use std::cell::RefCell;
use std::rc::Rc;

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_protocol::{FeedbackValue, MAX_TEXT_CHARS};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlTextAreaElement, KeyboardEvent};

use crate::app::{with, App};
use crate::dom::{self, attr, el_text, show};
use crate::i18n::Text;
use crate::state::Pending;
use crate::view;

impl App {
    /// The composer's text becomes a pending message, sent now or on reconnect.
    pub(crate) fn send_input(&mut self) {
        let Some(input) = self
            .panel
            .as_ref()
            .and_then(|p| p.input.dyn_ref::<HtmlTextAreaElement>().cloned())
        else {
            return;
        };
        let text = input.value().trim().to_string();
        if text.is_empty() {
            return;
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            self.banner(Some("too_large"), true);
            return;
        }
        input.set_value("");
        let pending = Pending {
            client_msg_id: dom::random_id(),
            text,
        };
        self.add_pending_item(&pending);
        self.thread.pending.push(pending.clone());
        self.persist();
        self.send(&VisitorClientFrame::Send {
            client_msg_id: pending.client_msg_id,
            text: pending.text,
        });
        self.send(&VisitorClientFrame::Typing { on: false });
        self.typing_sent = 0.0;
    }

    pub fn add_pending_item(&mut self, p: &Pending) {
        let Some(panel) = &self.panel else { return };
        let li = view::message_item();
        view::render_pending(&li, &p.text, self.lang);
        dom::append(&panel.list, &li);
        self.pending_items.push((p.client_msg_id.clone(), li));
        self.update_greeting();
        self.scroll_to_end();
    }

    pub fn update_greeting(&self) {
        if let Some(g) = &self.greeting {
            show(
                g,
                self.thread.messages.is_empty() && self.thread.pending.is_empty(),
            );
        }
    }

    pub(crate) fn typed(&mut self) {
        let now = dom::now_ms();
        if now - self.typing_sent > 3000.0 && self.send(&VisitorClientFrame::Typing { on: true }) {
            self.typing_sent = now;
        }
    }

    pub(crate) fn feedback_clicked(&mut self, button: &Element) {
        let up = button.class_list().contains("cw-up");
        let Some(li) = button.closest(".cw-msg").ok().flatten() else {
            return;
        };
        let Some(seq) = li
            .get_attribute("data-seq")
            .and_then(|s| s.parse::<i64>().ok())
        else {
            return;
        };
        let value = if up {
            FeedbackValue::Up
        } else {
            FeedbackValue::Down
        };
        if self.send(&VisitorClientFrame::Feedback { seq, value }) {
            self.feedback.insert(seq, up);
            for (class, pressed) in [(".cw-up", up), (".cw-down", !up)] {
                if let Ok(Some(b)) = li.query_selector(class) {
                    attr(&b, "aria-pressed", if pressed { "true" } else { "false" });
                }
            }
        }
    }

    /// Builds the panel and wires its events (once).
    pub(crate) fn build_panel(rc: &Rc<RefCell<App>>) {
        let mut a = rc.borrow_mut();
        let panel = view::build(&a.shadow, a.lang, &a.title());
        let greeting_text = if a.config.greeting.is_empty() {
            a.lang.t(Text::Greeting).to_string()
        } else {
            a.config.greeting.clone()
        };
        let greeting = el_text("li", "cw-greeting", "");
        view::render_markdown(&greeting, &greeting_text);
        dom::append(&panel.list, &greeting);
        a.greeting = Some(greeting);
        let me = Rc::downgrade(rc);
        let on = |target: &Element, event: &str, f: fn(&mut App, &web_sys::Event)| {
            let me = me.clone();
            dom::on(target.as_ref(), event, move |e| with(&me, |a| f(a, &e)));
        };
        on(&panel.send, "click", |a, _| a.send_input());
        on(&panel.input, "input", |a, _| a.typed());
        on(&panel.input, "keydown", |a, e| {
            if let Some(k) = e.dyn_ref::<KeyboardEvent>() {
                if k.key() == "Enter" && !k.shift_key() && !k.is_composing() {
                    e.prevent_default();
                    a.send_input();
                }
            }
        });
        on(&panel.human, "click", |a, _| {
            a.send(&VisitorClientFrame::RequestHuman {});
        });
        on(&panel.new_conversation, "click", |a, _| {
            // Unacked messages belong to this conversation: start another once they are in.
            if a.thread.pending.is_empty() {
                a.send(&VisitorClientFrame::NewConversation {});
            }
        });
        on(&panel.history_button, "click", |a, _| a.toggle_history());
        on(&panel.list, "click", |a, e| {
            let button = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("button").ok().flatten());
            if let Some(b) = button {
                a.feedback_clicked(&b);
            }
        });
        on(&panel.history, "click", |a, e| {
            let pick = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|t| t.closest("button").ok().flatten());
            if let Some(b) = pick {
                match b.get_attribute("data-conversation") {
                    Some(id) => a.switch_conversation(&id),
                    None => a.hide_history(),
                }
            }
        });
        // Closing needs the Rc (it emits and moves focus): go through the weak handle.
        let close_me = Rc::downgrade(rc);
        let close = move || {
            if let Some(rc) = close_me.upgrade() {
                App::close(&rc);
            }
        };
        let close2 = close.clone();
        dom::on(panel.close.as_ref(), "click", move |_| close());
        dom::on(panel.root.as_ref(), "keydown", move |e| {
            if e.dyn_ref::<KeyboardEvent>()
                .is_some_and(|k| k.key() == "Escape")
            {
                close2();
            }
        });
        a.panel = Some(panel);
        let pending = a.thread.pending.clone();
        for p in &pending {
            a.add_pending_item(p);
        }
        if let Some(code) = a.pending_banner {
            a.banner(Some(code.as_str()), false);
        }
        a.update_greeting();
    }
}
