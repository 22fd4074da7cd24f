//! The items of an ingestion job: appended as a sitemap expands, read back in order (without
//! their payloads, fetched one at a time), and finished one by one, each in a transaction with
//! the job's counters, so a resumed job continues at its first item still `queued`.

use sqlx::Any;

use super::jobs::{ITEM_COLUMNS, JOB_COLUMNS};
use super::{col, now_ms, ItemRecord, JobRecord, NewItem, Result, Store};

impl Store {
    /// Adds items to a running job (a sitemap expanding into pages).
    pub async fn append_items(&self, site_id: &str, job_id: &str, items: &[NewItem]) -> Result<()> {
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query::<Any>(
            "select coalesce(max(ordinal), -1) + 1 as next from ingest_items \
             where site_id = $1 and job_id = $2",
        )
        .bind(site_id)
        .bind(job_id)
        .fetch_one(&mut *tx)
        .await?;
        let next: i64 = col(&row, "next")?;
        insert_items(&mut tx, job_id, site_id, next, items, now).await?;
        let failed = items.iter().filter(|i| i.failed.is_some()).count() as i64;
        sqlx::query::<Any>(
            "update ingest_jobs set total = total + $3, done = done + $4, failed = failed + $4, \
             updated_at = $5 where site_id = $1 and id = $2",
        )
        .bind(site_id)
        .bind(job_id)
        .bind(items.len() as i64)
        .bind(failed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Items still to do, in order (without payloads).
    pub async fn queued_items(&self, site_id: &str, job_id: &str) -> Result<Vec<ItemRecord>> {
        let rows = sqlx::query(&format!(
            "select {ITEM_COLUMNS} from ingest_items where site_id = $1 and job_id = $2 \
             and status = 'queued' order by ordinal"
        ))
        .bind(site_id)
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ItemRecord::from_row).collect()
    }

    pub async fn job_items(&self, site_id: &str, job_id: &str) -> Result<Vec<ItemRecord>> {
        let rows = sqlx::query(&format!(
            "select {ITEM_COLUMNS} from ingest_items where site_id = $1 and job_id = $2 \
             order by ordinal"
        ))
        .bind(site_id)
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ItemRecord::from_row).collect()
    }

    pub async fn item_payload(
        &self,
        site_id: &str,
        job_id: &str,
        ordinal: i64,
    ) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query(
            "select payload from ingest_items where site_id = $1 and job_id = $2 and ordinal = $3",
        )
        .bind(site_id)
        .bind(job_id)
        .bind(ordinal)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => col::<Option<Vec<u8>>>(&r, "payload"),
            None => Ok(None),
        }
    }

    /// Records an item's outcome, drops its payload and advances the job's counters, in one
    /// transaction. Returns the job as it now stands.
    pub async fn finish_item(
        &self,
        site_id: &str,
        job_id: &str,
        ordinal: i64,
        status: &str,
        error: Option<&str>,
        chunk_count: Option<i64>,
    ) -> Result<JobRecord> {
        let _w = self.writer().await;
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query::<Any>(
            "update ingest_items set status = $4, error = $5, chunk_count = $6, payload = null, \
             updated_at = $7 where site_id = $1 and job_id = $2 and ordinal = $3 \
             and status = 'queued'",
        )
        .bind(site_id)
        .bind(job_id)
        .bind(ordinal)
        .bind(status)
        .bind(error)
        .bind(chunk_count)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 1 {
            let failed = i64::from(status == "failed");
            sqlx::query::<Any>(
                "update ingest_jobs set done = done + 1, failed = failed + $3, updated_at = $4 \
                 where site_id = $1 and id = $2",
            )
            .bind(site_id)
            .bind(job_id)
            .bind(failed)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query::<Any>(&format!(
            "select {JOB_COLUMNS} from ingest_jobs where site_id = $1 and id = $2"
        ))
        .bind(site_id)
        .bind(job_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        JobRecord::from_row(&row)
    }
}

pub(super) async fn insert_items(
    tx: &mut sqlx::Transaction<'_, Any>,
    job_id: &str,
    site_id: &str,
    first: i64,
    items: &[NewItem],
    now: i64,
) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        sqlx::query::<Any>(
            "insert into ingest_items (job_id, ordinal, site_id, doc_key, source, name, payload, \
             status, error, updated_at, forced) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11)",
        )
        .bind(job_id)
        .bind(first + i as i64)
        .bind(site_id)
        .bind(&item.doc_key)
        .bind(item.source)
        .bind(&item.name)
        .bind(item.payload.as_deref())
        .bind(if item.failed.is_some() {
            "failed"
        } else {
            "queued"
        })
        .bind(item.failed.as_deref())
        .bind(now)
        .bind(i64::from(item.forced))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
