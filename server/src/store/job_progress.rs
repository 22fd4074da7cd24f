//! Live progress of the items of a running ingestion job, and the recent items the documents
//! list reads to show what is queued, being processed or failed.

use sqlx::Any;

use super::jobs::ITEM_COLUMNS;
use super::{now_ms, ItemRecord, Result, Store};

/// One item's embedding progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemProgress {
    pub ordinal: i64,
    pub chunks_done: i64,
    pub chunks_total: i64,
}

impl Store {
    /// Records the progress of several items of a job in one transaction: the pipeline calls
    /// it once per embedding round, never per chunk. Finished items are left alone.
    pub async fn item_progress(
        &self,
        site_id: &str,
        job_id: &str,
        progress: &[ItemProgress],
    ) -> Result<()> {
        if progress.is_empty() {
            return Ok(());
        }
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        for p in progress {
            sqlx::query::<Any>(
                "update ingest_items set chunks_done = $4, chunks_total = $5, updated_at = $6 \
                 where site_id = $1 and job_id = $2 and ordinal = $3 and status = 'queued'",
            )
            .bind(site_id)
            .bind(job_id)
            .bind(p.ordinal)
            .bind(p.chunks_done)
            .bind(p.chunks_total)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The items (without payloads) of the site's `jobs` most recent jobs, in no particular
    /// order.
    pub async fn recent_items(&self, site_id: &str, jobs: i64) -> Result<Vec<ItemRecord>> {
        let rows = sqlx::query(&format!(
            "select {ITEM_COLUMNS} from ingest_items where site_id = $1 and job_id in \
             (select id from ingest_jobs where site_id = $1 order by created_at desc, id \
             limit $2)"
        ))
        .bind(site_id)
        .bind(jobs)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ItemRecord::from_row).collect()
    }
}
