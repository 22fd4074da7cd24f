//! Gap-free, duplicate-free delivery to one client for one conversation.
//!
//! Events can arrive out of seq order (two nodes publishing), be dropped (bus outage), or
//! repeat what the client already got in its `welcome`. The tracker remembers the highest seq
//! sent and the length of each message still streaming, and says for each event whether to
//! forward it, drop it, or resync from the store first. Pure logic; the session does the I/O.

use concierge_protocol::{Message, MessageState};

/// What to do with an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    Drop,
    /// Something before this event is missing: re-read the store after `last_sent`.
    Resync,
}

/// What to do with a delta.
#[derive(Debug, PartialEq, Eq)]
pub enum DeltaVerdict {
    /// Forward this (possibly trimmed) delta.
    Forward {
        offset: usize,
        text: String,
    },
    Drop,
    Resync,
}

#[derive(Debug, Default, Clone)]
pub struct SeqTracker {
    last_sent: i64,
    /// (seq, characters sent) of messages sent while streaming and not yet complete.
    streaming: Vec<(i64, usize)>,
}

impl SeqTracker {
    pub fn new(last_sent: i64) -> Self {
        SeqTracker {
            last_sent,
            streaming: Vec::new(),
        }
    }

    pub fn last_sent(&self) -> i64 {
        self.last_sent
    }

    /// Seqs of messages the client holds in streaming state.
    pub fn streaming_seqs(&self) -> Vec<i64> {
        self.streaming.iter().map(|(s, _)| *s).collect()
    }

    /// Decides about a message snapshot, and records it when forwarded.
    pub fn message(&mut self, m: &Message) -> Verdict {
        if m.seq <= self.last_sent {
            // Only an update of something still streaming is news.
            if self.streaming.iter().any(|(s, _)| *s == m.seq) {
                self.record(m);
                return Verdict::Forward;
            }
            return Verdict::Drop;
        }
        if m.seq == self.last_sent + 1 {
            self.last_sent = m.seq;
            self.record(m);
            return Verdict::Forward;
        }
        Verdict::Resync
    }

    /// Decides about a delta to a streaming message.
    pub fn delta(&mut self, seq: i64, offset: usize, text: &str) -> DeltaVerdict {
        if seq > self.last_sent {
            return DeltaVerdict::Resync;
        }
        let Some(entry) = self.streaming.iter_mut().find(|(s, _)| *s == seq) else {
            return DeltaVerdict::Drop; // complete already, or never streamed to this client
        };
        let have = entry.1;
        let len = text.chars().count();
        if offset + len <= have {
            return DeltaVerdict::Drop;
        }
        if offset > have {
            return DeltaVerdict::Resync;
        }
        entry.1 = offset + len;
        let skip = have - offset;
        let text = if skip == 0 {
            text.to_string()
        } else {
            text.chars().skip(skip).collect()
        };
        DeltaVerdict::Forward { offset: have, text }
    }

    fn record(&mut self, m: &Message) {
        self.streaming.retain(|(s, _)| *s != m.seq);
        if m.state == MessageState::Streaming {
            self.streaming.push((m.seq, m.text.chars().count()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_protocol::Author;

    fn msg(seq: i64, text: &str, state: MessageState) -> Message {
        Message {
            seq,
            author: Author::Bot,
            author_name: None,
            text: text.into(),
            state,
            client_msg_id: None,
            created_at: String::new(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn in_order_messages_forward_and_repeats_drop() {
        let mut t = SeqTracker::new(2);
        assert_eq!(
            t.message(&msg(2, "old", MessageState::Complete)),
            Verdict::Drop
        );
        assert_eq!(
            t.message(&msg(3, "a", MessageState::Complete)),
            Verdict::Forward
        );
        assert_eq!(
            t.message(&msg(3, "a", MessageState::Complete)),
            Verdict::Drop
        );
        assert_eq!(t.last_sent(), 3);
    }

    #[test]
    fn a_gap_asks_for_a_resync() {
        let mut t = SeqTracker::new(2);
        assert_eq!(
            t.message(&msg(5, "x", MessageState::Complete)),
            Verdict::Resync
        );
        assert_eq!(t.last_sent(), 2);
    }

    #[test]
    fn deltas_are_trimmed_to_what_the_client_lacks() {
        let mut t = SeqTracker::new(0);
        assert_eq!(
            t.message(&msg(1, "Hel", MessageState::Streaming)),
            Verdict::Forward
        );
        // Overlapping delta (published before the snapshot was read).
        assert_eq!(
            t.delta(1, 2, "llo"),
            DeltaVerdict::Forward {
                offset: 3,
                text: "lo".into()
            }
        );
        assert_eq!(t.delta(1, 0, "He"), DeltaVerdict::Drop);
        assert_eq!(t.delta(1, 9, "!"), DeltaVerdict::Resync);
        assert_eq!(
            t.message(&msg(1, "Hello", MessageState::Complete)),
            Verdict::Forward
        );
        assert_eq!(t.delta(1, 5, "!"), DeltaVerdict::Drop);
        assert!(t.streaming_seqs().is_empty());
    }

    #[test]
    fn delta_for_an_unseen_message_resyncs() {
        let mut t = SeqTracker::new(0);
        assert_eq!(t.delta(1, 0, "Hi"), DeltaVerdict::Resync);
    }

    #[test]
    fn multibyte_text_counts_characters_not_bytes() {
        let mut t = SeqTracker::new(0);
        t.message(&msg(1, "né", MessageState::Streaming));
        assert_eq!(
            t.delta(1, 1, "éü"),
            DeltaVerdict::Forward {
                offset: 2,
                text: "ü".into()
            }
        );
    }
}
