//! The app's state, held once: reactive [`Cell`]s grouped in [`AppState`] (a `Copy` handle
//! provided as context), and the actions that change it — loading through [`crate::api`],
//! live updates from [`crate::socket`], and what the agent does. Screens read these cells;
//! none keeps a copy of its own.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use concierge_protocol::agent::UsageWarning;
use concierge_protocol::api::{
    AgentView, ConversationDetail, InboxRow, MeView, Page, PresenceBody, SiteView,
};
use concierge_protocol::{FeedbackValue, Message, Ticket};
use leptos::task::spawn_local;

use crate::api::{self, ApiFailure};
use crate::notify;
use crate::route::{self, Route};
use crate::socket::{self, Conn};

pub use cell::Cell;
pub use inbox::Filter;

mod cell;
mod conversation;
mod inbox;
mod live;
mod tickets;

/// A list or screen being loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    Loading,
    Ready,
    Failed(String),
}

/// A reply on its way: shown as sent only once the server has stored it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_msg_id: String,
    pub text: String,
    /// `None` while sending; the reason when it failed (the agent may retry).
    pub failed: Option<String>,
}

/// Someone typing in a conversation, until when.
#[derive(Debug, Clone, PartialEq)]
pub struct Typing {
    pub who: String,
    pub until: f64,
}

#[derive(Clone, Copy)]
pub struct AppState {
    pub route: Cell<Route>,
    /// `GET /me` answered (signed in or not): before that the app shows a loading line.
    pub booted: Cell<bool>,
    pub me: Cell<Option<MeView>>,
    pub sites: Cell<Vec<SiteView>>,
    /// The sites were read once (an account may have none).
    pub sites_loaded: Cell<bool>,
    /// The account's agents, for assigning.
    pub agents: Cell<Vec<AgentView>>,
    /// The inbox rows of the current filter and search, by conversation id.
    pub rows: Cell<HashMap<String, InboxRow>>,
    pub filter: Cell<Filter>,
    pub search: Cell<String>,
    pub inbox: Cell<Load>,
    pub next_cursor: Cell<Option<String>>,
    /// The open conversation (its own screen, or beside the list).
    pub open: Cell<Option<ConversationDetail>>,
    pub open_load: Cell<Load>,
    /// The open conversation's messages by seq (streaming ones grow through deltas).
    pub transcript: Cell<BTreeMap<i64, Message>>,
    pub feedback: Cell<HashMap<i64, FeedbackValue>>,
    pub pending: Cell<Vec<Pending>>,
    /// An action on the open conversation that failed (e.g. someone else took it over).
    pub action_error: Cell<Option<String>>,
    /// Tickets that are open or pending (and solved ones seen this session), by id.
    pub tickets: Cell<HashMap<String, Ticket>>,
    pub tickets_load: Cell<Load>,
    pub conn: Cell<Conn>,
    /// Who is typing, by conversation id.
    pub typing: Cell<HashMap<String, Typing>>,
    /// Ticks every second: timers and "4 min ago" labels follow it.
    pub now: Cell<f64>,
    /// The last seq the agent has seen, by conversation id (kept in localStorage).
    pub read: Cell<HashMap<String, i64>>,
    /// Said to screen readers (an `aria-live` region).
    pub announce: Cell<String>,
    pub usage_warning: Cell<Option<UsageWarning>>,
    /// The notification permission may still be asked.
    pub can_ask_notifications: Cell<bool>,
    pub shortcuts_open: Cell<bool>,
}

thread_local! {
    /// Escalations already announced (ticket id → escalation count): a resync never chimes twice.
    static ANNOUNCED: RefCell<HashMap<String, i64>> = RefCell::new(HashMap::new());
    /// When the agent last sent `typing on`, per conversation.
    static TYPING_SENT: RefCell<HashMap<String, f64>> = RefCell::new(HashMap::new());
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// A random id for a reply (resends reuse it).
fn client_id() -> String {
    let r = || (js_sys::Math::random() * 4_294_967_296.0) as u32;
    format!("d-{:08x}{:08x}{:08x}", r(), r(), r())
}

fn preview(text: &str) -> String {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > 140 {
        let mut s: String = t.chars().take(139).collect();
        s.push('…');
        s
    } else {
        t
    }
}

impl AppState {
    pub fn new(route: Cell<Route>) -> Self {
        AppState {
            route,
            booted: Cell::new(false),
            me: Cell::new(None),
            sites: Cell::new(Vec::new()),
            sites_loaded: Cell::new(false),
            agents: Cell::new(Vec::new()),
            rows: Cell::new(HashMap::new()),
            filter: Cell::new(Filter::All),
            search: Cell::new(String::new()),
            inbox: Cell::new(Load::Loading),
            next_cursor: Cell::new(None),
            open: Cell::new(None),
            open_load: Cell::new(Load::Loading),
            transcript: Cell::new(BTreeMap::new()),
            feedback: Cell::new(HashMap::new()),
            pending: Cell::new(Vec::new()),
            action_error: Cell::new(None),
            tickets: Cell::new(HashMap::new()),
            tickets_load: Cell::new(Load::Loading),
            conn: Cell::new(Conn::Connecting),
            typing: Cell::new(HashMap::new()),
            now: Cell::new(now_ms()),
            read: Cell::new(HashMap::new()),
            announce: Cell::new(String::new()),
            usage_warning: Cell::new(None),
            can_ask_notifications: Cell::new(notify::can_ask()),
            shortcuts_open: Cell::new(false),
        }
    }

    pub fn my_id(&self) -> String {
        self.me
            .with_untracked(|m| m.as_ref().map(|m| m.agent.id.clone()))
            .unwrap_or_default()
    }

    pub fn role(&self) -> String {
        self.me
            .with(|m| m.as_ref().map(|m| m.agent.role.clone()))
            .unwrap_or_default()
    }

    /// Owners and admins see the owner's screens.
    pub fn is_admin(&self) -> bool {
        matches!(self.role().as_str(), "owner" | "admin")
    }

    pub fn say(&self, text: impl Into<String>) {
        self.announce.set(text.into());
    }

    // ---- signing in and out ---------------------------------------------------------------

    /// Who is signed in (the session cookie), then everything else.
    pub fn boot(self) {
        spawn_local(async move {
            match api::get::<MeView>("/me").await {
                Ok(me) => self.signed_in(me),
                Err(_) => {
                    self.booted.set(true);
                    if !self.route.get_untracked().is_public() {
                        route::replace(self.route, Route::SignIn);
                    }
                }
            }
        });
    }

    /// A session exists: load what the screens need and open the socket.
    pub fn signed_in(self, me: MeView) {
        api::set_csrf(me.csrf_token.clone());
        let key = format!("concierge.read.{}", me.agent.id);
        let read = storage()
            .and_then(|s| s.get_item(&key).ok().flatten())
            .and_then(|t| serde_json::from_str::<HashMap<String, i64>>(&t).ok())
            .unwrap_or_default();
        self.read.set(read);
        self.me.set(Some(me));
        self.booted.set(true);
        if self.route.get_untracked().is_public() {
            route::replace(self.route, Route::Inbox);
        }
        spawn_local(async move {
            if let Ok(page) = api::get::<Page<SiteView>>("/sites?limit=200").await {
                self.sites.set(page.items);
                self.sites_loaded.set(true);
                self.load_tickets();
            }
        });
        spawn_local(async move {
            if let Ok(page) = api::get::<Page<AgentView>>("/agents?limit=200").await {
                self.agents.set(page.items);
            }
        });
        self.load_inbox();
        socket::start(
            std::rc::Rc::new(move |frame| self.on_frame(frame)),
            std::rc::Rc::new(move |conn| self.on_conn(conn)),
        );
    }

    /// The session ended (sign-out here or elsewhere): back to the sign-in screen.
    pub fn signed_out(self, why: Option<&str>) {
        socket::stop();
        api::set_csrf(None);
        self.me.set(None);
        self.rows.set(HashMap::new());
        self.tickets.set(HashMap::new());
        self.open.set(None);
        self.transcript.set(BTreeMap::new());
        ANNOUNCED.with(|a| a.borrow_mut().clear());
        if let Some(why) = why {
            self.say(why);
        }
        route::replace(self.route, Route::SignIn);
    }

    pub fn sign_out(self) {
        spawn_local(async move {
            let _ = api::delete("/session").await;
            self.signed_out(Some("You are signed out."));
        });
    }

    /// A failed call: a dead session sends the agent back to sign in.
    pub(super) fn failed(self, e: &ApiFailure) -> String {
        if e.is_unauthenticated() {
            self.signed_out(Some("Your session has ended. Sign in again."));
        }
        e.message.clone()
    }

    pub fn set_away(self, away: bool) {
        spawn_local(async move {
            match api::put::<_, serde_json::Value>("/me/presence", &PresenceBody { away }).await {
                Ok(_) => {
                    self.me.update(|m| {
                        if let Some(m) = m {
                            m.agent.away = away;
                        }
                    });
                    self.say(if away {
                        "You are away: visitors are told nobody is online."
                    } else {
                        "You are online."
                    });
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.say(format!("Your status did not change: {msg}"));
                }
            }
        });
    }
}
