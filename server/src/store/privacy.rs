//! Privacy: everything stored about one visitor (export), erasing a visitor, and deleting
//! conversations past a site's retention. Erasure deletes, in one transaction, every row that
//! holds the visitor's words or identity: messages, signals, feedback, tickets (their handoff
//! packets quote the visitor), knowledge gaps (the visitor's questions), the bot-answer
//! reservations, the conversations and the visitor. Usage counters stay: they hold no content.

use serde_json::{json, Value};
use sqlx::Any;

use super::{col, now_ms, rfc3339, Result, Store};

/// Rows removed by an erasure or a retention sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub conversations: u64,
    pub messages: u64,
    pub tickets: u64,
    pub visitors: u64,
}

/// Tables keyed by conversation, child rows first.
const CONVERSATION_CHILDREN: [&str; 6] = [
    "messages",
    "message_signals",
    "message_feedback",
    "tickets",
    "knowledge_gaps",
    "bot_answer_reservations",
];

impl Store {
    /// Everything stored about a visitor of a site, as JSON; None for an unknown visitor.
    pub async fn visitor_export(&self, site_id: &str, visitor_id: &str) -> Result<Option<Value>> {
        let Some(v) = self.visitor_details(site_id, visitor_id).await? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "select id from conversations where site_id = $1 and visitor_id = $2 \
             order by created_at, id",
        )
        .bind(site_id)
        .bind(visitor_id)
        .fetch_all(&self.pool)
        .await?;
        let mut conversations = Vec::new();
        for r in &rows {
            let id: String = col(r, "id")?;
            let Some(c) = self.conversation(site_id, &id).await? else {
                continue;
            };
            let messages = self.messages_after(site_id, &id, 0, i64::MAX).await?;
            let signals = self
                .recent_signals(site_id, &id, i64::MAX, i64::MAX)
                .await?;
            let tickets = self.tickets_of_conversation(site_id, &id, 1_000).await?;
            let feedback = sqlx::query(
                "select seq, value, created_at from message_feedback \
                 where site_id = $1 and conversation_id = $2 order by seq",
            )
            .bind(site_id)
            .bind(&id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|f| {
                Ok(
                    json!({"seq": col::<i64>(f, "seq")?, "value": col::<String>(f, "value")?,
                          "at": rfc3339(col(f, "created_at")?)}),
                )
            })
            .collect::<Result<Vec<_>>>()?;
            conversations.push(json!({
                "conversation": c.view(),
                "messages": messages.iter().map(|m| m.view()).collect::<Vec<_>>(),
                "signals": signals.iter().map(|s| json!({
                    "seq": s.seq, "sentiment": s.sentiment, "mood": s.mood,
                    "intents": s.intents, "outcome": s.outcome.as_str(), "at": rfc3339(s.created_at),
                })).collect::<Vec<_>>(),
                "feedback": feedback,
                "tickets": tickets.iter().map(|t| t.view()).collect::<Vec<_>>(),
            }));
        }
        Ok(Some(json!({
            "exported_at": rfc3339(now_ms()),
            "visitor": {
                "id": v.id, "external_id": v.external_id, "email": v.email, "name": v.name,
                "first_seen_at": rfc3339(v.first_seen_at), "last_seen_at": rfc3339(v.last_seen_at),
            },
            "conversations": conversations,
        })))
    }

    /// Erases a visitor of a site and everything about them; None for an unknown visitor.
    pub async fn erase_visitor(&self, site_id: &str, visitor_id: &str) -> Result<Option<Erased>> {
        let ids: Vec<String> =
            sqlx::query("select id from conversations where site_id = $1 and visitor_id = $2")
                .bind(site_id)
                .bind(visitor_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| col(r, "id"))
                .collect::<Result<_>>()?;
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut erased = delete_conversations(&mut tx, site_id, &ids).await?;
        erased.visitors = sqlx::query::<Any>("delete from visitors where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(visitor_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if erased.visitors == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(erased))
    }

    /// Sites with a retention period: `(site_id, days)`.
    pub async fn retention_sites(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "select id, retention_days from sites where retention_days is not null \
             and retention_days > 0",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "id")?, col(r, "retention_days")?)))
            .collect()
    }

    pub async fn retention_days(&self, site_id: &str) -> Result<Option<i64>> {
        let row = sqlx::query("select retention_days from sites where id = $1")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| col::<Option<i64>>(&r, "retention_days"))
            .transpose()?
            .flatten())
    }

    /// Sets (or with None, clears) a site's retention in days.
    pub async fn set_retention_days(&self, site_id: &str, days: Option<i64>) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query("update sites set retention_days = $2 where id = $1")
            .bind(site_id)
            .bind(days)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes up to `batch` of a site's conversations last active before `before_ms`, with
    /// their messages, signals, feedback, tickets and gaps; visitors left with no conversation
    /// go too. Returns what was deleted (0 conversations: nothing left to do).
    pub async fn delete_stale_conversations(
        &self,
        site_id: &str,
        before_ms: i64,
        batch: i64,
    ) -> Result<Erased> {
        let ids: Vec<String> = sqlx::query(
            "select id from conversations where site_id = $1 and updated_at < $2 \
             order by updated_at limit $3",
        )
        .bind(site_id)
        .bind(before_ms)
        .bind(batch)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| col(r, "id"))
        .collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(Erased::default());
        }
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let mut erased = delete_conversations(&mut tx, site_id, &ids).await?;
        erased.visitors = sqlx::query::<Any>(
            "delete from visitors where site_id = $1 and last_seen_at < $2 and not exists \
             (select 1 from conversations c where c.visitor_id = visitors.id)",
        )
        .bind(site_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(erased)
    }
}

/// Deletes conversations of a site and every row that hangs off them, inside `tx`.
async fn delete_conversations(
    tx: &mut sqlx::Transaction<'_, Any>,
    site_id: &str,
    ids: &[String],
) -> Result<Erased> {
    let mut erased = Erased::default();
    for chunk in ids.chunks(200) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 2))
            .collect::<Vec<_>>()
            .join(", ");
        for table in CONVERSATION_CHILDREN {
            // The reservations table has no site_id: its conversation ids were read from this
            // site's conversations above, which is the tenancy check.
            let site_filter = if table == "bot_answer_reservations" {
                "$1 = $1"
            } else {
                "site_id = $1"
            };
            let sql =
                format!("delete from {table} where {site_filter} and conversation_id in ({list})");
            let mut q = sqlx::query::<Any>(&sql).bind(site_id);
            for id in chunk {
                q = q.bind(id);
            }
            let n = q.execute(&mut **tx).await?.rows_affected();
            match table {
                "messages" => erased.messages += n,
                "tickets" => erased.tickets += n,
                _ => {}
            }
        }
        let sql = format!("delete from conversations where site_id = $1 and id in ({list})");
        let mut q = sqlx::query::<Any>(&sql).bind(site_id);
        for id in chunk {
            q = q.bind(id);
        }
        erased.conversations += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(erased)
}
