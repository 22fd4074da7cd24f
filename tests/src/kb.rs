//! Knowledge-base helpers: the fixture help center, ingesting through the server's own job
//! worker, owner tokens for the API, and reading a bot answer off a visitor socket.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use concierge::store::JobRecord;
use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::{Author, Message, MessageState, Phase};

use crate::{TestApp, Visitor, WAIT};

/// `tests/fixtures/helpcenter`: refunds, shipping, a password page, store hours (HTML with
/// navigation around the content) and a warranty note (plain text).
pub fn helpcenter() -> PathBuf {
    crate::package_dir().join("fixtures/helpcenter")
}

/// The COVID FAQ dev set's 213 documents (`tests/fixtures/covid_faq`, Apache-2.0).
pub fn covid_docs() -> PathBuf {
    crate::package_dir().join("fixtures/covid_faq/docs")
}

impl TestApp {
    pub async fn site_id(&self) -> String {
        self.app
            .chat
            .store
            .site_by_key(&self.site_key)
            .await
            .unwrap()
            .expect("test site")
            .id
    }

    /// Queues `path` (file or directory) and waits until the server's worker finished it.
    pub async fn ingest(&self, path: &Path) -> JobRecord {
        crate::needs::model().await;
        let kb = &self.app.knowledge;
        let items = concierge::rag::items::local_items(kb.config.max_document_bytes, path)
            .expect("readable fixture");
        let job = kb
            .enqueue(&self.site_id().await, items)
            .await
            .expect("queued");
        self.wait_job(&job.id).await
    }

    /// Waits (up to a minute: the first call may load the model) for a job to finish.
    pub async fn wait_job(&self, job_id: &str) -> JobRecord {
        let site_id = self.site_id().await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let job = self
                .app
                .chat
                .store
                .job(&site_id, job_id)
                .await
                .unwrap()
                .expect("job exists");
            if job.is_finished() {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} did not finish: {job:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A bearer token of a new owner of the test site's account (documents need owner/admin).
    pub async fn owner_token(&self) -> String {
        let email = format!(
            "owner-{}@shop.example",
            &uuid::Uuid::new_v4().to_string()[..8]
        );
        concierge::accounts::create_agent(
            &self.app.chat.store,
            &email,
            Some("Olga"),
            "owner",
            &self.site_key,
        )
        .await
        .expect("owner created");
        concierge::accounts::issue_token(&self.app.chat.store, &email)
            .await
            .expect("token")
            .1
    }
}

/// A bot answer as the visitor saw it.
#[derive(Debug, Clone)]
pub struct SeenAnswer {
    /// Phases announced before the text, in order.
    pub phases: Vec<Phase>,
    /// Deltas received (0 for a one-piece message).
    pub deltas: usize,
    /// The text rebuilt from snapshot + deltas, before the final snapshot.
    pub streamed_text: String,
    /// The final snapshot.
    pub message: Message,
}

/// Reads frames until the bot's answer is complete.
pub async fn bot_answer(v: &mut Visitor) -> SeenAnswer {
    bot_answer_within(v, WAIT * 3).await
}

/// As [`bot_answer`], with a longer budget: a real LLM on a loaded 2-core CI machine (the
/// whole suite runs in parallel next to it) may need more than 30 s for a full answer, and
/// more than `WAIT` between two frames.
pub async fn bot_answer_within(v: &mut Visitor, budget: std::time::Duration) -> SeenAnswer {
    let deadline = Instant::now() + budget;
    let mut phases = Vec::new();
    let mut deltas = 0;
    let mut text = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // A single read gives up after `WAIT` without a frame; a slow LLM's first token may
        // take longer, so keep reading until the whole budget is spent.
        let frame = match v.next_within(left).await {
            Some(f) => f,
            None if Instant::now() + std::time::Duration::from_millis(100) < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
            None => panic!("the bot did not answer within {budget:?}"),
        };
        match frame {
            VisitorServerFrame::Status { phase: Some(p), .. } => phases.push(p),
            VisitorServerFrame::Delta {
                text: piece,
                offset,
                ..
            } => {
                assert_eq!(offset, text.chars().count(), "deltas arrive in order");
                text.push_str(&piece);
                deltas += 1;
            }
            VisitorServerFrame::Message { message } if message.author == Author::Bot => {
                if message.state == MessageState::Complete {
                    return SeenAnswer {
                        phases,
                        deltas,
                        streamed_text: text,
                        message,
                    };
                }
                text = message.text.clone();
            }
            _ => {}
        }
    }
}
