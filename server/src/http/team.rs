//! The account under `/api/v1`: `sites` (list, create, rename / allowed origins, rotate key),
//! `agents` (list, change role, remove), `usage` and `audit`. Owners and admins manage; every
//! id is looked up inside the caller's account, so another account's id is a 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use concierge_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::page::{decode_cursor, encode_cursor, ApiJson, ApiQuery, Page, PageQuery};
use super::session::agent_view;
use crate::accounts::plans::{ensure_room, usage_report, Limit, UsageReport};
use crate::accounts::{audit, validate_origin, AuditAction};
use crate::app::App;
use crate::error::ApiError;
use crate::store::{rfc3339, Role, Site};

type ApiResult<T> = Result<T, ApiError>;

pub fn site_json(s: &Site) -> Value {
    json!({"id": s.id, "site_key": s.site_key, "name": s.name, "allowed_origins": s.allowed_origins})
}

/// `GET /api/v1/sites`: the account's sites.
#[utoipa::path(
    get,
    path = "/sites",
    tag = "team",
    params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "The account's sites", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_sites(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page>> {
    let sites = app.chat.store.sites_for_account(auth.account_id()).await?;
    Page::slice(sites.iter().map(site_json).collect(), &q)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewSiteBody {
    pub name: String,
    pub allowed_origins: Vec<String>,
}

/// `POST /api/v1/sites {name, allowed_origins}` (owners, admins; within the plan's sites).
#[utoipa::path(
    post,
    path = "/sites",
    tag = "team",
    request_body = NewSiteBody,
    responses((status = 201, description = "The new site", body = Object), (status = 403, description = "forbidden, or plan_limit (sites)", body = crate::http::openapi::ErrorResponse), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn create_site(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<NewSiteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Role::Admin, "create sites")?;
    let store = &app.chat.store;
    ensure_room(store, auth.account_id(), Limit::Sites, 1).await?;
    let site = crate::accounts::create_site(
        store,
        &body.name,
        &body.allowed_origins,
        Some(auth.account_id()),
    )
    .await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::SiteCreated,
        Some(&site.site_key),
        json!({"name": site.name}),
    )
    .await;
    Ok((StatusCode::CREATED, Json(site_json(&site))))
}

/// The site with this key if it is the caller's account's; 404 otherwise.
pub async fn own_site(app: &App, auth: &AgentAuth, site_key: &str) -> ApiResult<Site> {
    super::kb::site_of(app, auth, site_key).await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SitePatch {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
}

/// `PATCH /api/v1/sites/{site_key} {name?, allowed_origins?}` (owners, admins).
#[utoipa::path(
    patch,
    path = "/sites/{site_key}",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = SitePatch,
    responses((status = 200, description = "The site", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn update_site(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<SitePatch>,
) -> ApiResult<Json<Value>> {
    let site = own_site(&app, &auth, &site_key).await?;
    auth.require(Role::Admin, "change sites")?;
    let name = body.name.as_deref().map(str::trim);
    if name.is_some_and(|n| n.is_empty() || n.chars().count() > 200) {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            "a site name is 1 to 200 characters",
        ));
    }
    if let Some(origins) = &body.allowed_origins {
        if origins.is_empty() {
            return Err(ApiError::new(
                ErrorCode::BadFrame,
                "at least one allowed origin is required",
            ));
        }
        for o in origins {
            validate_origin(o).map_err(ApiError::from)?;
        }
    }
    let store = &app.chat.store;
    store
        .update_site(
            auth.account_id(),
            &site.id,
            name,
            body.allowed_origins.as_deref(),
        )
        .await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::SiteUpdated,
        Some(&site.site_key),
        json!({"name": name, "allowed_origins": body.allowed_origins}),
    )
    .await;
    let fresh = store.site_by_id(&site.id).await?.unwrap_or(site);
    Ok(Json(site_json(&fresh)))
}

/// `POST /api/v1/sites/{site_key}/rotate-key` (owners, admins): a new public key; the old one
/// is refused at once (pages must be updated with the new snippet).
#[utoipa::path(
    post,
    path = "/sites/{site_key}/rotate-key",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "The site with its new key; the old key is refused at once", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn rotate_site_key(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let site = own_site(&app, &auth, &site_key).await?;
    auth.require(Role::Admin, "rotate site keys")?;
    let store = &app.chat.store;
    let key = store
        .rotate_site_key(auth.account_id(), &site.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownSite, "no such site in your account"))?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::SiteKeyRotated,
        Some(&site.id),
        json!({"old_key_prefix": &site.site_key[..site.site_key.len().min(9)]}),
    )
    .await;
    let fresh = store.site_by_id(&site.id).await?.unwrap_or(Site {
        site_key: key,
        ..site
    });
    Ok(Json(site_json(&fresh)))
}

/// `GET /api/v1/agents`: the account's agents (any agent may see the team).
#[utoipa::path(
    get,
    path = "/agents",
    tag = "team",
    params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "The account's agents", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_agents(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page>> {
    let agents = app.chat.store.agents_of_account(auth.account_id()).await?;
    Page::slice(agents.iter().map(|a| json!(agent_view(a))).collect(), &q)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoleBody {
    pub role: String,
}

/// Owners may do anything to anyone; admins only to agents and admins, never to owners or
/// into the owner role. Nobody may leave the account without an owner.
async fn check_change(
    app: &App,
    auth: &AgentAuth,
    agent_id: &str,
    new_role: Option<Role>,
) -> ApiResult<crate::store::Agent> {
    auth.require(Role::Admin, "manage the team")?;
    let store = &app.chat.store;
    let target = store
        .agent_in_account(auth.account_id(), agent_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such agent in your account"))?;
    let touches_owner = target.role == Role::Owner || new_role == Some(Role::Owner);
    if touches_owner && auth.0.role != Role::Owner {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only owners can change owners",
        ));
    }
    if target.role == Role::Owner && new_role != Some(Role::Owner) {
        let owners = store
            .agents_of_account(auth.account_id())
            .await?
            .iter()
            .filter(|a| a.role == Role::Owner)
            .count();
        if owners <= 1 {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "the account's last owner cannot be demoted or removed",
            ));
        }
    }
    Ok(target)
}

/// `PATCH /api/v1/agents/{id} {role}` (owners, admins).
#[utoipa::path(
    patch,
    path = "/agents/{id}",
    tag = "team",
    params(("id" = String, Path, description = "An agent of your account")),
    request_body = RoleBody,
    responses((status = 200, description = "The agent", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn change_role(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(agent_id): Path<String>,
    ApiJson(body): ApiJson<RoleBody>,
) -> ApiResult<Json<Value>> {
    let role: Role = body
        .role
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::BadFrame, "role must be owner, admin or agent"))?;
    let target = check_change(&app, &auth, &agent_id, Some(role)).await?;
    let store = &app.chat.store;
    store.set_role(auth.account_id(), &target.id, role).await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::RoleChanged,
        Some(&target.email),
        json!({"from": target.role.as_str(), "to": role.as_str()}),
    )
    .await;
    app.chat.access_changed(&target).await;
    let fresh = store
        .agent_in_account(auth.account_id(), &target.id)
        .await?
        .unwrap_or(target);
    Ok(Json(json!(agent_view(&fresh))))
}

/// `DELETE /api/v1/agents/{id}` (owners, admins): the agent's sessions, tokens and open
/// sockets end at once; its messages stay attributed.
#[utoipa::path(
    delete,
    path = "/agents/{id}",
    tag = "team",
    params(("id" = String, Path, description = "An agent of your account")),
    responses((status = 204, description = "Removed: its sessions, tokens and sockets ended"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn remove_agent(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(agent_id): Path<String>,
) -> ApiResult<StatusCode> {
    let target = check_change(&app, &auth, &agent_id, None).await?;
    let store = &app.chat.store;
    store.remove_agent(auth.account_id(), &target.id).await?;
    audit::record(
        store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::AgentRemoved,
        Some(&target.email),
        json!({"role": target.role.as_str()}),
    )
    .await;
    app.chat.access_changed(&target).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/usage`: this month's usage against the plan, with warnings from 80 %.
#[utoipa::path(
    get,
    path = "/usage",
    tag = "team",
    responses((status = 200, description = "This month's usage against the plan: {plan, period, bot_answers, llm_tokens, documents, seats, sites, daily_bot_answers, warnings}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_usage(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
) -> ApiResult<Json<UsageReport>> {
    Ok(Json(
        usage_report(&app.chat.store, auth.account_id()).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub action: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

/// `GET /api/v1/audit[?action=login_failed]` (owners, admins): newest first.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "team",
    params(("action" = Option<String>, Query, description = "Only this action, e.g. login_failed"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Newest first", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_audit(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Page>> {
    auth.require(Role::Admin, "read the audit log")?;
    let limit = q.page.limit()?;
    let before = q.page.cursor().map(decode_cursor).transpose()?;
    let rows = app
        .chat
        .store
        .audit_entries(
            auth.account_id(),
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            q.action.as_deref().filter(|a| !a.is_empty()),
            limit + 1,
        )
        .await?;
    Ok(Json(Page::keyset(
        rows,
        limit,
        |r| encode_cursor(r.created_at, &r.id),
        |r| {
            json!({"id": r.id, "at": rfc3339(r.created_at), "actor_id": r.actor_id,
                   "actor_email": r.actor_email, "action": r.action, "target": r.target,
                   "ip": r.ip, "detail": r.detail})
        },
    )))
}
