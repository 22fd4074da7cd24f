//! Visitors and their conversations.

use concierge_protocol::ConversationStatus;

use super::records::CONVERSATION_COLUMNS;
use super::tokens::{hash_token, new_id, new_token};
use super::{now_ms, ConversationRecord, Result, Store, StoreError, Visitor};

impl Store {
    /// A new anonymous visitor of a site and the token that identifies them from now on.
    pub async fn create_visitor(&self, site_id: &str) -> Result<(Visitor, String)> {
        let _w = self.writer().await;
        let token = new_token("vt_");
        let visitor = Visitor {
            id: new_id(),
            site_id: site_id.to_string(),
        };
        let now = now_ms();
        sqlx::query(
            "insert into visitors (id, site_id, token_hash, created_at, last_seen_at) \
             values ($1, $2, $3, $4, $4)",
        )
        .bind(&visitor.id)
        .bind(site_id)
        .bind(hash_token(&token))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok((visitor, token))
    }

    /// The visitor a token belongs to, on this site only.
    pub async fn visitor_by_token(&self, site_id: &str, token: &str) -> Result<Option<Visitor>> {
        let row =
            sqlx::query("select id, site_id from visitors where site_id = $1 and token_hash = $2")
                .bind(site_id)
                .bind(hash_token(token))
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => Some(Visitor {
                id: super::col(&r, "id")?,
                site_id: super::col(&r, "site_id")?,
            }),
            None => None,
        })
    }

    /// Keeps where the visitor is and their language (from their `hello`); a `None` leaves
    /// the kept value.
    pub async fn set_visitor_context(
        &self,
        site_id: &str,
        visitor_id: &str,
        page_url: Option<&str>,
        language: Option<&str>,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "update visitors set page_url = coalesce($1, page_url), \
             language = coalesce($2, language) where site_id = $3 and id = $4",
        )
        .bind(page_url)
        .bind(language)
        .bind(site_id)
        .bind(visitor_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn create_conversation(
        &self,
        site_id: &str,
        visitor_id: &str,
    ) -> Result<ConversationRecord> {
        let id = new_id();
        {
            let _w = self.writer().await;
            let now = now_ms();
            sqlx::query(
                "insert into conversations (id, site_id, visitor_id, status, last_seq, created_at, updated_at) \
                 values ($1, $2, $3, 'bot', 0, $4, $4)",
            )
            .bind(&id)
            .bind(site_id)
            .bind(visitor_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        self.conversation(site_id, &id)
            .await?
            .ok_or(StoreError::NotFound("conversation"))
    }

    pub async fn conversation(
        &self,
        site_id: &str,
        id: &str,
    ) -> Result<Option<ConversationRecord>> {
        let sql = format!(
            "select {CONVERSATION_COLUMNS} from conversations c join sites s on s.id = c.site_id \
             left join agents a on a.id = c.agent_id where c.site_id = $1 and c.id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(site_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ConversationRecord::from_row).transpose()
    }

    /// A conversation on any site of an account (agents act across their account's sites).
    pub async fn conversation_in_account(
        &self,
        account_id: &str,
        id: &str,
    ) -> Result<Option<ConversationRecord>> {
        let sql = format!(
            "select {CONVERSATION_COLUMNS} from conversations c join sites s on s.id = c.site_id \
             left join agents a on a.id = c.agent_id where s.account_id = $1 and c.id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(account_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ConversationRecord::from_row).transpose()
    }

    /// The visitor's most recently active conversation, if any.
    pub async fn latest_conversation_of_visitor(
        &self,
        site_id: &str,
        visitor_id: &str,
    ) -> Result<Option<ConversationRecord>> {
        let sql = format!(
            "select {CONVERSATION_COLUMNS} from conversations c join sites s on s.id = c.site_id \
             left join agents a on a.id = c.agent_id where c.site_id = $1 and c.visitor_id = $2 \
             order by c.updated_at desc, c.created_at desc limit 1"
        );
        let row = sqlx::query(&sql)
            .bind(site_id)
            .bind(visitor_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ConversationRecord::from_row).transpose()
    }

    /// A visitor's conversations, newest activity first, each with its last message's text
    /// (`None` while it has none).
    pub async fn conversations_of_visitor(
        &self,
        site_id: &str,
        visitor_id: &str,
        limit: i64,
    ) -> Result<Vec<(ConversationRecord, Option<String>)>> {
        let sql = format!(
            "select {CONVERSATION_COLUMNS}, m.text as last_text from conversations c \
             join sites s on s.id = c.site_id left join agents a on a.id = c.agent_id \
             left join messages m on m.conversation_id = c.id and m.seq = c.last_seq \
             and m.site_id = c.site_id \
             where c.site_id = $1 and c.visitor_id = $2 \
             order by c.updated_at desc, c.created_at desc, c.id limit $3"
        );
        let rows = sqlx::query(&sql)
            .bind(site_id)
            .bind(visitor_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    ConversationRecord::from_row(r)?,
                    super::col(r, "last_text")?,
                ))
            })
            .collect()
    }

    /// Unresolved conversations with at least one message, newest activity first.
    pub async fn open_conversations(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<ConversationRecord>> {
        let sql = format!(
            "select {CONVERSATION_COLUMNS} from conversations c join sites s on s.id = c.site_id \
             left join agents a on a.id = c.agent_id \
             where s.account_id = $1 and c.status <> 'resolved' and c.last_seq > 0 \
             order by c.updated_at desc limit $2"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ConversationRecord::from_row).collect()
    }

    /// Sets who answers the conversation. `agent_id` is kept only for status `agent`.
    pub async fn set_conversation_status(
        &self,
        site_id: &str,
        id: &str,
        status: ConversationStatus,
        agent_id: Option<&str>,
    ) -> Result<ConversationRecord> {
        {
            let _w = self.writer().await;
            let agent_id = if status == ConversationStatus::Agent {
                agent_id
            } else {
                None
            };
            let done = sqlx::query(
                "update conversations set status = $1, agent_id = $2, updated_at = $3, rev = rev + 1 \
                 where site_id = $4 and id = $5",
            )
            .bind(status.as_str())
            .bind(agent_id)
            .bind(now_ms())
            .bind(site_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("conversation"));
            }
        }
        self.conversation(site_id, id)
            .await?
            .ok_or(StoreError::NotFound("conversation"))
    }

    /// Status `waiting` (for people), unless people have it already (`waiting` or `agent`):
    /// one conditional update, so an agent who takes the conversation over while an escalation
    /// is being decided keeps it. `None` when nothing changed (or no such conversation).
    pub async fn hand_to_people(
        &self,
        site_id: &str,
        id: &str,
    ) -> Result<Option<ConversationRecord>> {
        let changed = {
            let _w = self.writer().await;
            sqlx::query(
                "update conversations set status = 'waiting', agent_id = null, updated_at = $1, \
                 rev = rev + 1 \
                 where site_id = $2 and id = $3 and status not in ('waiting', 'agent')",
            )
            .bind(now_ms())
            .bind(site_id)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
                > 0
        };
        if !changed {
            return Ok(None);
        }
        self.conversation(site_id, id).await
    }

    /// Status `agent` for `agent_id`, unless an agent holds the conversation already (status
    /// `agent`, that agent not removed): one conditional update, so of two agents taking over
    /// at once exactly one wins. `None` when the conversation does not exist.
    pub async fn take_over_conversation(
        &self,
        site_id: &str,
        id: &str,
        agent_id: &str,
    ) -> Result<Option<TakeOver>> {
        // A hand-back landing between the update and the read is taken again (a few times).
        for _ in 0..3 {
            let changed = {
                let _w = self.writer().await;
                sqlx::query(
                    "update conversations set status = 'agent', agent_id = $1, updated_at = $2, \
                     rev = rev + 1 \
                     where site_id = $3 and id = $4 and (status <> 'agent' or agent_id is null \
                     or not exists (select 1 from agents a where a.id = conversations.agent_id \
                     and a.removed_at is null))",
                )
                .bind(agent_id)
                .bind(now_ms())
                .bind(site_id)
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                    > 0
            };
            let Some(current) = self.conversation(site_id, id).await? else {
                return Ok(None);
            };
            if changed {
                return Ok(Some(TakeOver::Taken(current)));
            }
            if current.status == ConversationStatus::Agent {
                return Ok(Some(if current.agent_id.as_deref() == Some(agent_id) {
                    // Not changed, and yet ours: it was ours already (a second click, a retry).
                    TakeOver::AlreadyHeld(current)
                } else {
                    TakeOver::HeldByOther(current)
                }));
            }
        }
        Err(StoreError::Conflict(
            "conversation changing too fast to take over",
        ))
    }
}

/// What [`Store::take_over_conversation`] did.
#[derive(Debug, Clone)]
pub enum TakeOver {
    /// The agent holds the conversation now.
    Taken(ConversationRecord),
    /// The agent held it already; nothing changed.
    AlreadyHeld(ConversationRecord),
    /// Another agent holds it (`agent_id`, `agent_name`); nothing changed.
    HeldByOther(ConversationRecord),
}
