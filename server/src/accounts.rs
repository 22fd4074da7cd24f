//! Provisioning: sites, agents, tokens, and the demo set-up of a first start. The CLI calls
//! these today; the owner's REST API will call the same functions.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;

use crate::store::{is_origin_port, new_token, Agent, Role, Site, Store, StoreError};

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
    #[error("several accounts exist; pass --account ID")]
    AmbiguousAccount,
    #[error("password hashing failed")]
    Hash,
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
            AccountsError::AmbiguousAccount => "ambiguous_account",
        }
    }
}

/// Checks an allowed-origin pattern: `*`, `scheme://host[:port]` or `scheme://host:*`.
pub fn validate_origin(origin: &str) -> Result<(), AccountsError> {
    if origin == "*" {
        return Ok(());
    }
    let bad = || AccountsError::BadOrigin(origin.to_string());
    let (scheme, rest) = origin.split_once("://").ok_or_else(bad)?;
    if scheme != "http" && scheme != "https" {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '[' || c == ']');
    let port_ok = match port {
        None | Some("*") => true,
        Some(p) => is_origin_port(p),
    };
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Creates a site. Without `account_id` it joins the only account, or a new one if none exist.
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
    let account_id = match account_id {
        Some(id) => id.to_string(),
        None => match store.count_accounts().await? {
            0 => store.create_account(name).await?.id,
            1 => store.only_account_id().await?,
            _ => return Err(AccountsError::AmbiguousAccount),
        },
    };
    Ok(store.create_site(&account_id, name, origins).await?)
}

/// Creates an agent in the account owning `site_key`; returns it with a one-time password.
pub async fn create_agent(
    store: &Store,
    email: &str,
    name: Option<&str>,
    role: &str,
    site_key: &str,
) -> Result<(Agent, String), AccountsError> {
    let role = Role::parse(role).ok_or_else(|| AccountsError::BadRole(role.to_string()))?;
    let email = email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 || email.starts_with('@') || email.ends_with('@') {
        return Err(AccountsError::BadEmail(email));
    }
    let site = store
        .site_by_key(site_key)
        .await?
        .ok_or_else(|| AccountsError::UnknownSite(site_key.to_string()))?;
    let password = new_token("").chars().take(20).collect::<String>();
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| AccountsError::Hash)?
        .to_string();
    let display = name
        .map(str::to_string)
        .unwrap_or_else(|| email.split('@').next().unwrap_or("").to_string());
    match store
        .create_agent(&site.account_id, &email, &display, role, &hash)
        .await
    {
        Ok(agent) => Ok((agent, password)),
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
    let site = create_site(store, "Demo site", &origins, None).await?;
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

#[cfg(test)]
mod tests {
    use super::validate_origin;

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
