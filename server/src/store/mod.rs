//! Persistence: accounts, sites, agents, visitors, conversations and messages; each site's
//! widget settings, identified visitors and own LLM settings; the knowledge base's documents,
//! chunks (with full-text search) and ingestion jobs; knowledge gaps and LLM usage; plans and
//! monthly usage; browser sessions, named tokens, invitation and reset links; the audit log.
//!
//! One [`Store`] speaks to SQLite (the embedded default, a file in the data dir) or Postgres
//! (`postgres://...`) through sqlx's `Any` driver. SQL is written once in the dialect both
//! accept (`$1` binds, `returning`, `on conflict`); the schema lives in `migrations/sqlite` and
//! `migrations/postgres` under matching version names. Every tenant-owned query filters on
//! `site_id`.
//!
//! SQLite serialises writers. Inside one process we queue writers on an async mutex instead of
//! letting them spin in SQLite's busy handler (which sleeps in steps of up to 100 ms and ruins
//! tail latency); other processes (the CLI next to a running server) still wait on
//! `busy_timeout`.

mod account_delete;
mod agents;
mod analytics;
mod audit;
mod conversations;
mod documents;
mod escalation;
mod fulltext;
mod gaps;
mod inbox;
mod job_items;
mod job_progress;
mod jobs;
mod links;
mod messages;
mod origins;
mod plans;
mod privacy;
mod records;
mod sessions;
mod site_llm;
mod sites;
mod sources;
mod ticket_actions;
mod tickets;
mod tokens;
mod widget;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use tokio::sync::{Mutex, MutexGuard};

pub use analytics::Handling;
pub use audit::{AuditRecord, NewAudit};
pub use conversations::TakeOver;
pub use documents::{ChunkRecord, DocumentRecord, NewChunk, NewDocument, Replaced};
pub use escalation::{SignalRecord, TurnOutcome};
pub use gaps::{KnowledgeGap, LlmUsage};
pub use inbox::{Assignee, InboxFilter, InboxRow, MoodBand, VisitorDetails, MOOD_BAND};
pub use job_progress::ItemProgress;
pub use jobs::{ItemRecord, JobRecord, NewItem};
pub use links::{InvitationRecord, LinkKind, LinkRecord};
pub use messages::{AppendOutcome, NewMessage};
pub use origins::{OriginRecord, MAX_ORIGINS_PER_SITE};
pub use plans::{AccountRecord, PlanRecord, Reservation, UsageCounts};
pub use privacy::Erased;
pub use records::*;
pub use sessions::{SessionRecord, SessionTtl, TokenRecord};
pub use site_llm::SiteLlmRecord;
pub use sources::DocumentSource;
pub use tickets::{NewEscalation, TicketRecord, TicketStatRow};
pub use tokens::{hash_token, new_id, new_token};
pub use widget::{IdentifiedVisitor, VisitorContact, VisitorProfile, WidgetSettingsRecord};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database url (expected sqlite: or postgres:)")]
    UnsupportedUrl,
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database; cheap to share behind an `Arc`.
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Queues this process's SQLite writers (see the module doc); `None` on Postgres.
    write_lock: Option<Mutex<()>>,
}

impl Store {
    /// Connects (creating the SQLite file if needed). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            // A local SQLite file cannot hang up; the ping would only cost a thread hand-off.
            .test_before_acquire(backend == Backend::Postgres)
            // SQLite: each connection is a worker thread; on 2 cores 4 measured best for tail
            // latency (p99 8–26 ms vs 23–35 ms with 8 and 34–120 ms with 2; docs/performance.md).
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Checkpoints run on a background task (`spawn_checkpointer`), not inside
                        // whichever commit crosses the WAL threshold: its fsync would stall
                        // every queued writer.
                        // WAL: readers never block the writer. synchronous=normal in WAL mode
                        // survives a process crash (SIGKILL) with every committed transaction;
                        // only an OS crash / power loss can drop the last commits.
                        conn.execute(
                            "pragma journal_mode = wal; pragma synchronous = normal; \
                             pragma busy_timeout = 5000; pragma foreign_keys = on; \
                             pragma wal_autocheckpoint = 0;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        if backend == Backend::Sqlite {
            spawn_checkpointer(pool.clone());
        }
        Ok(Store {
            pool,
            backend,
            write_lock: (backend == Backend::Sqlite).then(|| Mutex::new(())),
        })
    }

    /// Applies the backend's migrations (idempotent).
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Round-trip to the database, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn writer(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// Copies the WAL back into the database file every second, off the request path. PASSIVE
/// never blocks writers or readers; the task ends when the pool closes.
fn spawn_checkpointer(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !pool.is_closed() {
            tick.tick().await;
            if let Err(e) = sqlx::query("pragma wal_checkpoint(passive)")
                .execute(&pool)
                .await
            {
                tracing::debug!(error = %e, "wal checkpoint failed");
            }
        }
    });
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// RFC 3339 rendering of a stored time, for the wire.
pub fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn col<T>(row: &AnyRow, name: &str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    Ok(row.try_get::<T, _>(name)?)
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db.code().as_deref() == Some("23505")
                || db.code().as_deref() == Some("2067")
                || db.code().as_deref() == Some("1555")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_renders_utc_milliseconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:01.5Z");
    }
}
