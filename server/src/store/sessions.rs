//! Browser sessions and named bearer tokens of agents. Only SHA-256 hashes of the secrets are
//! stored; a session also carries the CSRF token the dashboard echoes on every write.

use super::tokens::{hash_token, new_token};
use super::{col, now_ms, Agent, Result, Store};

/// A signed-in browser: who, and the CSRF token its writes must carry.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub agent: Agent,
    /// The hash of the cookie's value: what revocation names.
    pub id_hash: String,
    pub csrf_token: String,
}

/// A bearer token as listed to its owner (never the secret itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    pub agent_email: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// How long sessions live: idle (since the last request) and absolute (since sign-in).
#[derive(Debug, Clone, Copy)]
pub struct SessionTtl {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

/// Writes of `last_seen_at` / `last_used_at` happen at most this often per session or token.
const TOUCH_EVERY_MS: i64 = 60_000;

const AGENT_COLS: &str = "a.id, a.account_id, a.email, a.name, a.role, a.away";

impl Store {
    /// Opens a session; returns `(cookie value, csrf token)`. A new id on every sign-in.
    pub async fn create_session(
        &self,
        agent_id: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
        ttl: SessionTtl,
    ) -> Result<(String, String)> {
        let _w = self.writer().await;
        let token = new_token("ses_");
        let csrf = new_token("csrf_");
        let now = now_ms();
        sqlx::query(
            "insert into agent_sessions (id_hash, agent_id, csrf_token, ip, user_agent, \
             created_at, last_seen_at, expires_at) values ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(hash_token(&token))
        .bind(agent_id)
        .bind(&csrf)
        .bind(ip)
        .bind(user_agent.map(|u| u.chars().take(200).collect::<String>()))
        .bind(now)
        .bind(now + ttl.absolute_ms)
        .execute(&self.pool)
        .await?;
        Ok((token, csrf))
    }

    /// The live session behind a cookie value: not revoked, not past either expiry, its agent
    /// not removed. Refreshes the idle clock (at most once a minute).
    pub async fn session(&self, token: &str, ttl: SessionTtl) -> Result<Option<SessionRecord>> {
        let now = now_ms();
        let id_hash = hash_token(token);
        let row = sqlx::query(&format!(
            "select {AGENT_COLS}, s.csrf_token, s.last_seen_at from agent_sessions s \
             join agents a on a.id = s.agent_id \
             where s.id_hash = $1 and s.revoked_at is null and s.expires_at > $2 \
             and s.last_seen_at > $3 and a.removed_at is null"
        ))
        .bind(&id_hash)
        .bind(now)
        .bind(now - ttl.idle_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let last_seen: i64 = col(&row, "last_seen_at")?;
        if now - last_seen > TOUCH_EVERY_MS {
            let _w = self.writer().await;
            sqlx::query("update agent_sessions set last_seen_at = $2 where id_hash = $1")
                .bind(&id_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(SessionRecord {
            agent: Agent::from_row(&row)?,
            id_hash,
            csrf_token: col(&row, "csrf_token")?,
        }))
    }

    /// Ends one session (sign-out).
    pub async fn revoke_session(&self, id_hash: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "update agent_sessions set revoked_at = $2 where id_hash = $1 and revoked_at is null",
        )
        .bind(id_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends every session of an agent except `keep` (a password change keeps the current one).
    pub async fn revoke_agent_sessions(&self, agent_id: &str, keep: Option<&str>) -> Result<u64> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update agent_sessions set revoked_at = $2 \
             where agent_id = $1 and revoked_at is null and id_hash <> $3",
        )
        .bind(agent_id)
        .bind(now_ms())
        .bind(keep.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Issues a named bearer token; returns `(id, secret)`. Only the hash is stored.
    pub async fn issue_named_token(&self, agent_id: &str, name: &str) -> Result<(String, String)> {
        let _w = self.writer().await;
        let token = new_token("agt_");
        let hash = hash_token(&token);
        let id = hash[..16].to_string();
        sqlx::query(
            "insert into agent_tokens (token_hash, id, name, agent_id, created_at) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(&hash)
        .bind(&id)
        .bind(name)
        .bind(agent_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((id, token))
    }

    /// Live tokens in an account, of one agent or (`agent_id` None) of all its agents.
    pub async fn tokens(
        &self,
        account_id: &str,
        agent_id: Option<&str>,
    ) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "select t.id, t.name, t.agent_id, a.email, t.created_at, t.last_used_at \
             from agent_tokens t join agents a on a.id = t.agent_id \
             where a.account_id = $1 and t.revoked_at is null and a.removed_at is null \
             and ($2 = '' or t.agent_id = $2) order by t.created_at desc, t.id",
        )
        .bind(account_id)
        .bind(agent_id.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: col(r, "id")?,
                    name: col(r, "name")?,
                    agent_id: col(r, "agent_id")?,
                    agent_email: col(r, "email")?,
                    created_at: col(r, "created_at")?,
                    last_used_at: col(r, "last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes a token of the account (of `agent_id` only, when given); false if none matched.
    pub async fn revoke_token(
        &self,
        account_id: &str,
        token_id: &str,
        agent_id: Option<&str>,
    ) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update agent_tokens set revoked_at = $3 where id = $1 and revoked_at is null \
             and ($4 = '' or agent_id = $4) \
             and agent_id in (select id from agents where account_id = $2)",
        )
        .bind(token_id)
        .bind(account_id)
        .bind(now_ms())
        .bind(agent_id.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes every token of an agent (removal).
    pub async fn revoke_agent_tokens(&self, agent_id: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "update agent_tokens set revoked_at = $2 where agent_id = $1 and revoked_at is null",
        )
        .bind(agent_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
