//! The origins the widget's visitor sockets came from, per site, accepted or refused: what
//! "Check installation" shows. Whether an origin is allowed is decided when reading, against
//! the site's current settings.

use super::{col, now_ms, Result, Store};

/// Most origins kept per site: a page can send any `Origin`, so refused ones must not grow a
/// site's rows without bound.
pub const MAX_ORIGINS_PER_SITE: i64 = 200;

#[derive(Debug, Clone, PartialEq)]
pub struct OriginRecord {
    pub origin: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub connections: i64,
}

impl Store {
    /// Adds `connections` sockets from `origin`, seen now. A new origin is not recorded once
    /// the site has [`MAX_ORIGINS_PER_SITE`].
    pub async fn record_origin(&self, site_id: &str, origin: &str, connections: i64) -> Result<()> {
        let _w = self.writer().await;
        let now = now_ms();
        let updated = sqlx::query(
            "update site_origins set last_seen_at = $3, connections = connections + $4 \
             where site_id = $1 and origin = $2",
        )
        .bind(site_id)
        .bind(origin)
        .bind(now)
        .bind(connections)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            // Another node may insert the same origin at the same moment: add up then.
            sqlx::query(
                "insert into site_origins (site_id, origin, first_seen_at, last_seen_at, \
                 connections) select $1, $2, $3, $3, $4 \
                 where (select count(*) from site_origins where site_id = $1) < $5 \
                 on conflict (site_id, origin) do update set last_seen_at = excluded.last_seen_at, \
                 connections = site_origins.connections + excluded.connections",
            )
            .bind(site_id)
            .bind(origin)
            .bind(now)
            .bind(connections)
            .bind(MAX_ORIGINS_PER_SITE)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// The origins seen for the site, most recent first.
    pub async fn origins(&self, site_id: &str) -> Result<Vec<OriginRecord>> {
        let rows = sqlx::query(
            "select origin, first_seen_at, last_seen_at, connections from site_origins \
             where site_id = $1 order by last_seen_at desc, origin",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OriginRecord {
                    origin: col(r, "origin")?,
                    first_seen_at: col(r, "first_seen_at")?,
                    last_seen_at: col(r, "last_seen_at")?,
                    connections: col(r, "connections")?,
                })
            })
            .collect()
    }
}
