//! Single-use, expiring links and new accounts: invitations (join an account with a role),
//! password resets, and self-service sign-up.

use serde::Deserialize;
use serde_json::json;

use super::audit::{self, Actor, AuditAction};
use super::auth::{check_password, hash_password, open_session, SignedIn};
use super::plans::{self, Limit};
use super::{normalize_email, AccountsError};
use crate::store::{Agent, LinkKind, Role, Site, Store};

/// A link created for someone (invitation or reset): the secret token and when it expires.
#[derive(Debug, Clone)]
pub struct Link {
    pub token: String,
    pub email: String,
    pub role: Option<Role>,
    pub expires_at: i64,
}

/// Invites `email` to the inviter's account with `role`. Admins invite agents and admins;
/// only owners invite owners. Refused over the plan's seats.
pub async fn invite(
    store: &Store,
    config: &super::AuthConfig,
    inviter: &Agent,
    email: &str,
    role: Role,
    actor: &Actor,
) -> Result<Link, AccountsError> {
    if role == Role::Owner && inviter.role != Role::Owner {
        return Err(AccountsError::Forbidden(
            "only owners can invite owners".into(),
        ));
    }
    let email = normalize_email(email)?;
    if store.agent_by_email(&email).await?.is_some() {
        return Err(AccountsError::AgentExists(email));
    }
    plans::ensure_room(store, &inviter.account_id, Limit::Seats, 1).await?;
    let ttl = config.invitation_ttl_hours.max(1) * 3_600_000;
    let token = store
        .create_link(
            LinkKind::Invite,
            &inviter.account_id,
            &email,
            Some(role),
            Some(&inviter.id),
            ttl,
        )
        .await?;
    audit::record(
        store,
        &inviter.account_id,
        actor,
        AuditAction::Invited,
        Some(&email),
        json!({"role": role.as_str()}),
    )
    .await;
    Ok(Link {
        token,
        email,
        role: Some(role),
        expires_at: crate::store::now_ms() + ttl,
    })
}

/// Accepts an invitation: creates the agent with its name and password and signs it in.
pub async fn accept_invitation(
    store: &Store,
    config: &super::AuthConfig,
    token: &str,
    name: &str,
    password: &str,
    actor: &Actor,
) -> Result<SignedIn, AccountsError> {
    let link = store
        .link(LinkKind::Invite, token)
        .await?
        .ok_or(AccountsError::BadLink)?;
    check_password(password)?;
    // Seats are checked again: other invitations may have been accepted meanwhile.
    plans::ensure_room(store, &link.account_id, Limit::Seats, 1).await?;
    let role = link.role.unwrap_or(Role::Agent);
    let name = name.trim();
    let agent = super::add_agent(
        store,
        &link.account_id,
        &link.email,
        (!name.is_empty()).then_some(name),
        role,
        password,
    )
    .await?;
    if !store.use_link(token).await? {
        // Lost a race with another acceptance of the same link: undo this one.
        store.remove_agent(&agent.account_id, &agent.id).await?;
        return Err(AccountsError::BadLink);
    }
    let as_agent = Actor::agent(&agent, actor.ip.clone());
    audit::record(
        store,
        &agent.account_id,
        &as_agent,
        AuditAction::InvitationAccepted,
        Some(&agent.email),
        json!({"role": role.as_str()}),
    )
    .await;
    open_session(store, config, agent, actor).await
}

/// A password-reset link for an agent (None for an unknown email: the caller answers the same).
pub async fn reset_link(
    store: &Store,
    config: &super::AuthConfig,
    email: &str,
    actor: &Actor,
) -> Result<Option<Link>, AccountsError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    let Some(agent) = store.agent_by_email(&email).await? else {
        return Ok(None);
    };
    let ttl = config.reset_ttl_minutes.max(1) * 60_000;
    let by = actor.agent.as_ref().map(|a| a.id.as_str());
    let token = store
        .create_link(LinkKind::Reset, &agent.account_id, &email, None, by, ttl)
        .await?;
    audit::record(
        store,
        &agent.account_id,
        actor,
        AuditAction::ResetRequested,
        Some(&email),
        json!({}),
    )
    .await;
    Ok(Some(Link {
        token,
        email,
        role: None,
        expires_at: crate::store::now_ms() + ttl,
    }))
}

/// Sets a new password from a reset link, ends every session of the agent, signs in anew.
pub async fn accept_reset(
    store: &Store,
    config: &super::AuthConfig,
    token: &str,
    password: &str,
    actor: &Actor,
) -> Result<SignedIn, AccountsError> {
    let link = store
        .link(LinkKind::Reset, token)
        .await?
        .ok_or(AccountsError::BadLink)?;
    check_password(password)?;
    let agent = store
        .agent_by_email(&link.email)
        .await?
        .filter(|a| a.account_id == link.account_id)
        .ok_or(AccountsError::BadLink)?;
    if !store.use_link(token).await? {
        return Err(AccountsError::BadLink);
    }
    store
        .set_password_hash(&agent.id, &hash_password(password).await?)
        .await?;
    store.revoke_agent_sessions(&agent.id, None).await?;
    let as_agent = Actor::agent(&agent, actor.ip.clone());
    audit::record(
        store,
        &agent.account_id,
        &as_agent,
        AuditAction::PasswordReset,
        Some(&agent.email),
        json!({}),
    )
    .await;
    open_session(store, config, agent, actor).await
}

/// What a self-service sign-up asks for.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Signup {
    pub email: String,
    pub password: String,
    pub account_name: String,
    pub site_name: String,
    pub origin: String,
}

/// A new account on the free plan, its first site and its owner, signed in.
pub async fn signup(
    store: &Store,
    config: &super::AuthConfig,
    request: &Signup,
    actor: &Actor,
) -> Result<(SignedIn, Site), AccountsError> {
    let email = normalize_email(&request.email)?;
    check_password(&request.password)?;
    super::validate_origin(request.origin.trim())?;
    if store.agent_by_email(&email).await?.is_some() {
        return Err(AccountsError::AgentExists(email));
    }
    let account = super::create_account(store, &request.account_name, Some("free")).await?;
    let site = super::create_site(
        store,
        &request.site_name,
        &[request.origin.trim().to_string()],
        Some(&account.id),
    )
    .await?;
    let owner = super::add_agent(
        store,
        &account.id,
        &email,
        None,
        Role::Owner,
        &request.password,
    )
    .await?;
    let as_owner = Actor::agent(&owner, actor.ip.clone());
    audit::record(
        store,
        &account.id,
        &as_owner,
        AuditAction::Signup,
        Some(&site.site_key),
        json!({"plan": "free"}),
    )
    .await;
    let signed = open_session(store, config, owner, actor).await?;
    Ok((signed, site))
}
