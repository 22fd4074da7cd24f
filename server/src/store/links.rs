//! Single-use, expiring links: invitations (join an account with a role) and password resets.
//! Only the hash of the link's token is stored.

use super::tokens::{hash_token, new_token};
use super::{col, now_ms, Result, Role, Store, StoreError};

/// Stored as `invite`/`reset` (`account_links.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum LinkKind {
    Invite,
    Reset,
}

#[derive(Debug, Clone)]
pub struct LinkRecord {
    pub account_id: String,
    pub email: String,
    /// The invited role (invitations only).
    pub role: Option<Role>,
    pub expires_at: i64,
}

/// A pending invitation as the team sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InvitationRecord {
    pub email: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Creates a link; returns its secret token.
    pub async fn create_link(
        &self,
        kind: LinkKind,
        account_id: &str,
        email: &str,
        role: Option<Role>,
        created_by: Option<&str>,
        ttl_ms: i64,
    ) -> Result<String> {
        let _w = self.writer().await;
        let token = new_token(match kind {
            LinkKind::Invite => "inv_",
            LinkKind::Reset => "rst_",
        });
        let now = now_ms();
        sqlx::query(
            "insert into account_links (token_hash, kind, account_id, email, role, created_by, \
             created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash_token(&token))
        .bind(<&str>::from(kind))
        .bind(account_id)
        .bind(email)
        .bind(role.map(Role::as_str))
        .bind(created_by)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The link behind a token if it is unused and unexpired.
    pub async fn link(&self, kind: LinkKind, token: &str) -> Result<Option<LinkRecord>> {
        let row = sqlx::query(
            "select account_id, email, role, expires_at from account_links \
             where token_hash = $1 and kind = $2 and used_at is null and expires_at > $3",
        )
        .bind(hash_token(token))
        .bind(<&str>::from(kind))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let role: Option<String> = col(&r, "role")?;
            Ok(LinkRecord {
                account_id: col(&r, "account_id")?,
                email: col(&r, "email")?,
                role: role
                    .map(|s| {
                        s.parse::<Role>()
                            .map_err(|_| StoreError::Corrupt(format!("role {s}")))
                    })
                    .transpose()?,
                expires_at: col(&r, "expires_at")?,
            })
        })
        .transpose()
    }

    /// Marks a link used; false when it was used (or expired) meanwhile.
    pub async fn use_link(&self, token: &str) -> Result<bool> {
        let _w = self.writer().await;
        let done = sqlx::query(
            "update account_links set used_at = $2 \
             where token_hash = $1 and used_at is null and expires_at > $2",
        )
        .bind(hash_token(token))
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Pending invitations of the account, newest first.
    pub async fn invitations(&self, account_id: &str) -> Result<Vec<InvitationRecord>> {
        let rows = sqlx::query(
            "select email, role, created_at, expires_at from account_links \
             where account_id = $1 and kind = 'invite' and used_at is null and expires_at > $2 \
             order by created_at desc",
        )
        .bind(account_id)
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InvitationRecord {
                    email: col(r, "email")?,
                    role: col::<Option<String>>(r, "role")?.unwrap_or_default(),
                    created_at: col(r, "created_at")?,
                    expires_at: col(r, "expires_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::LinkKind;

    #[test]
    fn link_kinds_keep_their_stored_names() {
        let names: Vec<&str> = LinkKind::iter().map(<&str>::from).collect();
        assert_eq!(names, ["invite", "reset"]);
    }
}
