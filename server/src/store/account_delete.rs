//! Deleting a whole account: every row of its sites, agents, sessions, tokens, links, usage
//! and audit log, in one transaction, children first. The caller removes the documents'
//! vectors from the index first (the database cannot reach the vector index).

use sqlx::Any;

use super::{Result, Store};

/// Tables keyed by `site_id`, children before parents.
const SITE_TABLES: [&str; 15] = [
    "messages",
    "message_signals",
    "message_feedback",
    "tickets",
    "knowledge_gaps",
    "conversations",
    "visitors",
    "widget_settings",
    "widget_previews",
    "site_llm",
    "ingest_items",
    "ingest_jobs",
    "chunks",
    "documents",
    "llm_usage",
];

impl Store {
    /// Deletes the account and everything it owns; false when there was no such account.
    pub async fn delete_account(&self, account_id: &str) -> Result<bool> {
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // Reservations first: they reference conversations.
        sqlx::query::<Any>("delete from bot_answer_reservations where account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for table in SITE_TABLES.iter().chain(&CONSOLE_TABLES) {
            let sql = format!(
                "delete from {table} where site_id in (select id from sites where account_id = $1)"
            );
            sqlx::query::<Any>(&sql)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        for sql in [
            "delete from agent_sessions where agent_id in \
             (select id from agents where account_id = $1)",
            "delete from agent_tokens where agent_id in \
             (select id from agents where account_id = $1)",
            "delete from agent_presence where account_id = $1",
            "delete from account_links where account_id = $1",
            "delete from usage_counters where account_id = $1",
            "delete from audit_log where account_id = $1",
            "delete from agents where account_id = $1",
            "delete from sites where account_id = $1",
        ] {
            sqlx::query::<Any>(sql)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        let gone = sqlx::query::<Any>("delete from accounts where id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(gone)
    }
}

/// Tables keyed by `site_id` that the console added (gap dismissals, kept originals, origins
/// seen), none of them a parent of another.
const CONSOLE_TABLES: [&str; 3] = [
    "knowledge_gap_dismissals",
    "document_sources",
    "site_origins",
];
