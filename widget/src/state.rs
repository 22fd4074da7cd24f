//! The conversation as the widget holds it: messages by seq, outgoing messages not yet acked,
//! and what is kept in localStorage. Pure (no DOM), so it is tested natively.

use concierge_protocol::{Author, Message, MessageState};

/// Values kept in seq order: a sorted vector (the widget holds tens of messages; a
/// `BTreeMap` would cost ~25 KB of wasm for nothing).
#[derive(Debug)]
pub struct BySeq<T> {
    items: Vec<(i64, T)>,
}

impl<T> Default for BySeq<T> {
    fn default() -> Self {
        BySeq { items: Vec::new() }
    }
}

impl<T> BySeq<T> {
    fn find(&self, seq: i64) -> Result<usize, usize> {
        self.items.binary_search_by_key(&seq, |(s, _)| *s)
    }

    pub fn get(&self, seq: i64) -> Option<&T> {
        self.find(seq).ok().map(|i| &self.items[i].1)
    }

    pub fn get_mut(&mut self, seq: i64) -> Option<&mut T> {
        let i = self.find(seq).ok()?;
        Some(&mut self.items[i].1)
    }

    pub fn contains(&self, seq: i64) -> bool {
        self.find(seq).is_ok()
    }

    /// Inserts or replaces.
    pub fn insert(&mut self, seq: i64, value: T) {
        match self.find(seq) {
            Ok(i) => self.items[i].1 = value,
            Err(i) => self.items.insert(i, (seq, value)),
        }
    }

    /// The first value with a seq above `seq`.
    pub fn after(&self, seq: i64) -> Option<&T> {
        let i = match self.find(seq) {
            Ok(i) => i + 1,
            Err(i) => i,
        };
        self.items.get(i).map(|(_, v)| v)
    }

    pub fn last_seq(&self) -> i64 {
        self.items.last().map_or(0, |(s, _)| *s)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties it, handing back what it held.
    pub fn take(&mut self) -> Vec<(i64, T)> {
        std::mem::take(&mut self.items)
    }
}

/// A visitor message typed but not yet acknowledged by the server. Its `client_msg_id` makes
/// resending it after a reconnect safe: the server stores it once.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub client_msg_id: String,
    pub text: String,
}

/// What survives a reload, under `concierge:SITE_KEY` in localStorage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    pub visitor_token: Option<String>,
    pub conversation_id: Option<String>,
    /// Highest seq received.
    pub last_seq: i64,
    /// Messages typed while offline (or not yet acked) when the page went away.
    pub pending: Vec<Pending>,
    /// The panel was open: a reload opens it again.
    pub open: bool,
}

/// What a snapshot or delta did to the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A message the widget did not have.
    Added,
    /// A message it had changed.
    Updated,
    /// Nothing new (a duplicate or a delta it already holds).
    Unchanged,
}

/// The messages of the current conversation.
#[derive(Debug, Default)]
pub struct Thread {
    pub conversation_id: Option<String>,
    pub messages: BySeq<Message>,
    pub pending: Vec<Pending>,
}

impl Thread {
    pub fn last_seq(&self) -> i64 {
        self.messages.last_seq()
    }

    /// Starts over for another conversation; outgoing messages stay queued for it.
    pub fn switch_to(&mut self, conversation_id: &str) {
        if self.conversation_id.as_deref() != Some(conversation_id) {
            self.conversation_id = Some(conversation_id.to_string());
            self.messages.take();
        }
    }

    /// Applies an authoritative snapshot. A visitor message replaces its pending copy.
    pub fn snapshot(&mut self, message: Message) -> Change {
        if let Some(id) = &message.client_msg_id {
            self.pending.retain(|p| &p.client_msg_id != id);
        }
        let change = match self.messages.get(message.seq) {
            Some(held) if *held == message => return Change::Unchanged,
            Some(_) => Change::Updated,
            None => Change::Added,
        };
        self.messages.insert(message.seq, message);
        change
    }

    /// Appends a streaming delta at a character offset; text the widget already holds is
    /// skipped, and a delta past the end (a gap) waits for the next snapshot.
    pub fn delta(&mut self, seq: i64, offset: usize, text: &str) -> Change {
        let Some(m) = self.messages.get_mut(seq) else {
            return Change::Unchanged;
        };
        let held = m.text.chars().count();
        if offset > held {
            return Change::Unchanged;
        }
        let fresh: String = text.chars().skip(held - offset).collect();
        if fresh.is_empty() {
            return Change::Unchanged;
        }
        m.text.push_str(&fresh);
        Change::Updated
    }

    /// The server stored a pending message at `seq`. Returns the stored message when the
    /// widget had only the pending copy (the snapshot may arrive later or not at all).
    pub fn ack(&mut self, client_msg_id: &str, seq: i64, now: &str) -> Option<&Message> {
        let i = self
            .pending
            .iter()
            .position(|p| p.client_msg_id == client_msg_id)?;
        let p = self.pending.remove(i);
        if self.messages.contains(seq) {
            return None;
        }
        self.messages.insert(
            seq,
            Message {
                seq,
                author: Author::Visitor,
                author_name: None,
                text: p.text,
                state: MessageState::Complete,
                client_msg_id: Some(p.client_msg_id),
                created_at: now.to_string(),
                sources: Vec::new(),
            },
        );
        self.messages.get(seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, author: Author, text: &str, state: MessageState) -> Message {
        Message {
            seq,
            author,
            author_name: None,
            text: text.to_string(),
            state,
            client_msg_id: None,
            created_at: String::new(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn deltas_append_once_at_their_offset() {
        let mut t = Thread::default();
        t.snapshot(msg(1, Author::Bot, "Hé", MessageState::Streaming));
        assert_eq!(t.delta(1, 2, "llo"), Change::Updated);
        // A replayed delta (resume in the middle of a stream) adds nothing twice.
        assert_eq!(t.delta(1, 2, "llo"), Change::Unchanged);
        assert_eq!(t.delta(1, 3, "lo w"), Change::Updated);
        // A gap waits for the snapshot.
        assert_eq!(t.delta(1, 40, "x"), Change::Unchanged);
        assert_eq!(t.messages.get(1).unwrap().text, "Héllo w");
        let done = msg(1, Author::Bot, "Héllo world", MessageState::Complete);
        assert_eq!(t.snapshot(done.clone()), Change::Updated);
        assert_eq!(t.snapshot(done), Change::Unchanged);
    }

    #[test]
    fn an_ack_turns_the_pending_copy_into_a_message_once() {
        let mut t = Thread::default();
        t.pending.push(Pending {
            client_msg_id: "c1".into(),
            text: "hi".into(),
        });
        assert_eq!(t.ack("c1", 3, "now").map(|m| m.seq), Some(3));
        assert!(t.pending.is_empty());
        assert!(t.ack("c1", 3, "now").is_none());
        let mut echoed = msg(3, Author::Visitor, "hi", MessageState::Complete);
        echoed.client_msg_id = Some("c1".into());
        echoed.created_at = "now".into();
        assert_eq!(t.snapshot(echoed), Change::Unchanged);
        assert_eq!(t.last_seq(), 3);
    }

    #[test]
    fn a_snapshot_of_a_pending_message_clears_it() {
        let mut t = Thread::default();
        t.pending.push(Pending {
            client_msg_id: "c9".into(),
            text: "x".into(),
        });
        let mut m = msg(5, Author::Visitor, "x", MessageState::Complete);
        m.client_msg_id = Some("c9".into());
        assert_eq!(t.snapshot(m), Change::Added);
        assert!(t.pending.is_empty());
    }
}
