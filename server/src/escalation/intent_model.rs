//! The shipped intent classifier: trained once from the data compiled into the binary and
//! kept in the model cache, so every later process (and every node sharing the cache) loads
//! it instead of embedding and training again.

use std::time::Instant;

use crate::rag::{Knowledge, RagError};
use crate::sentiment::intents::{exemplar_phrases, unit};
use crate::sentiment::model::{self, IntentModel};
use crate::sentiment::ExemplarSet;

/// Loads the cached classifier trained from exactly this binary's data and this embedding
/// model, or trains it (embedding every training text) and caches it.
pub async fn shipped(knowledge: &Knowledge) -> Result<ExemplarSet, RagError> {
    let embedder = knowledge.embedder().await?;
    let examples = model::training_examples(exemplar_phrases());
    let probe = embedder.embed_query(model::PROBE).await?;
    let key = model::cache_key(&probe, &examples);
    let dir = knowledge.model_cache_dir().join("intents");
    let path = dir.join(format!("intent-model-{key}.json"));
    if let Ok(json) = tokio::fs::read_to_string(&path).await {
        let parsed = tokio::task::spawn_blocking(move || IntentModel::from_json(&json))
            .await
            .ok()
            .flatten();
        match parsed {
            Some(m) if m.key == key => return Ok(ExemplarSet::from_model(m)),
            _ => {
                tracing::warn!(path = %path.display(), "cached intent classifier unreadable; training it again")
            }
        }
    }
    let started = Instant::now();
    let texts: Vec<String> = examples.iter().map(|(_, t)| t.clone()).collect();
    let vectors = embedder.embed_batch(texts).await?;
    let embedded = started.elapsed();
    let (m, report) = tokio::task::spawn_blocking(move || {
        let vectors: Vec<Vec<f32>> = vectors.into_iter().map(unit).collect();
        IntentModel::train(&examples, &vectors, key)
    })
    .await
    .map_err(|e| RagError::BadInput(format!("intent classifier training panicked: {e}")))?;
    tracing::info!(
        embed_ms = embedded.as_millis() as u64,
        train_ms = (started.elapsed() - embedded).as_millis() as u64,
        iterations = report.iterations,
        converged = report.converged,
        "intent classifier trained"
    );
    // Written under a unique name and renamed: a concurrent reader sees all or nothing.
    let json = m.to_json();
    let tmp = dir.join(format!(".intent-model-{}.tmp", uuid::Uuid::new_v4()));
    let saved = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(&tmp, json).await?;
        tokio::fs::rename(&tmp, &path).await
    }
    .await;
    if let Err(e) = saved {
        let _ = tokio::fs::remove_file(&tmp).await;
        tracing::warn!(error = %e, dir = %dir.display(), "intent classifier not cached; the next start trains it again");
    }
    Ok(ExemplarSet::from_model(m))
}
