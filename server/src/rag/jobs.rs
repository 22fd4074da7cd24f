//! Ingestion jobs: queued in the database (payloads included) so they survive restarts, run by
//! a worker in every server process (and inline by the CLI when no server holds the index),
//! with progress pushed to agent sockets.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::crawl::{CrawlOptions, Crawler};
use super::ingest::{DocOutcome, IngestSource, ItemRef};
use super::items::{file_item, url_item};
use super::{Knowledge, RagError};
use crate::bus::{Event, EventKind};
use crate::store::{ItemRecord, JobRecord, NewItem};

/// A worker that stopped heartbeating this long ago has lost its job to another node.
const LEASE_MS: i64 = 60_000;
/// How often an idle worker looks for jobs queued by other processes.
const POLL: Duration = Duration::from_secs(1);
/// Documents extracted and embedded together.
const GROUP: usize = 64;

impl Knowledge {
    /// Queues a job and wakes this process's worker.
    pub async fn enqueue(&self, site_id: &str, items: Vec<NewItem>) -> Result<JobRecord, RagError> {
        if items.is_empty() {
            return Err(RagError::BadInput("nothing to ingest".into()));
        }
        let job = self.store.create_job(site_id, &items).await?;
        self.publish_job(&job).await;
        self.wake.notify_one();
        Ok(job)
    }

    /// An item for an uploaded or local file; over the size cap it is queued as failed.
    pub fn file_item(&self, doc_key: String, name: String, bytes: Vec<u8>) -> NewItem {
        file_item(self.config.max_document_bytes, doc_key, name, bytes)
    }

    /// An item for a page URL or a sitemap URL.
    pub fn url_item(&self, url: &str) -> Result<NewItem, RagError> {
        url_item(url)
    }

    /// Runs queued jobs until `shutdown`; also repairs the index once at start.
    pub async fn run_worker(self: Arc<Self>, shutdown: CancellationToken) {
        if let Err(e) = self.repair_index().await {
            tracing::warn!(error = %e, "vector index repair failed; will retry on next start");
        }
        loop {
            match self.run_next_job(&shutdown).await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "ingestion worker error"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Claims and runs one job to its end (or until `shutdown`, leaving it to be resumed).
    pub async fn run_next_job(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<JobRecord>, RagError> {
        let stale = crate::store::now_ms() - LEASE_MS;
        let Some(job) = self.store.claim_job(&self.node_id, stale).await? else {
            return Ok(None);
        };
        tracing::info!(job = %job.id, total = job.total, "ingestion job started");
        self.publish_job(&job).await;
        let job = self.process_job(job, shutdown).await?;
        Ok(Some(job))
    }

    async fn process_job(
        &self,
        job: JobRecord,
        shutdown: &CancellationToken,
    ) -> Result<JobRecord, RagError> {
        let site_id = job.site_id.clone();
        let crawler = Crawler::new(CrawlOptions {
            max_pages: self.config.crawl_max_pages,
            concurrency: self.config.crawl_concurrency,
            delay: Duration::from_millis(self.config.crawl_delay_ms),
            max_bytes: self.config.max_document_bytes,
            allow_private: self.config.allow_private_urls,
            ..CrawlOptions::default()
        })
        .map_err(|e| RagError::BadInput(e.to_string()))?;
        let mut current = job;
        loop {
            if shutdown.is_cancelled() {
                return Ok(current);
            }
            if !self
                .store
                .heartbeat_job(&site_id, &current.id, &self.node_id)
                .await?
            {
                tracing::warn!(job = %current.id, "job taken over by another node");
                return Ok(current);
            }
            let items = self.store.queued_items(&site_id, &current.id).await?;
            if items.is_empty() {
                break;
            }
            // Sitemaps expand into page items first; the loop then picks those up.
            if let Some(sitemap) = items.iter().find(|i| i.source == "sitemap") {
                current = self.expand_sitemap(&crawler, sitemap).await?;
                self.publish_job(&current).await;
                continue;
            }
            let group: Vec<&ItemRecord> = items.iter().take(GROUP).collect();
            let mut sources = Vec::with_capacity(group.len());
            let mut ready = Vec::with_capacity(group.len());
            for item in &group {
                match self.load_item(&crawler, item).await {
                    Ok(source) => {
                        sources.push(source);
                        ready.push(*item);
                    }
                    Err(reason) => {
                        current = self
                            .store
                            .finish_item(
                                &site_id,
                                &item.job_id,
                                item.ordinal,
                                "failed",
                                Some(&reason),
                                None,
                            )
                            .await?;
                    }
                }
            }
            let outcomes = self.ingest_documents(&site_id, sources).await?;
            for (item, outcome) in ready.iter().zip(outcomes) {
                let (status, error, chunks) = match outcome {
                    DocOutcome::Indexed { chunks } => ("ready", None, Some(chunks as i64)),
                    DocOutcome::Unchanged => ("unchanged", None, None),
                    DocOutcome::Failed(reason) => ("failed", Some(reason), None),
                };
                current = self
                    .store
                    .finish_item(
                        &site_id,
                        &item.job_id,
                        item.ordinal,
                        status,
                        error.as_deref(),
                        chunks,
                    )
                    .await?;
            }
            self.publish_job(&current).await;
        }
        self.optimize_if_pending().await;
        let (status, error) = if current.total > 0 && current.failed == current.total {
            (
                "failed",
                Some("every document failed; see each document's reason"),
            )
        } else {
            ("ready", None)
        };
        let done = self
            .store
            .finish_job(&site_id, &current.id, status, error)
            .await?;
        tracing::info!(job = %done.id, status, done = done.done, failed = done.failed, "ingestion job finished");
        self.publish_job(&done).await;
        Ok(done)
    }

    async fn load_item(
        &self,
        crawler: &Crawler,
        item: &ItemRecord,
    ) -> Result<IngestSource, String> {
        match item.source.as_str() {
            "file" => {
                let bytes = self
                    .store
                    .item_payload(&item.site_id, &item.job_id, item.ordinal)
                    .await
                    .map_err(|e| format!("could not read the upload: {e}"))?
                    .ok_or_else(|| "the upload's content is missing".to_string())?;
                Ok(IngestSource {
                    doc_key: item.doc_key.clone(),
                    name: item.name.clone(),
                    url: None,
                    content_type: None,
                    bytes,
                    forced: item.forced,
                    item: Some(ItemRef::of(item)),
                })
            }
            _ => {
                let page = crawler
                    .fetch(&item.doc_key)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(IngestSource {
                    doc_key: item.doc_key.clone(),
                    name: item.name.clone(),
                    url: Some(item.doc_key.clone()),
                    content_type: page.content_type,
                    bytes: page.bytes,
                    forced: item.forced,
                    item: Some(ItemRef::of(item)),
                })
            }
        }
    }

    async fn expand_sitemap(
        &self,
        crawler: &Crawler,
        item: &ItemRecord,
    ) -> Result<JobRecord, RagError> {
        let site_id = &item.site_id;
        match crawler.sitemap_urls(&item.doc_key).await {
            Ok(urls) => {
                let pages: Vec<NewItem> = urls
                    .iter()
                    .filter_map(|u| self.url_item(u).ok())
                    .map(|mut i| {
                        i.source = "url";
                        i
                    })
                    .collect();
                let count = pages.len() as i64;
                if !pages.is_empty() {
                    self.store
                        .append_items(site_id, &item.job_id, &pages)
                        .await?;
                }
                Ok(self
                    .store
                    .finish_item(
                        site_id,
                        &item.job_id,
                        item.ordinal,
                        "ready",
                        None,
                        Some(count),
                    )
                    .await?)
            }
            Err(e) => Ok(self
                .store
                .finish_item(
                    site_id,
                    &item.job_id,
                    item.ordinal,
                    "failed",
                    Some(&e.to_string()),
                    None,
                )
                .await?),
        }
    }

    async fn publish_job(&self, job: &JobRecord) {
        let site_key = match self.store.site_by_id(&job.site_id).await {
            Ok(Some(site)) => site.site_key,
            _ => return,
        };
        let event = Event {
            site_id: job.site_id.clone(),
            conversation_id: String::new(),
            kind: EventKind::Ingest {
                job: job.view(&site_key),
            },
        };
        if let Err(e) = self.bus.publish(event).await {
            tracing::debug!(error = %e, "job progress not published");
        }
    }
}
