//! Conversations and tickets under `/api/v1`: the inbox list with filters, one conversation
//! with its visitor, ticket and messages (paged by seq), assignment, ticket assignment and
//! status. Any agent of the account may use these; ids of another account are 404s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use concierge_protocol::api::{
    ConversationDetail, FeedbackMark, InboxRow, TicketBrief, VisitorView,
};
use concierge_protocol::{Author, ConversationStatus, ErrorCode, Message, Priority, TicketStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::kb::site_of;
use super::page::{bad_cursor, decode_cursor, encode_cursor, ApiJson, ApiQuery, Page, PageQuery};
use crate::app::App;
use crate::error::ApiError;
use crate::store::{
    rfc3339, Assignee, ConversationRecord, InboxFilter, InboxRow as InboxRecord, MoodBand,
};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    pub site_key: Option<String>,
    /// `bot`, `waiting`, `agent` or `resolved`.
    pub status: Option<String>,
    /// `me`, `none`, or an agent id.
    pub assignee: Option<String>,
    /// `negative`, `neutral` or `positive`.
    pub mood: Option<String>,
    /// RFC 3339: only conversations active since then.
    pub since: Option<String>,
    /// Text any message contains.
    pub q: Option<String>,
    #[serde(flatten)]
    pub page: PageQuery,
}

pub(super) fn bad(message: &str) -> ApiError {
    ApiError::new(ErrorCode::BadFrame, message)
}

fn inbox_row(r: &InboxRecord) -> InboxRow {
    let ticket = match (&r.ticket_id, r.ticket_status.as_deref()) {
        (Some(id), Some(status)) => TicketStatus::parse(status).map(|status| TicketBrief {
            id: id.clone(),
            status,
            priority: r
                .ticket_priority
                .as_deref()
                .and_then(Priority::parse)
                .unwrap_or_default(),
        }),
        _ => None,
    };
    InboxRow {
        conversation: r.conversation.view(),
        last_message: r.last_text.as_deref().map(crate::chat::preview),
        last_visitor_message: r.last_visitor_text.as_deref().map(crate::chat::preview),
        last_author: r.last_author.as_deref().and_then(Author::parse),
        assignee_id: r.assignee_id.clone(),
        ticket,
    }
}

/// `GET /api/v1/conversations?site_key&status&assignee&mood&since&q&cursor&limit`: newest
/// activity first.
#[utoipa::path(
    get,
    path = "/conversations",
    tag = "conversations",
    params(("site_key" = Option<String>, Query, description = "One site of the account"), ("status" = Option<String>, Query, description = "bot, waiting, agent or resolved"), ("assignee" = Option<String>, Query, description = "me, none, or an agent id"), ("mood" = Option<String>, Query, description = "negative, neutral or positive"), ("since" = Option<String>, Query, description = "RFC 3339: active since"), ("q" = Option<String>, Query, description = "Text any message contains"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Newest activity first", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_conversations(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<Page<InboxRow>>> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let site_id = match nonempty(&q.site_key) {
        Some(key) => Some(site_of(&app, &auth, &key).await?.id),
        None => None,
    };
    let status = match nonempty(&q.status) {
        Some(s) => Some(
            ConversationStatus::parse(&s)
                .ok_or_else(|| bad("status must be bot, waiting, agent or resolved"))?,
        ),
        None => None,
    };
    let assignee = match nonempty(&q.assignee).as_deref() {
        None => None,
        Some("me") => Some(Assignee::Agent(auth.0.id.clone())),
        Some("none") => Some(Assignee::Nobody),
        Some(id) => Some(Assignee::Agent(id.to_string())),
    };
    let mood = match nonempty(&q.mood).as_deref() {
        None => None,
        Some("negative") => Some(MoodBand::Negative),
        Some("neutral") => Some(MoodBand::Neutral),
        Some("positive") => Some(MoodBand::Positive),
        Some(_) => return Err(bad("mood must be negative, neutral or positive")),
    };
    let since = match nonempty(&q.since) {
        Some(s) => Some(
            time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| bad("since must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z"))?,
        ),
        None => None,
    };
    let text = nonempty(&q.q);
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(bad("q is at most 200 characters"));
    }
    let limit = q.page.limit()?;
    let before = q.page.cursor().map(decode_cursor).transpose()?;
    let filter = InboxFilter {
        site_id,
        status,
        assignee,
        mood,
        since,
        text,
        before,
        limit: limit + 1,
    };
    let rows = app.chat.store.inbox(auth.account_id(), &filter).await?;
    Ok(Json(Page::keyset(
        rows,
        limit,
        |r| encode_cursor(r.conversation.updated_at, &r.conversation.id),
        inbox_row,
    )))
}

async fn conversation_of(app: &App, auth: &AgentAuth, id: &str) -> ApiResult<ConversationRecord> {
    app.chat
        .store
        .conversation_in_account(auth.account_id(), id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnknownConversation,
                "no such conversation in your account",
            )
        })
}

/// Messages after the cursor's seq (`cursor` = the last seq seen), in order.
async fn message_page(
    app: &App,
    c: &ConversationRecord,
    page: &PageQuery,
) -> ApiResult<Page<Message>> {
    let limit = page.limit()?;
    let after = match page.cursor() {
        None => 0,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(bad_cursor)?,
    };
    let messages = app
        .chat
        .store
        .messages_after(&c.site_id, &c.id, after, limit + 1)
        .await?;
    Ok(Page::keyset(
        messages,
        limit,
        |m| m.seq.to_string(),
        |m| m.view(),
    ))
}

/// `GET /api/v1/conversations/{id}`: the conversation, its visitor, its ticket in progress
/// (with the handoff packet), its first page of messages and the visitor's thumbs on bot
/// answers ([`ConversationDetail`]).
#[utoipa::path(
    get,
    path = "/conversations/{id}",
    tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "{conversation, visitor, ticket, messages, feedback}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_conversation(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<ConversationDetail>> {
    let c = conversation_of(&app, &auth, &id).await?;
    let store = &app.chat.store;
    let visitor = store
        .visitor_details(&c.site_id, &c.visitor_id)
        .await?
        .map(|v| VisitorView {
            id: v.id,
            identified: v.external_id.is_some(),
            external_id: v.external_id,
            email: v.email,
            name: v.name,
            first_seen_at: rfc3339(v.first_seen_at),
            last_seen_at: rfc3339(v.last_seen_at),
            page_url: v.page_url,
            language: v.language,
        });
    let ticket = store
        .active_ticket(&c.site_id, &c.id)
        .await?
        .map(|t| t.view());
    let messages = message_page(&app, &c, &page).await?;
    let feedback = store
        .feedback_of(&c.site_id, &c.id)
        .await?
        .into_iter()
        .map(|(seq, value)| FeedbackMark { seq, value })
        .collect();
    Ok(Json(ConversationDetail {
        conversation: c.view(),
        visitor,
        ticket,
        messages: messages.into(),
        feedback,
    }))
}

/// `GET /api/v1/conversations/{id}/messages?cursor=SEQ&limit=N`.
#[utoipa::path(
    get,
    path = "/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account"), ("cursor" = Option<String>, Query, description = "The last seq seen"), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, description = "Messages in seq order", body = crate::http::openapi::PageView), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn list_messages(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Message>>> {
    let c = conversation_of(&app, &auth, &id).await?;
    Ok(Json(message_page(&app, &c, &page).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignBody {
    /// An agent of the account, or null to unassign.
    pub agent_id: Option<String>,
}

/// Assigns the conversation's ticket in progress; returns it.
pub(super) async fn assign(
    app: &App,
    auth: &AgentAuth,
    c: &ConversationRecord,
    agent_id: Option<&str>,
) -> ApiResult<Value> {
    let store = &app.chat.store;
    if let Some(id) = agent_id {
        store
            .agent_in_account(auth.account_id(), id)
            .await?
            .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such agent in your account"))?;
    }
    let ticket = store
        .ticket_assigned(&c.site_id, &c.id, agent_id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "only a conversation waiting for a person (with a ticket in progress) can be assigned"))?;
    app.chat.publish_ticket(&ticket).await;
    Ok(json!(ticket.view()))
}

/// `POST /api/v1/conversations/{id}/assign {agent_id}`: assigns its ticket in progress.
#[utoipa::path(
    post,
    path = "/conversations/{id}/assign",
    tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account")),
    request_body = AssignBody,
    responses((status = 200, description = "The ticket", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn assign_conversation(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssignBody>,
) -> ApiResult<Json<Value>> {
    let c = conversation_of(&app, &auth, &id).await?;
    Ok(Json(
        assign(&app, &auth, &c, body.agent_id.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReplyBody {
    /// Your id for this message, unique per conversation: a resend with the same id is stored
    /// once and answered with the same seq.
    pub client_msg_id: String,
    pub text: String,
}

/// `POST /api/v1/conversations/{id}/messages {client_msg_id, text}`: an agent reply, as on the
/// agent socket (replying to a conversation the bot handles takes it over first; one another
/// agent holds is a 409).
#[utoipa::path(
    post,
    path = "/conversations/{id}/messages",
    tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account")),
    request_body = ReplyBody,
    responses((status = 201, description = "Stored: the message with its seq (the visitor sees it at once)", body = Object),
        (status = 409, description = "conflict: another agent holds the conversation (the message names them)", body = crate::http::openapi::ErrorResponse),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse))
)]
pub async fn reply(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> ApiResult<(axum::http::StatusCode, Json<Value>)> {
    let m = app
        .chat
        .agent_reply(&auth.0, &id, &body.client_msg_id, &body.text)
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(json!(m.view()))))
}

/// What an agent can do to who answers a conversation.
#[derive(Debug, Clone, Copy)]
enum Action {
    TakeOver,
    HandBack,
    Resolve,
}

async fn act(app: &App, auth: &AgentAuth, id: &str, action: Action) -> ApiResult<Json<Value>> {
    let c = match action {
        Action::TakeOver => app.chat.take_over(&auth.0, id).await?,
        Action::HandBack => app.chat.hand_back(&auth.0, id).await?,
        Action::Resolve => app.chat.resolve(&auth.0, id).await?,
    };
    Ok(Json(json!(c.view())))
}

/// `POST /api/v1/conversations/{id}/take-over`: the caller answers from now on, unless
/// another agent already does (409 naming them).
#[utoipa::path(post, path = "/conversations/{id}/take-over", tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account")),
    responses((status = 200, description = "The conversation, status agent (a no-op when it is yours already)", body = Object),
        (status = 409, description = "conflict: another agent holds the conversation (the message names them)", body = crate::http::openapi::ErrorResponse),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse)))]
pub async fn take_over(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&app, &auth, &id, Action::TakeOver).await
}

/// `POST /api/v1/conversations/{id}/hand-back`: back to the bot (the ticket stays pending).
#[utoipa::path(post, path = "/conversations/{id}/hand-back", tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account")),
    responses((status = 200, description = "The conversation, status bot", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse)))]
pub async fn hand_back(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&app, &auth, &id, Action::HandBack).await
}

/// `POST /api/v1/conversations/{id}/resolve`: resolved, its ticket solved.
#[utoipa::path(post, path = "/conversations/{id}/resolve", tag = "conversations",
    params(("id" = String, Path, description = "A conversation of your account")),
    responses((status = 200, description = "The conversation, status resolved", body = Object),
        (status = "4XX", description = "A coded error", body = crate::http::openapi::ErrorResponse)))]
pub async fn resolve(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    act(&app, &auth, &id, Action::Resolve).await
}
