//! The original bytes of uploaded documents, kept so a document can be re-indexed without
//! being uploaded again (a page from a URL is fetched again instead). Documents stored before
//! this table existed have no original here.

use super::{col, now_ms, Result, Store};

/// An uploaded document's original.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentSource {
    /// The file name, which decides how the bytes are read.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Keeps (or replaces) the original of an uploaded document.
    pub async fn keep_source(
        &self,
        site_id: &str,
        doc_key: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into document_sources (site_id, doc_key, name, payload, updated_at) \
             values ($1, $2, $3, $4, $5) on conflict (site_id, doc_key) do update set \
             name = excluded.name, payload = excluded.payload, updated_at = excluded.updated_at",
        )
        .bind(site_id)
        .bind(doc_key)
        .bind(name)
        .bind(bytes)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the original of the document is kept (without reading it).
    pub async fn has_source(&self, site_id: &str, doc_key: &str) -> Result<bool> {
        let row = sqlx::query(
            "select count(*) as n from document_sources where site_id = $1 and doc_key = $2",
        )
        .bind(site_id)
        .bind(doc_key)
        .fetch_one(&self.pool)
        .await?;
        Ok(col::<i64>(&row, "n")? > 0)
    }

    pub async fn document_source(
        &self,
        site_id: &str,
        doc_key: &str,
    ) -> Result<Option<DocumentSource>> {
        let row = sqlx::query(
            "select name, payload from document_sources where site_id = $1 and doc_key = $2",
        )
        .bind(site_id)
        .bind(doc_key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(DocumentSource {
                name: col(&r, "name")?,
                bytes: col(&r, "payload")?,
            })
        })
        .transpose()
    }
}
