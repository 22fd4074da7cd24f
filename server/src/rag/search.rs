//! Hybrid retrieval: dense (vector index) and lexical (the database's full-text index)
//! candidates fused by reciprocal rank, then read back from the database, which drops any
//! candidate whose chunk no longer exists. The bot, `concierge search` and the search API all
//! call [`Knowledge::search`].

use std::collections::HashMap;

use super::{terms, Knowledge, RagError};
use crate::store::ChunkRecord;

/// Which retrievers to use; the bot always uses `Hybrid`, the others exist to measure.
/// `lexical`, `dense` or `hybrid` in the search API's `mode` and `concierge search --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum SearchMode {
    Hybrid,
    Dense,
    Lexical,
}

/// One retrieved chunk.
#[derive(Debug, Clone)]
pub struct Hit {
    pub chunk: ChunkRecord,
    /// Fused score (reciprocal rank fusion; higher is better).
    pub score: f32,
    /// Cosine similarity to the question, when the dense side proposed this chunk.
    pub similarity: Option<f32>,
}

/// Ranked hits and how confident retrieval is.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub hits: Vec<Hit>,
    /// Best cosine similarity among the dense candidates (0 without any): the confidence
    /// gate compares it with the site's threshold.
    pub best_similarity: f32,
}

/// Candidates each retriever contributes before fusion.
const CANDIDATES: usize = 20;
/// The usual RRF constant (Cormack et al. 2009): damps the weight of the very top ranks.
const RRF_K: f32 = 60.0;

impl Knowledge {
    /// The `k` best chunks of the site for `question`.
    pub async fn search(
        &self,
        site_id: &str,
        question: &str,
        k: usize,
        mode: SearchMode,
    ) -> Result<SearchOutcome, RagError> {
        let k = k.clamp(1, 50);
        let want = k.max(CANDIDATES);
        // The two sides run at the same time: embedding runs on a blocking thread, full-text
        // search on SQLite's worker thread (or Postgres), so on two cores they overlap.
        let dense = async {
            if mode == SearchMode::Lexical {
                return Ok::<_, RagError>(Vec::new());
            }
            let embedder = self.embedder().await?;
            let vector = embedder.embed_query(question).await?;
            Ok(self
                .index
                .search(site_id, &vector, want)
                .await?
                .into_iter()
                .map(|h| (h.id as i64, h.score))
                .collect::<Vec<_>>())
        };
        let lexical = async {
            if mode == SearchMode::Dense {
                return Ok::<_, RagError>(Vec::new());
            }
            let words = terms::content_words(question);
            Ok(self.store.lexical_search(site_id, &words, want).await?)
        };
        let (dense, lexical) = tokio::try_join!(dense, lexical)?;
        let best_similarity = dense.first().map(|(_, s)| *s).unwrap_or(0.0);
        let fused = fuse(&dense, &lexical, self.config.lexical_weight);
        let top: Vec<i64> = fused.iter().take(k).map(|(id, _)| *id).collect();
        let mut rows: HashMap<i64, ChunkRecord> = self
            .store
            .chunks_by_ids(site_id, &top)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let similarity: HashMap<i64, f32> = dense.iter().copied().collect();
        let hits = fused
            .into_iter()
            .take(k)
            .filter_map(|(id, score)| {
                rows.remove(&id).map(|chunk| Hit {
                    chunk,
                    score,
                    similarity: similarity.get(&id).copied(),
                })
            })
            .collect();
        Ok(SearchOutcome {
            hits,
            best_similarity,
        })
    }
}

/// The JSON shape shared by `concierge search --json` and `GET /api/v1/sites/KEY/search`.
pub fn outcome_json(question: &str, outcome: &SearchOutcome) -> serde_json::Value {
    let results: Vec<serde_json::Value> = outcome
        .hits
        .iter()
        .map(|h| {
            serde_json::json!({
                "document_id": h.chunk.doc_key,
                "title": h.chunk.title,
                "section": h.chunk.heading,
                "location": h.chunk.location,
                "url": h.chunk.url,
                "score": h.score,
                "similarity": h.similarity,
                "text": h.chunk.text,
            })
        })
        .collect();
    serde_json::json!({ "question": question, "results": results })
}

/// Weighted reciprocal rank fusion of two ranked id lists (the lexical side counts
/// `lexical_weight` times a dense rank); ties keep the dense order first.
pub fn fuse(dense: &[(i64, f32)], lexical: &[(i64, f64)], lexical_weight: f32) -> Vec<(i64, f32)> {
    let mut scores: Vec<(i64, f32, usize)> = Vec::new();
    let mut add = |id: i64, rank: usize, order: usize, weight: f32| {
        let s = weight / (RRF_K + rank as f32 + 1.0);
        match scores.iter_mut().find(|(i, _, _)| *i == id) {
            Some(entry) => entry.1 += s,
            None => scores.push((id, s, order)),
        }
    };
    for (rank, (id, _)) in dense.iter().enumerate() {
        add(*id, rank, rank, 1.0);
    }
    for (rank, (id, _)) in lexical.iter().enumerate() {
        add(*id, rank, dense.len() + rank, lexical_weight);
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
    scores.into_iter().map(|(id, s, _)| (id, s)).collect()
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn search_modes_parse_the_words_the_api_and_the_cli_take() {
        let names: Vec<&str> = SearchMode::iter().map(<&str>::from).collect();
        assert_eq!(names, ["hybrid", "dense", "lexical"]);
        for mode in SearchMode::iter() {
            let name: &str = mode.into();
            assert_eq!(name.parse::<SearchMode>().ok(), Some(mode));
            let cli = mode
                .to_possible_value()
                .expect("every mode is a CLI choice");
            assert_eq!(cli.get_name(), name);
        }
    }

    #[test]
    fn fusion_rewards_agreement_between_retrievers() {
        // 3 is second for both and beats 1 and 7, each first for only one retriever.
        let dense = [(1, 0.9), (3, 0.8), (5, 0.7)];
        let lexical = [(7, 12.0), (3, 10.0), (9, 4.0)];
        let fused = fuse(&dense, &lexical, 1.0);
        let ids: Vec<i64> = fused.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids[0], 3);
        assert_eq!(ids.len(), 5);
        assert_eq!(&ids[1..3], &[1, 7]);
    }

    #[test]
    fn ties_keep_the_dense_order_and_the_lexical_weight_scales_its_ranks() {
        let dense = [(1, 0.9), (2, 0.8)];
        let lexical = [(2, 9.0), (1, 8.0)];
        // Plain RRF: a tie broken by dense order; weighted: dense's first stays first.
        assert_eq!(fuse(&dense, &lexical, 1.0)[0].0, 1);
        let weighted = fuse(&dense, &[(3, 9.0), (2, 8.0)], 0.5);
        let ids: Vec<i64> = weighted.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![2, 1, 3]);
    }

    #[test]
    fn fusion_of_one_side_keeps_its_order() {
        let lexical = [(4, 3.0), (2, 2.0), (8, 1.0)];
        let ids: Vec<i64> = fuse(&[], &lexical, 0.5).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, vec![4, 2, 8]);
    }
}
