//! `/api/v1` over `fetch`: same-origin credentials (the session cookie), the CSRF token on
//! every write, JSON bodies typed with `concierge_protocol::api`, and every failure as an
//! [`ApiFailure`] whose message can be shown to the agent as it is.

use std::cell::RefCell;

use concierge_protocol::ApiErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

thread_local! {
    /// The session's CSRF token, from sign-in or `GET /me`.
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// The session's CSRF token.
pub fn csrf() -> Option<String> {
    CSRF.with(|c| c.borrow().clone())
}

/// A request that did not succeed, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiFailure {
    /// HTTP status; 0 when the server could not be reached.
    pub status: u16,
    /// The server's error code (`invalid_credentials`, `conflict`, ...), or `network`.
    pub code: String,
    pub message: String,
}

impl ApiFailure {
    pub fn network() -> Self {
        ApiFailure {
            status: 0,
            code: "network".into(),
            message: "The server could not be reached. Check your connection and try again.".into(),
        }
    }

    pub fn unreadable(status: u16) -> Self {
        ApiFailure {
            status,
            code: "unreadable".into(),
            message: format!(
                "The server sent an answer the dashboard cannot read (HTTP {status})."
            ),
        }
    }

    /// The session ended (signed out elsewhere, expired, revoked).
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }
}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// `/api/v1` + path.
fn url(path: &str) -> String {
    format!("/api/v1{path}")
}

/// Percent-encodes one query value or path segment.
pub fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

async fn fetch(method: &str, path: &str, body: Option<String>) -> ApiResult<Response> {
    let body = body.map(|b| (JsValue::from_str(&b), Some("application/json")));
    send(method, path, body).await
}

/// A request with any body (`FormData` for uploads: no content type, the browser sets the
/// multipart boundary), answered by the raw `Response` (for streamed answers). Same cookie and
/// CSRF rules as every other call.
pub async fn send(
    method: &str,
    path: &str,
    body: Option<(JsValue, Option<&str>)>,
) -> ApiResult<Response> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(|_| ApiFailure::network())?;
    let _ = headers.set("Accept", "application/json");
    if method != "GET" {
        if let Some(token) = CSRF.with(|c| c.borrow().clone()) {
            let _ = headers.set("X-CSRF-Token", &token);
        }
    }
    if let Some((body, content_type)) = &body {
        if let Some(content_type) = content_type {
            let _ = headers.set("Content-Type", content_type);
        }
        init.set_body(body);
    }
    init.set_headers(&headers);
    let request =
        Request::new_with_str_and_init(&url(path), &init).map_err(|_| ApiFailure::network())?;
    let window = web_sys::window().ok_or_else(ApiFailure::network)?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiFailure::network())?;
    response
        .dyn_into::<Response>()
        .map_err(|_| ApiFailure::network())
}

async fn text(response: &Response) -> Option<String> {
    let promise = response.text().ok()?;
    JsFuture::from(promise).await.ok()?.as_string()
}

/// A response that is not 2xx, as words (the server's coded error when it sent one).
pub async fn failure(response: &Response) -> ApiFailure {
    let status = response.status();
    let body = text(response).await.unwrap_or_default();
    match parse::<ApiErrorBody>(&body).ok_or(()) {
        Ok(e) => ApiFailure {
            status,
            code: e.error.code.as_str().to_string(),
            message: e.error.message,
        },
        Err(_) if status == 401 => ApiFailure {
            status,
            code: "unauthenticated".into(),
            message: "Your session has ended. Sign in again.".into(),
        },
        Err(_) => ApiFailure::unreadable(status),
    }
}

/// The answer's JSON. Not generic: one copy of the fetch for every answer type.
async fn call_json(method: &str, path: &str, body: Option<String>) -> ApiResult<Value> {
    read_json(fetch(method, path, body).await?).await
}

/// A response's JSON, or its failure in words.
pub async fn read_json(response: Response) -> ApiResult<Value> {
    if !response.ok() {
        return Err(failure(&response).await);
    }
    let body = text(&response).await.ok_or_else(ApiFailure::network)?;
    // 204 No Content reads as JSON `null`.
    let body = if body.is_empty() { "null" } else { &body };
    serde_json::from_str(body).map_err(|_| ApiFailure::unreadable(response.status()))
}

/// Every answer is read as a `Value` first, then typed: the protocol types are deserialized
/// from one kind of source only, which keeps the wasm smaller (measured: see docs/dashboard.md).
async fn call<T: DeserializeOwned>(method: &str, path: &str, body: Option<String>) -> ApiResult<T> {
    let value = call_json(method, path, body).await?;
    crate::json::typed(value).ok_or_else(|| ApiFailure::unreadable(200))
}

/// A socket frame (or any JSON text) typed the same way as the API's answers.
pub fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    crate::json::typed(serde_json::from_str::<Value>(text).ok()?)
}

fn json<B: Serialize>(body: &B) -> Option<String> {
    serde_json::to_string(body).ok()
}

pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    call("GET", path, None).await
}

/// A page of inbox rows (read by [`crate::decode`], not by serde's flatten path).
pub async fn get_inbox(
    path: &str,
) -> ApiResult<concierge_protocol::api::Page<concierge_protocol::api::InboxRow>> {
    let value = call_json("GET", path, None).await?;
    crate::decode::inbox_page(value).ok_or_else(|| ApiFailure::unreadable(200))
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    call("POST", path, json(body)).await
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    call("PUT", path, json(body)).await
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> ApiResult<T> {
    call("PATCH", path, json(body)).await
}

/// A write whose answer the dashboard does not read (204s, actions answered by the socket).
pub async fn post_ignored<B: Serialize>(path: &str, body: &B) -> ApiResult<()> {
    call_json("POST", path, json(body)).await.map(drop)
}

pub async fn delete(path: &str) -> ApiResult<()> {
    call_json("DELETE", path, None).await.map(drop)
}
