//! Persisted ingestion jobs: a queue that survives restarts and that several nodes can share.
//!
//! A job is claimed by one node (`claimed_by`) which keeps `heartbeat_at` fresh; a job whose
//! heartbeat is older than the lease is claimable again, which is how a job resumes after a
//! crash or restart. Items finish one by one, so a resumed job continues at its first item
//! still `queued`. On Postgres the claim uses `FOR UPDATE SKIP LOCKED`, so nodes never wait on
//! each other for the queue.

use sqlx::any::AnyRow;
use sqlx::Any;

use super::job_items::insert_items;
use super::tokens::new_id;
use super::{col, now_ms, rfc3339, Backend, Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    pub id: String,
    pub site_id: String,
    /// `queued`, `processing`, `ready` or `failed`.
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub job_id: String,
    pub ordinal: i64,
    pub site_id: String,
    pub doc_key: String,
    /// `file`, `url` or `sitemap`.
    pub source: String,
    pub name: String,
    /// `queued`, `ready`, `unchanged` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub chunk_count: Option<i64>,
    /// Processed even when its content is unchanged (a re-index).
    pub forced: bool,
    /// Chunks to embed and embedded so far, once the document is read (live progress).
    pub chunks_total: Option<i64>,
    pub chunks_done: Option<i64>,
}

/// An item to queue. An item that is already known to be bad (over the size cap) is queued
/// as `failed` with its reason, so the job reports it.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub doc_key: String,
    pub source: &'static str,
    pub name: String,
    pub payload: Option<Vec<u8>>,
    pub failed: Option<String>,
    /// Process it even when its content is unchanged (a re-index).
    pub forced: bool,
}

pub(super) const JOB_COLUMNS: &str =
    "id, site_id, status, total, done, failed, error, created_at, updated_at";
pub(super) const ITEM_COLUMNS: &str = "job_id, ordinal, site_id, doc_key, source, name, \
    status, error, chunk_count, forced, chunks_total, chunks_done";

impl JobRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(JobRecord {
            id: col(row, "id")?,
            site_id: col(row, "site_id")?,
            status: col(row, "status")?,
            total: col(row, "total")?,
            done: col(row, "done")?,
            failed: col(row, "failed")?,
            error: col(row, "error")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }

    pub fn is_finished(&self) -> bool {
        self.status == "ready" || self.status == "failed"
    }

    pub fn view(&self, site_key: &str) -> concierge_protocol::IngestJob {
        concierge_protocol::IngestJob {
            id: self.id.clone(),
            site_key: site_key.to_string(),
            status: self.status.clone(),
            total: self.total,
            done: self.done,
            failed: self.failed,
            error: self.error.clone(),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

impl ItemRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        Ok(ItemRecord {
            job_id: col(row, "job_id")?,
            ordinal: col(row, "ordinal")?,
            site_id: col(row, "site_id")?,
            doc_key: col(row, "doc_key")?,
            source: col(row, "source")?,
            name: col(row, "name")?,
            status: col(row, "status")?,
            error: col(row, "error")?,
            chunk_count: col(row, "chunk_count")?,
            forced: col::<i64>(row, "forced")? != 0,
            chunks_total: col(row, "chunks_total")?,
            chunks_done: col(row, "chunks_done")?,
        })
    }
}

impl Store {
    /// Queues a job with its items (payloads included) in one transaction.
    pub async fn create_job(&self, site_id: &str, items: &[NewItem]) -> Result<JobRecord> {
        let _w = self.writer().await;
        let now = now_ms();
        let id = new_id();
        let failed = items.iter().filter(|i| i.failed.is_some()).count() as i64;
        let mut tx = self.pool.begin().await?;
        sqlx::query::<Any>(
            "insert into ingest_jobs (id, site_id, status, total, done, failed, created_at, \
             updated_at) values ($1, $2, 'queued', $3, $4, $4, $5, $5)",
        )
        .bind(&id)
        .bind(site_id)
        .bind(items.len() as i64)
        .bind(failed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_items(&mut tx, &id, site_id, 0, items, now).await?;
        tx.commit().await?;
        Ok(JobRecord {
            id,
            site_id: site_id.to_string(),
            status: "queued".into(),
            total: items.len() as i64,
            done: failed,
            failed,
            error: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Claims the oldest queued job, or one whose worker stopped heartbeating before
    /// `stale_before` (ms). Returns it as `processing`, owned by `node`.
    pub async fn claim_job(&self, node: &str, stale_before: i64) -> Result<Option<JobRecord>> {
        let _w = self.writer().await;
        let lock = match self.backend {
            Backend::Postgres => " for update skip locked",
            Backend::Sqlite => "",
        };
        let now = now_ms();
        let row = sqlx::query(&format!(
            "update ingest_jobs set status = 'processing', claimed_by = $1, heartbeat_at = $2, \
             updated_at = $2 where id = (select id from ingest_jobs \
             where status = 'queued' or (status = 'processing' and heartbeat_at < $3) \
             order by created_at, id limit 1{lock}) returning {JOB_COLUMNS}"
        ))
        .bind(node)
        .bind(now)
        .bind(stale_before)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(JobRecord::from_row).transpose()
    }

    /// Keeps the claim alive; false when another node took the job over.
    pub async fn heartbeat_job(&self, site_id: &str, job_id: &str, node: &str) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update ingest_jobs set heartbeat_at = $4 where site_id = $1 and id = $2 \
             and claimed_by = $3 and status = 'processing'",
        )
        .bind(site_id)
        .bind(job_id)
        .bind(node)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn finish_job(
        &self,
        site_id: &str,
        job_id: &str,
        status: &str,
        error: Option<&str>,
    ) -> Result<JobRecord> {
        {
            let _w = self.writer().await;
            sqlx::query(
                "update ingest_jobs set status = $3, error = $4, updated_at = $5 \
                 where site_id = $1 and id = $2",
            )
            .bind(site_id)
            .bind(job_id)
            .bind(status)
            .bind(error)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        }
        self.job(site_id, job_id)
            .await?
            .ok_or(super::StoreError::NotFound("job"))
    }

    pub async fn job(&self, site_id: &str, job_id: &str) -> Result<Option<JobRecord>> {
        let row = sqlx::query(&format!(
            "select {JOB_COLUMNS} from ingest_jobs where site_id = $1 and id = $2"
        ))
        .bind(site_id)
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(JobRecord::from_row).transpose()
    }

    pub async fn jobs(&self, site_id: &str, limit: i64) -> Result<Vec<JobRecord>> {
        let rows = sqlx::query(&format!(
            "select {JOB_COLUMNS} from ingest_jobs where site_id = $1 \
             order by created_at desc, id limit $2"
        ))
        .bind(site_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(JobRecord::from_row).collect()
    }
}
