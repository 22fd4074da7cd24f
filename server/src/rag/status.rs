//! Where each document stands, for the owner's documents list: stored documents, and the
//! files, pages and sitemaps of recent jobs that are queued, being processed or failed, with
//! live progress and errors in words. Read from the jobs' items, so every node (and the list
//! after a restart) sees the same thing.

use std::collections::HashMap;

use concierge_protocol::kb_api::{
    DocumentStatus, DocumentView, ItemSource, ItemStatus, JobItemView,
};

use super::{Knowledge, RagError};
use crate::store::{rfc3339, DocumentRecord, ItemRecord, JobRecord};

/// Jobs whose items the list looks at, newest first: the attempts an owner still cares about.
const RECENT_JOBS: i64 = 50;

/// 0.0 to 1.0: chunks embedded / chunks to embed while the item is not finished (0 before it
/// is read), 1.0 once it is finished, whatever the outcome.
pub fn item_progress(item: &ItemRecord) -> f32 {
    if item.status != "queued" {
        return 1.0;
    }
    match (item.chunks_done, item.chunks_total) {
        (Some(done), Some(total)) if total > 0 => (done as f32 / total as f32).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// A job's item as `GET .../jobs/{id}` shows it.
pub fn item_view(item: &ItemRecord) -> JobItemView {
    JobItemView {
        document_id: item.doc_key.clone(),
        source: match item.source.as_str() {
            "url" => ItemSource::Url,
            "sitemap" => ItemSource::Sitemap,
            _ => ItemSource::File,
        },
        status: match item.status.as_str() {
            "queued" => ItemStatus::Queued,
            "ready" => ItemStatus::Ready,
            "unchanged" => ItemStatus::Unchanged,
            _ => ItemStatus::Failed,
        },
        error: item.error.clone(),
        chunks: item.chunk_count,
        chunks_total: item.chunks_total,
        progress: item_progress(item),
    }
}

impl Knowledge {
    /// Every stored document, and every item of a recent job that is not stored and still
    /// queued or failed, by id.
    pub async fn document_views(&self, site_id: &str) -> Result<Vec<DocumentView>, RagError> {
        let docs = self.store.documents(site_id).await?;
        let jobs = self.store.jobs(site_id, RECENT_JOBS).await?;
        let items = self.store.recent_items(site_id, RECENT_JOBS).await?;
        Ok(views(docs, &jobs, &items))
    }
}

/// The list from its parts: `jobs` newest first, `items` of those jobs in any order.
fn views(docs: Vec<DocumentRecord>, jobs: &[JobRecord], items: &[ItemRecord]) -> Vec<DocumentView> {
    let age: HashMap<&str, (usize, &JobRecord)> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), (i, j)))
        .collect();
    // The latest attempt at each document: the newest job, the last item in it.
    let mut latest: HashMap<&str, (&ItemRecord, &JobRecord, (usize, i64))> = HashMap::new();
    for item in items {
        let Some(&(i, job)) = age.get(item.job_id.as_str()) else {
            continue;
        };
        let rank = (i, -item.ordinal);
        match latest.get(item.doc_key.as_str()) {
            Some((_, _, r)) if *r <= rank => {}
            _ => {
                latest.insert(&item.doc_key, (item, job, rank));
            }
        }
    }
    let mut out: Vec<DocumentView> = Vec::with_capacity(docs.len());
    for doc in docs {
        let attempt = latest.remove(doc.doc_key.as_str());
        let mut view = DocumentView {
            status: if doc.indexed {
                DocumentStatus::Ready
            } else {
                DocumentStatus::Processing
            },
            id: doc.doc_key,
            title: doc.title,
            url: doc.url,
            kind: Some(doc.kind),
            bytes: Some(doc.bytes),
            chunks: Some(doc.chunk_count),
            indexed: doc.indexed,
            content_hash: Some(doc.content_hash),
            updated_at: Some(rfc3339(doc.updated_at)),
            error: None,
            progress: None,
            job_id: None,
        };
        if let Some((item, job, _)) = attempt {
            apply_attempt(&mut view, item, job);
        }
        out.push(view);
    }
    for (key, (item, job, _)) in latest {
        let unfinished = item.status == "queued" && !job.is_finished();
        if !unfinished && item.status != "failed" {
            // Stored and since deleted, or a sitemap that became its pages.
            continue;
        }
        let mut view = DocumentView {
            id: key.to_string(),
            title: item.name.clone(),
            url: (item.source != "file").then(|| item.doc_key.clone()),
            kind: None,
            bytes: None,
            chunks: None,
            indexed: false,
            content_hash: None,
            updated_at: None,
            status: DocumentStatus::Queued,
            error: None,
            progress: None,
            job_id: None,
        };
        apply_attempt(&mut view, item, job);
        out.push(view);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// What the latest attempt says over the stored state: in a running job, its progress; failed,
/// its reason.
fn apply_attempt(view: &mut DocumentView, item: &ItemRecord, job: &JobRecord) {
    if item.status == "queued" && !job.is_finished() {
        view.status = if job.status == "processing" {
            DocumentStatus::Processing
        } else {
            DocumentStatus::Queued
        };
        view.progress = Some(item_progress(item));
        view.job_id = Some(job.id.clone());
    } else if item.status == "failed" {
        view.status = DocumentStatus::Failed;
        view.error = item.error.clone();
        view.job_id = Some(job.id.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, status: &str) -> JobRecord {
        JobRecord {
            id: id.into(),
            site_id: "s".into(),
            status: status.into(),
            total: 1,
            done: 0,
            failed: 0,
            error: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn item(job: &str, key: &str, status: &str, progress: Option<(i64, i64)>) -> ItemRecord {
        ItemRecord {
            job_id: job.into(),
            ordinal: 0,
            site_id: "s".into(),
            doc_key: key.into(),
            source: "file".into(),
            name: key.into(),
            status: status.into(),
            error: (status == "failed").then(|| "PDF could not be read".to_string()),
            chunk_count: None,
            forced: false,
            chunks_total: progress.map(|p| p.1),
            chunks_done: progress.map(|p| p.0),
        }
    }

    fn doc(key: &str) -> DocumentRecord {
        DocumentRecord {
            id: format!("id-{key}"),
            site_id: "s".into(),
            doc_key: key.into(),
            title: "T".into(),
            url: None,
            kind: "markdown".into(),
            content_hash: "h".into(),
            bytes: 10,
            chunk_count: 2,
            indexed: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn the_latest_attempt_decides_the_status_of_each_document() {
        // Newest job first: j2 runs, j1 finished.
        let jobs = [job("j2", "processing"), job("j1", "ready")];
        let items = [
            item("j1", "a.md", "ready", None),
            item("j1", "bad.pdf", "failed", None),
            item("j2", "b.md", "queued", Some((3, 4))),
            item("j1", "b.md", "failed", None),
            item("j1", "gone.md", "ready", None),
        ];
        let views = views(vec![doc("a.md"), doc("b.md")], &jobs, &items);
        let by: HashMap<&str, &DocumentView> = views.iter().map(|v| (v.id.as_str(), v)).collect();
        assert_eq!(views.len(), 3, "{views:?}");
        assert_eq!(by["a.md"].status, DocumentStatus::Ready);
        assert_eq!(by["a.md"].progress, None);
        assert_eq!(by["b.md"].status, DocumentStatus::Processing);
        assert_eq!(by["b.md"].progress, Some(0.75));
        assert_eq!(by["b.md"].job_id.as_deref(), Some("j2"));
        assert_eq!(by["bad.pdf"].status, DocumentStatus::Failed);
        assert_eq!(
            by["bad.pdf"].error.as_deref(),
            Some("PDF could not be read")
        );
        assert_eq!(by["bad.pdf"].chunks, None);
    }

    #[test]
    fn finished_items_are_complete_and_queued_ones_count_their_chunks() {
        assert_eq!(item_progress(&item("j", "a", "failed", None)), 1.0);
        assert_eq!(item_progress(&item("j", "a", "queued", None)), 0.0);
        assert_eq!(item_progress(&item("j", "a", "queued", Some((1, 4)))), 0.25);
        assert_eq!(item_progress(&item("j", "a", "queued", Some((0, 0)))), 0.0);
    }
}
