//! Knowledge gaps for the dashboard: the questions the bot could not answer, grouped by
//! question, most asked first; an owner or admin dismisses a group until it is asked again.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use concierge_protocol::kb_api::KnowledgeGapGroup;
use concierge_protocol::ErrorCode;

use super::auth::AgentAuth;
use super::kb::{require_manager, site_of};
use super::page::{ApiQuery, Page, PageQuery};
use crate::app::App;
use crate::error::ApiError;

#[utoipa::path(
    get,
    path = "/sites/{site_key}/knowledge-gaps",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Questions the bot could not answer, grouped by question (case, spacing and trailing punctuation aside), most asked first then most recent, without the groups dismissed since last asked: {id, question (latest wording), count, last_asked_at, best_score, conversation_id (latest)}", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_gaps(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<KnowledgeGapGroup>>, ApiError> {
    let site = site_of(&app, &auth, &site_key).await?;
    Page::slice(app.knowledge.gap_groups(&site.id).await?, &page)
}

#[utoipa::path(
    post,
    path = "/sites/{site_key}/knowledge-gaps/{gap_id}/dismiss",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("gap_id" = String, Path, description = "The id of a group of the list")),
    responses((status = 204, description = "Dismissed: hidden until the question is asked again"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn dismiss_gap(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, gap_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "dismiss knowledge gaps")?;
    let well_formed = gap_id.len() == 64 && gap_id.bytes().all(|b| b.is_ascii_hexdigit());
    if well_formed
        && app
            .knowledge
            .dismiss_gap(&site.id, &gap_id, &auth.0.id)
            .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            "no such knowledge gap on this site",
        ))
    }
}
