//! What the audit log records, and the one function that appends to it. Audit writes never
//! fail the action they describe: a failed write is logged as an error instead.

use serde_json::Value;

use crate::store::{Agent, NewAudit, Store};

/// Audited actions; the snake_case name is what `GET /api/v1/audit` shows and filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum AuditAction {
    Login,
    LoginFailed,
    Logout,
    PasswordChanged,
    PasswordReset,
    ResetRequested,
    Signup,
    Invited,
    InvitationAccepted,
    RoleChanged,
    AgentRemoved,
    TokenCreated,
    TokenRevoked,
    SiteCreated,
    SiteUpdated,
    SiteKeyRotated,
    IdentitySecretRotated,
    PlanChanged,
    SettingsChanged,
    VisitorExported,
    VisitorErased,
}

/// Who acts, and from where: an agent (API), or the operator (CLI, `agent` None).
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub agent: Option<Agent>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Actor {
    pub fn agent(agent: &Agent, ip: Option<String>) -> Self {
        Actor {
            agent: Some(agent.clone()),
            ip,
            user_agent: None,
        }
    }

    /// The operator at the command line.
    pub fn operator() -> Self {
        Actor::default()
    }
}

/// Appends one entry to `account_id`'s log.
pub async fn record(
    store: &Store,
    account_id: &str,
    actor: &Actor,
    action: AuditAction,
    target: Option<&str>,
    detail: Value,
) {
    let action: &'static str = action.into();
    let entry = NewAudit {
        account_id: Some(account_id),
        actor_id: actor.agent.as_ref().map(|a| a.id.as_str()),
        actor_email: Some(
            actor
                .agent
                .as_ref()
                .map(|a| a.email.as_str())
                .unwrap_or("operator (cli)"),
        ),
        action,
        target,
        ip: actor.ip.as_deref(),
        detail,
    };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, action, "audit entry not written");
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::AuditAction;

    /// The names are stored in the audit log and filtered on: they may never change.
    #[test]
    fn audit_actions_keep_their_stored_names() {
        let names: Vec<&str> = AuditAction::iter().map(<&str>::from).collect();
        assert_eq!(
            names,
            [
                "login",
                "login_failed",
                "logout",
                "password_changed",
                "password_reset",
                "reset_requested",
                "signup",
                "invited",
                "invitation_accepted",
                "role_changed",
                "agent_removed",
                "token_created",
                "token_revoked",
                "site_created",
                "site_updated",
                "site_key_rotated",
                "identity_secret_rotated",
                "plan_changed",
                "settings_changed",
                "visitor_exported",
                "visitor_erased",
            ]
        );
    }
}
