//! Re-indexing one document: processing it again from its source even when its content did
//! not change (after a model or chunking change, or to retry). A page is fetched again from
//! its URL; an upload is read again from the original kept when it was stored.

use super::items::{file_item, url_item};
use super::{Knowledge, RagError};
use crate::store::JobRecord;

impl Knowledge {
    /// Queues a job that processes the document again. `NotFound` for an unknown document;
    /// `CannotReindex` for an upload stored before originals were kept.
    pub async fn reindex(&self, site_id: &str, doc_key: &str) -> Result<JobRecord, RagError> {
        let doc = self
            .store
            .document(site_id, doc_key)
            .await?
            .ok_or(RagError::NotFound("document"))?;
        let mut item = match &doc.url {
            Some(url) => {
                let mut item = url_item(url)?;
                // A page, even if its address looks like a sitemap's.
                item.source = "url";
                item
            }
            None => {
                let source = self
                    .store
                    .document_source(site_id, doc_key)
                    .await?
                    .ok_or_else(|| {
                        RagError::CannotReindex(format!(
                            "{doc_key} was uploaded before Concierge kept the originals of \
                             uploads, so it cannot be read again: upload the file again to \
                             re-index it"
                        ))
                    })?;
                file_item(
                    self.config.max_document_bytes,
                    doc.doc_key.clone(),
                    source.name,
                    source.bytes,
                )
            }
        };
        item.doc_key = doc.doc_key;
        item.forced = true;
        self.enqueue(site_id, vec![item]).await
    }
}
