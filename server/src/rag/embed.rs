//! Sentence embeddings for documents and visitor questions.
//!
//! all-MiniLM-L6-v2 (int8 weights) runs on ONNX Runtime through fastembed, with mean pooling and
//! L2-normalised 384-dimensional output, so cosine similarity is a dot product. fastembed's
//! `embed` needs `&mut self`, so the one session sits behind a fair async mutex: a long ingestion
//! batch is run in slices of [`BATCH_SIZE`] and a visitor's query waits for one slice at most,
//! never for the whole document. Visitors repeat questions, so query vectors are kept in an LRU.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use lru::LruCache;
use ort::environment::Environment;
use tokenizers::Tokenizer;

use super::provision::ModelFiles;

#[cfg(test)]
mod tests;

/// Length of every vector.
pub const DIM: usize = 384;
/// all-MiniLM-L6-v2 was trained on 256-token windows; longer input is silently truncated.
pub const MAX_INPUT_TOKENS: usize = 256;
/// What [`Embedder::count_tokens`] may return for a chunk that is embedded whole: the model
/// input also carries `[CLS]` and `[SEP]`.
pub const MAX_CHUNK_TOKENS: usize = MAX_INPUT_TOKENS - 2;
/// Default number of query vectors kept.
pub const DEFAULT_QUERY_CACHE: usize = 1024;
/// Texts per ONNX run: large enough to amortise a run, small enough that a query waiting behind an
/// ingestion batch is answered within tens of milliseconds.
const BATCH_SIZE: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("could not load ONNX Runtime from {path}: {message}. Set CONCIERGE_ORT_DYLIB to an ONNX Runtime >= 1.24 shared library")]
    Runtime { path: PathBuf, message: String },
    #[error("could not read model file {path}: {source}")]
    ReadModelFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the embedding model failed: {0}")]
    Model(#[from] fastembed::Error),
    #[error("the tokenizer could not be configured: {0}")]
    Tokenizer(String),
    #[error("the model produced {got} vectors of {dim} values for {expected} texts, expected {DIM} values each")]
    UnexpectedOutput {
        expected: usize,
        got: usize,
        dim: usize,
    },
    #[error("the embedding worker stopped unexpectedly: {0}")]
    Worker(String),
}

/// A loaded model. Cloning is cheap and clones share the session and the query cache.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<Inner>,
}

struct Inner {
    /// The ONNX session; tokio's mutex because it is fair, which bounds how long a query can be
    /// starved by an ingestion batch.
    model: Arc<tokio::sync::Mutex<TextEmbedding>>,
    /// A copy of the model's tokenizer without truncation or padding, so counts are true lengths
    /// and counting never waits for the session.
    tokenizer: Tokenizer,
    /// `None` when the capacity is zero.
    query_cache: Option<Mutex<LruCache<String, Arc<[f32]>>>>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model with `threads` ONNX intra-op threads and a [`DEFAULT_QUERY_CACHE`] cache.
    /// Blocking (reads ~23 MB and builds the session): call it from `spawn_blocking` or at
    /// start-up.
    pub fn load(files: &ModelFiles, threads: usize) -> Result<Self, EmbedError> {
        Self::load_with_cache(files, threads, DEFAULT_QUERY_CACHE)
    }

    /// [`Embedder::load`] with a chosen query cache capacity (0 disables the cache).
    pub fn load_with_cache(
        files: &ModelFiles,
        threads: usize,
        query_cache_capacity: usize,
    ) -> Result<Self, EmbedError> {
        let environment = ort_environment(&files.ort_dylib)?;
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read(&files.tokenizer)?,
            config_file: read(&files.config)?,
            special_tokens_map_file: read(&files.special_tokens_map)?,
            tokenizer_config_file: read(&files.tokenizer_config)?,
        };
        // The int8 graph quantises weights only (no DynamicQuantizeLinear), so batching does not
        // change results and fastembed's `QuantizationMode::None` is right.
        let model = UserDefinedEmbeddingModel::new(read(&files.onnx)?, tokenizer_files)
            .with_pooling(Pooling::Mean);
        let options = InitOptionsUserDefined::new()
            .with_environment(environment)
            .with_max_length(MAX_INPUT_TOKENS)
            .with_intra_threads(threads.max(1));
        let model = TextEmbedding::try_new_from_user_defined(model, options)?;

        let mut tokenizer = model.tokenizer.clone();
        tokenizer
            .with_truncation(None)
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);

        let query_cache =
            NonZeroUsize::new(query_cache_capacity).map(|n| Mutex::new(LruCache::new(n)));
        Ok(Self {
            inner: Arc::new(Inner {
                model: Arc::new(tokio::sync::Mutex::new(model)),
                tokenizer,
                query_cache,
            }),
        })
    }

    /// The vector for a visitor's question, from the cache when the exact text was seen recently.
    pub async fn embed_query(&self, text: &str) -> Result<Arc<[f32]>, EmbedError> {
        if let Some(hit) = self.cached(text) {
            return Ok(hit);
        }
        let mut vectors = self.run(vec![text.to_owned()]).await?;
        let vector: Arc<[f32]> = vectors.pop().unwrap_or_default().into();
        if let Some(cache) = &self.inner.query_cache {
            let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
            cache.put(text.to_owned(), vector.clone());
        }
        Ok(vector)
    }

    /// Vectors for many chunks, in input order. Runs in slices so queries can interleave.
    ///
    /// Texts are grouped by length before slicing: a slice is padded to its longest text, so
    /// mixing a 20-token FAQ answer with a 200-token section would mostly compute padding.
    pub async fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut texts: Vec<Option<String>> = texts.into_iter().map(Some).collect();
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for slice in order.chunks(BATCH_SIZE) {
            let batch: Vec<String> = slice.iter().filter_map(|&i| texts[i].take()).collect();
            for (&i, v) in slice.iter().zip(self.run(batch).await?) {
                vectors[i] = v;
            }
        }
        Ok(vectors)
    }

    /// Word pieces in `text`, without `[CLS]`/`[SEP]` and without truncation; a chunk is embedded
    /// whole when this is at most [`MAX_CHUNK_TOKENS`].
    pub fn count_tokens(&self, text: &str) -> usize {
        match self.inner.tokenizer.encode(text, false) {
            Ok(encoding) => encoding.len(),
            // Every word piece covers at least one byte, so the byte length never under-counts and
            // a chunker relying on it stays within the model's window.
            Err(_) => text.len(),
        }
    }

    fn cached(&self, text: &str) -> Option<Arc<[f32]>> {
        let cache = self.inner.query_cache.as_ref()?;
        let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.get(text).cloned()
    }

    /// One ONNX run on a blocking thread, holding the session only for that run.
    async fn run(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut model = self.inner.model.clone().lock_owned().await;
        let expected = texts.len();
        let vectors = tokio::task::spawn_blocking(move || model.embed(&texts, Some(texts.len())))
            .await
            .map_err(|e| EmbedError::Worker(e.to_string()))??;
        if vectors.len() != expected || vectors.iter().any(|v| v.len() != DIM) {
            return Err(EmbedError::UnexpectedOutput {
                expected,
                got: vectors.len(),
                dim: vectors.first().map_or(0, Vec::len),
            });
        }
        Ok(vectors)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, EmbedError> {
    std::fs::read(path).map_err(|source| EmbedError::ReadModelFile {
        path: path.to_path_buf(),
        source,
    })
}

/// ONNX Runtime allows one environment per process and one loaded library, so the first `load`
/// creates both and later loads share them, whatever dylib path they name.
fn ort_environment(dylib: &Path) -> Result<Environment, EmbedError> {
    static ENVIRONMENT: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((loaded, environment)) = slot.as_ref() {
        if loaded != dylib {
            tracing::warn!(
                loaded = %loaded.display(),
                requested = %dylib.display(),
                "ONNX Runtime is already loaded in this process; keeping the first library"
            );
        }
        return Ok(environment.clone());
    }
    let runtime_err = |message: String| EmbedError::Runtime {
        path: dylib.to_path_buf(),
        message,
    };
    let environment = ort::init_from(dylib)
        .map_err(|e| runtime_err(e.to_string()))?
        .with_name("concierge")
        .with_telemetry(false)
        .build()
        .map_err(|e| runtime_err(e.to_string()))?;
    *slot = Some((dylib.to_path_buf(), environment.clone()));
    Ok(environment)
}
