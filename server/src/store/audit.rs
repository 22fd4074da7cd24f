//! The audit log: who did what to which target, when and from where. Entries name targets by
//! id or email and never copy content (an erasure is audited without what was erased).

use super::tokens::new_id;
use super::{col, now_ms, Result, Store};

/// One entry to append.
#[derive(Debug, Clone, Default)]
pub struct NewAudit<'a> {
    pub account_id: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub actor_email: Option<&'a str>,
    /// What happened, e.g. `login`, `login_failed`, `role_changed` (see `accounts::audit`).
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub id: String,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub detail: serde_json::Value,
    pub created_at: i64,
}

impl Store {
    pub async fn audit(&self, entry: NewAudit<'_>) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into audit_log (id, account_id, actor_id, actor_email, action, target, ip, \
             detail, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id())
        .bind(entry.account_id)
        .bind(entry.actor_id)
        .bind(entry.actor_email)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.ip)
        .bind(entry.detail.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The account's entries, newest first, older than the cursor `(created_at, id)`.
    pub async fn audit_entries(
        &self,
        account_id: &str,
        before: Option<(i64, &str)>,
        action: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let (at, id) = before.unwrap_or((i64::MAX, ""));
        let rows = sqlx::query(
            "select id, actor_id, actor_email, action, target, ip, detail, created_at \
             from audit_log where account_id = $1 \
             and (created_at < $2 or (created_at = $2 and id < $3) or $3 = '') \
             and created_at <= $2 and ($4 = '' or action = $4) \
             order by created_at desc, id desc limit $5",
        )
        .bind(account_id)
        .bind(at)
        .bind(id)
        .bind(action.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let detail: Option<String> = col(r, "detail")?;
                Ok(AuditRecord {
                    id: col(r, "id")?,
                    actor_id: col(r, "actor_id")?,
                    actor_email: col(r, "actor_email")?,
                    action: col(r, "action")?,
                    target: col(r, "target")?,
                    ip: col(r, "ip")?,
                    detail: detail
                        .and_then(|d| serde_json::from_str(&d).ok())
                        .unwrap_or(serde_json::Value::Null),
                    created_at: col(r, "created_at")?,
                })
            })
            .collect()
    }
}
