//! The ingestion pipeline: raw bytes → extracted text → heading-aware chunks → embeddings
//! (batched across documents, off the async runtime) → one database transaction that
//! replaces the document's chunks → vector upsert → old vectors removed.
//!
//! Readers never see a half-replaced document: search reads chunk rows back from the database,
//! so vectors of replaced chunks are ignored until they are deleted, and new chunks are found
//! by full-text search from the moment they commit. A document whose upsert did not happen (a
//! crash) stays `indexed = false` and [`Knowledge::repair_index`] re-embeds it from its stored
//! chunks.
//!
//! While a job's documents are embedded, each item's progress (chunks embedded / chunks to
//! embed) is written once per round of [`PROGRESS_ROUND`] chunks, and the original bytes of
//! uploaded files are kept so a document can be re-indexed later.

use std::sync::atomic::Ordering;

use super::chunk::{chunk_document, content_hash, ChunkOptions};
use super::extract::{detect_kind, extract, SourceKind};
use super::index::ChunkPoint;
use super::{Knowledge, RagError};
use crate::store::{ItemProgress, NewChunk, NewDocument};

/// Chunks embedded between two progress writes: a few model calls, so progress moves every
/// second or so without a write per chunk.
pub const PROGRESS_ROUND: usize = 128;

/// The job item a document comes from, to report its progress on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    pub job_id: String,
    pub ordinal: i64,
}

impl ItemRef {
    pub fn of(item: &crate::store::ItemRecord) -> Self {
        ItemRef {
            job_id: item.job_id.clone(),
            ordinal: item.ordinal,
        }
    }
}

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
    /// Process it even when its content is what is stored (a re-index).
    pub forced: bool,
    /// Where to report progress, when it comes from a job.
    pub item: Option<ItemRef>,
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
                if existing.content_hash == hash && existing.indexed && !source.forced {
                    // Documents stored before originals were kept get theirs now.
                    if source.url.is_none()
                        && !self.store.has_source(site_id, &source.doc_key).await?
                    {
                        self.keep_source(site_id, &source).await;
                    }
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
        let mut progress = Progress::new(&prepared);
        progress.report(self, site_id, 0).await;
        let mut vectors = Vec::with_capacity(texts.len());
        let mut texts = texts.into_iter();
        loop {
            let round: Vec<String> = texts.by_ref().take(PROGRESS_ROUND).collect();
            if round.is_empty() {
                break;
            }
            vectors.extend(embedder.embed_batch(round).await?);
            progress.report(self, site_id, vectors.len()).await;
        }
        let mut vectors = vectors.into_iter();

        for (i, p) in prepared {
            let doc_vectors: Vec<Vec<f32>> = vectors.by_ref().take(p.chunks.len()).collect();
            outcomes[i] = Some(match self.store_document(site_id, &p, doc_vectors).await {
                Ok(()) => {
                    if p.source.url.is_none() {
                        self.keep_source(site_id, &p.source).await;
                    }
                    DocOutcome::Indexed {
                        chunks: p.chunks.len(),
                    }
                }
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

    /// Keeps an uploaded document's original for a later re-index; a failure only costs
    /// that (the document itself is stored).
    async fn keep_source(&self, site_id: &str, source: &IngestSource) {
        if let Err(e) = self
            .store
            .keep_source(site_id, &source.doc_key, &source.name, &source.bytes)
            .await
        {
            tracing::warn!(error = %e, doc = %source.doc_key, "original not kept; re-indexing it will need a new upload");
        }
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

/// Progress of the documents of one embedding pass that came from job items.
struct Progress {
    /// Per prepared document, in embedding order: its item, chunks to embed, and the chunks
    /// embedded last reported.
    docs: Vec<(Option<ItemRef>, usize, Option<usize>)>,
}

impl Progress {
    fn new(prepared: &[(usize, Prepared)]) -> Self {
        Progress {
            docs: prepared
                .iter()
                .map(|(_, p)| (p.source.item.clone(), p.chunks.len(), None))
                .collect(),
        }
    }

    /// Reports the items whose progress changed, now that the first `embedded` chunks (in
    /// document order) have their vectors: one transaction per job.
    async fn report(&mut self, kb: &Knowledge, site_id: &str, embedded: usize) {
        let mut start = 0;
        let mut changed: Vec<(String, ItemProgress)> = Vec::new();
        for (item, total, last) in &mut self.docs {
            let done = embedded.saturating_sub(start).min(*total);
            start += *total;
            let Some(item) = item else { continue };
            if *last == Some(done) {
                continue;
            }
            *last = Some(done);
            changed.push((
                item.job_id.clone(),
                ItemProgress {
                    ordinal: item.ordinal,
                    chunks_done: done as i64,
                    chunks_total: *total as i64,
                },
            ));
        }
        while let Some((job_id, _)) = changed.first().cloned() {
            let (this, rest): (Vec<_>, Vec<_>) =
                changed.into_iter().partition(|(j, _)| *j == job_id);
            changed = rest;
            let rows: Vec<ItemProgress> = this.into_iter().map(|(_, p)| p).collect();
            if let Err(e) = kb.store.item_progress(site_id, &job_id, &rows).await {
                tracing::debug!(error = %e, job = %job_id, "progress not recorded");
            }
        }
    }
}
