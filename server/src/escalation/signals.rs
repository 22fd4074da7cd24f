//! The signals of one visitor message: the shipped classifier over the message embedding
//! retrieval shares (VADER and the keyword rules without it), and "asked again".

use std::sync::Arc;

use super::Escalations;
use crate::sentiment::model::normalize;
use crate::sentiment::{analyze, cosine, MessageSignals};
use crate::store::SignalRecord;

/// Earlier visitor questions compared for "asked again".
pub(super) const REPEAT_LOOKBACK: usize = 3;
/// Questions shorter than this (in words) are never "asked again" ("ok", "hello?").
pub(super) const REPEAT_MIN_WORDS: usize = 4;

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
        if text.split_whitespace().count() < REPEAT_MIN_WORDS {
            return false;
        }
        let questions = earlier
            .iter()
            .rev()
            .filter(|s| s.text.split_whitespace().count() >= REPEAT_MIN_WORDS);
        for q in questions.take(REPEAT_LOOKBACK) {
            if let Some(v) = self.embedding(&q.text).await {
                if cosine(embedding, &v) >= threshold {
                    return true;
                }
            }
        }
        false
    }
}
