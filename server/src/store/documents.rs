//! Documents of a site's knowledge base and their chunks, with the database's full-text index
//! (SQLite FTS5 / Postgres tsvector) kept in step by the schema.
//!
//! The database is the source of truth for what exists: the vector index only proposes chunk
//! ids, and a proposal whose chunk is gone (replaced or deleted) is dropped when its row is
//! read here. That is what makes a document's replacement atomic for readers.

use sqlx::any::AnyRow;
use sqlx::Any;

use super::tokens::new_id;
use super::{col, now_ms, Result, Store, StoreError};

/// A stored document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRecord {
    pub id: String,
    pub site_id: String,
    /// The owner-facing id (relative path or URL).
    pub doc_key: String,
    pub title: String,
    pub url: Option<String>,
    pub kind: String,
    pub content_hash: String,
    pub bytes: i64,
    pub chunk_count: i64,
    pub indexed: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A document about to be (re)placed.
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub doc_key: &'a str,
    pub title: &'a str,
    pub url: Option<&'a str>,
    pub kind: &'a str,
    pub content_hash: &'a str,
    pub bytes: i64,
}

/// A chunk about to be stored.
#[derive(Debug, Clone)]
pub struct NewChunk<'a> {
    pub ordinal: i64,
    pub heading: &'a str,
    pub text: &'a str,
    pub location: &'a str,
}

/// A stored chunk with what a citation needs of its document.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRecord {
    pub id: i64,
    pub site_id: String,
    pub document_id: String,
    pub doc_key: String,
    pub title: String,
    pub url: Option<String>,
    pub ordinal: i64,
    pub heading: String,
    pub text: String,
    pub location: String,
}

/// What replacing a document did.
#[derive(Debug, Clone)]
pub struct Replaced {
    pub document: DocumentRecord,
    /// Ids of the new chunks, in the order given.
    pub chunk_ids: Vec<i64>,
    /// Ids of the chunks that were replaced: remove them from the vector index.
    pub old_chunk_ids: Vec<i64>,
}

const DOCUMENT_COLUMNS: &str = "id, site_id, doc_key, title, url, kind, content_hash, bytes, \
    chunk_count, indexed, created_at, updated_at";

const CHUNK_COLUMNS: &str = "c.id, c.site_id, c.document_id, d.doc_key, d.title, d.url, \
    c.ordinal, c.heading, c.text, c.location";

impl DocumentRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(DocumentRecord {
            id: col(row, "id")?,
            site_id: col(row, "site_id")?,
            doc_key: col(row, "doc_key")?,
            title: col(row, "title")?,
            url: col(row, "url")?,
            kind: col(row, "kind")?,
            content_hash: col(row, "content_hash")?,
            bytes: col(row, "bytes")?,
            chunk_count: col(row, "chunk_count")?,
            indexed: col::<i64>(row, "indexed")? != 0,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }
}

impl ChunkRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(ChunkRecord {
            id: col(row, "id")?,
            site_id: col(row, "site_id")?,
            document_id: col(row, "document_id")?,
            doc_key: col(row, "doc_key")?,
            title: col(row, "title")?,
            url: col(row, "url")?,
            ordinal: col(row, "ordinal")?,
            heading: col(row, "heading")?,
            text: col(row, "text")?,
            location: col(row, "location")?,
        })
    }
}

impl Store {
    pub async fn document(&self, site_id: &str, doc_key: &str) -> Result<Option<DocumentRecord>> {
        let row = sqlx::query(&format!(
            "select {DOCUMENT_COLUMNS} from documents where site_id = $1 and doc_key = $2"
        ))
        .bind(site_id)
        .bind(doc_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(DocumentRecord::from_row).transpose()
    }

    pub async fn documents(&self, site_id: &str) -> Result<Vec<DocumentRecord>> {
        let rows = sqlx::query(&format!(
            "select {DOCUMENT_COLUMNS} from documents where site_id = $1 order by doc_key"
        ))
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(DocumentRecord::from_row).collect()
    }

    /// Creates or replaces a document and all its chunks in one transaction; the document is
    /// left `indexed = false` until [`Store::mark_indexed`].
    pub async fn replace_document(
        &self,
        site_id: &str,
        doc: &NewDocument<'_>,
        chunks: &[NewChunk<'_>],
    ) -> Result<Replaced> {
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query::<Any>(
            "select id, created_at from documents where site_id = $1 and doc_key = $2",
        )
        .bind(site_id)
        .bind(doc.doc_key)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, created_at, old_chunk_ids) = match existing {
            Some(row) => {
                let id: String = col(&row, "id")?;
                let old = remove_chunks(&mut tx, site_id, &id).await?;
                sqlx::query::<Any>(
                    "update documents set title = $3, url = $4, kind = $5, content_hash = $6, \
                     bytes = $7, chunk_count = $8, indexed = 0, updated_at = $9 \
                     where site_id = $1 and id = $2",
                )
                .bind(site_id)
                .bind(&id)
                .bind(doc.title)
                .bind(doc.url)
                .bind(doc.kind)
                .bind(doc.content_hash)
                .bind(doc.bytes)
                .bind(chunks.len() as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (id, col::<i64>(&row, "created_at")?, old)
            }
            None => {
                let id = new_id();
                sqlx::query::<Any>(
                    "insert into documents (id, site_id, doc_key, title, url, kind, content_hash, \
                     bytes, chunk_count, indexed, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10)",
                )
                .bind(&id)
                .bind(site_id)
                .bind(doc.doc_key)
                .bind(doc.title)
                .bind(doc.url)
                .bind(doc.kind)
                .bind(doc.content_hash)
                .bind(doc.bytes)
                .bind(chunks.len() as i64)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (id, now, Vec::new())
            }
        };
        let mut chunk_ids = Vec::with_capacity(chunks.len());
        for chunk in chunks {
            let row = sqlx::query::<Any>(
                "insert into chunks (site_id, document_id, ordinal, heading, text, location, \
                 created_at) values ($1, $2, $3, $4, $5, $6, $7) returning id",
            )
            .bind(site_id)
            .bind(&id)
            .bind(chunk.ordinal)
            .bind(chunk.heading)
            .bind(chunk.text)
            .bind(chunk.location)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            chunk_ids.push(col::<i64>(&row, "id")?);
        }
        tx.commit().await?;
        Ok(Replaced {
            document: DocumentRecord {
                id,
                site_id: site_id.to_string(),
                doc_key: doc.doc_key.to_string(),
                title: doc.title.to_string(),
                url: doc.url.map(str::to_string),
                kind: doc.kind.to_string(),
                content_hash: doc.content_hash.to_string(),
                bytes: doc.bytes,
                chunk_count: chunks.len() as i64,
                indexed: false,
                created_at,
                updated_at: now,
            },
            chunk_ids,
            old_chunk_ids,
        })
    }

    /// Records that the document's chunks are in the vector index.
    pub async fn mark_indexed(&self, site_id: &str, document_id: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query("update documents set indexed = 1 where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(document_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a document, its chunks and its kept original; returns it and the chunk ids to remove from the
    /// vector index, or `None` when there was no such document.
    pub async fn delete_document(
        &self,
        site_id: &str,
        doc_key: &str,
    ) -> Result<Option<(DocumentRecord, Vec<i64>)>> {
        let Some(doc) = self.document(site_id, doc_key).await? else {
            return Ok(None);
        };
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let ids = remove_chunks(&mut tx, site_id, &doc.id).await?;
        sqlx::query::<Any>("delete from documents where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(&doc.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query::<Any>("delete from document_sources where site_id = $1 and doc_key = $2")
            .bind(site_id)
            .bind(doc_key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some((doc, ids)))
    }

    /// Documents whose chunks may be missing from the vector index (a crash between the
    /// database commit and the upsert), across all sites: start-up repairs them.
    pub async fn unindexed_documents(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("select site_id, id from documents where indexed = 0")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((col(r, "site_id")?, col(r, "id")?)))
            .collect()
    }

    pub async fn chunks_of_document(
        &self,
        site_id: &str,
        document_id: &str,
    ) -> Result<Vec<ChunkRecord>> {
        let rows = sqlx::query(&format!(
            "select {CHUNK_COLUMNS} from chunks c join documents d on d.id = c.document_id \
             where c.site_id = $1 and c.document_id = $2 order by c.ordinal"
        ))
        .bind(site_id)
        .bind(document_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ChunkRecord::from_row).collect()
    }

    /// The chunks with these ids that exist on this site, in no particular order.
    pub async fn chunks_by_ids(&self, site_id: &str, ids: &[i64]) -> Result<Vec<ChunkRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are integers we produced; inlining them avoids a variable bind list, which the
        // Any driver cannot express portably.
        let list = ids
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(&format!(
            "select {CHUNK_COLUMNS} from chunks c join documents d on d.id = c.document_id \
             where c.site_id = $1 and c.id in ({list})"
        ))
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ChunkRecord::from_row).collect()
    }

    pub async fn count_chunks(&self, site_id: &str) -> Result<i64> {
        let row = sqlx::query("select count(*) as n from chunks where site_id = $1")
            .bind(site_id)
            .fetch_one(&self.pool)
            .await?;
        col(&row, "n")
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Deletes a document's chunks inside `tx` (the FTS index follows by trigger) and returns
/// their ids, which the caller removes from the vector index after the commit.
async fn remove_chunks(
    tx: &mut sqlx::Transaction<'_, Any>,
    site_id: &str,
    document_id: &str,
) -> Result<Vec<i64>> {
    let ids = sqlx::query::<Any>(
        "select id from chunks where site_id = $1 and document_id = $2 order by id",
    )
    .bind(site_id)
    .bind(document_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| col::<i64>(r, "id"))
    .collect::<Result<Vec<_>>>()?;
    sqlx::query::<Any>("delete from chunks where site_id = $1 and document_id = $2")
        .bind(site_id)
        .bind(document_id)
        .execute(&mut **tx)
        .await?;
    Ok(ids)
}
