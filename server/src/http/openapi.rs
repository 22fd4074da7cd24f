//! The OpenAPI 3.1 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations: the router is built from the same annotations (utoipa-axum), so every served
//! route is in the document and every documented route is served. `GET /api/v1/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::app::App;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concierge API",
        description = "The dashboard's and scripts' API. Authenticate with the session cookie \
            from `POST /api/v1/session` (then send `X-CSRF-Token` on every write) or with \
            `Authorization: Bearer TOKEN`. Errors are `{\"error\": {\"code\", \"message\"}}`; \
            lists are `{\"items\", \"next_cursor\"}` (pass `cursor` back for the next page).",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security),
    security(("session" = []), ("bearer" = [])),
    tags(
        (name = "session", description = "Sign-in, the caller, tokens, invitations, resets"),
        (name = "team", description = "Sites, agents, usage, audit log"),
        (name = "conversations", description = "The inbox, conversations, tickets"),
        (name = "knowledge", description = "Documents, ingestion jobs, search, knowledge gaps"),
        (name = "settings", description = "Escalation policy, widget settings, identity secret"),
    ),
    components(schemas(ErrorResponse, ErrorDetail, PageView))
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "concierge_session",
                "The session cookie set by POST /api/v1/session; writes also need X-CSRF-Token",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from POST /api/v1/tokens or `concierge agent token`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every `/api/v1` error.
#[derive(Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable, e.g. `unauthenticated`, `csrf`, `forbidden`, `not_found`,
    /// `plan_limit`, `rate_limited`, `bad_frame` (bad input), `conflict`.
    pub code: String,
    /// For people; may change.
    pub message: String,
}

/// One page of a list.
#[derive(Serialize, ToSchema)]
pub struct PageView {
    pub items: Vec<serde_json::Value>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "session", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of /api/v1", body = Object)))]
pub async fn get_openapi(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    Json(app_openapi(&app))
}

/// The document with full paths (`/api/v1/...`), built once per process.
fn app_openapi(app: &App) -> serde_json::Value {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let v1 = super::v1_router(app.config.rag.max_document_bytes);
        let (_, doc) = utoipa_axum::router::OpenApiRouter::<Arc<App>>::new()
            .nest("/api/v1", v1)
            .split_for_parts();
        serde_json::to_value(with_document_routes(doc)).unwrap_or_default()
    })
    .clone()
}

/// The routes the router registers by hand (a catch-all: document ids contain `/`).
fn with_document_routes(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::Path;
    let delete = utoipa::openapi::path::PathItem::new(
        utoipa::openapi::HttpMethod::Delete,
        super::kb::__path_delete_document::operation(),
    );
    doc.paths.paths.insert(
        "/api/v1/sites/{site_key}/documents/{document_id}".to_string(),
        delete,
    );
    let reindex = utoipa::openapi::path::PathItem::new(
        utoipa::openapi::HttpMethod::Post,
        super::kb::__path_reindex_document::operation(),
    );
    doc.paths.paths.insert(
        "/api/v1/sites/{site_key}/documents/{document_id}/reindex".to_string(),
        reindex,
    );
    doc
}
