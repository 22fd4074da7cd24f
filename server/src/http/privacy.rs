//! Privacy under `/api/v1/sites/{site_key}/`: export or erase a visitor, and the site's
//! retention (owners and admins; audited, erasures without the content); and
//! `DELETE /api/v1/account`, the owner's deletion of everything.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use concierge_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::kb::site_of;
use super::page::ApiJson;
use crate::accounts::privacy;
use crate::app::App;
use crate::error::ApiError;
use crate::store::Role;

type ApiResult<T> = Result<T, ApiError>;

fn no_visitor(e: crate::accounts::AccountsError) -> ApiError {
    match e {
        crate::accounts::AccountsError::NotFound(_) => {
            ApiError::new(ErrorCode::NotFound, "no such visitor on this site")
        }
        other => other.into(),
    }
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/visitors/{visitor_id}/export",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key"), ("visitor_id" = String, Path, description = "A visitor of the site")),
    responses((status = 200, description = "Everything stored about the visitor: identity, conversations with messages, signals, feedback, tickets", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn export_visitor(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, visitor_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    auth.require(Role::Admin, "export visitors' data")?;
    let export = privacy::export_visitor(&app.chat.store, &site, &visitor_id, &auth.actor())
        .await
        .map_err(no_visitor)?;
    Ok(Json(export))
}

#[utoipa::path(
    delete,
    path = "/sites/{site_key}/visitors/{visitor_id}",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key"), ("visitor_id" = String, Path, description = "A visitor of the site")),
    responses((status = 200, description = "{erased: {conversations, messages, tickets, visitors}}", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn erase_visitor(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, visitor_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    auth.require(Role::Admin, "erase visitors")?;
    let erased = privacy::erase_visitor(&app.chat.store, &site, &visitor_id, &auth.actor())
        .await
        .map_err(no_visitor)?;
    Ok(Json(json!({ "erased": erased })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RetentionBody {
    /// Days after their last activity conversations are deleted; null keeps them.
    pub retention_days: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/retention",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{retention_days}: null keeps conversations forever", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_retention(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let days = app.chat.store.retention_days(&site.id).await?;
    Ok(Json(json!({ "retention_days": days })))
}

#[utoipa::path(
    put,
    path = "/sites/{site_key}/retention",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = RetentionBody,
    responses((status = 200, description = "{retention_days}", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn put_retention(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<RetentionBody>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    auth.require(Role::Admin, "change the retention")?;
    privacy::set_retention(&app.chat.store, &site, body.retention_days, &auth.actor()).await?;
    Ok(Json(json!({ "retention_days": body.retention_days })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DeleteAccountBody {
    /// The account's exact name, as a confirmation.
    pub confirm: String,
}

/// `DELETE /api/v1/account {confirm}` (owners): deletes the account and everything it owns —
/// sites, documents and their vectors, conversations, visitors, agents, tokens, usage, audit.
#[utoipa::path(
    delete,
    path = "/account",
    tag = "team",
    request_body = DeleteAccountBody,
    responses((status = 204, description = "Deleted; every session, token and socket of its agents ended"),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn delete_account(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<DeleteAccountBody>,
) -> ApiResult<StatusCode> {
    auth.require(Role::Owner, "delete the account")?;
    let store = &app.chat.store;
    let sites = store.sites_for_account(auth.account_id()).await?;
    let agents = store.agents_of_account(auth.account_id()).await?;
    crate::accounts::delete_account(store, &app.knowledge, auth.account_id(), &body.confirm)
        .await?;
    // The agents' sockets re-check their credentials and close: the rows are gone.
    for site in &sites {
        for agent in &agents {
            app.chat
                .publish(
                    &site.id,
                    "",
                    crate::bus::EventKind::Access {
                        agent_id: agent.id.clone(),
                    },
                )
                .await;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
