//! The shipped intent classifier: trained once from the data compiled into the binary and
//! kept in the model cache, so every later process (and every node sharing the cache) loads
//! it instead of embedding and training again.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::OnceCell;

use super::Escalations;
use crate::rag::{Knowledge, RagError};
use crate::sentiment::intents::{exemplar_phrases, unit, Scorer};
use crate::sentiment::model::{self, IntentModel};
use crate::sentiment::{ExemplarSet, Intent};

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

/// The shipped exemplars, embedded once per process: one model per process (see
/// `rag::loaded_models`), however many services run (tests run many).
static SHIPPED: OnceCell<Arc<ExemplarSet>> = OnceCell::const_new();

pub(super) async fn shipped_exemplars(
    knowledge: Arc<Knowledge>,
) -> Result<Arc<ExemplarSet>, RagError> {
    let set = SHIPPED
        .get_or_try_init(|| async { Ok::<_, RagError>(Arc::new(shipped(&knowledge).await?)) })
        .await?;
    Ok(set.clone())
}

impl Escalations {
    /// The embedded exemplar phrases, built on first use; `None` while the model is
    /// unavailable (rules still work).
    pub async fn exemplars(&self) -> Option<Arc<ExemplarSet>> {
        let built = self
            .exemplars
            .get_or_try_init(|| shipped_exemplars(self.knowledge.clone()))
            .await;
        match built {
            Ok(set) => Some(set.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "intent exemplars unavailable; keyword rules only");
                None
            }
        }
    }

    /// The exemplars if they are ready, without waiting: on the live path a visitor never
    /// waits for the exemplars to be embedded (the server builds them at start when it
    /// preloads the model). When they are not ready the build starts in the background and
    /// this message gets the keyword rules.
    pub(super) fn exemplars_ready(&self) -> Option<Arc<ExemplarSet>> {
        if let Some(set) = self.exemplars.get().or_else(|| SHIPPED.get()) {
            return Some(set.clone());
        }
        if !self.building.swap(true, Ordering::AcqRel) {
            let knowledge = self.knowledge.clone();
            tokio::spawn(async move {
                if let Err(e) = shipped_exemplars(knowledge).await {
                    tracing::warn!(error = %e, "intent exemplars unavailable; keyword rules only");
                }
            });
        }
        None
    }

    /// Uses `phrases` instead of the shipped exemplars (evaluation of other exemplar sets).
    /// Fails when the exemplars were already built.
    pub async fn use_exemplars(
        &self,
        phrases: Vec<(Option<Intent>, String)>,
        scorer: Scorer,
    ) -> Result<(), RagError> {
        let embedder = self.knowledge.embedder().await?;
        let texts: Vec<String> = phrases.iter().map(|(_, p)| p.clone()).collect();
        let vectors = embedder.embed_batch(texts).await?;
        self.exemplars
            .set(Arc::new(
                ExemplarSet::new(&phrases, vectors).with_scorer(scorer),
            ))
            .map_err(|_| RagError::BadInput("exemplars already built".into()))
    }
}
