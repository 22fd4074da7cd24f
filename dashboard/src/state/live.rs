//! Live updates: what the agent socket says, applied to the state, and the resync after
//! every (re)connect.

use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::api::{InboxRow, SiteView, TicketBrief};
use concierge_protocol::{
    Author, Conversation, ConversationStatus, Message, MessageState, Ticket, TicketStatus,
};

use super::{now_ms, preview, AppState, Typing, ANNOUNCED};
use crate::notify;
use crate::route::Route;
use crate::socket::{self, Conn};

impl AppState {
    // ---- live updates -----------------------------------------------------------------------

    pub(super) fn on_conn(self, conn: Conn) {
        self.conn.set(conn);
        if conn == Conn::Ended {
            self.signed_out(Some("Your session has ended. Sign in again."));
        }
    }

    /// After every (re)connect: the lists from the API, the open transcript from its last seq,
    /// so nothing said while the socket was down is missed.
    pub fn resync(self) {
        self.load_inbox();
        self.load_tickets();
        if let Some(id) = self.open_id() {
            let last_seq = self
                .transcript
                .with_untracked(|t| t.keys().last().copied().unwrap_or(0));
            socket::send(&AgentClientFrame::Sync {
                conversation_id: id.clone(),
                last_seq,
            });
            // The status, ticket and handoff may have changed too.
            self.open_conversation(id);
        }
    }

    pub(super) fn on_frame(self, frame: AgentServerFrame) {
        match frame {
            AgentServerFrame::Welcome { sites, .. } => {
                if self.sites.with_untracked(Vec::is_empty) {
                    self.sites.set(
                        sites
                            .into_iter()
                            .map(|s| SiteView {
                                site_key: s.site_key,
                                name: s.name,
                                allowed_origins: Vec::new(),
                            })
                            .collect(),
                    );
                }
                self.resync();
            }
            AgentServerFrame::Conversation { conversation } => {
                self.conversation_changed(conversation)
            }
            AgentServerFrame::Message {
                conversation_id,
                message,
            } => self.message_arrived(&conversation_id, message),
            AgentServerFrame::Delta {
                conversation_id,
                seq,
                offset,
                text,
            } => {
                if self.open_id().as_deref() == Some(conversation_id.as_str()) {
                    self.transcript.update(|t| {
                        if let Some(m) = t.get_mut(&seq) {
                            if offset <= m.text.len() && m.text.is_char_boundary(offset) {
                                m.text.truncate(offset);
                                m.text.push_str(&text);
                            }
                        }
                    });
                }
            }
            AgentServerFrame::History {
                conversation_id,
                messages,
            } => {
                for m in messages {
                    self.message_arrived(&conversation_id, m);
                }
            }
            AgentServerFrame::Typing {
                conversation_id,
                on,
                who,
            } => {
                self.typing.update(|t| {
                    if on {
                        t.insert(
                            conversation_id,
                            Typing {
                                who,
                                until: now_ms() + 8_000.0,
                            },
                        );
                    } else {
                        t.remove(&conversation_id);
                    }
                });
            }
            AgentServerFrame::Ticket { ticket } => self.ticket_changed(*ticket),
            AgentServerFrame::Feedback {
                conversation_id,
                seq,
                value,
            } => {
                if self.open_id().as_deref() == Some(conversation_id.as_str()) {
                    self.feedback.update(|f| {
                        f.insert(seq, value);
                    });
                }
            }
            AgentServerFrame::Usage { warning } => {
                self.say(warning.message.clone());
                self.usage_warning.set(Some(warning));
            }
            AgentServerFrame::Resync => self.resync(),
            AgentServerFrame::Error { message, .. } => self.say(message),
            AgentServerFrame::Ingest { .. }
            | AgentServerFrame::Ack { .. }
            | AgentServerFrame::Pong => {}
        }
    }

    pub(super) fn conversation_changed(self, c: Conversation) {
        let me = self.my_id();
        let filter = self.filter.get_untracked();
        let searching = !self.search.get_untracked().trim().is_empty();
        self.rows.update(|rows| {
            let assignee = match rows.get(&c.id) {
                Some(r) if c.status == ConversationStatus::Agent => r.assignee_id.clone(),
                _ => None,
            };
            // Taken over: the assignee is whoever took it (by name, the agent list knows).
            let assignee = if c.status == ConversationStatus::Agent {
                self.agents
                    .with_untracked(|a| {
                        a.iter()
                            .find(|a| Some(&a.name) == c.agent_name.as_ref())
                            .map(|a| a.id.clone())
                    })
                    .or(assignee)
            } else {
                rows.get(&c.id).and_then(|r| r.assignee_id.clone())
            };
            if filter.admits(&c, assignee.as_deref(), &me) {
                match rows.get_mut(&c.id) {
                    Some(r) => {
                        r.conversation = c.clone();
                        r.assignee_id = assignee;
                    }
                    None if !searching => {
                        rows.insert(
                            c.id.clone(),
                            InboxRow {
                                conversation: c.clone(),
                                last_message: None,
                                last_author: None,
                                last_visitor_message: None,
                                assignee_id: assignee,
                                ticket: None,
                            },
                        );
                    }
                    None => {}
                }
            } else {
                rows.remove(&c.id);
            }
        });
        if self.open_id().as_deref() == Some(c.id.as_str()) {
            self.open.update(|o| {
                if let Some(d) = o {
                    d.conversation = c;
                }
            });
        }
    }

    pub(super) fn message_arrived(self, conversation_id: &str, m: Message) {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden());
        self.rows.update(|rows| {
            if let Some(r) = rows.get_mut(conversation_id) {
                if m.seq >= r.conversation.last_seq {
                    r.conversation.last_seq = m.seq;
                    r.last_message = Some(preview(&m.text));
                    r.last_author = Some(m.author);
                    if m.author == Author::Visitor {
                        r.last_visitor_message = Some(preview(&m.text));
                    }
                    r.conversation.updated_at = m.created_at.clone();
                }
            }
        });
        if self.open_id().as_deref() != Some(conversation_id) {
            return;
        }
        if m.author == Author::Visitor {
            self.say(format!("Visitor: {}", preview(&m.text)));
            self.typing.update(|t| {
                t.remove(conversation_id);
            });
        }
        if let Some(id) = &m.client_msg_id {
            self.pending
                .update(|p| p.retain(|p| &p.client_msg_id != id));
        }
        let seq = m.seq;
        self.transcript.update(|t| {
            // A snapshot never shortens a streaming answer the deltas already grew.
            match t.get(&seq) {
                Some(have)
                    if m.state == MessageState::Streaming && have.text.len() > m.text.len() => {}
                _ => {
                    t.insert(seq, m);
                }
            }
        });
        if !hidden {
            self.mark_read(conversation_id, seq);
        }
    }

    pub(super) fn ticket_changed(self, t: Ticket) {
        let fresh_escalation = t.status == TicketStatus::Open
            && ANNOUNCED.with(|a| {
                let mut a = a.borrow_mut();
                let before = a.insert(t.id.clone(), t.escalations);
                before.is_none_or(|n| n < t.escalations)
            });
        if fresh_escalation {
            notify::chime();
            let reason = t
                .reasons
                .first()
                .map(|r| crate::format::reason(r.as_str()))
                .unwrap_or_default();
            notify::desktop(
                "A visitor needs a person",
                &format!("{reason}: {}", t.handoff.summary),
                Route::Conversation(t.conversation_id.clone()).path(),
            );
            self.say(format!("New escalation: {reason}"));
        }
        self.rows.update(|rows| {
            if let Some(r) = rows.get_mut(&t.conversation_id) {
                r.ticket = Some(TicketBrief {
                    id: t.id.clone(),
                    status: t.status,
                    priority: t.priority,
                });
                if t.assigned_agent_id.is_some() {
                    r.assignee_id = t.assigned_agent_id.clone();
                }
            }
        });
        if self.open_id().as_deref() == Some(t.conversation_id.as_str()) {
            self.open.update(|o| {
                if let Some(d) = o {
                    d.ticket = Some(t.clone());
                }
            });
        }
        self.tickets.update(|all| {
            all.insert(t.id.clone(), t);
        });
    }
}
