//! Widget API. Public: `GET /api/widget/config?site_key=KEY`, read by the widget loader on a
//! host page (CORS for that page's origin, so its script can read even a refusal), and its
//! `OPTIONS` preflight (granted only to pages the site allows). For the site's team, under
//! `/api/v1/sites/{site_key}/` (session or bearer token): `widget-config` (read by any agent of the
//! account, replaced by owners and admins) and `identity-secret` (owners and admins).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, CACHE_CONTROL, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use concierge_protocol::widget::WidgetConfig;
use concierge_protocol::ErrorCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::kb::{require_manager, site_of};
use crate::app::App;
use crate::error::ApiError;
use crate::widget;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
pub struct ConfigQuery {
    #[serde(default)]
    pub site_key: String,
}

/// `GET /api/widget/config?site_key=KEY`: the site's [`WidgetConfig`]. A request whose
/// `Origin` the site does not allow gets 403 `origin_not_allowed`; an unknown key 404
/// `unknown_site`. Never cached without revalidation: an owner's change shows on the next load.
pub async fn get_public_config(
    State(app): State<Arc<App>>,
    Query(q): Query<ConfigQuery>,
    headers: HeaderMap,
) -> Response {
    let origin = headers.get(ORIGIN);
    let config = if q.site_key.starts_with(widget::PREVIEW_PREFIX) {
        // The dashboard's preview frame, on this server's own origin only.
        if super::auth::same_origin(&headers, &app.config) {
            widget::preview(&app.chat.store, &q.site_key)
                .await
                .map(|(_, c)| c)
        } else {
            Err(widget::WidgetError::OriginNotAllowed)
        }
    } else {
        widget::public_config(&app.chat.store, &q.site_key, origin_text(origin)).await
    };
    let mut response = match config {
        Ok(config) => Json(config).into_response(),
        Err(e) => refusal(&app, e),
    };
    let h = response.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = origin {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
    }
    response
}

/// How long a browser may reuse a granted preflight (Chrome caps it at two hours). Long is
/// safe: the request that follows is checked against the site's origins all the same.
const PREFLIGHT_MAX_AGE_SECS: &str = "7200";

/// `OPTIONS /api/widget/config?site_key=KEY`: the CORS preflight a browser sends first when
/// the loader's request is not a "simple" one (a `Content-Type: application/json` header,
/// say). Granted with 204 only for a page the site allows. Otherwise the same 403/404 body as
/// the GET but no `Access-Control-Allow-Origin`: the browser then never sends the request.
pub async fn preflight_public_config(
    State(app): State<Arc<App>>,
    Query(q): Query<ConfigQuery>,
    headers: HeaderMap,
) -> Response {
    let origin = headers.get(ORIGIN);
    let mut response =
        match widget::embedded_site(&app.chat.store, &q.site_key, origin_text(origin)).await {
            Ok(_) => {
                let mut granted = StatusCode::NO_CONTENT.into_response();
                let h = granted.headers_mut();
                if let Some(o) = origin {
                    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
                }
                h.insert(
                    ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, OPTIONS"),
                );
                h.insert(
                    ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("content-type"),
                );
                h.insert(
                    ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from_static(PREFLIGHT_MAX_AGE_SECS),
                );
                granted
            }
            Err(e) => refusal(&app, e),
        };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Origin"));
    response
}

/// The `Origin` as text; a header that is not text cannot match any allowed origin.
fn origin_text(origin: Option<&HeaderValue>) -> Option<&str> {
    origin.map(|o| o.to_str().unwrap_or("\u{0}"))
}

/// The `{code, message}` answer to a page that may not load the widget, counted.
fn refusal(app: &App, e: widget::WidgetError) -> Response {
    let e = ApiError::from(e);
    app.chat.metrics.error(e.code());
    e.bare().into_response()
}

/// `GET /api/v1/sites/{site_key}/widget-config`.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/widget-config",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "The widget settings", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_config(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<WidgetConfig>> {
    let site = site_of(&app, &auth, &site_key).await?;
    Ok(Json(widget::config(&app.chat.store, &site).await?))
}

/// `PUT /api/v1/sites/{site_key}/widget-config` with any of the config's fields (the rest take
/// their defaults; `{}` restores them). Bad values are refused with `bad_frame`.
#[utoipa::path(
    put,
    path = "/sites/{site_key}/widget-config",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "The widget settings", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn put_config(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<WidgetConfig>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change the widget")?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::BadFrame, format!("bad JSON body: {e}")))?;
    let config = widget::set_config(&app.chat.store, &site, &body).await?;
    crate::accounts::audit::record(
        &app.chat.store,
        auth.account_id(),
        &auth.actor(),
        crate::accounts::AuditAction::SettingsChanged,
        Some(&site.site_key),
        json!({"setting": "widget", "fields": body.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>())}),
    )
    .await;
    Ok(Json(config))
}

/// `GET /api/v1/sites/{site_key}/identity-secret`: `{"identity_secret": HEX}`, created on first
/// call.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/identity-secret",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{identity_secret}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_identity_secret(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Response> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "see the identity secret")?;
    let secret = widget::identity_secret(&app.chat.store, &site).await?;
    Ok(secret_response(&secret))
}

/// `POST /api/v1/sites/{site_key}/identity-secret/rotate`: a new secret; hashes signed with the
/// old one stop verifying at once.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/identity-secret/rotate",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{identity_secret}: the old one stops verifying at once", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn rotate_identity_secret(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Response> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "rotate the identity secret")?;
    let secret = widget::rotate_identity_secret(&app.chat.store, &site).await?;
    crate::accounts::audit::record(
        &app.chat.store,
        auth.account_id(),
        &auth.actor(),
        crate::accounts::AuditAction::IdentitySecretRotated,
        Some(&site.site_key),
        json!({}),
    )
    .await;
    Ok(secret_response(&secret))
}

fn secret_response(secret: &str) -> Response {
    (
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Json(json!({ "identity_secret": secret })),
    )
        .into_response()
}

/// `POST /api/v1/sites/{site_key}/widget-preview` with unsaved settings (the body of a
/// `PUT .../widget-config`): validated the same way, stored for two hours under a new token,
/// nothing saved. Answers `{url, config}`: the page that shows the real widget with them.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/widget-preview",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "{url, config}: a page showing the widget with these settings", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn post_preview(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change the widget")?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(ErrorCode::BadFrame, format!("bad JSON body: {e}")))?;
    let (token, config) = widget::save_preview(&app.chat.store, &site, &body).await?;
    Ok(Json(
        json!({ "url": format!("/widget-preview/{token}"), "config": config }),
    ))
}

/// What the preview frame may load: this server's scripts (the loader and the chat), the
/// loader's shadow-root `<style>`, and only the dashboard may frame it.
const PREVIEW_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'self'; base-uri 'none'; form-action 'none'; object-src 'none'";

/// `GET /widget-preview/{token}`: a page with the real widget (loader, launcher, chat) showing
/// the draft behind `token` (see [`post_preview`]). 404 when the token is unknown or expired.
pub async fn preview_page(State(app): State<Arc<App>>, Path(token): Path<String>) -> Response {
    let key = format!("{}{token}", widget::PREVIEW_PREFIX);
    let found = match widget::preview(&app.chat.store, &key).await {
        Ok((site, _)) => Some(site.name),
        Err(widget::WidgetError::UnknownSite) => None,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(site_name) = found else {
        return (
            StatusCode::NOT_FOUND,
            [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            axum::response::Html(
                "<!doctype html><title>Preview expired</title><p>This preview expired: change a \
                 setting to make a new one.</p>",
            ),
        )
            .into_response();
    };
    // The token is alphanumeric (store::new_token); the site's name is escaped.
    let token: String = token.chars().filter(char::is_ascii_alphanumeric).collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Widget preview</title></head><body>\
         <main><h1>{}</h1><p>A page of your site, with the chat as visitors will see it.</p></main>\
         <script src=\"/widget.js\" data-site-key=\"{}{token}\" async></script></body></html>",
        html_escape(&site_name),
        widget::PREVIEW_PREFIX,
    );
    (
        [
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PREVIEW_CSP),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        axum::response::Html(html),
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
