use std::collections::BTreeMap;

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::Author;
use concierge_tests::*;

/// Deterministic pseudo-random numbers, so a failure reproduces.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What a careful client keeps: messages by seq.
#[derive(Default)]
struct ClientView {
    messages: BTreeMap<i64, String>,
}

impl ClientView {
    /// Highest seq held with nothing missing below it: what a client resumes from.
    fn last_seq(&self) -> i64 {
        let mut n = 0;
        while self.messages.contains_key(&(n + 1)) {
            n += 1;
        }
        n
    }
    fn absorb(&mut self, frame: &VisitorServerFrame) {
        if let VisitorServerFrame::Message { message } = frame {
            self.messages.insert(message.seq, message.text.clone());
        }
    }
}

#[tokio::test]
async fn random_disconnects_and_resends_lose_nothing_and_duplicate_nothing() {
    let app = spawn_app().await;
    let mut rng = Lcg(0x5eed);
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let mut view = ClientView::default();
    let total = 40;
    let mut next = 0;
    let mut frames_seen = 0usize;
    while next < total {
        // Send a burst, then drop the socket at a random point (possibly before acks arrive).
        let burst = 1 + rng.next(5) as usize;
        let unacked: Vec<usize> = (next..(next + burst).min(total)).collect();
        for i in &unacked {
            v.send(&VisitorClientFrame::Send {
                client_msg_id: format!("c{i}"),
                text: format!("msg {i}"),
            })
            .await;
        }
        let read = rng.next(3 * burst as u64 + 1);
        let mut acked = Vec::new();
        for _ in 0..read {
            match v.next_within(std::time::Duration::from_millis(500)).await {
                Some(VisitorServerFrame::Ack { client_msg_id, .. }) => acked.push(client_msg_id),
                Some(f) => {
                    frames_seen += 1;
                    view.absorb(&f)
                }
                None => break,
            }
        }
        drop(v);
        // Reconnect with what we hold and resend everything not acked, same ids.
        v = app.visitor().await;
        let welcome = v
            .hello(
                Some(&w.token),
                Some(&w.conversation_id),
                Some(view.last_seq()),
            )
            .await
            .unwrap();
        for m in &welcome.messages {
            assert!(m.seq > view.last_seq() || view.messages.contains_key(&m.seq));
            view.messages.insert(m.seq, m.text.clone());
        }
        for i in &unacked {
            if !acked.contains(&format!("c{i}")) {
                v.say(&format!("c{i}"), &format!("msg {i}")).await.unwrap();
            }
        }
        next += unacked.len();
    }
    // Final resume picks up whatever the last socket did not read.
    drop(v);
    let mut v = app.visitor().await;
    let welcome = v
        .hello(Some(&w.token), None, Some(view.last_seq()))
        .await
        .unwrap();
    for m in &welcome.messages {
        view.messages.insert(m.seq, m.text.clone());
    }
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(
        stored.len(),
        total,
        "each client_msg_id stored exactly once"
    );
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=total as i64).collect::<Vec<_>>()
    );
    assert_eq!(view.messages.len(), total, "the client holds every message");
    let mut texts: Vec<_> = view.messages.values().cloned().collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), total, "no message shows twice");
    assert!(frames_seen > 0);
}

#[tokio::test]
async fn agent_messages_sent_while_the_visitor_was_away_arrive_on_resume() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let seq = v.say("q", "anyone?").await.unwrap();
    drop(v);
    let mut agent = app.agent().await;
    for i in 0..3 {
        agent
            .reply(&w.conversation_id, &format!("r{i}"), &format!("answer {i}"))
            .await
            .unwrap();
    }
    let mut v = app.visitor().await;
    let welcome = v.hello(Some(&w.token), None, Some(seq)).await.unwrap();
    let agent_texts: Vec<_> = welcome
        .messages
        .iter()
        .filter(|m| m.author == Author::Agent)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(agent_texts, vec!["answer 0", "answer 1", "answer 2"]);
    let seqs: Vec<_> = welcome.messages.iter().map(|m| m.seq).collect();
    assert_eq!(
        seqs,
        (seq + 1..=seq + 4).collect::<Vec<_>>(),
        "system line + 3 replies, no gap"
    );
    // And live delivery continues after the resume.
    agent
        .reply(&w.conversation_id, "r-live", "live")
        .await
        .unwrap();
    let live = v.agent_message().await;
    assert_eq!((live.text.as_str(), live.seq), ("live", seq + 5));
}

#[tokio::test]
async fn a_stale_or_bogus_last_seq_still_yields_a_consistent_stream() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    for i in 0..3 {
        v.say(&format!("m{i}"), "x").await.unwrap();
    }
    // Stale: everything after 0.
    let mut stale = app.visitor().await;
    let ws = stale.hello(Some(&w.token), None, Some(0)).await.unwrap();
    assert_eq!(ws.messages.len(), 3);
    // Beyond what exists (e.g. a client from a restored backup): nothing now, and new messages
    // still arrive instead of being swallowed as "already seen".
    let mut bogus = app.visitor().await;
    let wb = bogus.hello(Some(&w.token), None, Some(99)).await.unwrap();
    assert!(wb.messages.is_empty());
    let mut agent = app.agent().await;
    agent.reply(&w.conversation_id, "r", "new").await.unwrap();
    let got = bogus
        .wait_for(|f| match f {
            VisitorServerFrame::Message { message } if message.author == Author::Agent => {
                Some(message.seq)
            }
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(got, 5);
}
