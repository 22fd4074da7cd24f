//! Accounts (the tenants), their sites, agents and tokens, sign-in, plans and usage, and the
//! audit log. The REST API (`http/v1`) and the CLI call these same functions; nothing here
//! knows about HTTP.
//!
//! - this file: errors, provisioning (accounts, sites, agents), the demo set-up of a first start.
//! - [`auth`]: passwords, sign-in and sessions, credentials.
//! - [`links`]: invitations, password resets, sign-up.
//! - [`mail`]: mailing those links (SMTP via lettre, or the log).
//! - [`plans`]: plan limits and the usage report.
//! - [`audit`]: what gets audited, and by whom.
//! - [`privacy`]: visitor export and erasure, retention.

pub mod audit;
pub mod auth;
pub mod links;
pub mod mail;
pub mod plans;
pub mod privacy;

use crate::store::{new_token, Agent, Role, Site, Store, StoreError};
use crate::text::is_email;

pub use audit::{Actor, AuditAction};
pub use auth::{AuthConfig, Credential, Principal, SignedIn};
pub use plans::{Limit, UsageReport};

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid origin {0:?}: use scheme://host[:port], scheme://host:* or *")]
    BadOrigin(String),
    #[error("at least one --origin is required")]
    NoOrigin,
    #[error("invalid email {0:?}")]
    BadEmail(String),
    #[error("unknown role {0:?}: owner, admin or agent")]
    BadRole(String),
    #[error("no site has the key {0:?}")]
    UnknownSite(String),
    #[error("no agent has the email {0:?}")]
    UnknownAgent(String),
    #[error("an agent with the email {0:?} already exists")]
    AgentExists(String),
    #[error("password hashing failed")]
    Hash,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("the password must be at least {0} characters long")]
    WeakPassword(usize),
    #[error("your plan allows {limit} {what}; upgrade the plan or remove some first")]
    PlanLimit { what: &'static str, limit: i64 },
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("no plan is named {0:?}")]
    UnknownPlan(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("self-service sign-up is closed on this server")]
    SignupClosed,
    #[error("this link is invalid, was already used, or has expired")]
    BadLink,
    #[error("{0}")]
    BadInput(String),
    #[error("the vector index failed: {0}")]
    Index(String),
}

impl AccountsError {
    /// Stable code for `--json` output.
    pub fn code(&self) -> &'static str {
        match self {
            AccountsError::Store(_) | AccountsError::Hash => "internal",
            AccountsError::BadOrigin(_) | AccountsError::NoOrigin => "bad_origin",
            AccountsError::BadEmail(_) => "bad_email",
            AccountsError::BadRole(_) => "bad_role",
            AccountsError::UnknownSite(_) => "unknown_site",
            AccountsError::UnknownAgent(_) => "unknown_agent",
            AccountsError::AgentExists(_) => "agent_exists",
            AccountsError::InvalidCredentials => "invalid_credentials",
            AccountsError::WeakPassword(_) => "weak_password",
            AccountsError::PlanLimit { .. } => "plan_limit",
            AccountsError::NotFound(_) => "not_found",
            AccountsError::UnknownPlan(_) => "unknown_plan",
            AccountsError::Forbidden(_) | AccountsError::SignupClosed => "forbidden",
            AccountsError::BadLink => "bad_link",
            AccountsError::BadInput(_) => "bad_input",
            AccountsError::Index(_) => "internal",
        }
    }
}

/// Normalises and checks an email address (the one rule for agents, invitations and
/// sign-ups; the syntax is [`crate::text::is_email`]'s).
pub fn normalize_email(email: &str) -> Result<String, AccountsError> {
    let email = email.trim().to_lowercase();
    if is_email(&email) {
        Ok(email)
    } else {
        Err(AccountsError::BadEmail(email))
    }
}

/// Checks an allowed-origin pattern: `*`, `scheme://host[:port]` or `scheme://host:*`.
pub fn validate_origin(origin: &str) -> Result<(), AccountsError> {
    if concierge_protocol::origin::is_origin_pattern(origin) {
        Ok(())
    } else {
        Err(AccountsError::BadOrigin(origin.to_string()))
    }
}

/// Creates a site in an account. Without `account_id` the site gets an account of its own (on
/// the free plan): a new site never silently joins someone else's account.
pub async fn create_site(
    store: &Store,
    name: &str,
    origins: &[String],
    account_id: Option<&str>,
) -> Result<Site, AccountsError> {
    if origins.is_empty() {
        return Err(AccountsError::NoOrigin);
    }
    for o in origins {
        validate_origin(o)?;
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AccountsError::BadInput(
            "a site name is 1 to 200 characters".into(),
        ));
    }
    let account_id = match account_id {
        Some(id) => {
            store
                .account(id)
                .await?
                .ok_or(AccountsError::NotFound("account"))?
                .id
        }
        None => store.create_account(name).await?.id,
    };
    Ok(store.create_site(&account_id, name, origins).await?)
}

/// Creates an account; prints nothing, returns it. `plan` defaults to `free`.
pub async fn create_account(
    store: &Store,
    name: &str,
    plan: Option<&str>,
) -> Result<crate::store::Account, AccountsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AccountsError::BadInput(
            "an account name is 1 to 200 characters".into(),
        ));
    }
    let plan = plan.unwrap_or("free");
    match store.create_account_on(name, plan).await {
        Err(StoreError::NotFound("plan")) => Err(AccountsError::UnknownPlan(plan.into())),
        other => Ok(other?),
    }
}

/// Creates an agent in the account owning `site_key`; returns it with a one-time password.
pub async fn create_agent(
    store: &Store,
    email: &str,
    name: Option<&str>,
    role: &str,
    site_key: &str,
) -> Result<(Agent, String), AccountsError> {
    let role: Role = role
        .parse()
        .map_err(|_| AccountsError::BadRole(role.to_string()))?;
    let site = store
        .site_by_key(site_key)
        .await?
        .ok_or_else(|| AccountsError::UnknownSite(site_key.to_string()))?;
    let password = new_token("").chars().take(20).collect::<String>();
    let agent = add_agent(store, &site.account_id, email, name, role, &password).await?;
    Ok((agent, password))
}

/// Adds an agent with this password to an account.
pub async fn add_agent(
    store: &Store,
    account_id: &str,
    email: &str,
    name: Option<&str>,
    role: Role,
    password: &str,
) -> Result<Agent, AccountsError> {
    let email = normalize_email(email)?;
    let hash = auth::hash_password(password).await?;
    let display = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    match store
        .create_agent(account_id, &email, &display, role, &hash)
        .await
    {
        Ok(agent) => Ok(agent),
        Err(StoreError::Conflict(_)) => Err(AccountsError::AgentExists(email)),
        Err(e) => Err(e.into()),
    }
}

/// Issues a bearer token for the agent with this email.
pub async fn issue_token(store: &Store, email: &str) -> Result<(Agent, String), AccountsError> {
    let email = email.trim().to_lowercase();
    let agent = store
        .agent_by_email(&email)
        .await?
        .ok_or_else(|| AccountsError::UnknownAgent(email.clone()))?;
    let token = store.issue_agent_token(&agent.id).await?;
    Ok((agent, token))
}

/// What a first start created, to print once.
pub struct Demo {
    pub site: Site,
    pub owner: Agent,
    pub password: String,
    pub token: String,
}

/// On an empty database: a demo site for local pages and its owner.
pub async fn bootstrap_demo(store: &Store) -> Result<Option<Demo>, AccountsError> {
    if store.count_accounts().await? > 0 {
        return Ok(None);
    }
    let origins = vec![
        "http://localhost:*".to_string(),
        "http://127.0.0.1:*".to_string(),
    ];
    let account = store.create_account_on("Demo", "pro").await?;
    let site = create_site(store, "Demo site", &origins, Some(&account.id)).await?;
    let (owner, password) = create_agent(
        store,
        "owner@localhost",
        Some("Owner"),
        "owner",
        &site.site_key,
    )
    .await?;
    let token = store.issue_agent_token(&owner.id).await?;
    Ok(Some(Demo {
        site,
        owner,
        password,
        token,
    }))
}

/// Deletes an account and everything it owns (owners only, confirmed by typing the account's
/// name): the documents' vectors, then every row; the agents' sockets close. Cannot be undone.
pub async fn delete_account(
    store: &Store,
    knowledge: &crate::rag::Knowledge,
    account_id: &str,
    confirm: &str,
) -> Result<(), AccountsError> {
    let account = store
        .account(account_id)
        .await?
        .ok_or(AccountsError::NotFound("account"))?;
    if confirm.trim() != account.name {
        return Err(AccountsError::BadInput(
            "to delete the account, send its exact name as confirm".into(),
        ));
    }
    for site in store.sites_for_account(account_id).await? {
        for doc in store.documents(&site.id).await? {
            knowledge
                .delete_document(&site.id, &doc.doc_key)
                .await
                .map_err(|e| AccountsError::Index(e.to_string()))?;
        }
    }
    tracing::warn!(account = %account.id, name = %account.name, "deleting the account and everything it owns");
    store.delete_account(account_id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{normalize_email, validate_origin};

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Bo@Shop.example ").unwrap(),
            "bo@shop.example"
        );
        assert_eq!(
            normalize_email("owner@localhost").unwrap(),
            "owner@localhost"
        );
        for bad in [
            "",
            "bo",
            "bo@",
            "@shop.example",
            "b o@shop.example",
            "bo@shop@example",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_are_validated() {
        for ok in [
            "*",
            "https://a.example",
            "http://localhost:*",
            "http://127.0.0.1:8080",
            "http://localhost:65535",
            "http://localhost:1",
        ] {
            assert!(validate_origin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a.example",
            "ftp://a.example",
            "https://",
            "https://a.example/path",
            "http://h:99999999",
            "http://h:99999",
            "http://h:65536",
            "http://h:0",
            "http://h:+80",
            "http://h:",
        ] {
            assert!(validate_origin(bad).is_err(), "{bad}");
        }
    }
}
