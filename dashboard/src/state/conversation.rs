//! One conversation: opening and closing it, the agent's actions on it, replies (shown as sent
//! only once acked, with retry) and typing both ways.

use std::collections::{BTreeMap, HashMap};

use concierge_protocol::agent::AgentClientFrame;
use concierge_protocol::api::{ConversationDetail, Page, ReplyBody};
use concierge_protocol::{Conversation, Message};
use leptos::task::spawn_local;

use super::{client_id, now_ms, AppState, Load, Pending, TYPING_SENT};
use crate::api::{self, enc};
use crate::route::Route;
use crate::socket;

impl AppState {
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
