//! The app's state, held once: reactive [`Cell`]s grouped in [`AppState`] (a `Copy` handle
//! provided as context), and the actions that change it — loading through [`crate::api`],
//! live updates from [`crate::socket`], and what the agent does. Screens read these cells;
//! none keeps a copy of its own.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use concierge_protocol::agent::{AgentClientFrame, UsageWarning};
use concierge_protocol::api::{
    AgentView, ConversationDetail, InboxRow, MeView, Page, PresenceBody, ReplyBody, SiteView,
};
use concierge_protocol::{Conversation, ConversationStatus, FeedbackValue, Message, Ticket};
use leptos::task::spawn_local;

use crate::api::{self, enc, ApiFailure};
use crate::notify;
use crate::route::{self, Route};
use crate::socket::{self, Conn};

pub use cell::Cell;

mod cell;
mod live;
mod tickets;

/// The inbox's filters, as named on their buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Waiting,
    Mine,
    Bot,
    Resolved,
}

impl Filter {
    pub const ALL: [Filter; 5] = [
        Filter::All,
        Filter::Waiting,
        Filter::Mine,
        Filter::Bot,
        Filter::Resolved,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Filter::All => "All",
            Filter::Waiting => "Waiting",
            Filter::Mine => "Mine",
            Filter::Bot => "Bot",
            Filter::Resolved => "Resolved",
        }
    }

    fn query(self) -> &'static str {
        match self {
            Filter::All => "",
            Filter::Waiting => "&status=waiting",
            Filter::Mine => "&assignee=me",
            Filter::Bot => "&status=bot",
            Filter::Resolved => "&status=resolved",
        }
    }

    /// Whether a conversation that changed live belongs in this list.
    fn admits(self, c: &Conversation, assignee: Option<&str>, me: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Waiting => c.status == ConversationStatus::Waiting,
            Filter::Mine => assignee == Some(me),
            Filter::Bot => c.status == ConversationStatus::Bot,
            Filter::Resolved => c.status == ConversationStatus::Resolved,
        }
    }
}

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

    // ---- the inbox --------------------------------------------------------------------------

    pub(super) fn inbox_path(&self, cursor: Option<&str>) -> String {
        let mut path = format!(
            "/conversations?limit=50{}",
            self.filter.get_untracked().query()
        );
        let q = self.search.get_untracked();
        if !q.trim().is_empty() {
            path.push_str(&format!("&q={}", enc(q.trim())));
        }
        if let Some(c) = cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        path
    }

    /// The first page of the current filter and search (also after every reconnect).
    pub fn load_inbox(self) {
        let path = self.inbox_path(None);
        if self.rows.with_untracked(HashMap::is_empty) {
            self.inbox.set(Load::Loading);
        }
        spawn_local(async move {
            match api::get_inbox(&path).await {
                Ok(page) => {
                    // A newer request (another filter) may have answered first.
                    if path != self.inbox_path(None) {
                        return;
                    }
                    self.rows.set(
                        page.items
                            .into_iter()
                            .map(|r| (r.conversation.id.clone(), r))
                            .collect(),
                    );
                    self.next_cursor.set(page.next_cursor);
                    self.inbox.set(Load::Ready);
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.inbox.set(Load::Failed(msg));
                }
            }
        });
    }

    pub fn load_more(self) {
        let Some(cursor) = self.next_cursor.get_untracked() else {
            return;
        };
        let path = self.inbox_path(Some(&cursor));
        spawn_local(async move {
            match api::get_inbox(&path).await {
                Ok(page) => {
                    self.rows.update(|rows| {
                        for r in page.items {
                            rows.entry(r.conversation.id.clone()).or_insert(r);
                        }
                    });
                    self.next_cursor.set(page.next_cursor);
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.say(format!("More conversations could not be loaded: {msg}"));
                }
            }
        });
    }

    pub fn set_filter(self, f: Filter) {
        self.filter.set(f);
        self.rows.set(HashMap::new());
        self.load_inbox();
    }

    pub fn unread(&self, row: &InboxRow) -> i64 {
        let seen = self
            .read
            .with(|r| r.get(&row.conversation.id).copied().unwrap_or(0));
        (row.conversation.last_seq - seen).max(0)
    }

    pub(super) fn mark_read(self, id: &str, seq: i64) {
        let Some(agent) = self
            .me
            .with_untracked(|m| m.as_ref().map(|m| m.agent.id.clone()))
        else {
            return;
        };
        let changed = self
            .read
            .with_untracked(|r| r.get(id).copied().unwrap_or(0) < seq);
        if !changed {
            return;
        }
        self.read.update(|r| {
            r.insert(id.to_string(), seq);
        });
        if let (Some(s), Ok(text)) = (storage(), self.read.with_untracked(serde_json::to_string)) {
            let _ = s.set_item(&format!("concierge.read.{agent}"), &text);
        }
    }

    /// Inbox order: waiting for a person first (longest wait first), then by latest activity.
    pub fn ordered_rows(&self) -> Vec<InboxRow> {
        let mut rows: Vec<InboxRow> = self.rows.with(|r| r.values().cloned().collect());
        rows.sort_by(|a, b| {
            let wa = a.conversation.status == ConversationStatus::Waiting;
            let wb = b.conversation.status == ConversationStatus::Waiting;
            wb.cmp(&wa).then_with(|| {
                if wa {
                    a.conversation.updated_at.cmp(&b.conversation.updated_at)
                } else {
                    b.conversation.updated_at.cmp(&a.conversation.updated_at)
                }
            })
        });
        rows
    }

    // ---- one conversation -------------------------------------------------------------------

    pub fn open_conversation(self, id: String) {
        let same = self
            .open
            .with_untracked(|o| o.as_ref().is_some_and(|d| d.conversation.id == id));
        if !same {
            self.open.set(None);
            self.transcript.set(BTreeMap::new());
            self.feedback.set(HashMap::new());
            self.pending.set(Vec::new());
            self.action_error.set(None);
            self.open_load.set(Load::Loading);
        }
        spawn_local(async move {
            match api::get::<ConversationDetail>(&format!("/conversations/{}?limit=200", enc(&id)))
                .await
            {
                Ok(mut detail) => {
                    let mut messages = std::mem::take(&mut detail.messages.items);
                    let mut cursor = detail.messages.next_cursor.take();
                    // Long conversations: the rest, page by page.
                    while let Some(c) = cursor {
                        match api::get::<Page<Message>>(&format!(
                            "/conversations/{}/messages?limit=200&cursor={}",
                            enc(&id),
                            enc(&c)
                        ))
                        .await
                        {
                            Ok(page) => {
                                messages.extend(page.items);
                                cursor = page.next_cursor;
                            }
                            Err(_) => break,
                        }
                    }
                    if self.route.get_untracked() != Route::Conversation(id.clone()) {
                        return;
                    }
                    self.feedback
                        .set(detail.feedback.iter().map(|f| (f.seq, f.value)).collect());
                    self.transcript.update(|t| {
                        for m in messages {
                            t.insert(m.seq, m);
                        }
                    });
                    let last = self.transcript.with_untracked(|t| t.keys().last().copied());
                    self.mark_read(&id, last.unwrap_or(0));
                    self.open.set(Some(detail));
                    self.open_load.set(Load::Ready);
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.open_load.set(Load::Failed(msg));
                }
            }
        });
    }

    pub fn close_conversation(self) {
        self.open.set(None);
        self.transcript.set(BTreeMap::new());
        self.pending.set(Vec::new());
    }

    pub(super) fn open_id(&self) -> Option<String> {
        self.open
            .with_untracked(|o| o.as_ref().map(|d| d.conversation.id.clone()))
    }

    /// `take-over`, `hand-back` or `resolve`; a refusal (someone else took it) is shown.
    pub fn act(self, id: String, action: &'static str) {
        self.action_error.set(None);
        spawn_local(async move {
            let path = format!("/conversations/{}/{action}", enc(&id));
            match api::post::<_, Conversation>(&path, &serde_json::json!({})).await {
                Ok(c) => {
                    self.conversation_changed(c);
                    self.say(match action {
                        "take-over" => "You took over the conversation.",
                        "hand-back" => "The assistant answers this conversation again.",
                        _ => "The conversation is resolved.",
                    });
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.say(msg.clone());
                    self.action_error.set(Some(msg));
                    // Someone else acted first: show what is true now.
                    self.open_conversation(id);
                }
            }
        });
    }

    /// Sends a reply; it shows as sent once stored, or stays with `Retry` when it failed.
    pub fn reply(self, text: String) {
        let Some(id) = self.open_id() else { return };
        let pending = Pending {
            client_msg_id: client_id(),
            text,
            failed: None,
        };
        self.pending.update(|p| p.push(pending.clone()));
        self.typing_off(&id);
        self.send_reply(id, pending);
    }

    pub fn retry(self, client_msg_id: String) {
        let Some(id) = self.open_id() else { return };
        let Some(p) = self
            .pending
            .with_untracked(|p| p.iter().find(|p| p.client_msg_id == client_msg_id).cloned())
        else {
            return;
        };
        self.pending.update(|ps| {
            if let Some(p) = ps.iter_mut().find(|p| p.client_msg_id == client_msg_id) {
                p.failed = None;
            }
        });
        self.send_reply(id, p);
    }

    fn send_reply(self, id: String, p: Pending) {
        spawn_local(async move {
            let body = ReplyBody {
                client_msg_id: p.client_msg_id.clone(),
                text: p.text.clone(),
            };
            match api::post::<_, Message>(&format!("/conversations/{}/messages", enc(&id)), &body)
                .await
            {
                Ok(m) => self.message_arrived(&id, m),
                Err(e) => {
                    let msg = self.failed(&e);
                    self.pending.update(|ps| {
                        if let Some(x) = ps.iter_mut().find(|x| x.client_msg_id == p.client_msg_id)
                        {
                            x.failed = Some(msg.clone());
                        }
                    });
                    self.say(format!("Your reply was not sent: {msg}"));
                }
            }
        });
    }

    /// The composer changed: `typing on` at most every 3 s while typing.
    pub fn typing_on(&self, id: &str) {
        let now = now_ms();
        let due = TYPING_SENT.with(|t| {
            let mut t = t.borrow_mut();
            let due = t.get(id).is_none_or(|last| now - last > 3_000.0);
            if due {
                t.insert(id.to_string(), now);
            }
            due
        });
        if due {
            socket::send(&AgentClientFrame::Typing {
                conversation_id: id.to_string(),
                on: true,
            });
        }
    }

    pub fn typing_off(&self, id: &str) {
        if TYPING_SENT.with(|t| t.borrow_mut().remove(id)).is_some() {
            socket::send(&AgentClientFrame::Typing {
                conversation_id: id.to_string(),
                on: false,
            });
        }
    }

    /// Stops an idle composer's typing indicator.
    pub fn expire_typing(&self) {
        let now = now_ms();
        let idle: Vec<String> = TYPING_SENT.with(|t| {
            t.borrow()
                .iter()
                .filter(|(_, at)| now - **at > 5_000.0)
                .map(|(id, _)| id.clone())
                .collect()
        });
        for id in idle {
            self.typing_off(&id);
        }
        let stale = self
            .typing
            .with_untracked(|t| t.values().any(|x| x.until < now));
        if stale {
            self.typing.update(|t| t.retain(|_, x| x.until >= now));
        }
    }
}
