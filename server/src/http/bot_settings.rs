//! A site's "Bot and escalation" settings under `/api/v1/sites/{site_key}/`, for owners and
//! admins: `llm` (the language model the bot answers with: read, save, back to the server's),
//! `llm/test` (a tiny completion against settings not saved yet) and
//! `escalation-policy/replay` (the last conversations under a policy not saved yet). Bodies
//! are `concierge_protocol::site_api`'s. The API key is write-only: answers show whether one
//! is set and its last four characters.

use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::Json;
use concierge_protocol::site_api::{
    LlmCheckView, LlmMode, LlmSource, ReplayBody, ReplayView, SiteLlmBody, SiteLlmView,
};
use concierge_protocol::ErrorCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use super::auth::AgentAuth;
use super::kb::{require_manager, site_of};
use super::page::ApiJson;
use super::tickets::checked_policy;
use crate::accounts::{audit, AuditAction};
use crate::app::App;
use crate::config::Config;
use crate::error::ApiError;
use crate::escalation::replay::{replay_recent, DEFAULT_LAST, MAX_LAST};
use crate::rag::llm::{check_connection, check_endpoint};
use crate::store::{Site, SiteLlmRecord};

type ApiResult<T> = Result<T, ApiError>;

/// Connection tests and replays each call out or read many conversations: this many a minute
/// per agent (on each node), so a stuck button cannot hammer an endpoint.
const EXPENSIVE_PER_MINUTE: u32 = 10;
static EXPENSIVE: LazyLock<DefaultKeyedRateLimiter<String>> = LazyLock::new(|| {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(EXPENSIVE_PER_MINUTE).unwrap_or(NonZeroU32::MIN),
    ))
});

const MAX_URL_CHARS: usize = 2_000;
const MAX_MODEL_CHARS: usize = 200;
const MAX_KEY_CHARS: usize = 4_096;

/// `GET /api/v1/sites/{site_key}/llm`: what the site's bot uses now.
#[utoipa::path(
    get,
    path = "/sites/{site_key}/llm",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "{mode: extractive|llm, base_url, model, key_set, key_hint, source: site|server}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn get_llm(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<SiteLlmView>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "see the bot's language model")?;
    let stored = app.chat.store.site_llm(&site.id).await?;
    Ok(Json(view(stored.as_ref(), &app.config)))
}

/// `PUT /api/v1/sites/{site_key}/llm {mode, base_url, model, api_key?}`: the site's own
/// settings, used from the next answer on. `api_key` omitted keeps the stored key, `""`
/// clears it.
#[utoipa::path(
    put,
    path = "/sites/{site_key}/llm",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "The settings now in use (source: site)", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn put_llm(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<SiteLlmBody>,
) -> ApiResult<Json<SiteLlmView>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change the bot's language model")?;
    let store = &app.chat.store;
    let stored = store.site_llm(&site.id).await?;
    let settings = settings_from(&app, &body, stored.as_ref()).await?;
    store.set_site_llm(&site.id, Some(&settings)).await?;
    let key = match (&body.api_key, &settings.api_key) {
        (None, Some(_)) => "kept",
        (None, None) => "none",
        (Some(_), Some(_)) => "set",
        (Some(_), None) => "cleared",
    };
    record(
        &app,
        &auth,
        &site,
        json!({"setting": "llm", "mode": settings.mode.as_str(), "base_url": settings.base_url,
               "model": settings.model, "key": key}),
    )
    .await;
    Ok(Json(view(Some(&settings), &app.config)))
}

/// `DELETE /api/v1/sites/{site_key}/llm`: the site follows the server's LLM again (its key
/// is forgotten).
#[utoipa::path(
    delete,
    path = "/sites/{site_key}/llm",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    responses((status = 200, description = "The server's settings, now in use (source: server)", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn delete_llm(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
) -> ApiResult<Json<SiteLlmView>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "change the bot's language model")?;
    app.chat.store.set_site_llm(&site.id, None).await?;
    record(
        &app,
        &auth,
        &site,
        json!({"setting": "llm", "mode": "server"}),
    )
    .await;
    Ok(Json(view(None, &app.config)))
}

/// `POST /api/v1/sites/{site_key}/llm/test` with a `PUT .../llm` body (not saved; `api_key`
/// omitted uses the site's stored key): a four-token completion. HTTP 200 whether or not the
/// endpoint answered; `ok` and `message` say.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/llm/test",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "{ok, model, latency_ms, message, failure}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn test_llm(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<SiteLlmBody>,
) -> ApiResult<Json<LlmCheckView>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "test the bot's language model")?;
    if body.mode != LlmMode::Llm {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            "nothing to test: extractive answers use no language model",
        ));
    }
    let stored = app.chat.store.site_llm(&site.id).await?;
    let settings = settings_from(&app, &body, stored.as_ref()).await?;
    throttle(&auth, "test")?;
    let (Some(base_url), Some(model)) = (&settings.base_url, &settings.model) else {
        return Err(ApiError::new(
            ErrorCode::Internal,
            "settings without an endpoint",
        ));
    };
    let config = app
        .knowledge
        .llms
        .config(base_url, model, settings.api_key.clone());
    Ok(Json(check_connection(config).await))
}

/// `POST /api/v1/sites/{site_key}/escalation-policy/replay {policy, last?}`: the site's last
/// `last` conversations (200; at most 1000) through the server's triage under `policy` (the
/// `PUT .../escalation-policy` body) and under the saved policy. Nothing is saved.
#[utoipa::path(
    post,
    path = "/sites/{site_key}/escalation-policy/replay",
    tag = "settings",
    params(("site_key" = String, Path, description = "The site's public key")),
    request_body = Object,
    responses((status = 200, description = "{conversations, turns, would_escalate, escalated_now, newly_escalated, no_longer_escalated, examples: [{conversation_id, first_message, reason, reasons, newly_escalated}]}", body = Object), (status = "4XX", description = "A coded error: unauthenticated, csrf, forbidden, not_found, bad_frame, rate_limited ...", body = crate::http::openapi::ErrorResponse))
)]
pub async fn replay_policy(
    State(app): State<Arc<App>>,
    auth: AgentAuth,
    Path(site_key): Path<String>,
    ApiJson(body): ApiJson<ReplayBody<Value>>,
) -> ApiResult<Json<ReplayView>> {
    let site = site_of(&app, &auth, &site_key).await?;
    require_manager(&auth, "replay conversations")?;
    let policy = checked_policy(serde_json::from_value(body.policy))?;
    let last = body.last.unwrap_or(DEFAULT_LAST);
    if !(1..=MAX_LAST).contains(&last) {
        return Err(ApiError::new(
            ErrorCode::BadFrame,
            format!("last is how many recent conversations to replay: 1 to {MAX_LAST}"),
        ));
    }
    throttle(&auth, "replay")?;
    Ok(Json(
        replay_recent(&app.escalations, &site.id, policy, last).await?,
    ))
}

/// Spends one of the agent's expensive calls of this kind.
fn throttle(auth: &AgentAuth, kind: &str) -> ApiResult<()> {
    use governor::clock::{Clock, DefaultClock};
    EXPENSIVE
        .check_key(&format!("{kind}:{}", auth.0.id))
        .map_err(|not_until| {
            ApiError::rate_limited(
                not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1),
            )
        })
}

async fn record(app: &App, auth: &AgentAuth, site: &Site, detail: Value) {
    audit::record(
        &app.chat.store,
        auth.account_id(),
        &auth.actor(),
        AuditAction::SettingsChanged,
        Some(&site.site_key),
        detail,
    )
    .await;
}

/// What the site uses: its own settings, else the server's LLM, else extractive answers. The
/// server's key is neither shown nor hinted at (it is the operator's, not the site's).
fn view(stored: Option<&SiteLlmRecord>, config: &Config) -> SiteLlmView {
    match stored {
        Some(s) => SiteLlmView {
            mode: s.mode,
            base_url: s.base_url.clone(),
            model: s.model.clone(),
            key_set: s.api_key.is_some(),
            key_hint: s.api_key.as_deref().and_then(key_hint),
            source: LlmSource::Site,
        },
        None => {
            let base_url = config.llm_base_url.clone().filter(|u| !u.is_empty());
            SiteLlmView {
                mode: match base_url {
                    Some(_) => LlmMode::Llm,
                    None => LlmMode::Extractive,
                },
                model: base_url.as_ref().map(|_| config.llm_model.clone()),
                key_set: base_url.is_some() && config.llm_api_key.is_some(),
                base_url,
                key_hint: None,
                source: LlmSource::Server,
            }
        }
    }
}

/// `…` and the last four characters of a key long enough that they give nothing away.
fn key_hint(key: &str) -> Option<String> {
    let chars: Vec<char> = key.chars().collect();
    (chars.len() >= 12).then(|| {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("…{tail}")
    })
}

/// The settings a `PUT .../llm` (or test) body asks for, checked, with the stored key when
/// the body has none.
async fn settings_from(
    app: &App,
    body: &SiteLlmBody,
    stored: Option<&SiteLlmRecord>,
) -> ApiResult<SiteLlmRecord> {
    let bad = |m: String| ApiError::new(ErrorCode::BadFrame, m);
    let base_url = body
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| checked_url(u).map_err(bad))
        .transpose()?;
    let model = body
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    if model
        .as_deref()
        .is_some_and(|m| m.chars().count() > MAX_MODEL_CHARS || m.chars().any(char::is_control))
    {
        return Err(bad(format!(
            "model is a name of at most {MAX_MODEL_CHARS} characters"
        )));
    }
    let api_key = match body.api_key.as_deref().map(str::trim) {
        None => stored.and_then(|s| s.api_key.clone()),
        Some("") => None,
        Some(k)
            if k.chars().count() > MAX_KEY_CHARS || !k.chars().all(|c| c.is_ascii_graphic()) =>
        {
            return Err(bad(format!(
                "api_key is at most {MAX_KEY_CHARS} printable characters without spaces"
            )))
        }
        Some(k) => Some(k.to_string()),
    };
    if body.mode == LlmMode::Llm {
        let Some(url) = &base_url else {
            return Err(bad(
                "base_url is required for llm answers: the OpenAI-compatible endpoint, such as https://api.openai.com/v1".into(),
            ));
        };
        if model.is_none() {
            return Err(bad(
                "model is required for llm answers, such as gpt-4o-mini".into(),
            ));
        }
        check_endpoint(url, app.knowledge.llms.allow_private())
            .await
            .map_err(|e| bad(format!("base_url is not allowed: {e}")))?;
    }
    Ok(SiteLlmRecord {
        mode: body.mode,
        base_url,
        model,
        api_key,
        updated_at: 0,
    })
}

/// An http(s) URL without credentials, query or fragment (the client appends
/// `/chat/completions`), without its trailing slash.
fn checked_url(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("base_url is at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("base_url is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("base_url must start with http:// or https://".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("base_url has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "base_url must not carry a user name or password; put the key in api_key".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("base_url must not have a query (?...) or fragment (#...)".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_http_without_credentials_or_query() {
        assert_eq!(
            checked_url("https://api.openai.com/v1/").unwrap(),
            "https://api.openai.com/v1"
        );
        assert_eq!(
            checked_url("http://127.0.0.1:8080/v1").unwrap(),
            "http://127.0.0.1:8080/v1"
        );
        for bad in [
            "ftp://llm.example/v1",
            "llm.example/v1",
            "https://user:pw@llm.example/v1",
            "https://llm.example/v1?key=1",
            "file:///etc/passwd",
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_long_keys_get_a_hint() {
        assert_eq!(key_hint("sk-1234567890abcd").as_deref(), Some("…abcd"));
        assert_eq!(key_hint("short"), None);
    }
}
