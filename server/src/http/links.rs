//! Invitations and password resets under `/api/v1`: single-use, expiring links created by
//! the team (or, for resets, asked for by anyone), mailed through `CONCIERGE_SMTP_URL` (logged
//! without it), and accepted without credentials.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use concierge_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{AgentAuth, ClientIp};
use super::page::{ApiJson, ApiQuery, Page, PageQuery};
use super::session::{actor, signed_in};
use crate::accounts::links::{self as accounts_links, Link};
use crate::accounts::mail::{self, Delivery};
use crate::app::App;
use crate::error::ApiError;
use crate::limits::Throttle;
use crate::store::{rfc3339, Role};

type ApiResult<T> = Result<T, ApiError>;

/// A link as the API returns it: the token, the URL to open, who it is for, when it expires.
fn link_json(app: &App, path: &str, link: &Link) -> Value {
    json!({
        "token": link.token,
        "url": format!("{}/app/{path}/{}", app.config.public_base(), link.token),
        "email": link.email,
        "role": link.role.map(Role::as_str),
        "expires_at": rfc3339(link.expires_at),
    })
}

/// Mails a link to its recipient (or logs it without a mail transport); a failure is logged
/// and reported, never fatal: invitations are also returned to the inviter.
async fn deliver(app: &App, link: &Link, (subject, body): (String, String)) -> Delivery {
    match app.mailer.send(&link.email, &subject, &body).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, to = %link.email, "link not mailed");
            Delivery::Failed
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InviteBody {
    pub email: String,
    pub role: String,
}

/// `POST /api/v1/invitations {email, role}` (owners, admins): a single-use, expiring link.
#[utoipa::path(
    post,
    path = "/invitations",
    tag = "session",
    request_body = InviteBody,
    responses((status = 201, description = "{token, url, email, role, expires_at}: a single-use link", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn create_invitation(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiJson(body): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Role::Admin, "invite agents")?;
    let role: Role = body
        .role
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::BadFrame, "role must be owner, admin or agent"))?;
    let link = accounts_links::invite(
        &app.chat.store,
        &app.config.auth,
        &auth.0,
        &body.email,
        role,
        &auth.actor(),
    )
    .await?;
    let mut out = link_json(&app, "invite", &link);
    let account = app
        .chat
        .store
        .account(auth.account_id())
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let message = mail::invitation(
        &account,
        &auth.0.name,
        out["url"].as_str().unwrap_or(""),
        app.config.auth.invitation_ttl_hours,
    );
    out["delivery"] = json!(<&str>::from(deliver(&app, &link, message).await));
    Ok((StatusCode::CREATED, Json(out)))
}

/// `GET /api/v1/invitations` (owners, admins): pending invitations.
#[utoipa::path(
    get,
    path = "/invitations",
    tag = "session",
    params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Pending invitations", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_invitations(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page>> {
    auth.require(Role::Admin, "see invitations")?;
    let items = app
        .chat
        .store
        .invitations(auth.account_id())
        .await?
        .iter()
        .map(|i| json!({"email": i.email, "role": i.role, "created_at": rfc3339(i.created_at), "expires_at": rfc3339(i.expires_at)}))
        .collect();
    Page::slice(items, &q)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AcceptBody {
    #[serde(default)]
    pub name: String,
    pub password: String,
}

/// `POST /api/v1/invitations/{token}/accept {name, password}`: creates the agent, signs in.
#[utoipa::path(
    post,
    path = "/invitations/{token}/accept",
    tag = "session",
    security(()),
    params(("token" = String, Path, description = "The invitation link's token")),
    request_body = AcceptBody,
    responses((status = 201, description = "The new agent, signed in", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn accept_invitation(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> ApiResult<Response> {
    let s = accounts_links::accept_invitation(
        &app.chat.store,
        &app.config.auth,
        &token,
        &body.name,
        &body.password,
        &actor(&ip, &headers),
    )
    .await?;
    Ok(signed_in(&app, s, StatusCode::CREATED, json!({})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResetBody {
    pub email: String,
}

/// `POST /api/v1/password-resets {email}`: sends a reset link if the email is an agent's.
/// Always 202, so the answer does not tell which emails exist.
#[utoipa::path(
    post,
    path = "/password-resets",
    tag = "session",
    security(()),
    request_body = ResetBody,
    responses((status = 202, description = "A link is sent if the email is an agent's (the same answer either way)"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn request_reset(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResetBody>,
) -> ApiResult<StatusCode> {
    app.chat
        .limits
        .throttle(Throttle::LoginEmail, &body.email.trim().to_lowercase())
        .await
        .map_err(ApiError::rate_limited)?;
    if let Some(link) = accounts_links::reset_link(
        &app.chat.store,
        &app.config.auth,
        &body.email,
        &actor(&ip, &headers),
    )
    .await?
    {
        // Mailed in the background: the answer's timing must not tell which emails exist.
        let out = link_json(&app, "reset", &link);
        let message = mail::reset(
            out["url"].as_str().unwrap_or(""),
            app.config.auth.reset_ttl_minutes,
        );
        let app = app.clone();
        tokio::spawn(async move {
            deliver(&app, &link, message).await;
        });
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/v1/agents/{id}/password-reset` (owners, admins): a reset link for an agent of
/// the account, returned to the caller to hand over.
#[utoipa::path(
    post,
    path = "/agents/{id}/password-reset",
    tag = "team",
    params(("id" = String, Path, description = "An agent of your account")),
    responses((status = 201, description = "{token, url, email, expires_at}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn create_reset_for_agent(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(agent_id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    auth.require(Role::Admin, "reset other agents' passwords")?;
    let store = &app.chat.store;
    let agent = store
        .agent_in_account(auth.account_id(), &agent_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such agent in your account"))?;
    if agent.role == Role::Owner && auth.0.role != Role::Owner {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only owners can reset an owner's password",
        ));
    }
    let link = accounts_links::reset_link(store, &app.config.auth, &agent.email, &auth.actor())
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such agent in your account"))?;
    Ok((StatusCode::CREATED, Json(link_json(&app, "reset", &link))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewPasswordBody {
    pub password: String,
}

/// `POST /api/v1/password-resets/{token}/accept {password}`: sets the password, ends every
/// session of the agent, signs in anew.
#[utoipa::path(
    post,
    path = "/password-resets/{token}/accept",
    tag = "session",
    security(()),
    params(("token" = String, Path, description = "The reset link's token")),
    request_body = NewPasswordBody,
    responses((status = 200, description = "New password set, every session ended, signed in anew", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn accept_reset(
    State(app): State<Arc<App>>,
    ip: ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<NewPasswordBody>,
) -> ApiResult<Response> {
    let s = accounts_links::accept_reset(
        &app.chat.store,
        &app.config.auth,
        &token,
        &body.password,
        &actor(&ip, &headers),
    )
    .await?;
    app.chat.access_changed(&s.agent).await;
    Ok(signed_in(&app, s, StatusCode::OK, json!({})))
}
