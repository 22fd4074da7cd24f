//! Sign-in and the caller's own account under `/api/v1`: `session` (sign in / out), `me`,
//! `me/password`, `tokens` (named bearer tokens), `signup`. Invitations and resets: [`super::links`].
//! Thin: each handler calls one function of `accounts`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use concierge_protocol::api::{AccountView, AgentView, MeView, PresenceBody, SessionView};
use concierge_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{session_set_cookie, AgentAuth, ClientIp};
use super::page::{ApiJson, ApiQuery, Page, PageQuery};
use crate::accounts::auth as accounts_auth;
use crate::accounts::links::Signup;
use crate::accounts::{audit, Actor, AuditAction, SignedIn};
use crate::app::App;
use crate::config::SignupMode;
use crate::error::ApiError;
use crate::limits::Throttle;
use crate::store::{rfc3339, Agent, Role};

type ApiResult<T> = Result<T, ApiError>;

/// The agent as the API shows it.
pub fn agent_view(a: &Agent) -> AgentView {
    AgentView {
        id: a.id.clone(),
        email: a.email.clone(),
        name: a.name.clone(),
        role: a.role.as_str().to_string(),
        account_id: a.account_id.clone(),
        away: a.away,
    }
}

pub(super) fn actor(ip: &ClientIp, headers: &HeaderMap) -> Actor {
    Actor {
        agent: None,
        ip: ip.0.clone(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// 200 with the agent and CSRF token ([`SessionView`], plus `extra`'s fields), and the
/// session cookie.
pub(super) fn signed_in(app: &App, s: SignedIn, status: StatusCode, extra: Value) -> Response {
    let session = SessionView {
        agent: agent_view(&s.agent),
        csrf_token: Some(s.csrf_token),
    };
    let mut body = json!(session);
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    (
        status,
        [(
            header::SET_COOKIE,
            session_set_cookie(&app.config, Some(&s.session_token)),
        )],
        Json(body),
    )
        .into_response()
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/session {email, password}`: signs in. Throttled per email and per IP.
#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    security(()),
    request_body = SignInBody,
    responses((status = 200, description = "Signed in: {agent, csrf_token}; sets the HttpOnly session cookie", body = Object), (status = 429, description = "Too many attempts; see Retry-After", body = crate::http::openapi::ErrorResponse), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn create_session(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInBody>,
) -> ApiResult<Response> {
    let limits = &app.chat.limits;
    let email_key = body.email.trim().to_lowercase();
    let ip_key = ip.0.clone().unwrap_or_default();
    limits
        .throttle(Throttle::LoginIp, &ip_key)
        .await
        .map_err(ApiError::rate_limited)?;
    limits
        .throttle(Throttle::LoginEmail, &email_key)
        .await
        .map_err(ApiError::rate_limited)?;
    let s = accounts_auth::sign_in(
        &app.chat.store,
        &app.config.auth,
        &body.email,
        &body.password,
        &actor(&ip, &headers),
    )
    .await?;
    Ok(signed_in(&app, s, StatusCode::OK, json!({})))
}

/// `DELETE /api/v1/session`: signs out; the cookie stops working at once (and the agent's
/// sockets on that session close).
#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    responses((status = 204, description = "Signed out: the cookie stops working at once"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn delete_session(State(app): State<Arc<App>>, auth: AgentAuth) -> ApiResult<Response> {
    if let Some(session) = &auth.1 {
        accounts_auth::sign_out(&app.chat.store, &auth.0, &session.id_hash, &auth.actor()).await?;
        app.chat.access_changed(&auth.0).await;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_set_cookie(&app.config, None))],
    )
        .into_response())
}

/// `GET /api/v1/me`: the caller, its CSRF token (cookie sessions) and its account.
#[utoipa::path(
    get,
    path = "/me",
    tag = "session",
    responses((status = 200, description = "{agent, csrf_token, account}: the agent with `away`", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_me(State(app): State<Arc<App>>, auth: AgentAuth) -> ApiResult<Json<MeView>> {
    let account = app.chat.store.account(auth.account_id()).await?;
    Ok(Json(MeView {
        agent: agent_view(&auth.0),
        csrf_token: auth.1.as_ref().map(|s| s.csrf_token.clone()),
        account: account.map(|a| AccountView {
            id: a.id,
            name: a.name,
            plan: a.plan,
        }),
    }))
}

/// `{away}`: the body of `PUT /api/v1/me/presence` ([`PresenceBody`] on the wire).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PresenceSchema {
    /// True: away (escalations do not count you as someone who will reply); false: online.
    pub away: bool,
}

/// `PUT /api/v1/me/presence {away}`: the caller is away or back online. An away agent with
/// the dashboard open does not count as online: escalations ask the visitor for an email.
#[utoipa::path(
    put,
    path = "/me/presence",
    tag = "session",
    request_body = PresenceSchema,
    responses((status = 200, description = "The caller, with away set", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn set_presence(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<PresenceBody>,
) -> ApiResult<Json<AgentView>> {
    let agent = app
        .chat
        .store
        .set_away(auth.account_id(), &auth.0.id, body.away)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such agent in your account"))?;
    Ok(Json(agent_view(&agent)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/me/password`: changes the password (the current one must match) and ends
/// every other session of the caller.
#[utoipa::path(
    post,
    path = "/me/password",
    tag = "session",
    request_body = PasswordBody,
    responses((status = 204, description = "Changed; the caller's other sessions ended"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn change_password(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<PasswordBody>,
) -> ApiResult<StatusCode> {
    accounts_auth::change_password(
        &app.chat.store,
        &auth.0,
        auth.1.as_ref().map(|s| s.id_hash.as_str()),
        &body.current_password,
        &body.new_password,
        &auth.actor(),
    )
    .await?;
    app.chat.access_changed(&auth.0).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Default)]
pub struct TokenQuery {
    /// `all` (owners): every agent's tokens in the account.
    pub scope: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

/// `GET /api/v1/tokens[?scope=all]`: the caller's live tokens (owners: everyone's with
/// `scope=all`). Never the secrets.
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "session",
    params(("scope" = Option<String>, Query, description = "all (owners): every agent's tokens"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "The live tokens, never their secrets", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_tokens(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<Page>> {
    let all = q.scope.as_deref() == Some("all");
    if all {
        auth.require(Role::Owner, "list other agents' tokens")?;
    }
    let tokens = app
        .chat
        .store
        .tokens(auth.account_id(), (!all).then_some(auth.0.id.as_str()))
        .await?;
    let items = tokens
        .iter()
        .map(|t| {
            json!({"id": t.id, "name": t.name, "agent_id": t.agent_id,
                   "agent_email": t.agent_email, "created_at": rfc3339(t.created_at),
                   "last_used_at": t.last_used_at.map(rfc3339)})
        })
        .collect();
    Page::slice(items, &q.page)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTokenBody {
    pub name: String,
}

/// `POST /api/v1/tokens {name}`: a new bearer token for the caller; the secret is shown once.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "session",
    request_body = NewTokenBody,
    responses((status = 201, description = "{id, name, token}: the secret is shown once", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn create_token(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<NewTokenBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            "a token name is 1 to 100 characters",
        ));
    }
    let store = &app.chat.store;
    let (id, token) = store.issue_named_token(&auth.0.id, name).await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::TokenCreated,
        Some(&id),
        json!({"name": name}),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "name": name, "token": token})),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens (owners: anyone's in the
/// account). Sockets opened with it close.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "session",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked; sockets opened with it close"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn revoke_token(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let store = &app.chat.store;
    let own_only = (auth.0.role != Role::Owner).then_some(auth.0.id.as_str());
    let owner_of = store
        .tokens(auth.account_id(), own_only)
        .await?
        .into_iter()
        .find(|t| t.id == id);
    let Some(token) = owner_of else {
        return Err(ApiError::new(ErrorCode::NotFound, "no such token"));
    };
    store.revoke_token(auth.account_id(), &id, own_only).await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::TokenRevoked,
        Some(&id),
        json!({"agent_id": token.agent_id}),
    )
    .await;
    if let Some(agent) = store
        .agent_in_account(auth.account_id(), &token.agent_id)
        .await?
    {
        app.chat.access_changed(&agent).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/signup {email, password, account_name, site_name, origin}`: a new account on
/// the free plan with its first site and owner, signed in. Only with `CONCIERGE_SIGNUP=open`.
#[utoipa::path(
    post,
    path = "/signup",
    tag = "session",
    security(()),
    request_body = crate::accounts::links::Signup,
    responses((status = 201, description = "A new account on the free plan, its site and owner, signed in", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn signup(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Signup>,
) -> ApiResult<Response> {
    if app.config.signup != SignupMode::Open {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "self-service sign-up is closed on this server",
        ));
    }
    app.chat
        .limits
        .throttle(Throttle::LoginIp, ip.0.as_deref().unwrap_or(""))
        .await
        .map_err(ApiError::rate_limited)?;
    let (s, site) = crate::accounts::links::signup(
        &app.chat.store,
        &app.config.auth,
        &body,
        &actor(&ip, &headers),
    )
    .await?;
    let site = json!({"site": {"site_key": site.site_key, "name": site.name, "allowed_origins": site.allowed_origins}});
    Ok(signed_in(&app, s, StatusCode::CREATED, site))
}
