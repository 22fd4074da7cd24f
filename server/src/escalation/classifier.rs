//! The shipped escalation classifier ([`EscalationModel`], compiled in as data), used when the
//! running embedding model is the one it was trained with: checked once per service by
//! embedding the model's probe sentence. Nothing is trained here.

use super::Escalations;
use crate::rag::Knowledge;
use crate::sentiment::model::{EscalationModel, PROBE};

/// The shipped classifier if `knowledge`'s embedder is the one it was trained with.
async fn checked(knowledge: &Knowledge) -> Option<&'static EscalationModel> {
    let model = EscalationModel::shipped()?;
    let probe = match knowledge.embedder().await {
        Ok(embedder) => embedder.embed_query(PROBE).await,
        Err(e) => {
            tracing::warn!(error = %e, "embedding model unavailable; escalation uses keyword rules and VADER");
            return None;
        }
    };
    match probe {
        Ok(p) if model.accepts_embedder(&p) => Some(model),
        Ok(_) => {
            tracing::warn!(
                trained_with = %model.embedding.model,
                "the escalation classifier was trained with another embedding model; escalation uses keyword rules and VADER"
            );
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "embedding failed; escalation uses keyword rules and VADER");
            None
        }
    }
}

impl Escalations {
    /// The classifier, once the embedder has loaded and been checked against it; `None` when
    /// the embedding model is unavailable or another one (VADER and keyword rules then).
    pub async fn model(&self) -> Option<&'static EscalationModel> {
        *self.model.get_or_init(|| checked(&self.knowledge)).await
    }

    /// The classifier if the embedding model is loaded already, without loading it: on the
    /// live path a visitor never waits for the model to load (the server loads it at start,
    /// and retrieval on the first question). Until then a message gets the keyword rules and
    /// VADER. The check itself embeds one sentence, once.
    pub(super) async fn model_ready(&self) -> Option<&'static EscalationModel> {
        if let Some(checked) = self.model.get() {
            return *checked;
        }
        self.knowledge.embedder_loaded()?;
        self.model().await
    }

    /// Uses `model` instead of the shipped one (measuring a model before it ships, in
    /// `examples/triage`). Fails when the classifier was already chosen.
    pub fn use_model(&self, model: EscalationModel) -> Result<(), &'static str> {
        let model: &'static EscalationModel = Box::leak(Box::new(model));
        self.model
            .set(Some(model))
            .map_err(|_| "the escalation classifier was already chosen")
    }
}

#[cfg(test)]
mod tests {
    use crate::sentiment::model::EscalationModel;

    /// The classifier reads the retrieval model's embeddings: same width (the probe checks the
    /// rest at run time). Here, where both may be imported: `sentiment` imports no other module.
    #[test]
    fn the_shipped_classifier_reads_embeddings_of_the_retrieval_models_width() {
        let m = EscalationModel::shipped().expect("data/escalation-model.json loads");
        assert_eq!(m.embedding.dim, crate::rag::embed::DIM);
    }
}
