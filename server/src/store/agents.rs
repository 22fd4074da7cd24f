//! Agents (people answering chats) and their bearer tokens.

use super::tokens::{hash_token, new_id, new_token};
use super::{is_unique_violation, now_ms, Agent, Result, Role, Store, StoreError};

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
        let row =
            sqlx::query("select id, account_id, email, name, role from agents where email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(Agent::from_row).transpose()
    }

    /// Issues a new bearer token for an agent; only its hash is stored.
    pub async fn issue_agent_token(&self, agent_id: &str) -> Result<String> {
        let _w = self.writer().await;
        let token = new_token("agt_");
        sqlx::query(
            "insert into agent_tokens (token_hash, agent_id, created_at) values ($1, $2, $3)",
        )
        .bind(hash_token(&token))
        .bind(agent_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The agent a bearer token belongs to, unless unknown or revoked.
    pub async fn agent_by_token(&self, token: &str) -> Result<Option<Agent>> {
        let row = sqlx::query(
            "select a.id, a.account_id, a.email, a.name, a.role from agent_tokens t \
             join agents a on a.id = t.agent_id \
             where t.token_hash = $1 and t.revoked_at is null",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Agent::from_row).transpose()
    }
}
