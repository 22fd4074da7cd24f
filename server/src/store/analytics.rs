//! Reads for the owner's analytics: conversations started per day, how many the bot handled
//! without a person, answer feedback in a range. Aggregation happens in `crate::analytics`.

use super::{col, Result, Store};

/// Conversations with a visitor message in a range, and how they were handled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Handling {
    /// Conversations with at least one visitor message.
    pub conversations: i64,
    /// ... in which the bot answered at least once.
    pub bot_answered: i64,
    /// ... the bot answered, and no person was involved (no ticket, no agent message).
    pub deflected: i64,
}

impl Store {
    /// Creation times of the site's conversations with a message, in `[from, to)`.
    pub async fn conversation_starts(&self, site_id: &str, from: i64, to: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "select created_at from conversations where site_id = $1 and created_at >= $2 \
             and created_at < $3 and last_seq > 0",
        )
        .bind(site_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| col(r, "created_at")).collect()
    }

    pub async fn handling(&self, site_id: &str, from: i64, to: i64) -> Result<Handling> {
        let row = sqlx::query(
            "select count(*) as conversations, \
             coalesce(sum(case when b.bot then 1 else 0 end), 0) as bot_answered, \
             coalesce(sum(case when b.bot and not b.person then 1 else 0 end), 0) as deflected \
             from (select \
               exists (select 1 from messages m where m.site_id = c.site_id \
                 and m.conversation_id = c.id and m.author = 'bot') as bot, \
               (exists (select 1 from tickets t where t.site_id = c.site_id \
                 and t.conversation_id = c.id) \
                or exists (select 1 from messages m where m.site_id = c.site_id \
                 and m.conversation_id = c.id and m.author = 'agent')) as person \
             from conversations c where c.site_id = $1 and c.created_at >= $2 \
             and c.created_at < $3 and c.last_seq > 0) b",
        )
        .bind(site_id)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok(Handling {
            conversations: col(&row, "conversations")?,
            bot_answered: col(&row, "bot_answered")?,
            deflected: col(&row, "deflected")?,
        })
    }

    /// Thumbs up and down given in `[from, to)`.
    pub async fn feedback_between(&self, site_id: &str, from: i64, to: i64) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "select coalesce(sum(case when value = 'up' then 1 else 0 end), 0) as up, \
             coalesce(sum(case when value = 'down' then 1 else 0 end), 0) as down \
             from message_feedback where site_id = $1 and created_at >= $2 and created_at < $3",
        )
        .bind(site_id)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok((col(&row, "up")?, col(&row, "down")?))
    }
}
