//! Passwords (argon2id), sign-in and browser sessions, password changes, and what a request
//! or socket presents (a credential) and who it belongs to.
//!
//! Timing: a wrong email costs one argon2 verification like a wrong password, so the answer's
//! time does not tell which emails exist.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Actor, AuditAction};
use super::AccountsError;
use crate::store::{Agent, SessionTtl, Store};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 hashes any length; this bounds the work per request).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Sign-in and link settings (`[auth]` in concierge.toml, `CONCIERGE_AUTH__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthConfig {
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// A session ends this many days after sign-in, however active.
    pub session_max_days: i64,
    /// Hours an invitation link stays valid.
    pub invitation_ttl_hours: i64,
    /// Minutes a password-reset link stays valid.
    pub reset_ttl_minutes: i64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_idle_minutes: 12 * 60,
            session_max_days: 30,
            invitation_ttl_hours: 72,
            reset_ttl_minutes: 60,
        }
    }
}

impl AuthConfig {
    pub fn session_ttl(&self) -> SessionTtl {
        SessionTtl {
            idle_ms: self.session_idle_minutes.max(1) * 60_000,
            absolute_ms: self.session_max_days.max(1) * 86_400_000,
        }
    }
}

/// A new browser session: the agent, the cookie's value and the CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub agent: Agent,
    pub session_token: String,
    pub csrf_token: String,
}

pub(super) fn check_password(password: &str) -> Result<(), AccountsError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AccountsError::WeakPassword(MIN_PASSWORD_CHARS));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(AccountsError::BadInput(format!(
            "a password is at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// argon2id PHC string of a password, off the async threads.
pub async fn hash_password(password: &str) -> Result<String, AccountsError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| AccountsError::Hash)
    })
    .await
    .map_err(|_| AccountsError::Hash)?
}

/// Whether `password` matches the PHC string `hash`, off the async threads.
pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash nobody's password matches, verified against when the email is unknown.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(crate::store::new_token("").as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

pub(super) async fn open_session(
    store: &Store,
    config: &AuthConfig,
    agent: Agent,
    actor: &Actor,
) -> Result<SignedIn, AccountsError> {
    let (session_token, csrf_token) = store
        .create_session(
            &agent.id,
            actor.ip.as_deref(),
            actor.user_agent.as_deref(),
            config.session_ttl(),
        )
        .await?;
    Ok(SignedIn {
        agent,
        session_token,
        csrf_token,
    })
}

/// Signs in with email and password. A wrong email and a wrong password get the same error.
pub async fn sign_in(
    store: &Store,
    config: &AuthConfig,
    email: &str,
    password: &str,
    actor: &Actor,
) -> Result<SignedIn, AccountsError> {
    let email = email.trim().to_lowercase();
    let found = if email.is_empty() {
        None
    } else {
        store.agent_credentials(&email).await?
    };
    let (agent, hash) = match found {
        Some((agent, hash)) => (Some(agent), hash),
        None => (None, decoy_hash().to_string()),
    };
    let ok = verify_password(password, &hash).await;
    match agent {
        Some(agent) if ok => {
            let signed = open_session(store, config, agent, actor).await?;
            let as_agent = Actor::agent(&signed.agent, actor.ip.clone());
            audit::record(
                store,
                &signed.agent.account_id,
                &as_agent,
                AuditAction::Login,
                Some(&signed.agent.email),
                json!({}),
            )
            .await;
            Ok(signed)
        }
        Some(agent) => {
            audit::record(
                store,
                &agent.account_id,
                actor,
                AuditAction::LoginFailed,
                Some(&agent.email),
                json!({}),
            )
            .await;
            Err(AccountsError::InvalidCredentials)
        }
        None => {
            tracing::info!(ip = ?actor.ip, "sign-in with an unknown email");
            Err(AccountsError::InvalidCredentials)
        }
    }
}

/// Ends the session behind `session_hash`.
pub async fn sign_out(
    store: &Store,
    agent: &Agent,
    session_hash: &str,
    actor: &Actor,
) -> Result<(), AccountsError> {
    store.revoke_session(session_hash).await?;
    audit::record(
        store,
        &agent.account_id,
        actor,
        AuditAction::Logout,
        Some(&agent.email),
        json!({}),
    )
    .await;
    Ok(())
}

/// Changes a password (the current one must match) and ends every other session of the agent.
pub async fn change_password(
    store: &Store,
    agent: &Agent,
    keep_session: Option<&str>,
    current: &str,
    new: &str,
    actor: &Actor,
) -> Result<(), AccountsError> {
    let hash = store
        .password_hash(&agent.id)
        .await?
        .ok_or(AccountsError::NotFound("agent"))?;
    if !verify_password(current, &hash).await {
        return Err(AccountsError::InvalidCredentials);
    }
    check_password(new)?;
    store
        .set_password_hash(&agent.id, &hash_password(new).await?)
        .await?;
    let ended = store.revoke_agent_sessions(&agent.id, keep_session).await?;
    audit::record(
        store,
        &agent.account_id,
        actor,
        AuditAction::PasswordChanged,
        Some(&agent.email),
        json!({"other_sessions_ended": ended}),
    )
    .await;
    Ok(())
}

/// What a request or socket presented: the session cookie's value or a bearer token.
#[derive(Debug, Clone)]
pub enum Credential {
    Session(String),
    Bearer(String),
}

/// Who a credential belongs to, while it is valid.
#[derive(Debug, Clone)]
pub struct Principal {
    pub agent: Agent,
    /// The session, when signed in by cookie (its CSRF token guards writes).
    pub session: Option<crate::store::SessionRecord>,
}

/// The agent behind a credential, if it is still valid (sessions: not signed out, not expired;
/// tokens: not revoked; either: the agent not removed).
pub async fn authenticate(
    store: &Store,
    config: &AuthConfig,
    credential: &Credential,
) -> Result<Option<Principal>, crate::store::StoreError> {
    Ok(match credential {
        Credential::Session(token) => {
            store
                .session(token, config.session_ttl())
                .await?
                .map(|s| Principal {
                    agent: s.agent.clone(),
                    session: Some(s),
                })
        }
        Credential::Bearer(token) => store.agent_by_token(token).await?.map(|agent| Principal {
            agent,
            session: None,
        }),
    })
}
