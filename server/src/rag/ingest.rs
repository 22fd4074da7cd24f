//! The ingestion pipeline: raw bytes → extracted text → heading-aware chunks → embeddings
//! (batched across documents, off the async runtime) → one database transaction that
//! replaces the document's chunks → vector upsert → old vectors removed.
//!
//! Readers never see a half-replaced document: search reads chunk rows back from the database,
//! so vectors of replaced chunks are ignored until they are deleted, and new chunks are found
//! by full-text search from the moment they commit. A document whose upsert did not happen (a
//! crash) stays `indexed = false` and [`Knowledge::repair_index`] re-embeds it from its stored
//! chunks.

use std::sync::atomic::Ordering;

use super::chunk::{chunk_document, content_hash, ChunkOptions};
use super::extract::{detect_kind, extract, SourceKind};
use super::index::ChunkPoint;
use super::{Knowledge, RagError};
use crate::store::{NewChunk, NewDocument};

/// One document to ingest.
#[derive(Debug, Clone)]
pub struct IngestSource {
    /// The owner-facing id (relative path or URL).
    pub doc_key: String,
    /// File name, used for the title when the document has no heading.
    pub name: String,
    pub url: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// What happened to one document.
#[derive(Debug, Clone, PartialEq)]
pub enum DocOutcome {
    Indexed {
        chunks: usize,
    },
    /// Same content as what is stored: nothing embedded.
    Unchanged,
    Failed(String),
}

/// A document extracted and chunked, waiting for its embeddings.
struct Prepared {
    source: IngestSource,
    kind: SourceKind,
    hash: String,
    title: String,
    chunks: Vec<super::chunk::Chunk>,
}

pub fn kind_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Markdown => "markdown",
        SourceKind::Html => "html",
        SourceKind::Text => "text",
        SourceKind::Pdf => "pdf",
    }
}

/// The text embedded for a chunk: its heading path gives a short passage its context.
pub fn embedding_text(heading: &str, text: &str) -> String {
    format!("{heading}\n{text}")
}

impl Knowledge {
    /// Ingests documents of one site. Each document succeeds or fails on its own; a bad one
    /// never stops the others. Embeddings are computed for all of them together, in batches.
    pub async fn ingest_documents(
        &self,
        site_id: &str,
        sources: Vec<IngestSource>,
    ) -> Result<Vec<DocOutcome>, RagError> {
        let embedder = self.embedder().await?.clone();
        let mut outcomes: Vec<Option<DocOutcome>> = vec![None; sources.len()];
        let mut prepared: Vec<(usize, Prepared)> = Vec::new();
        for (i, source) in sources.into_iter().enumerate() {
            if source.bytes.len() > self.config.max_document_bytes {
                outcomes[i] = Some(DocOutcome::Failed(format!(
                    "document is {} bytes, over the {} byte limit",
                    source.bytes.len(),
                    self.config.max_document_bytes
                )));
                continue;
            }
            let hash = content_hash(&source.bytes);
            if let Some(existing) = self.store.document(site_id, &source.doc_key).await? {
                if existing.content_hash == hash && existing.indexed {
                    outcomes[i] = Some(DocOutcome::Unchanged);
                    continue;
                }
            }
            let options = ChunkOptions {
                max_tokens: self.config.chunk_max_tokens,
                overlap_tokens: self.config.chunk_overlap_tokens,
            };
            let counter = embedder.clone();
            // Parsing (PDF especially) and tokenising are CPU work: keep them off the runtime.
            let result = tokio::task::spawn_blocking(move || {
                let kind = detect_kind(&source.name, source.content_type.as_deref(), &source.bytes)
                    .map_err(|e| e.to_string())?;
                let doc = extract(kind, &source.bytes, &source.name).map_err(|e| e.to_string())?;
                let chunks = chunk_document(&doc, &options, &|t: &str| counter.count_tokens(t));
                if chunks.is_empty() {
                    return Err("document has no text to index".to_string());
                }
                Ok(Prepared {
                    title: doc.title,
                    source,
                    kind,
                    hash,
                    chunks,
                })
            })
            .await
            .unwrap_or_else(|e| Err(format!("document could not be read: {e}")));
            match result {
                Ok(p) => prepared.push((i, p)),
                Err(reason) => outcomes[i] = Some(DocOutcome::Failed(reason)),
            }
        }

        let texts: Vec<String> = prepared
            .iter()
            .flat_map(|(_, p)| p.chunks.iter().map(|c| embedding_text(&c.heading, &c.text)))
            .collect();
        let mut vectors = embedder.embed_batch(texts).await?.into_iter();

        for (i, p) in prepared {
            let doc_vectors: Vec<Vec<f32>> = vectors.by_ref().take(p.chunks.len()).collect();
            outcomes[i] = Some(match self.store_document(site_id, &p, doc_vectors).await {
                Ok(()) => DocOutcome::Indexed {
                    chunks: p.chunks.len(),
                },
                Err(e) => {
                    tracing::warn!(error = %e, doc = %p.source.doc_key, "storing document failed");
                    DocOutcome::Failed(format!("could not store the document: {e}"))
                }
            });
        }
        if outcomes
            .iter()
            .any(|o| matches!(o, Some(DocOutcome::Indexed { .. })))
        {
            self.optimize_pending.store(true, Ordering::Relaxed);
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or(DocOutcome::Failed("not processed".into())))
            .collect())
    }

    async fn store_document(
        &self,
        site_id: &str,
        p: &Prepared,
        vectors: Vec<Vec<f32>>,
    ) -> Result<(), RagError> {
        let new_chunks: Vec<NewChunk> = p
            .chunks
            .iter()
            .enumerate()
            .map(|(i, c)| NewChunk {
                ordinal: i as i64,
                heading: &c.heading,
                text: &c.text,
                location: &c.location,
            })
            .collect();
        let replaced = self
            .store
            .replace_document(
                site_id,
                &NewDocument {
                    doc_key: &p.source.doc_key,
                    title: &p.title,
                    url: p.source.url.as_deref(),
                    kind: kind_name(p.kind),
                    content_hash: &p.hash,
                    bytes: p.source.bytes.len() as i64,
                },
                &new_chunks,
            )
            .await?;
        let points = replaced
            .chunk_ids
            .iter()
            .zip(vectors)
            .map(|(id, vector)| ChunkPoint {
                id: *id as u64,
                site_id: site_id.to_string(),
                document_id: replaced.document.id.clone(),
                vector,
            })
            .collect();
        self.index.upsert(points).await?;
        if !replaced.old_chunk_ids.is_empty() {
            let old: Vec<u64> = replaced.old_chunk_ids.iter().map(|id| *id as u64).collect();
            self.index.delete(site_id, &old).await?;
        }
        self.store
            .mark_indexed(site_id, &replaced.document.id)
            .await?;
        Ok(())
    }

    /// Removes a document from the database and the vector index. False if it did not exist.
    pub async fn delete_document(&self, site_id: &str, doc_key: &str) -> Result<bool, RagError> {
        let Some((doc, ids)) = self.store.delete_document(site_id, doc_key).await? else {
            return Ok(false);
        };
        let ids: Vec<u64> = ids.into_iter().map(|id| id as u64).collect();
        self.index.delete(site_id, &ids).await?;
        // Belt and braces: vectors of a crashed earlier replacement carry the same document.
        self.index.delete_document(site_id, &doc.id).await?;
        Ok(true)
    }

    /// Re-embeds documents whose vectors may be missing (crash between the database commit
    /// and the upsert). Returns how many were repaired.
    pub async fn repair_index(&self) -> Result<usize, RagError> {
        let pending = self.store.unindexed_documents().await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let embedder = self.embedder().await?.clone();
        for (site_id, document_id) in &pending {
            let chunks = self.store.chunks_of_document(site_id, document_id).await?;
            let texts = chunks
                .iter()
                .map(|c| embedding_text(&c.heading, &c.text))
                .collect();
            let vectors = embedder.embed_batch(texts).await?;
            let points = chunks
                .iter()
                .zip(vectors)
                .map(|(c, vector)| ChunkPoint {
                    id: c.id as u64,
                    site_id: site_id.clone(),
                    document_id: document_id.clone(),
                    vector,
                })
                .collect();
            self.index.upsert(points).await?;
            self.store.mark_indexed(site_id, document_id).await?;
        }
        self.optimize_pending.store(true, Ordering::Relaxed);
        self.optimize_if_pending().await;
        tracing::info!(documents = pending.len(), "vector index repaired");
        Ok(pending.len())
    }

    /// Builds the vector index's search structures after ingestion, off the request path.
    pub async fn optimize_if_pending(&self) {
        if self.optimize_pending.swap(false, Ordering::Relaxed) {
            if let Err(e) = self.index.optimize().await {
                tracing::warn!(error = %e, "vector index optimize failed");
            }
        }
    }
}
