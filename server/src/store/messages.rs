//! Messages: gap-free per-conversation sequence numbers, idempotent inserts, streaming text.

use concierge_protocol::{Author, MessageState};
use sqlx::Any;

use super::records::MESSAGE_COLUMNS;
use super::{is_unique_violation, now_ms, MessageRecord, Result, Store, StoreError};

/// A message to append to a conversation.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub author: Author,
    pub agent_id: Option<&'a str>,
    /// The agent's display name, echoed in the returned record (not stored: it is joined).
    pub author_name: Option<&'a str>,
    pub text: &'a str,
    pub state: MessageState,
    /// Idempotency key from the sender; `None` for server-made messages.
    pub client_msg_id: Option<&'a str>,
}

/// Result of [`Store::append_message`].
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// Newly stored.
    Stored(MessageRecord),
    /// This `client_msg_id` was stored before; nothing new was written.
    Duplicate(MessageRecord),
}

impl AppendOutcome {
    pub fn record(&self) -> &MessageRecord {
        match self {
            AppendOutcome::Stored(m) | AppendOutcome::Duplicate(m) => m,
        }
    }
}

impl Store {
    /// Appends a message at the conversation's next seq, in one transaction with the seq
    /// increment, so seqs never have gaps and a failed insert consumes nothing. A repeated
    /// `client_msg_id` returns the stored message instead (`Duplicate`).
    pub async fn append_message(
        &self,
        site_id: &str,
        conversation_id: &str,
        msg: NewMessage<'_>,
    ) -> Result<AppendOutcome> {
        // No look-up first: the unique index on (conversation_id, client_msg_id) catches a
        // repeat, and the rollback returns its seq, so the common path is one transaction.
        let inserted = {
            let _w = self.writer().await;
            self.insert_next(site_id, conversation_id, &msg).await
        };
        match inserted {
            Ok((seq, created_at)) => Ok(AppendOutcome::Stored(MessageRecord {
                site_id: site_id.to_string(),
                conversation_id: conversation_id.to_string(),
                seq,
                author: msg.author,
                agent_id: msg.agent_id.map(str::to_string),
                author_name: msg.author_name.map(str::to_string),
                text: msg.text.to_string(),
                state: msg.state,
                client_msg_id: msg.client_msg_id.map(str::to_string),
                created_at,
                sources: Vec::new(),
            })),
            // Lost a race with a concurrent resend of the same client_msg_id.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                let cid = msg
                    .client_msg_id
                    .ok_or(StoreError::Conflict("message seq"))?;
                let existing = self
                    .message_by_client_id(site_id, conversation_id, cid)
                    .await?
                    .ok_or(StoreError::Conflict("message"))?;
                Ok(AppendOutcome::Duplicate(existing))
            }
            Err(e) => Err(e),
        }
    }

    /// One statement: the seq is read from the conversation and written back by the
    /// `messages_advance_conversation` trigger (see the migration), so the append is atomic,
    /// gap-free, and costs a single round trip to the database.
    async fn insert_next(
        &self,
        site_id: &str,
        conversation_id: &str,
        msg: &NewMessage<'_>,
    ) -> Result<(i64, i64)> {
        let now = now_ms();
        // Postgres: the row lock queues concurrent appends to one conversation until the
        // first commits. SQLite: the statement holds the database write lock anyway.
        let lock = match self.backend {
            super::Backend::Postgres => " for update of c",
            super::Backend::Sqlite => "",
        };
        let sql = format!(
            "insert into messages (site_id, conversation_id, seq, author, agent_id, text, state, \
             client_msg_id, created_at) \
             select c.site_id, c.id, c.last_seq + 1, $3, $4, $5, $6, $7, $8 from conversations c \
             where c.site_id = $1 and c.id = $2{lock} returning seq"
        );
        let row = sqlx::query::<Any>(&sql)
            .bind(site_id)
            .bind(conversation_id)
            .bind(msg.author.as_str())
            .bind(msg.agent_id)
            .bind(msg.text)
            .bind(msg.state.as_str())
            .bind(msg.client_msg_id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("conversation"))?;
        let seq: i64 = super::col(&row, "seq")?;
        Ok((seq, now))
    }

    pub async fn message(
        &self,
        site_id: &str,
        conversation_id: &str,
        seq: i64,
    ) -> Result<Option<MessageRecord>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages m left join agents a on a.id = m.agent_id \
             where m.site_id = $1 and m.conversation_id = $2 and m.seq = $3"
        );
        let row = sqlx::query(&sql)
            .bind(site_id)
            .bind(conversation_id)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(MessageRecord::from_row).transpose()
    }

    pub async fn message_by_client_id(
        &self,
        site_id: &str,
        conversation_id: &str,
        client_msg_id: &str,
    ) -> Result<Option<MessageRecord>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages m left join agents a on a.id = m.agent_id \
             where m.site_id = $1 and m.conversation_id = $2 and m.client_msg_id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(site_id)
            .bind(conversation_id)
            .bind(client_msg_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(MessageRecord::from_row).transpose()
    }

    /// Messages with `seq > after_seq`, in order, at most `limit`.
    pub async fn messages_after(
        &self,
        site_id: &str,
        conversation_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages m left join agents a on a.id = m.agent_id \
             where m.site_id = $1 and m.conversation_id = $2 and m.seq > $3 order by m.seq limit $4"
        );
        let rows = sqlx::query(&sql)
            .bind(site_id)
            .bind(conversation_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(MessageRecord::from_row).collect()
    }

    /// Appends `text` to a streaming message whose text currently has exactly `offset`
    /// characters. Returns false (and writes nothing) if the message is not streaming or the
    /// offset does not match, so a retried delta can never be stored twice.
    pub async fn append_stream_text(
        &self,
        site_id: &str,
        conversation_id: &str,
        seq: i64,
        offset: usize,
        text: &str,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update messages set text = text || $1 where site_id = $2 and conversation_id = $3 \
             and seq = $4 and state = 'streaming' and length(text) = $5",
        )
        .bind(text)
        .bind(site_id)
        .bind(conversation_id)
        .bind(seq)
        .bind(offset as i64)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a streaming message complete and returns its final snapshot.
    pub async fn complete_stream(
        &self,
        site_id: &str,
        conversation_id: &str,
        seq: i64,
        sources: &[concierge_protocol::Source],
    ) -> Result<MessageRecord> {
        let sources = if sources.is_empty() {
            None
        } else {
            Some(serde_json::to_string(sources).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        };
        {
            let _w = self.writer().await;
            sqlx::query(
                "update messages set state = 'complete', sources = $4 \
                 where site_id = $1 and conversation_id = $2 and seq = $3",
            )
            .bind(site_id)
            .bind(conversation_id)
            .bind(seq)
            .bind(sources)
            .execute(&self.pool)
            .await?;
        }
        self.message(site_id, conversation_id, seq)
            .await?
            .ok_or(StoreError::NotFound("message"))
    }
}
