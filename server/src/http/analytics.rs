//! `GET /api/v1/sites/{site_key}/analytics`: the owner's figures over a date range (see
//! [`crate::analytics`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use concierge_protocol::ErrorCode;
use serde::Deserialize;

use super::auth::AgentAuth;
use super::page::ApiQuery;
use super::team::own_site;
use crate::app::App;
use crate::error::ApiError;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
pub struct AnalyticsQuery {
    /// `YYYY-MM-DD` (UTC), inclusive; default 29 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (UTC), inclusive; default today.
    pub to: Option<String>,
}

fn parse_day(s: &str) -> Result<i64, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &format)
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        .map_err(|_| ApiError::new(ErrorCode::BadFrame, "from and to are dates: YYYY-MM-DD"))
}

/// `GET /api/v1/sites/{site_key}/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/analytics",
    tag = "team",
    params(("site_key" = String, Path, description = "The site's public key"),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD (UTC), inclusive; default 29 days before to"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD (UTC), inclusive; default today")),
    responses((status = 200, description = "Conversations per day, deflection, escalations by reason, median first human response, thumbs, top knowledge gaps", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_analytics(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Json<crate::analytics::Report>> {
    let site = own_site(&app, &auth, &site_key).await?;
    let day = 86_400_000;
    let today = crate::store::now_ms() / day * day;
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day(s)?,
        None => today,
    } + day;
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day(s)?,
        None => to - 30 * day,
    };
    if from >= to || to - from > crate::analytics::MAX_DAYS * day {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            format!(
                "from must be before to, at most {} days apart",
                crate::analytics::MAX_DAYS
            ),
        ));
    }
    Ok(Json(
        crate::analytics::report(&app.chat.store, &site, from, to).await?,
    ))
}
