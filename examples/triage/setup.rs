//! The escalation service the replays run on: a temp data dir, SQLite, the local bus, the
//! embedding model, and the exemplar phrases (shipped, or others for experiments).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use concierge::bus::{Hub, LocalBus};
use concierge::chat::Chat;
use concierge::config::Config;
use concierge::escalation::{Escalations, Presence};
use concierge::limits::{Limits, LimitsConfig};
use concierge::metrics::Metrics;
use concierge::store::Store;

use crate::{read_jsonl, Args, Turn};

pub struct Setup {
    pub escalations: Escalations,
    dir: PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn setup_for(args: &Args) -> Result<Setup> {
    use concierge::sentiment::intents::Scorer;
    let custom = args.dev_exemplars
        || !args.extra_exemplars.is_empty()
        || args.no_shipped
        || args.no_training_turns;
    let scorer = match &args.scorer {
        Some(s) => Some(Scorer::parse(s).context("--scorer is model, vote, linear or mean")?),
        None => None,
    };
    if !custom && scorer.is_none() {
        return setup_with(None, llm_of(args)).await;
    }
    let mut phrases = if args.no_shipped {
        Vec::new()
    } else {
        concierge::sentiment::intents::exemplar_phrases()
    };
    for file in &args.extra_exemplars {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let map: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        for (label, list) in map {
            let intent = match label.as_str() {
                "none" => None,
                l => Some(
                    concierge::sentiment::Intent::parse(l)
                        .with_context(|| format!("unknown intent {l}"))?,
                ),
            };
            phrases.extend(list.into_iter().map(|p| (intent, p)));
        }
    }
    let turns: Vec<Turn> = if args.dev_exemplars {
        read_jsonl(&args.transcripts.join("dev.jsonl"))?
    } else {
        Vec::new()
    };
    for t in turns {
        match t.intents.as_slice() {
            [one] => {
                if let Some(i) = concierge::sentiment::Intent::parse(one) {
                    phrases.push((Some(i), t.text));
                }
            }
            [] if !t.escalate && !t.negative => phrases.push((None, t.text)),
            _ => {}
        }
    }
    let scorer = scorer.unwrap_or(Scorer::Model);
    // The classifier trains on the training transcripts too, as the shipped one does; the
    // vote and the embedding-only regression score the phrases alone, as they always did.
    if scorer == Scorer::Model && !args.no_training_turns {
        phrases = concierge::sentiment::model::training_examples(phrases);
    }
    eprintln!("{} training texts, scorer {scorer:?}", phrases.len());
    setup_with(Some((phrases, scorer)), llm_of(args)).await
}

/// The language model `--llm-url` names (base URL with `/v1`, model).
fn llm_of(args: &Args) -> Option<(String, String)> {
    args.llm_url
        .clone()
        .map(|url| (url, args.llm_model.clone()))
}

/// Exemplar phrases and how they score.
pub type Exemplars = (
    Vec<(Option<concierge::sentiment::Intent>, String)>,
    concierge::sentiment::intents::Scorer,
);

pub async fn setup(phrases: Option<Exemplars>) -> Result<Setup> {
    setup_with(phrases, None).await
}

/// As [`setup`], with an OpenAI-compatible language model (for `llm_review`).
pub async fn setup_with(
    phrases: Option<Exemplars>,
    llm: Option<(String, String)>,
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
    if let Some((phrases, scorer)) = phrases {
        escalations.use_exemplars(phrases, scorer).await?;
    }
    escalations
        .exemplars()
        .await
        .context("the embedding model is needed: run `concierge model fetch`")?;
    Ok(Setup { escalations, dir })
}
