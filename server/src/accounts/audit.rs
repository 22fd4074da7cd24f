//! What the audit log records, and the one function that appends to it. Audit writes never
//! fail the action they describe: a failed write is logged as an error instead.

use serde_json::Value;

use crate::store::{Agent, NewAudit, Store};

/// Audited actions; `as_str` is what `GET /api/v1/audit` shows and filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::ResetRequested => "reset_requested",
            AuditAction::Signup => "signup",
            AuditAction::Invited => "invited",
            AuditAction::InvitationAccepted => "invitation_accepted",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::AgentRemoved => "agent_removed",
            AuditAction::TokenCreated => "token_created",
            AuditAction::TokenRevoked => "token_revoked",
            AuditAction::SiteCreated => "site_created",
            AuditAction::SiteUpdated => "site_updated",
            AuditAction::SiteKeyRotated => "site_key_rotated",
            AuditAction::IdentitySecretRotated => "identity_secret_rotated",
            AuditAction::PlanChanged => "plan_changed",
            AuditAction::SettingsChanged => "settings_changed",
            AuditAction::VisitorExported => "visitor_exported",
            AuditAction::VisitorErased => "visitor_erased",
        }
    }
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
        action: action.as_str(),
        target,
        ip: actor.ip.as_deref(),
        detail,
    };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, action = action.as_str(), "audit entry not written");
    }
}
