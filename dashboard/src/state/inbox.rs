//! The inbox: its filters, the pages of rows for the current filter and search, unread
//! counts and the order the list shows.

use std::collections::HashMap;

use concierge_protocol::api::InboxRow;
use concierge_protocol::{Conversation, ConversationStatus};
use leptos::task::spawn_local;

use super::{storage, AppState, Load};
use crate::api::{self, enc};

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
    pub(super) fn admits(self, c: &Conversation, assignee: Option<&str>, me: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Waiting => c.status == ConversationStatus::Waiting,
            Filter::Mine => assignee == Some(me),
            Filter::Bot => c.status == ConversationStatus::Bot,
            Filter::Resolved => c.status == ConversationStatus::Resolved,
        }
    }
}

impl AppState {
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
}
