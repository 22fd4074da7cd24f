//! A knowledge service over a fresh SQLite database and embedded index in a temp dir, the
//! same way the server builds it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use concierge::bus::{Hub, LocalBus};
use concierge::config::Config;
use concierge::rag::Knowledge;
use concierge::store::Store;
use serde::Deserialize;

pub struct Bench {
    pub knowledge: Arc<Knowledge>,
    pub store: Arc<Store>,
    pub site_id: String,
    pub dir: PathBuf,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn config(dir: &Path) -> Config {
    let mut config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    if let Some(cache) = std::env::var_os("CONCIERGE_MODEL_CACHE") {
        config.model_cache = Some(PathBuf::from(cache));
    } else if let Some(home) = std::env::var_os("HOME") {
        config.model_cache = Some(PathBuf::from(home).join(".cache/concierge/models"));
    }
    config.model_dir = std::env::var_os("CONCIERGE_MODEL_DIR").map(PathBuf::from);
    config.ort_dylib = std::env::var_os("CONCIERGE_ORT_DYLIB").map(PathBuf::from);
    config
}

pub async fn bench() -> Result<Bench> {
    let dir = std::env::temp_dir().join(format!("concierge-kb-bench-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let config = config(&dir);
    let store = Arc::new(Store::connect(&config.database_url()).await?);
    store.migrate().await?;
    let knowledge = concierge::app::build_knowledge(
        &config,
        store.clone(),
        Arc::new(LocalBus::new(Hub::new())),
    )
    .await?;
    let site = concierge::accounts::create_site(&store, "Bench", &["*".to_string()], None)
        .await
        .context("creating the bench site")?;
    store
        .set_account_plan(&site.account_id, "enterprise")
        .await
        .context("unlimited plan for the bench")?;
    Ok(Bench {
        knowledge: Arc::new(knowledge),
        store,
        site_id: site.id,
        dir,
    })
}

#[derive(Debug, Deserialize)]
pub struct Question {
    pub question: String,
    pub gold_doc_ids: Vec<String>,
}

pub fn questions(data: &Path) -> Result<Vec<Question>> {
    let path = data.join("questions.jsonl");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

/// Ingests a directory through the real job pipeline; returns (documents, seconds).
pub async fn ingest_dir(b: &Bench, dir: &Path) -> Result<(usize, f64)> {
    let items = concierge::rag::items::local_items(b.knowledge.config.max_document_bytes, dir)?;
    let n = items.len();
    let started = std::time::Instant::now();
    b.knowledge.enqueue(&b.site_id, items).await?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    while b.knowledge.run_next_job(&shutdown).await?.is_some() {}
    Ok((n, started.elapsed().as_secs_f64()))
}
