//! The escalation service the replays run on: a temp data dir, SQLite, the local bus, the
//! embedding model, and the shipped classifier (or one just trained, to measure it first).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use concierge::bus::{Hub, LocalBus};
use concierge::chat::Chat;
use concierge::config::Config;
use concierge::escalation::{Escalations, Presence};
use concierge::limits::{Limits, LimitsConfig};
use concierge::metrics::Metrics;
use concierge::sentiment::EscalationModel;
use concierge::store::Store;

use crate::Args;

pub struct Setup {
    pub escalations: Escalations,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The service for `args`: the classifier in `--model` when given, else the shipped one.
pub async fn setup_for(args: &Args) -> Result<Setup> {
    let model = match &args.model {
        Some(path) => Some(
            EscalationModel::from_json(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("{} is not an escalation model", path.display()))?,
        ),
        None => None,
    };
    setup_with(model, llm_of(args), true).await
}

/// The language model `--llm-url` names (base URL with `/v1`, model).
fn llm_of(args: &Args) -> Option<(String, String)> {
    args.llm_url
        .clone()
        .map(|url| (url, args.llm_model.clone()))
}

/// As [`setup_for`], with an OpenAI-compatible language model (for `llm_review`);
/// `require_model`: fail unless the classifier is in use (the embedding model is found and
/// is the one it was trained with).
pub async fn setup_with(
    model: Option<EscalationModel>,
    llm: Option<(String, String)>,
    require_model: bool,
) -> Result<Setup> {
    let dir = std::env::temp_dir().join(format!("concierge-triage-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let mut config = Config {
        data_dir: dir.clone(),
        ..Config::default()
    };
    if let Some(cache) = std::env::var_os("CONCIERGE_MODEL_CACHE") {
        config.model_cache = Some(PathBuf::from(cache));
    } else if let Some(home) = std::env::var_os("HOME") {
        config.model_cache = Some(PathBuf::from(home).join(".cache/concierge/models"));
    }
    config.model_dir = std::env::var_os("CONCIERGE_MODEL_DIR").map(PathBuf::from);
    config.ort_dylib = std::env::var_os("CONCIERGE_ORT_DYLIB").map(PathBuf::from);
    if let Some((url, model)) = llm {
        config.llm_base_url = Some(url);
        config.llm_model = model;
        // A hosted model's key, under the server's own variable.
        config.llm_api_key = std::env::var("CONCIERGE_LLM_API_KEY").ok().map(Into::into);
    }
    let store = Arc::new(Store::connect(&config.database_url()).await?);
    store.migrate().await?;
    let bus = Arc::new(LocalBus::new(Hub::new()));
    let knowledge =
        Arc::new(concierge::app::build_knowledge(&config, store.clone(), bus.clone()).await?);
    let chat = Arc::new(Chat {
        store,
        bus,
        limits: Limits::new(LimitsConfig::default(), None),
        metrics: Arc::new(Metrics::default()),
    });
    let escalations = Escalations::new(chat, knowledge, Arc::new(Presence::new("bench")));
    if let Some(model) = model {
        escalations.use_model(model).map_err(anyhow::Error::msg)?;
    }
    if require_model {
        escalations.model().await.context(
            "the escalation classifier is not in use: fetch the embedding model (`concierge \
             model fetch`) or train one (`cargo xtask train-escalation`)",
        )?;
    }
    Ok(Setup { escalations, dir })
}
