//! REST and operational endpoints. Handlers are thin: extract, call one service, map.
//!
//! - this file: `/healthz`, `/readyz`, the websocket routes, the router. The
//!   dashboard's and scripts' API lives under `/api/v1` (errors `{"error": {code, message}}`,
//!   lists `{items, next_cursor}`); the widget's public config under `/api/widget/config`.
//! - [`metrics`]: `/metrics`, behind the metrics token here, or alone on its own listener.
//! - [`headers`]: security headers (nosniff, no-store for credentialed API answers, the
//!   dashboard pages' CSP).
//! - [`auth`]: who is calling (session cookie + CSRF, or bearer token), roles, client address.
//! - [`session`]: sign-in, me, password, tokens, sign-up, invitations, password resets.
//! - [`team`]: sites, agents, usage, audit log.
//! - [`conversations`]: the inbox list, a conversation with its messages, assignment, tickets.
//! - [`page`]: JSON/query extractors with API errors, cursor pagination.
//! - [`throttle`]: REST rate limits per token and per IP.
//! - [`kb`]: the knowledge-base API (documents, jobs, search, gaps, usage).
//! - [`tickets`]: tickets, the escalation policy and escalation analytics.
//! - [`widget`]: the widget's public config and its owner-side settings and identity secret.
//! - [`assets`]: the widget's files, embedded at build time (`/widget.js`, `/widget/{name}`).

pub mod assets;
pub mod auth;
pub mod conversations;
pub mod headers;
pub mod kb;
pub mod metrics;
pub mod page;
pub mod session;
pub mod team;
pub mod throttle;
pub mod tickets;
pub mod widget;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::app::App;
use crate::error::ApiError;
use crate::ws::upgrade::{agent_socket, visitor_socket};
use concierge_protocol::ErrorCode;

pub fn router(app: Arc<App>) -> Router {
    // Several documents per upload, each up to the configured cap.
    let upload_limit = app
        .config
        .rag
        .max_document_bytes
        .saturating_mul(8)
        .max(1 << 20);
    let site = Router::new()
        .route(
            "/documents",
            get(kb::list_documents)
                .post(kb::add_documents)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/documents/{*document_id}", delete(kb::delete_document))
        .route("/jobs", get(kb::list_jobs))
        .route("/jobs/{job_id}", get(kb::get_job))
        .route("/search", get(kb::search))
        .route("/knowledge-gaps", get(kb::list_gaps))
        .route("/llm-usage", get(kb::llm_usage))
        .route("/tickets", get(tickets::list_tickets))
        .route(
            "/tickets/{ticket_id}",
            get(tickets::get_ticket).patch(conversations::update_ticket),
        )
        .route(
            "/tickets/{ticket_id}/assign",
            post(conversations::assign_ticket),
        )
        .route(
            "/escalation-policy",
            get(tickets::get_policy).put(tickets::put_policy),
        )
        .route("/escalation-stats", get(tickets::stats))
        .route(
            "/widget-config",
            get(widget::get_config).put(widget::put_config),
        )
        .route("/identity-secret", get(widget::get_identity_secret))
        .route(
            "/identity-secret/rotate",
            post(widget::rotate_identity_secret),
        )
        .route("/rotate-key", post(team::rotate_site_key))
        .route("/", axum::routing::patch(team::update_site));
    let v1 = Router::new()
        .route(
            "/session",
            post(session::create_session).delete(session::delete_session),
        )
        .route("/me", get(session::get_me))
        .route("/me/password", post(session::change_password))
        .route(
            "/tokens",
            get(session::list_tokens).post(session::create_token),
        )
        .route("/tokens/{id}", delete(session::revoke_token))
        .route("/signup", post(session::signup))
        .route(
            "/invitations",
            get(session::list_invitations).post(session::create_invitation),
        )
        .route(
            "/invitations/{token}/accept",
            post(session::accept_invitation),
        )
        .route("/password-resets", post(session::request_reset))
        .route(
            "/password-resets/{token}/accept",
            post(session::accept_reset),
        )
        .route("/sites", get(team::list_sites).post(team::create_site))
        .nest("/sites/{site_key}", site)
        .route("/agents", get(team::list_agents))
        .route(
            "/agents/{id}",
            axum::routing::patch(team::change_role).delete(team::remove_agent),
        )
        .route(
            "/agents/{id}/password-reset",
            post(session::create_reset_for_agent),
        )
        .route("/conversations", get(conversations::list_conversations))
        .route("/conversations/{id}", get(conversations::get_conversation))
        .route(
            "/conversations/{id}/messages",
            get(conversations::list_messages),
        )
        .route(
            "/conversations/{id}/assign",
            post(conversations::assign_conversation),
        )
        .route("/usage", get(team::get_usage))
        .route("/audit", get(team::list_audit))
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            throttle::api_rate_limit,
        ));
    Router::new()
        .nest("/api/v1", v1)
        .route(
            "/api/widget/config",
            get(widget::get_public_config).options(widget::preflight_public_config),
        )
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
        .layer(headers::nosniff())
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
