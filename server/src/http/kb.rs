//! Knowledge-base API for the dashboard and scripts, under `/api/v1/sites/{site_key}/`:
//! documents (list with status and progress, upload, add URLs, delete, re-index), ingestion
//! jobs, search and LLM usage (knowledge gaps: [`super::gaps`]). Every route needs an agent
//! (session or bearer token) of the site's account; changing documents needs the owner or
//! admin role.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use concierge_protocol::kb_api::{DocumentView, JobAccepted, JobDetail};
use concierge_protocol::{ErrorCode, IngestJob};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::page::{ApiQuery, Page, PageQuery};
use crate::accounts::plans::{ensure_room, Limit};
use crate::app::App;
use crate::error::ApiError;
use crate::rag::status::item_view;
use crate::rag::SearchMode;
use crate::store::{Role, Site};

type ApiResult<T> = Result<T, ApiError>;

/// The site, if it belongs to the agent's account; otherwise it does not exist for them (an
/// id from another account is a 404, never its data).
pub(super) async fn site_of(app: &App, auth: &AgentAuth, site_key: &str) -> ApiResult<Site> {
    match app.chat.store.site_by_key(site_key).await? {
        Some(site) if site.account_id == auth.0.account_id => Ok(site),
        _ => Err(ApiError::new(
            ErrorCode::UnknownSite,
            "no such site in your account",
        )),
    }
}

/// Owners and admins only; `action` completes "only owners and admins can ...".
pub(super) fn require_manager(auth: &AgentAuth, action: &str) -> ApiResult<()> {
    match auth.0.role {
        Role::Owner | Role::Admin => Ok(()),
        Role::Agent => Err(ApiError::new(
            ErrorCode::Forbidden,
            format!("only owners and admins can {action}"),
        )),
    }
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/documents",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "The site's documents by id, and the files, pages and sitemaps of recent jobs not stored (queued, processing or failed): {id, title, url, kind, bytes, chunks, indexed, content_hash, updated_at, status (queued, processing, ready, failed), error (in words), progress (0 to 1 while in a running job), job_id}", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_documents(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<DocumentView>>> {
    let site = site_of(&app, &auth, &site_key).await?;
    Page::slice(app.knowledge.document_views(&site.id).await?, &page)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UrlsBody {
    pub urls: Vec<String>,
}

/// `multipart/form-data` with one or more `file` fields (the file name is the document id),
/// or JSON `{"urls": [...]}` (pages or sitemaps). Answers 202 with the queued job.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/documents",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = UrlsBody,
    responses((status = 202, description = "{job}: queued (multipart/form-data with file fields is accepted too)", body = Object), (status = 403, description = "forbidden, or plan_limit (documents)", body = crate::http::openapi::ErrorResponse), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn add_documents(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    request: axum::extract::Request,
) -> ApiResult<impl IntoResponse> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change documents")?;
    let is_json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let kb = &app.knowledge;
    let items =
        if is_json {
            let Json(body) = <Json<UrlsBody> as FromRequest<()>>::from_request(request, &())
                .await
                .map_err(|e| ApiError::new(ErrorCode::BadFrame, format!("bad JSON body: {e}")))?;
            body.urls
                .iter()
                .map(|u| kb.url_item(u.trim()))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let mut multipart = <Multipart as FromRequest<()>>::from_request(request, &())
                .await
                .map_err(|e| {
                    ApiError::new(
                        ErrorCode::BadFrame,
                        format!("expected multipart form data or JSON: {e}"),
                    )
                })?;
            let mut items = Vec::new();
            while let Some(field) = multipart.next_field().await.map_err(|e| {
                ApiError::new(ErrorCode::BadFrame, format!("bad multipart body: {e}"))
            })? {
                let Some(name) = field.file_name().map(sanitize_key) else {
                    continue; // not a file field
                };
                if name.is_empty() {
                    return Err(ApiError::new(
                        ErrorCode::BadFrame,
                        "a file has no usable name",
                    ));
                }
                let bytes = field.bytes().await.map_err(|e| {
                    ApiError::new(ErrorCode::TooLarge, format!("upload failed: {e}"))
                })?;
                let file_name = name.rsplit('/').next().unwrap_or(&name).to_string();
                items.push(kb.file_item(name, file_name, bytes.to_vec()));
            }
            items
        };
    // The plan's documents: only keys not stored yet add to the count (a re-upload replaces).
    let existing: std::collections::HashSet<String> = app
        .chat
        .store
        .documents(&site.id)
        .await?
        .into_iter()
        .map(|d| d.doc_key)
        .collect();
    let adding = items
        .iter()
        .filter(|i| i.failed.is_none() && !existing.contains(&i.doc_key))
        .count() as i64;
    if adding > 0 {
        ensure_room(&app.chat.store, auth.account_id(), Limit::Documents, adding).await?;
    }
    let job = kb.enqueue(&site.id, items).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobAccepted {
            job: job.view(&site.site_key),
        }),
    ))
}

/// Document ids from uploads: relative paths with `/`, no `..`, no leading slash.
fn sanitize_key(name: &str) -> String {
    name.replace('\\', "/")
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect::<Vec<_>>()
        .join("/")
}

#[utoipa::path(
    delete,
    path = "/sites/{site_key}/documents/{document_id}",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("document_id" = String, Path, description = "The document id (may contain /)")),
    responses((status = 204, description = "Deleted"), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn delete_document(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, doc_key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change documents")?;
    if app.knowledge.delete_document(&site.id, &doc_key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            ErrorCode::NotFound,
            "no such document on this site",
        ))
    }
}

/// `POST .../documents/{document_id}/reindex`: the catch-all route of document ids (they
/// contain `/`) takes the action off the end.
pub async fn post_document_action(
    state: State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, rest)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<JobAccepted>)> {
    match rest.strip_suffix("/reindex") {
        Some(doc_key) if !doc_key.is_empty() => {
            reindex_document(state, auth, Path((site_key, doc_key.to_string()))).await
        }
        _ => Err(ApiError::new(ErrorCode::NotFound, "no such API route")),
    }
}

/// Processes the document again from its source (a page is fetched again, an upload read
/// from the original kept when it was stored), even if unchanged.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/documents/{document_id}/reindex",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("document_id" = String, Path, description = "The document id (may contain /)")),
    responses((status = 202, description = "{job}: queued", body = Object), (status = 404, description = "not_found: no such document on this site", body = crate::http::openapi::ErrorResponse), (status = 409, description = "conflict: an upload stored before originals were kept cannot be read again (upload it again)", body = crate::http::openapi::ErrorResponse), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn reindex_document(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, doc_key)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<JobAccepted>)> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change documents")?;
    let job = app.knowledge.reindex(&site.id, &doc_key).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JobAccepted {
            job: job.view(&site.site_key),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/jobs",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Ingestion jobs, newest first", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_jobs(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<IngestJob>>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let jobs = app.chat.store.jobs(&site.id, 500).await?;
    let jobs: Vec<IngestJob> = jobs.iter().map(|j| j.view(&site.site_key)).collect();
    Page::slice(jobs, &page)
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/jobs/{job_id}",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("job_id" = String, Path, description = "A job of the site")),
    responses((status = 200, description = "{job, items: [{document_id, source, status, error, chunks, chunks_total, progress (0 to 1: chunks embedded / chunks total while processing, 1 when finished)}]}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_job(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path((site_key, job_id)): Path<(String, String)>,
) -> ApiResult<Json<JobDetail>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let store = &app.chat.store;
    let job = store
        .job(&site.id, &job_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such job on this site"))?;
    let items = store.job_items(&site.id, &job_id).await?;
    Ok(Json(JobDetail {
        job: job.view(&site.site_key),
        items: items.iter().map(item_view).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub k: Option<usize>,
    pub mode: Option<String>,
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/search",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key"), ("q" = String, Query, description = "The question"), ("k" = Option<usize>, Query, description = "Passages, default 5"), ("mode" = Option<String>, Query, description = "hybrid, dense or lexical")),
    responses((status = 200, description = "The passages the bot would use, with scores", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn search(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let mode = match query.mode.as_deref() {
        None => SearchMode::Hybrid,
        Some(m) => m.parse().map_err(|_| {
            ApiError::new(ErrorCode::BadFrame, "mode must be lexical, dense or hybrid")
        })?,
    };
    if query.q.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::BadFrame, "q must not be empty"));
    }
    let outcome = app
        .knowledge
        .search(&site.id, &query.q, query.k.unwrap_or(5), mode)
        .await?;
    Ok(Json(crate::rag::search::outcome_json(&query.q, &outcome)))
}

#[utoipa::path(
    get,
    path = "/sites/{site_key}/llm-usage",
    tag = "knowledge",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{days}: LLM requests and tokens per day", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn llm_usage(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let site = site_of(&app, &auth, &site_key).await?;
    let usage = app.chat.store.llm_usage(&site.id, 90).await?;
    let days: Vec<Value> = usage
        .iter()
        .map(|u| {
            json!({
                "day": u.day, "requests": u.requests,
                "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            })
        })
        .collect();
    Ok(Json(json!({ "days": days })))
}

#[cfg(test)]
mod tests {
    use super::sanitize_key;

    #[test]
    fn upload_names_cannot_escape_or_be_absolute() {
        assert_eq!(sanitize_key("../../etc/passwd"), "etc/passwd");
        assert_eq!(sanitize_key("/guides/./setup.md"), "guides/setup.md");
        assert_eq!(sanitize_key("a\\b.md"), "a/b.md");
        assert_eq!(sanitize_key(".."), "");
    }
}
