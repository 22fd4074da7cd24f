//! "Check installation": whether the widget connected from each allowed origin of a site, and
//! when, and from which origins it was refused. Owners and admins.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use concierge_protocol::kb_api::InstallationView;

use super::auth::AgentAuth;
use super::kb::{require_manager, site_of};
use crate::app::App;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = "/sites/{site_key}/installation",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{origins: [{origin, allowed, last_seen_at, connections}]}: every allowed origin (last_seen_at null when the widget never connected from it; a pattern sums the origins it matches), then the origins seen that are not allowed (allowed = false). Recorded at most once a minute per origin and server.", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_installation(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> Result<Json<InstallationView>, ApiError> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "check the installation")?;
    let view = crate::widget::installs::check(&app.chat.store, &site).await?;
    Ok(Json(view))
}
