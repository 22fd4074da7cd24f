//! "Ask your docs": an owner or agent asks the site's knowledge base a question and reads the
//! answer the bot would give a visitor, with the passages it was written from. The same
//! retrieval, gate and answer as a visitor's turn ([`super::compose`]); no conversation is
//! created, no knowledge gap recorded and the plan's bot answers are not counted (LLM tokens
//! are still recorded as usage: they are spent).

use concierge_protocol::kb_api::{AskEvent, AskPassage};
use tokio::sync::mpsc;

use super::compose::{AnswerSink, Written};
use super::{Bot, BotError, DONT_KNOW};
use crate::rag::Hit;

/// Sends each piece of the answer as an [`AskEvent::Delta`].
struct EventSink<'a> {
    events: &'a mpsc::Sender<AskEvent>,
}

#[async_trait::async_trait]
impl AnswerSink for EventSink<'_> {
    async fn write(&mut self, text: &str) -> Result<(), BotError> {
        if text.is_empty() {
            return Ok(());
        }
        let delta = AskEvent::Delta {
            text: text.to_string(),
        };
        self.events
            .send(delta)
            .await
            .map_err(|_| BotError::ReaderGone)
    }
}

fn passage(hit: &Hit) -> AskPassage {
    AskPassage {
        document_id: hit.chunk.doc_key.clone(),
        title: hit.chunk.title.clone(),
        url: hit.chunk.url.clone(),
        section: hit.chunk.heading.clone(),
        score: hit.score,
        similarity: hit.similarity,
        text: hit.chunk.text.clone(),
    }
}

impl Bot {
    /// Answers `question` on the site as the bot would answer a visitor, into `events`:
    /// `passages`, then `delta`s, then `done`. Returns `Ok` early when the receiver is gone;
    /// an error is the caller's to send as an `error` event.
    pub async fn ask(
        &self,
        site_id: &str,
        question: &str,
        events: &mpsc::Sender<AskEvent>,
    ) -> Result<(), BotError> {
        let retrieval = self.retrieve(site_id, question).await?;
        let found = AskEvent::Passages {
            passages: retrieval.outcome.hits.iter().map(passage).collect(),
            best_similarity: retrieval.outcome.best_similarity,
            threshold: retrieval.min_similarity,
        };
        if events.send(found).await.is_err() {
            return Ok(());
        }
        let mut sink = EventSink { events };
        let written = match retrieval.answerable() {
            Some(hits) => {
                self.write_answer(site_id, question, &[], &hits, &mut sink)
                    .await
            }
            None => sink.write(DONT_KNOW).await.map(|()| Written {
                text: DONT_KNOW.to_string(),
                sources: Vec::new(),
                answered: false,
            }),
        };
        let written = match written {
            Ok(w) => w,
            Err(BotError::ReaderGone) => return Ok(()),
            Err(e) => return Err(e),
        };
        let done = AskEvent::Done {
            answer: written.text,
            citations: written.sources,
            answered: written.answered,
        };
        // A reader gone at the very end has nothing left to miss.
        let _ = events.send(done).await;
        Ok(())
    }
}
