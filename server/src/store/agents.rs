//! Agents (people answering chats) and their bearer tokens.

use super::records::AGENT_COLUMNS;
use super::tokens::{hash_token, new_id};
use super::{col, is_unique_violation, now_ms, Agent, Result, Role, Store, StoreError};

impl Store {
    /// Creates an agent in an account. `password_hash` is a PHC string (argon2).
    pub async fn create_agent(
        &self,
        account_id: &str,
        email: &str,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Agent> {
        let _w = self.writer().await;
        let agent = Agent {
            id: new_id(),
            account_id: account_id.to_string(),
            email: email.to_string(),
            name: name.to_string(),
            role,
            away: false,
        };
        let res = sqlx::query(
            "insert into agents (id, account_id, email, name, role, password_hash, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&agent.id)
        .bind(&agent.account_id)
        .bind(&agent.email)
        .bind(&agent.name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(agent),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("agent email")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn agent_by_email(&self, email: &str) -> Result<Option<Agent>> {
        let sql =
            format!("select {AGENT_COLUMNS} from agents where email = $1 and removed_at is null");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Agent::from_row).transpose()
    }

    /// The agent and its password hash (PHC string), for sign-in.
    pub async fn agent_credentials(&self, email: &str) -> Result<Option<(Agent, String)>> {
        let sql = format!(
            "select {AGENT_COLUMNS}, password_hash from agents \
             where email = $1 and removed_at is null"
        );
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some((Agent::from_row(&r)?, col(&r, "password_hash")?))),
            None => Ok(None),
        }
    }

    /// The password hash of an agent, for a password change.
    pub async fn password_hash(&self, agent_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("select password_hash from agents where id = $1")
            .bind(agent_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| col(&r, "password_hash")).transpose()
    }

    pub async fn set_password_hash(&self, agent_id: &str, hash: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "update agents set password_hash = $2, must_change_password = 0, \
             password_changed_at = $3 where id = $1",
        )
        .bind(agent_id)
        .bind(hash)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An agent of the account (None for another account's id or a removed agent).
    pub async fn agent_in_account(
        &self,
        account_id: &str,
        agent_id: &str,
    ) -> Result<Option<Agent>> {
        let sql = format!(
            "select {AGENT_COLUMNS} from agents \
             where id = $1 and account_id = $2 and removed_at is null"
        );
        let row = sqlx::query(&sql)
            .bind(agent_id)
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Agent::from_row).transpose()
    }

    /// The account's agents, oldest first.
    pub async fn agents_of_account(&self, account_id: &str) -> Result<Vec<Agent>> {
        let sql = format!(
            "select {AGENT_COLUMNS} from agents \
             where account_id = $1 and removed_at is null order by created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Agent::from_row).collect()
    }

    /// Seats in use: the account's agents that are not removed.
    pub async fn count_seats(&self, account_id: &str) -> Result<i64> {
        let row = sqlx::query(
            "select count(*) as n from agents where account_id = $1 and removed_at is null",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await?;
        col(&row, "n")
    }

    pub async fn set_role(&self, account_id: &str, agent_id: &str, role: Role) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update agents set role = $3 where id = $1 and account_id = $2 and removed_at is null",
        )
        .bind(agent_id)
        .bind(account_id)
        .bind(role.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets the agent away (or back online); `None` for an agent not in the account.
    pub async fn set_away(
        &self,
        account_id: &str,
        agent_id: &str,
        away: bool,
    ) -> Result<Option<Agent>> {
        {
            let _w = self.writer().await;
            sqlx::query(
                "update agents set away = $3 where id = $1 and account_id = $2 \
                 and removed_at is null",
            )
            .bind(agent_id)
            .bind(account_id)
            .bind(i64::from(away))
            .execute(&self.pool)
            .await?;
        }
        self.agent_in_account(account_id, agent_id).await
    }

    /// Removes an agent: its rows stay (messages keep their author) but it can no longer sign
    /// in, and its email is freed for a new invitation. Sessions and tokens end with it.
    pub async fn remove_agent(&self, account_id: &str, agent_id: &str) -> Result<bool> {
        let done = {
            let _w = self.writer().await;
            sqlx::query(
                "update agents set removed_at = $3, email = email || '#removed:' || id \
                 where id = $1 and account_id = $2 and removed_at is null",
            )
            .bind(agent_id)
            .bind(account_id)
            .bind(now_ms())
            .execute(&self.pool)
            .await?
        };
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.revoke_agent_sessions(agent_id, None).await?;
        self.revoke_agent_tokens(agent_id).await?;
        Ok(true)
    }

    /// Issues a new bearer token for an agent; only its hash is stored.
    pub async fn issue_agent_token(&self, agent_id: &str) -> Result<String> {
        Ok(self.issue_named_token(agent_id, "cli").await?.1)
    }

    /// The agent a bearer token belongs to, unless unknown, revoked, or the agent removed.
    pub async fn agent_by_token(&self, token: &str) -> Result<Option<Agent>> {
        let hash = hash_token(token);
        let row = sqlx::query(
            "select a.id, a.account_id, a.email, a.name, a.role, a.away, t.last_used_at \
             from agent_tokens t join agents a on a.id = t.agent_id \
             where t.token_hash = $1 and t.revoked_at is null and a.removed_at is null",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = now_ms();
        let last: Option<i64> = col(&row, "last_used_at")?;
        if last.is_none_or(|t| now - t > 60_000) {
            let _w = self.writer().await;
            sqlx::query("update agent_tokens set last_used_at = $2 where token_hash = $1")
                .bind(&hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Agent::from_row(&row)?))
    }
}
