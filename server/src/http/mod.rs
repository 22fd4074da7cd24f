//! REST and operational endpoints. Handlers are thin: extract, call one service, map.
//!
//! - this file: `/healthz`, `/readyz`, the websocket routes, the router.
//! - [`metrics`]: `/metrics`, behind the metrics token here, or alone on its own listener.
//! - [`headers`]: security headers (nosniff, no-store for credentialed API answers, the
//!   dashboard pages' CSP).
//! - [`kb`]: the knowledge-base API (documents, jobs, search, gaps, usage).
//! - [`tickets`]: tickets, the escalation policy and escalation analytics.
//! - [`widget`]: the widget's public config and its owner-side settings and identity secret.
//! - [`assets`]: the widget's files, embedded at build time (`/widget.js`, `/widget/{name}`).
//! - [`auth`]: bearer-token authentication of API calls.

pub mod assets;
pub mod auth;
pub mod headers;
pub mod kb;
pub mod metrics;
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
use crate::ws::upgrade::{agent_socket, visitor_socket};

pub fn router(app: Arc<App>) -> Router {
    // Several documents per upload, each up to the configured cap.
    let upload_limit = app
        .config
        .rag
        .max_document_bytes
        .saturating_mul(8)
        .max(1 << 20);
    Router::new()
        .route(
            "/api/sites/{site_key}/documents",
            get(kb::list_documents)
                .post(kb::add_documents)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/api/sites/{site_key}/documents/{*document_id}",
            delete(kb::delete_document),
        )
        .route("/api/sites/{site_key}/jobs", get(kb::list_jobs))
        .route("/api/sites/{site_key}/jobs/{job_id}", get(kb::get_job))
        .route("/api/sites/{site_key}/search", get(kb::search))
        .route("/api/sites/{site_key}/knowledge-gaps", get(kb::list_gaps))
        .route("/api/sites/{site_key}/llm-usage", get(kb::llm_usage))
        .route("/api/sites/{site_key}/tickets", get(tickets::list_tickets))
        .route(
            "/api/sites/{site_key}/tickets/{ticket_id}",
            get(tickets::get_ticket),
        )
        .route(
            "/api/sites/{site_key}/escalation-policy",
            get(tickets::get_policy).put(tickets::put_policy),
        )
        .route(
            "/api/sites/{site_key}/escalation-stats",
            get(tickets::stats),
        )
        .route(
            "/api/sites/{site_key}/widget-config",
            get(widget::get_config).put(widget::put_config),
        )
        .route(
            "/api/sites/{site_key}/identity-secret",
            get(widget::get_identity_secret),
        )
        .route(
            "/api/sites/{site_key}/identity-secret/rotate",
            post(widget::rotate_identity_secret),
        )
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
