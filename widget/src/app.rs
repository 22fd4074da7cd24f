//! The widget's controller: what it holds, the panel's events, opening and closing.
//! The websocket half lives in [`crate::socket`].

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_protocol::widget::{Identity, WidgetConfig};
use concierge_protocol::{ConversationStatus, ErrorCode};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, ShadowRoot};

use crate::dom::{self, attr, show};
use crate::i18n::{Lang, Text};
use crate::state::{BySeq, Saved, Thread};
use crate::view::Panel;
use crate::wire;

/// Everything the widget holds.
pub struct App {
    /// Handle on itself for callbacks registered later (sockets, timers).
    pub me: Weak<RefCell<App>>,
    pub shadow: ShadowRoot,
    /// Drawn by the loader; the widget updates its label, state and badge.
    pub launcher: Option<Element>,
    pub badge: Option<Element>,
    /// Built on first open.
    pub panel: Option<Panel>,
    /// The "Hi! Ask us anything." bubble, shown while the conversation is empty.
    pub greeting: Option<Element>,
    pub lang: Lang,
    pub config: WidgetConfig,
    pub server: String,
    pub site_key: String,
    /// The loader's `emit(name, detail)`.
    pub emit: Option<js_sys::Function>,
    pub identity: Option<Identity>,
    pub thread: Thread,
    pub saved: Saved,
    /// One `<li>` per stored message, by seq, and per pending message, by client_msg_id.
    pub items: BySeq<Element>,
    pub pending_items: Vec<(String, Element)>,
    /// Thumbs the visitor gave, by seq.
    pub feedback: BySeq<bool>,
    pub status: ConversationStatus,
    pub socket: Option<crate::socket::Socket>,
    /// Bumped for every new socket; events of older sockets are ignored.
    pub generation: u32,
    /// `welcome` received on the current socket: sends may go out.
    pub welcomed: bool,
    /// Failed connection attempts in a row (drives the backoff).
    pub attempt: u32,
    /// A condition reconnecting cannot fix (origin not allowed, identity refused).
    pub fatal: bool,
    /// A refusal learnt before the panel existed, shown when it opens.
    pub pending_banner: Option<ErrorCode>,
    pub is_open: bool,
    pub unread: u32,
    /// When the last `typing {on: true}` went out (sent at most every 3 s).
    pub typing_sent: f64,
    /// Bumped by each `typing` frame so only the latest one's timeout hides the indicator.
    pub typing_generation: u32,
}

/// Runs `f` on the app if it still exists and is not already borrowed.
pub fn with(me: &Weak<RefCell<App>>, f: impl FnOnce(&mut App)) {
    if let Some(rc) = me.upgrade() {
        if let Ok(mut app) = rc.try_borrow_mut() {
            f(&mut app);
        }
    }
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A JS object as JSON text (`JSON.stringify`), when it is one.
pub fn js_json(v: &JsValue) -> Option<String> {
    if v.is_undefined() || v.is_null() {
        return None;
    }
    js_sys::JSON::stringify(v).ok()?.as_string()
}

fn storage() -> Option<web_sys::Storage> {
    dom::window().local_storage().ok().flatten()
}

impl App {
    pub fn start(shadow: ShadowRoot, options: &JsValue) -> Rc<RefCell<App>> {
        let config = js_json(&get(options, "config"))
            .map(|j| wire::decode_config(&j))
            .unwrap_or_default();
        let error = js_json(&get(options, "error")).and_then(|j| wire::decode_error(&j));
        let site_key = get(options, "site_key").as_string().unwrap_or_default();
        let saved: Saved = storage()
            .and_then(|s| s.get_item(&storage_key(&site_key)).ok().flatten())
            .map(|j| wire::decode_saved(&j))
            .unwrap_or_default();
        let lang = pick_lang(&config);
        let launcher = shadow.query_selector(".cw-launcher").ok().flatten();
        let badge = shadow.query_selector(".cw-badge").ok().flatten();
        let thread = Thread {
            pending: saved.pending.clone(),
            ..Thread::default()
        };
        let app = Rc::new(RefCell::new(App {
            me: Weak::new(),
            shadow,
            launcher,
            badge,
            panel: None,
            greeting: None,
            lang,
            config,
            server: get(options, "server").as_string().unwrap_or_default(),
            site_key,
            emit: get(options, "emit").dyn_into().ok(),
            identity: js_json(&get(options, "identity")).and_then(|j| wire::decode_identity(&j)),
            thread,
            saved,
            items: BySeq::default(),
            pending_items: Vec::new(),
            feedback: BySeq::default(),
            status: ConversationStatus::Bot,
            socket: None,
            generation: 0,
            welcomed: false,
            attempt: 0,
            fatal: false,
            pending_banner: None,
            is_open: false,
            unread: 0,
            typing_sent: 0.0,
            typing_generation: 0,
        }));
        {
            let mut a = app.borrow_mut();
            a.me = Rc::downgrade(&app);
            if let Some(l) = &a.launcher {
                attr(l, "aria-label", lang.t(Text::OpenChat));
            }
            if let Some(code) = error {
                a.config_error(code);
            }
        }
        let me = Rc::downgrade(&app);
        dom::on(dom::window().as_ref(), "online", move |_| {
            with(&me, |a| {
                if a.socket.is_none() && !a.fatal && a.is_open {
                    a.attempt = 0;
                    a.connect();
                }
            })
        });
        app
    }

    /// The config request failed: a coded refusal is final, anything else is tried anyway.
    fn config_error(&mut self, code: ErrorCode) {
        if matches!(code, ErrorCode::OriginNotAllowed | ErrorCode::UnknownSite) {
            self.fatal = true;
            self.pending_banner = Some(code);
        }
    }

    pub fn title(&self) -> String {
        let t = &self.config.title;
        if t.is_empty() {
            self.config.site_name.clone()
        } else {
            t.clone()
        }
    }
}

fn storage_key(site_key: &str) -> String {
    let mut k = String::from("concierge:");
    k.push_str(site_key);
    k
}

/// The owner's language, else the page's `lang`, else the browser's.
fn pick_lang(config: &WidgetConfig) -> Lang {
    let page = dom::document()
        .document_element()
        .and_then(|e| e.get_attribute("lang"))
        .unwrap_or_default();
    let browser = dom::window().navigator().language().unwrap_or_default();
    Lang::pick([config.language.as_str(), page.as_str(), browser.as_str()])
}

impl App {
    pub fn open(rc: &Rc<RefCell<App>>) {
        let build = rc.borrow().panel.is_none();
        if build {
            App::build_panel(rc);
        }
        let mut a = rc.borrow_mut();
        a.is_open = true;
        if let Some(p) = &a.panel {
            show(&p.root, true);
        }
        if let Some(l) = &a.launcher {
            attr(l, "aria-expanded", "true");
        }
        a.unread = 0;
        a.update_badge();
        a.saved.open = true;
        a.persist();
        if a.socket.is_none() && !a.fatal {
            a.connect();
        }
        a.focus_input();
        a.scroll_to_end();
        a.emit("open", &JsValue::NULL);
    }

    pub fn close(rc: &Rc<RefCell<App>>) {
        let mut a = rc.borrow_mut();
        if !a.is_open {
            return;
        }
        a.is_open = false;
        if let Some(p) = &a.panel {
            show(&p.root, false);
        }
        if let Some(l) = &a.launcher {
            attr(l, "aria-expanded", "false");
            if let Some(h) = l.dyn_ref::<HtmlElement>() {
                let _ = h.focus();
            }
        }
        a.saved.open = false;
        a.persist();
        a.emit("close", &JsValue::NULL);
    }

    pub fn identify(rc: &Rc<RefCell<App>>, identity: &JsValue) {
        let mut a = rc.borrow_mut();
        a.identity = js_json(identity).and_then(|j| wire::decode_identity(&j));
        if a.fatal && a.pending_banner.is_none() {
            // An identity refusal can be fixed by a new identity.
            a.fatal = false;
            a.banner(None, false);
        }
        if a.socket.is_some() || a.is_open {
            a.restart_socket();
        }
    }

    pub fn focus_input(&self) {
        if let Some(i) = self
            .panel
            .as_ref()
            .and_then(|p| p.input.dyn_ref::<HtmlElement>())
        {
            let _ = i.focus();
        }
    }

    pub fn scroll_to_end(&self) {
        if let Some(p) = &self.panel {
            p.list.set_scroll_top(p.list.scroll_height());
        }
    }

    pub fn update_badge(&self) {
        if let Some(b) = &self.badge {
            b.set_text_content(Some(&crate::json::itoa(i64::from(self.unread))));
            show(b, self.unread > 0);
        }
    }

    /// Saves the session for the next page load.
    pub fn persist(&mut self) {
        self.saved.last_seq = self.thread.last_seq();
        self.saved.pending = self.thread.pending.clone();
        if let Some(s) = storage() {
            let _ = s.set_item(
                &storage_key(&self.site_key),
                &wire::encode_saved(&self.saved),
            );
        }
    }

    pub fn emit(&self, name: &str, detail: &JsValue) {
        if let Some(f) = &self.emit {
            let _ = f.call2(&JsValue::NULL, &JsValue::from_str(name), detail);
        }
    }

    /// Shows (or with `None` hides) the banner for a condition; `transient` hides it again
    /// after a few seconds.
    pub fn banner(&mut self, code: Option<&str>, transient: bool) {
        let Some(p) = &self.panel else { return };
        let Some(code) = code else {
            show(&p.banner, false);
            attr(&p.banner, "data-code", "");
            return;
        };
        let text = match code {
            "offline" => Text::Offline,
            "origin_not_allowed" => Text::OriginNotAllowed,
            "rate_limited" => Text::RateLimited,
            "too_large" => Text::TooLarge,
            "identity_required" => Text::IdentityRequired,
            "invalid_identity" => Text::InvalidIdentity,
            "unknown_site" => Text::UnknownSite,
            "unavailable" => Text::Unavailable,
            _ => Text::Error,
        };
        p.banner.set_text_content(Some(self.lang.t(text)));
        attr(&p.banner, "data-code", code);
        show(&p.banner, true);
        if transient {
            let me = self.me.clone();
            let code = code.to_string();
            dom::later(6000, move || {
                with(&me, |a| {
                    let same = a
                        .panel
                        .as_ref()
                        .and_then(|p| p.banner.get_attribute("data-code"));
                    if same.as_deref() == Some(code.as_str()) {
                        a.banner(None, false);
                    }
                })
            });
        }
    }

    /// The status line under the header: `phase` is its `data-phase`.
    pub fn status_line(&self, phase: &str, text: &str) {
        if let Some(p) = &self.panel {
            attr(&p.status, "data-phase", phase);
            p.status.set_text_content(Some(text));
        }
    }

    /// Sends a frame on the current socket when the server has welcomed it.
    pub fn send(&self, frame: &VisitorClientFrame) -> bool {
        match (&self.socket, self.welcomed) {
            (Some(s), true) => s.send(frame),
            _ => false,
        }
    }
}
