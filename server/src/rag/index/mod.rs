//! The vector index behind knowledge-base retrieval: one `VectorIndex` trait, two backends.
//!
//! - [`EdgeIndex`] (default): qdrant-edge embedded in the server process, stored in a directory
//!   of the server's data dir, held by exactly one process at a time.
//! - [`QdrantIndex`]: a Qdrant server at `CONCIERGE_QDRANT_URL`, for deployments that run several
//!   server nodes against one index.
//!
//! Both are multi-tenant: every point carries its `site_id` in the payload and every read and
//! delete filters on it, so one site's chunks can never answer another site's visitors.
//! Both backends pass the same contract tests (`tests.rs`).

mod edge;
mod remote;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use edge::EdgeIndex;
pub use remote::QdrantIndex;

/// Payload key holding the owning site; keyword-indexed as the tenant key.
pub const SITE_ID_KEY: &str = "site_id";
/// Payload key holding the source document; keyword-indexed so a document's chunks can be
/// deleted in one filtered operation when the document is re-ingested or removed.
pub const DOCUMENT_ID_KEY: &str = "document_id";

/// One embedded chunk of a site's document.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkPoint {
    /// The chunk's row id in the store; also the point id, so upserting it again replaces it.
    pub id: u64,
    pub site_id: String,
    pub document_id: String,
    pub vector: Vec<f32>,
}

/// A search result: the chunk row id and its cosine similarity to the query (higher is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "the vector index in {} is in use by another Concierge server; stop that server, or \
         go through its API instead of opening the index directly",
        dir.display()
    )]
    Locked { dir: PathBuf },
    #[error("cannot access the vector index at {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the vector index at {location} holds {found}-dimensional vectors but the embedding \
         model produces {expected}; delete the index and re-ingest the documents"
    )]
    IndexDimension {
        location: String,
        found: usize,
        expected: usize,
    },
    #[error("a vector has {got} dimensions but the index expects {expected}")]
    VectorDimension { expected: usize, got: usize },
    #[error("the embedded vector index failed to {op}: {source}")]
    Edge {
        op: &'static str,
        #[source]
        source: qdrant_edge::OperationError,
    },
    #[error("the Qdrant server failed to {op}: {source}")]
    Remote {
        op: &'static str,
        #[source]
        source: Box<qdrant_client::QdrantError>,
    },
    #[error("the vector index returned a point id that is not a chunk row id: {0}")]
    ForeignPointId(String),
    #[error("a background vector index task stopped unexpectedly: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Nearest-neighbour search over chunk embeddings, partitioned by site.
#[async_trait::async_trait]
pub trait VectorIndex: Send + Sync {
    /// Inserts the points, replacing any existing point with the same id.
    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), IndexError>;
    /// Removes the given chunks of `site_id`; ids belonging to other sites are left alone.
    async fn delete(&self, site_id: &str, ids: &[u64]) -> Result<(), IndexError>;
    /// Removes every chunk of one document of `site_id`.
    async fn delete_document(&self, site_id: &str, document_id: &str) -> Result<(), IndexError>;
    /// The `k` chunks of `site_id` nearest to `vector` by cosine similarity, best first.
    async fn search(&self, site_id: &str, vector: &[f32], k: usize)
        -> Result<Vec<Hit>, IndexError>;
    /// Builds the HNSW graph and compacts segments; run after ingestion batches, off the request
    /// path. Searches and writes keep working while it runs.
    async fn optimize(&self) -> Result<(), IndexError>;
    /// The number of chunks stored for `site_id`.
    async fn count(&self, site_id: &str) -> Result<u64, IndexError>;
}

fn check_dimension(expected: usize, vector: &[f32]) -> Result<(), IndexError> {
    if vector.len() == expected {
        Ok(())
    } else {
        Err(IndexError::VectorDimension {
            expected,
            got: vector.len(),
        })
    }
}
