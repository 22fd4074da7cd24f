//! `/metrics` in the OpenMetrics text format (Prometheus scrapes it), served two ways: on the
//! main listener only to a scraper holding the metrics token ([`get_metrics`]), and alone on
//! the private `metrics_listen` address with no token ([`router`]), for a scraper that only
//! reaches that.
//! Socket counts, error codes and latencies tell an outsider how busy and how attacked a
//! deployment is, so they are never public.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::auth::MetricsScraper;
use super::headers;
use crate::app::App;
use crate::metrics::CONTENT_TYPE;

/// The router of the private metrics listener: `/metrics` and nothing else.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(get_private_metrics))
        .with_state(app)
        .layer(headers::nosniff())
}

/// `GET /metrics` on the main listener, with `Authorization: Bearer METRICS_TOKEN`.
pub async fn get_metrics(_: MetricsScraper, State(app): State<Arc<App>>) -> impl IntoResponse {
    render(&app)
}

/// `GET /metrics` on the private metrics listener: whoever reaches it may read.
async fn get_private_metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    render(&app)
}

fn render(app: &App) -> impl IntoResponse {
    let body = app.chat.metrics.render(app.chat.bus.failed_publishes());
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body)
}
