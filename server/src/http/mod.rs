//! REST and operational endpoints. Handlers are thin: extract, call one service, map.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::App;
use crate::ws::upgrade::{agent_socket, visitor_socket};

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/ws/visitor", get(visitor_socket))
        .route("/ws/agent", get(agent_socket))
        .with_state(app)
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

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let mut body = app.chat.metrics.render();
    body.push_str(&format!(
        "# HELP concierge_bus_undelivered_total Events that did not reach other nodes (they resynced).\n\
         # TYPE concierge_bus_undelivered_total counter\nconcierge_bus_undelivered_total {}\n",
        app.chat.bus.failed_publishes()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
