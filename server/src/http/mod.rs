//! REST and operational endpoints. Handlers are thin: extract, call one service, map.
//!
//! - this file: `/healthz`, `/readyz`, the websocket routes, the router. The
//!   dashboard's and scripts' API lives under `/api/v1` (errors `{"error": {code, message}}`,
//!   lists `{items, next_cursor}`); the widget's public config under `/api/widget/config`.
//! - [`metrics`]: `/metrics`, behind the metrics token here, or alone on its own listener.
//! - [`headers`]: security headers (nosniff, no-store for credentialed API answers, the
//!   dashboard pages' CSP).
//! - [`auth`]: who is calling (session cookie + CSRF, or bearer token), roles, client address.
//! - [`session`]: sign-in, me, password, tokens, sign-up.
//! - [`links`]: invitations and password resets.
//! - [`analytics`]: the owner's figures over a date range.
//! - [`team`]: sites, agents, usage, audit log.
//! - [`conversations`]: the inbox list, a conversation with its messages, assignment, tickets.
//! - [`page`]: JSON/query extractors with API errors, cursor pagination.
//! - [`privacy`]: visitor export and erasure, retention.
//! - [`openapi`]: the OpenAPI 3.1 document, built from the same annotations as the router.
//! - [`throttle`]: REST rate limits per token and per IP.
//! - [`kb`]: the knowledge-base API (documents, jobs, search, re-index, usage).
//! - [`ask`]: "Ask your docs", the bot's answer streamed as NDJSON.
//! - [`gaps`]: knowledge gaps grouped by question, and dismissing them.
//! - [`install`]: "Check installation", the origins the widget connected from.
//! - [`tickets`]: tickets, the escalation policy and escalation analytics.
//! - [`bot_settings`]: a site's LLM (and its connection test) and the replay of recent
//!   conversations under an unsaved escalation policy.
//! - [`widget`]: the widget's public config and its owner-side settings and identity secret.
//! - [`trace`]: a request id and an `http` span for every request (following one in the logs).
//! - [`assets`]: the widget's and the dashboard's files, embedded at build time (`/widget.js`,
//!   `/widget/{name}`, `/app/...`).

pub mod analytics;
pub mod ask;
pub mod assets;
pub mod auth;
pub mod bot_settings;
pub mod conversations;
pub mod gaps;
pub mod headers;
pub mod install;
pub mod kb;
pub mod links;
pub mod metrics;
pub mod openapi;
pub mod page;
pub mod privacy;
pub mod session;
pub mod team;
pub mod throttle;
pub mod tickets;
pub mod trace;
pub mod widget;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::json;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::App;
use crate::error::ApiError;
use crate::ws::upgrade::{agent_socket, visitor_socket};
use concierge_protocol::ErrorCode;

/// Every `/api/v1` route, with its OpenAPI description (see [`openapi`]). Paths are relative
/// to `/api/v1`.
pub fn v1_router(max_document_bytes: usize) -> OpenApiRouter<Arc<App>> {
    // Several documents per upload, each up to the configured cap.
    let upload_limit = max_document_bytes.saturating_mul(8).max(1 << 20);
    let uploads = OpenApiRouter::new()
        .routes(routes!(kb::list_documents, kb::add_documents))
        .layer(DefaultBodyLimit::max(upload_limit));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi::get_openapi))
        .routes(routes!(session::create_session, session::delete_session))
        .routes(routes!(session::get_me))
        .routes(routes!(session::change_password))
        .routes(routes!(session::set_presence))
        .routes(routes!(session::list_tokens, session::create_token))
        .routes(routes!(session::revoke_token))
        .routes(routes!(session::signup))
        .routes(routes!(links::list_invitations, links::create_invitation))
        .routes(routes!(links::accept_invitation))
        .routes(routes!(links::request_reset))
        .routes(routes!(links::accept_reset))
        .routes(routes!(team::list_sites, team::create_site))
        .routes(routes!(team::update_site))
        .routes(routes!(team::rotate_site_key))
        .routes(routes!(team::list_agents))
        .routes(routes!(team::change_role, team::remove_agent))
        .routes(routes!(links::create_reset_for_agent))
        .routes(routes!(team::get_usage))
        .routes(routes!(privacy::delete_account))
        .routes(routes!(team::list_audit))
        .routes(routes!(analytics::get_analytics))
        .routes(routes!(conversations::list_conversations))
        .routes(routes!(conversations::get_conversation))
        .routes(routes!(conversations::list_messages, conversations::reply))
        .routes(routes!(conversations::take_over))
        .routes(routes!(conversations::hand_back))
        .routes(routes!(conversations::resolve))
        .routes(routes!(conversations::assign_conversation))
        .merge(uploads)
        // Document ids are paths ("guides/setup.md"): a catch-all (delete, and post for
        // `.../reindex`), documented by hand in `openapi::with_document_routes`.
        .route(
            "/sites/{site_key}/documents/{*document_id}",
            delete(kb::delete_document).post(kb::post_document_action),
        )
        .routes(routes!(kb::list_jobs))
        .routes(routes!(kb::get_job))
        .routes(routes!(kb::search))
        .routes(routes!(ask::ask))
        .routes(routes!(gaps::list_gaps))
        .routes(routes!(gaps::dismiss_gap))
        .routes(routes!(install::get_installation))
        .routes(routes!(kb::llm_usage))
        .routes(routes!(tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::update_ticket))
        .routes(routes!(tickets::assign_ticket))
        .routes(routes!(tickets::get_policy, tickets::put_policy))
        .routes(routes!(bot_settings::replay_policy))
        .routes(routes!(
            bot_settings::get_llm,
            bot_settings::put_llm,
            bot_settings::delete_llm
        ))
        .routes(routes!(bot_settings::test_llm))
        .routes(routes!(tickets::stats))
        .routes(routes!(widget::get_config, widget::put_config))
        .routes(routes!(widget::get_identity_secret))
        .routes(routes!(widget::rotate_identity_secret))
        .routes(routes!(widget::post_preview))
        .routes(routes!(privacy::export_visitor))
        .routes(routes!(privacy::erase_visitor))
        .routes(routes!(privacy::get_retention, privacy::put_retention))
}

pub fn router(app: Arc<App>) -> Router {
    let (v1, _) = v1_router(app.config.rag.max_document_bytes).split_for_parts();
    let v1 = v1
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            throttle::api_rate_limit,
        ));
    // The dashboard: its page under every /app/ path (the app routes in the browser), with
    // the strict CSP and no framing.
    let dashboard = Router::new()
        .route("/app/", get(assets::get_dashboard_root))
        .route("/app/{*path}", get(assets::get_dashboard))
        .layer(headers::dashboard_pages());
    let router = Router::new()
        .nest("/api/v1", v1)
        .merge(dashboard)
        .route("/app", get(|| async { Redirect::permanent("/app/") }))
        .route(
            "/api/widget/config",
            get(widget::get_public_config).options(widget::preflight_public_config),
        )
        .route("/widget-preview/{token}", get(widget::preview_page))
        .route("/widget.js", get(assets::get_loader))
        .route("/widget/{name}", get(assets::get_asset))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::get_metrics))
        .route("/ws/visitor", get(visitor_socket))
        .route("/ws/agent", get(agent_socket))
        .with_state(app)
        .layer(axum::middleware::from_fn(
            headers::no_store_when_credentialed,
        ))
        .layer(headers::nosniff());
    trace::traced(router)
}

/// Unknown `/api/v1` paths answer in the API's error shape.
async fn api_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API route")
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database and the bus answer.
async fn readyz(State(app): State<Arc<App>>) -> impl IntoResponse {
    let db = app.chat.store.ping().await;
    let bus = app.chat.bus.ping().await;
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readyz: database");
    }
    if let Err(e) = &bus {
        tracing::warn!(error = %e, "readyz: bus");
    }
    let ok = db.is_ok() && bus.is_ok() && !app.shutdown.is_cancelled();
    let body = json!({
        "ready": ok,
        "database": if db.is_ok() { "ok" } else { "unavailable" },
        "bus": { "kind": app.chat.bus.name(), "status": if bus.is_ok() { "ok" } else { "unavailable" } },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
