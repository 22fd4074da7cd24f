//! Who is calling, in one place: the session cookie (browsers, with a CSRF token on every
//! write) or a bearer token (scripts, no CSRF), the caller's role, and the client's address.
//! Every `/api/v1` handler that needs an agent extracts [`AgentAuth`]; `/metrics` on the main
//! listener extracts [`MetricsScraper`] (the operator's metrics token); tenancy (a site, an
//! agent, a conversation of the caller's account) is checked against `AgentAuth::account_id`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use concierge_protocol::ErrorCode;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::auth::{authenticate, Credential};
use crate::accounts::Actor;
use crate::app::App;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::{Agent, Role, SessionRecord};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "concierge_session";
/// The header a cookie-authenticated write must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The bearer token, else the session cookie, of a request.
pub fn credential_from(headers: &HeaderMap) -> Option<Credential> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        return Some(Credential::Bearer(token.to_string()));
    }
    session_cookie(headers).map(Credential::Session)
}

/// The value of the session cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether a browser request comes from this server's own pages: no `Origin` (not a
/// cross-origin browser request), the configured public URL, or the same host as `Host`.
pub fn same_origin(headers: &HeaderMap, config: &Config) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if config.public_url.is_some() && origin == config.public_base() {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    !host.is_empty() && origin_host == host
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that clears it).
pub fn session_set_cookie(config: &Config, token: Option<&str>) -> String {
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(t) => format!(
            "{SESSION_COOKIE}={t}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
            config.auth.session_max_days.max(1) * 86_400
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"),
    }
}

/// The client's address (the TCP peer; proxies' headers are not trusted).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}

/// The agent calling, and its session when it came by cookie.
pub struct AgentAuth(pub Agent, pub Option<SessionRecord>, pub ClientIp);

impl AgentAuth {
    pub fn account_id(&self) -> &str {
        &self.0.account_id
    }

    /// Refuses callers below `role` (owner > admin > agent); `action` completes "only ... can".
    pub fn require(&self, role: Role, action: &str) -> Result<(), ApiError> {
        let rank = |r: Role| match r {
            Role::Owner => 2,
            Role::Admin => 1,
            Role::Agent => 0,
        };
        if rank(self.0.role) >= rank(role) {
            return Ok(());
        }
        let who = match role {
            Role::Owner => "owners",
            _ => "owners and admins",
        };
        Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("only {who} can {action}"),
        ))
    }

    /// The audit log's actor for this request.
    pub fn actor(&self) -> Actor {
        Actor::agent(&self.0, self.2 .0.clone())
    }
}

impl FromRequestParts<Arc<App>> for AgentAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let ip = ClientIp::from_request_parts(parts, app)
            .await
            .unwrap_or(ClientIp(None));
        let credential = credential_from(&parts.headers).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "sign in (POST /api/v1/session) or send Authorization: Bearer TOKEN",
            )
        })?;
        let principal = authenticate(&app.chat.store, &app.config.auth, &credential)
            .await?
            .ok_or_else(|| match credential {
                Credential::Bearer(_) => {
                    ApiError::new(ErrorCode::InvalidToken, "invalid or revoked bearer token")
                }
                Credential::Session(_) => ApiError::new(
                    ErrorCode::Unauthenticated,
                    "your session has ended; sign in again",
                ),
            })?;
        if let Some(session) = &principal.session {
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !safe && !same_token(&session.csrf_token, sent) {
                return Err(ApiError::new(
                    ErrorCode::Csrf,
                    "missing or wrong X-CSRF-Token header (it comes with the sign-in answer and GET /api/v1/me)",
                ));
            }
        }
        Ok(AgentAuth(principal.agent, principal.session, ip))
    }
}

/// A scraper of `/metrics` on the main listener: `Authorization: Bearer` with the configured
/// `metrics_token`. With no token configured the endpoint does not exist there (404, as any
/// unknown path), so a default install exposes nothing.
pub struct MetricsScraper;

impl FromRequestParts<Arc<App>> for MetricsScraper {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = app
            .config
            .metrics_token
            .as_ref()
            .map(|t| t.expose_secret())
            .filter(|t| !t.is_empty())
        else {
            return Err(StatusCode::NOT_FOUND.into_response());
        };
        match credential_from(&parts.headers) {
            Some(Credential::Bearer(presented)) if same_token(expected, &presented) => {
                Ok(MetricsScraper)
            }
            _ => Err(
                ApiError::new(ErrorCode::InvalidToken, "missing or wrong metrics token")
                    .bare()
                    .into_response(),
            ),
        }
    }
}

/// Compares in constant time. Hashing first makes the inputs equally long, so not even the
/// token's length leaks through timing.
fn same_token(expected: &str, presented: &str) -> bool {
    let expected = Sha256::digest(expected.as_bytes());
    let presented = Sha256::digest(presented.as_bytes());
    expected.as_slice().ct_eq(presented.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_token_must_match_exactly() {
        assert!(same_token("s3cret-token", "s3cret-token"));
        for wrong in [
            "",
            "s3cret",
            "s3cret-token ",
            "S3CRET-TOKEN",
            "s3cret-tokem",
        ] {
            assert!(!same_token("s3cret-token", wrong), "{wrong:?}");
        }
    }

    #[test]
    fn bearer_wins_over_the_cookie_and_cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; concierge_session=ses_x; b=2".parse().unwrap(),
        );
        assert!(matches!(credential_from(&h), Some(Credential::Session(s)) if s == "ses_x"));
        h.insert(header::AUTHORIZATION, "Bearer agt_y".parse().unwrap());
        assert!(matches!(credential_from(&h), Some(Credential::Bearer(s)) if s == "agt_y"));
        assert!(credential_from(&HeaderMap::new()).is_none());
    }

    #[test]
    fn only_the_servers_own_origin_may_use_the_cookie() {
        let config = Config::default();
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h, &config));
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(same_origin(&h, &config));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h, &config));
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_behind_https() {
        let mut config = Config::default();
        let c = session_set_cookie(&config, Some("ses_a"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"));
        assert!(!c.contains("Secure"));
        config.public_url = Some("https://support.example".into());
        assert!(session_set_cookie(&config, Some("ses_a")).ends_with("; Secure"));
        assert!(session_set_cookie(&config, None).contains("Max-Age=0"));
    }
}
