//! Escalation API under `/api/v1/sites/{site_key}/`: tickets, the site's escalation policy, and
//! escalation analytics. Every route needs an agent bearer token of the site's account;
//! changing the policy needs the owner or admin role.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};

use super::conversations::{assign, bad, AssignBody};
use super::page::{ApiJson, ApiQuery, Page, PageQuery};
use crate::store::ConversationRecord;
use axum::Json;
use concierge_protocol::{ErrorCode, TicketStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::kb::{require_manager, site_of};
use crate::app::App;
use crate::error::ApiError;
use crate::sentiment::EscalationPolicy;
use crate::store::now_ms;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
pub struct TicketQuery {
    pub status: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

/// `GET /api/v1/sites/{site_key}/tickets?status=open|pending|solved`: the queue, most urgent
/// first, then oldest first (solved ones: newest first).
#[utoipa::path(
    get,
    path = "/sites/{site_key}/tickets",
    tag = "conversations",
    params(("site_key" = String, Path, description = "The site's public key"), ("status" = Option<String>, Query, description = "open, pending or solved"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Most urgent first, then oldest", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_tickets(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(q): ApiQuery<TicketQuery>,
) -> ApiResult<Json<Page>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(TicketStatus::parse(s).ok_or_else(|| {
            ApiError::new(
                ErrorCode::BadFrame,
                "status must be open, pending or solved",
            )
        })?),
    };
    let mut tickets = app.chat.store.tickets(&site.id, status, 1000).await?;
    if status != Some(TicketStatus::Solved) {
        tickets.sort_by(|a, b| {
            (a.status == TicketStatus::Solved)
                .cmp(&(b.status == TicketStatus::Solved))
                .then(b.priority.cmp(&a.priority))
                .then(a.created_at.cmp(&b.created_at))
                .then(a.id.cmp(&b.id))
        });
    }
    let tickets: Vec<Value> = tickets.iter().map(|t| json!(t.view())).collect();
    Page::slice(tickets, &q.page)
}

/// `GET /api/v1/sites/{site_key}/tickets/{ticket_id}` with its handoff packet.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/tickets/{ticket_id}",
    tag = "conversations",
    params(("site_key" = String, Path, description = "The site's public key"), ("ticket_id" = String, Path, description = "A ticket of the site")),
    responses((status = 200, description = "The ticket with its handoff packet", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_ticket(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, ticket_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    match app.chat.store.ticket(&site.id, &ticket_id).await? {
        Some(t) => Ok(Json(json!(t.view()))),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            "no such ticket on this site",
        )),
    }
}

/// `GET /api/v1/sites/{site_key}/escalation-policy`: the policy in effect (`custom` false when
/// these are the defaults).
#[utoipa::path(
    get,
    path = "/sites/{site_key}/escalation-policy",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{custom, policy}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_policy(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let custom = app
        .chat
        .store
        .escalation_policy_json(&site.id)
        .await?
        .is_some();
    let policy = app.escalations.policy(&site.id).await;
    Ok(Json(json!({ "custom": custom, "policy": policy })))
}

/// `PUT /api/v1/sites/{site_key}/escalation-policy` with any subset of the policy's fields (the
/// rest take their defaults; `{}` restores the defaults). Unknown fields and out-of-range
/// values are refused with `bad_frame`.
#[utoipa::path(
    put,
    path = "/sites/{site_key}/escalation-policy",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "{custom, policy}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn put_policy(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change the escalation policy")?;
    let policy = checked_policy(serde_json::from_slice(&body))?;
    let stored =
        if policy == EscalationPolicy::default() {
            None
        } else {
            Some(serde_json::to_string(&policy).map_err(|e| {
                ApiError::new(ErrorCode::Internal, format!("policy not encoded: {e}"))
            })?)
        };
    app.chat
        .store
        .set_escalation_policy_json(&site.id, stored.as_deref())
        .await?;
    crate::accounts::audit::record(
        &app.chat.store,
        auth.account_id(),
        &auth.actor(),
        crate::accounts::AuditAction::SettingsChanged,
        Some(&site.site_key),
        json!({"setting": "escalation_policy", "custom": stored.is_some()}),
    )
    .await;
    Ok(Json(
        json!({ "custom": stored.is_some(), "policy": policy }),
    ))
}

/// A policy as `PUT .../escalation-policy` accepts it (any subset of the fields, none
/// unknown, every value in range); also the replay's (`bot_settings`).
pub(super) fn checked_policy(
    parsed: Result<EscalationPolicy, serde_json::Error>,
) -> ApiResult<EscalationPolicy> {
    let policy =
        parsed.map_err(|e| ApiError::new(ErrorCode::BadFrame, format!("bad policy: {e}")))?;
    policy
        .validate()
        .map_err(|e| ApiError::new(ErrorCode::BadFrame, format!("bad policy: {e}")))?;
    Ok(policy)
}

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    pub days: Option<i64>,
}

fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64 / 1000.0)
}

fn durations(values: Vec<i64>) -> Value {
    let mut v = values;
    v.sort_unstable();
    json!({
        "count": v.len(),
        "median_secs": percentile(&v, 0.5),
        "p90_secs": percentile(&v, 0.9),
    })
}

/// `GET /api/v1/sites/{site_key}/escalation-stats?days=30`: escalations by reason and priority,
/// tickets by status, time to first human response and to resolution, answer feedback.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/escalation-stats",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key"), ("days" = Option<i64>, Query, description = "Window, default 30")),
    responses((status = 200, description = "Escalations by reason and priority, response times, feedback", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn stats(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let days = q.days.unwrap_or(30).clamp(1, 3650);
    let since = now_ms() - days * 86_400_000;
    let rows = app.chat.store.ticket_stats_rows(&site.id, since).await?;
    let mut by_reason: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut by_priority: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut by_status: BTreeMap<&'static str, i64> = BTreeMap::new();
    let (mut first, mut resolution) = (Vec::new(), Vec::new());
    for r in &rows {
        for reason in &r.reasons {
            *by_reason.entry(reason.as_str()).or_default() += 1;
        }
        *by_priority.entry(r.priority.as_str()).or_default() += 1;
        *by_status.entry(r.status.as_str()).or_default() += 1;
        if let Some(t) = r.first_response_at {
            first.push(t - r.created_at);
        }
        if let Some(t) = r.resolved_at {
            resolution.push(t - r.created_at);
        }
    }
    let (up, down) = app.chat.store.feedback_counts(&site.id, since).await?;
    Ok(Json(json!({
        "days": days,
        "tickets": rows.len(),
        "by_reason": by_reason,
        "by_priority": by_priority,
        "by_status": by_status,
        "first_response": durations(first),
        "resolution": durations(resolution),
        "feedback": {"up": up, "down": down},
    })))
}

/// The site's ticket (404 otherwise) with its conversation; 409 when it is already solved.
async fn ticket_conversation(
    app: &App,
    auth: &AgentAuth,
    site_key: &str,
    ticket_id: &str,
) -> ApiResult<(ConversationRecord, TicketStatus)> {
    let site = site_of(app, auth, site_key).await?;
    let store = &app.chat.store;
    let ticket = store
        .ticket(&site.id, ticket_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such ticket on this site"))?;
    let c = store
        .conversation(&site.id, &ticket.conversation_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such ticket on this site"))?;
    let active = store.active_ticket(&site.id, &c.id).await?;
    if active.as_ref().map(|t| t.id.as_str()) != Some(ticket_id) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "this ticket is solved; a new escalation opens a new one",
        ));
    }
    Ok((c, ticket.status))
}

/// `POST /api/v1/sites/{site_key}/tickets/{id}/assign {agent_id}`.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/tickets/{ticket_id}/assign",
    tag = "conversations",
    params(("site_key" = String, Path, description = "The site's public key"), ("ticket_id" = String, Path, description = "A ticket of the site")),
    request_body = AssignBody,
    responses((status = 200, description = "The ticket", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn assign_ticket(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, ticket_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Json<Value>> {
    let (c, _) = ticket_conversation(&app, &auth, &site_key, &ticket_id).await?;
    Ok(Json(
        assign(&app, &auth, &c, body.agent_id.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TicketPatch {
    pub status: String,
}

/// `PATCH /api/v1/sites/{site_key}/tickets/{id} {status}`: `open`, `pending`, or `solved`
/// (which resolves the conversation, as the agent's `resolve` does).
#[utoipa::path(
    patch,
    path = "/sites/{site_key}/tickets/{ticket_id}",
    tag = "conversations",
    params(("site_key" = String, Path, description = "The site's public key"), ("ticket_id" = String, Path, description = "A ticket of the site")),
    request_body = TicketPatch,
    responses((status = 200, description = "The ticket", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn update_ticket(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, ticket_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<TicketPatch>,
) -> ApiResult<Json<Value>> {
    let status = TicketStatus::parse(&body.status)
        .ok_or_else(|| bad("status must be open, pending or solved"))?;
    let (c, _) = ticket_conversation(&app, &auth, &site_key, &ticket_id).await?;
    let store = &app.chat.store;
    if status == TicketStatus::Solved {
        app.chat.resolve(&auth.0, &c.id).await?;
    } else if let Some(t) = store.ticket_status(&c.site_id, &c.id, status).await? {
        app.chat.publish_ticket(&t).await;
    }
    let site = site_of(&app, &auth, &site_key).await?;
    let t = store
        .ticket(&site.id, &ticket_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such ticket on this site"))?;
    Ok(Json(json!(t.view())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_durations() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1000, 2000, 3000, 4000], 0.5), Some(2.0));
        assert_eq!(percentile(&[1000, 2000, 3000, 4000], 0.9), Some(4.0));
        let d = durations(vec![3000, 1000]);
        assert_eq!(d["count"], 2);
        assert_eq!(d["median_secs"], 1.0);
    }
}
