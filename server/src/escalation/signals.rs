//! The signals of one visitor message: the shipped classifier over the message embedding
//! retrieval shares (VADER and the keyword rules without it), and "asked again".

use std::sync::Arc;

use super::Escalations;
use crate::sentiment::model::normalize;
use crate::sentiment::{analyze, cosine, MessageSignals};
use crate::store::SignalRecord;

/// Earlier visitor questions compared for "asked again".
const REPEAT_LOOKBACK: usize = 3;
/// Questions shorter than this (in words) are never "asked again" ("ok", "hello?").
const REPEAT_MIN_WORDS: usize = 4;

impl Escalations {
    /// The message's embedding, from the cache retrieval shares.
    async fn embedding(&self, text: &str) -> Option<Arc<[f32]>> {
        let embedder = self.knowledge.embedder().await.ok()?;
        embedder.embed_query(text).await.ok()
    }

    /// Scores a text alone: the classifier when the embedding model is available, else VADER
    /// and the keyword rules.
    pub async fn analyze(&self, text: &str) -> (MessageSignals, Option<Arc<[f32]>>) {
        self.analyze_with(text, true).await
    }

    /// As [`analyze`](Self::analyze); `embed: false` skips the embedding (VADER and rules).
    pub async fn analyze_with(
        &self,
        text: &str,
        embed: bool,
    ) -> (MessageSignals, Option<Arc<[f32]>>) {
        if !embed {
            return (analyze(text, None, None), None);
        }
        let model = if self.live {
            self.model_ready().await
        } else {
            self.model().await
        };
        // The classifier reads the text without links and handles, and was trained on the
        // embeddings of such texts; for most messages that is the text itself, whose
        // embedding retrieval then finds in the query cache.
        let embedding = match model {
            Some(_) => self.embedding(&normalize(text)).await,
            None => None,
        };
        let signals = analyze(text, embedding.as_deref(), model);
        (signals, embedding)
    }

    /// Whether `embedding` repeats one of the visitor's recent questions (their embeddings come
    /// from the query cache: each was embedded when it was asked).
    pub(super) async fn repeats(
        &self,
        text: &str,
        earlier: &[SignalRecord],
        embedding: Option<&[f32]>,
        threshold: f32,
    ) -> bool {
        let Some(embedding) = embedding else {
            return false;
        };
        if !is_question(text) {
            return false;
        }
        // The last REPEAT_LOOKBACK questions, oldest first, as `repeats_any` takes them.
        let mut questions = Vec::with_capacity(REPEAT_LOOKBACK);
        for q in earlier.iter().rev().filter(|s| is_question(&s.text)) {
            if questions.len() == REPEAT_LOOKBACK {
                break;
            }
            if let Some(v) = self.embedding(&q.text).await {
                questions.push(v);
            }
        }
        questions.reverse();
        repeats_any(text, embedding, questions.iter().map(|q| &q[..]), threshold)
    }
}

/// Whether a visitor's message counts as a question for "asked again" (long enough).
pub(super) fn is_question(text: &str) -> bool {
    text.split_whitespace().count() >= REPEAT_MIN_WORDS
}

/// The "asked again" rule, for the live path and `concierge triage` alike: `text` (whose
/// embedding is `embedding`) is a question, and it is at least `threshold` similar to one of
/// the last [`REPEAT_LOOKBACK`] of `earlier`: the embeddings of the visitor's earlier
/// questions, oldest first.
pub(super) fn repeats_any<'e>(
    text: &str,
    embedding: &[f32],
    earlier: impl DoubleEndedIterator<Item = &'e [f32]>,
    threshold: f32,
) -> bool {
    is_question(text)
        && earlier
            .rev()
            .take(REPEAT_LOOKBACK)
            .any(|q| cosine(embedding, q) >= threshold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asked_again_needs_a_question_similar_to_one_of_the_last_three() {
        let (a, b, c, d) = ([1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6]);
        let long = "where is my order please";
        // Similar to the latest question.
        assert!(repeats_any(long, &a, [&b[..], &d[..]].into_iter(), 0.75));
        // Short messages are never "asked again".
        assert!(!repeats_any("where is it", &a, [&a[..]].into_iter(), 0.75));
        // Below the threshold.
        assert!(!repeats_any(long, &a, [&b[..], &c[..]].into_iter(), 0.75));
        // Only the last three questions count: `a` itself is the fourth from the end.
        assert!(!repeats_any(
            long,
            &a,
            [&a[..], &b[..], &b[..], &b[..]].into_iter(),
            0.75
        ));
        assert!(repeats_any(
            long,
            &a,
            [&b[..], &a[..], &b[..], &b[..]].into_iter(),
            0.75
        ));
    }
}
