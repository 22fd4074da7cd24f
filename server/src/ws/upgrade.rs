//! HTTP → websocket: the checks that happen before a socket exists (rate, site, origin,
//! bearer token) and the adapter from axum's socket to the sessions' `Incoming`/`Outgoing`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use concierge_protocol::ErrorCode;
use futures_util::{future, SinkExt, StreamExt};
use serde::Deserialize;
use tracing::field::Empty;
use tracing::Instrument;

use super::{run_agent, run_visitor, Incoming, Outgoing};
use crate::accounts::auth::{authenticate, Credential};
use crate::app::App;
use crate::error::ApiError;

/// Hard cap on one websocket message. Between 16 KiB and this the client gets a `too_large`
/// error frame and keeps its socket; above it the transport cannot skip the payload, so the
/// socket closes with 1009.
pub const HARD_CAP_BYTES: usize = 64 * 1024;

/// tungstenite reads in chunks of this size; its 128 KiB default would cost 128 KiB per idle
/// socket.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// A slow reader may have this much queued before its socket errors out.
const MAX_WRITE_BUFFER_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
pub struct VisitorQuery {
    site_key: Option<String>,
}

fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(HARD_CAP_BYTES)
        .max_frame_size(HARD_CAP_BYTES)
}

fn refuse(app: &App, code: ErrorCode, message: &str) -> Response {
    app.chat
        .metrics
        .upgrades_refused
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    app.chat.metrics.error(code);
    ApiError::new(code, message).bare().into_response()
}

/// `GET /ws/visitor?site_key=KEY`: the widget's socket.
pub async fn visitor_socket(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<VisitorQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if app.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if !app.chat.limits.allow_connection(peer.ip()).await {
        return refuse(
            &app,
            ErrorCode::RateLimited,
            "too many connection attempts; retry in a minute",
        );
    }
    let Some(site_key) = query.site_key.filter(|k| !k.is_empty()) else {
        return refuse(&app, ErrorCode::UnknownSite, "site_key is required");
    };
    // The dashboard's widget preview (`preview~TOKEN`): the site of the owner's draft, from
    // this server's own pages only.
    let preview = site_key.starts_with(crate::widget::PREVIEW_PREFIX);
    if preview && !crate::http::auth::same_origin(&headers, &app.config) {
        return refuse(
            &app,
            ErrorCode::OriginNotAllowed,
            "a preview key works on this server's own pages only",
        );
    }
    let lookup = if preview {
        match crate::widget::preview(&app.chat.store, &site_key).await {
            Ok((site, _)) => Ok(Some(site)),
            Err(crate::widget::WidgetError::UnknownSite) => Ok(None),
            Err(crate::widget::WidgetError::Store(e)) => Err(e),
            Err(e) => Err(crate::store::StoreError::Corrupt(e.to_string())),
        }
    } else {
        app.chat.store.site_by_key(&site_key).await
    };
    let site = match lookup {
        Ok(Some(site)) => site,
        Ok(None) => return refuse(&app, ErrorCode::UnknownSite, "no site has this key"),
        Err(e) => {
            tracing::error!(error = %e, "site lookup failed");
            return refuse(
                &app,
                ErrorCode::Internal,
                "something went wrong on our side",
            );
        }
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // "Check installation": refused origins too (a page that embeds the widget but is
    // missing from the allowed origins is what the owner needs to see).
    if !preview {
        app.installs.seen(&app.chat.store, &site.id, origin);
    }
    if !preview && !site.allows_origin(origin) {
        return refuse(
            &app,
            ErrorCode::OriginNotAllowed,
            "this page's origin is not allowed for the site",
        );
    }
    // The session outlives the upgrade request: its own span, joined to the request's by id.
    // `visitor` and `conversation` are filled in by `hello` (and `new_conversation`).
    let span = tracing::info_span!(
        parent: None,
        "visitor_session",
        site = %site.id,
        visitor = Empty,
        conversation = Empty,
        request_id = %crate::http::trace::request_id(&headers),
    );
    configure(ws).on_upgrade(move |socket| {
        async move {
            let _tracked = app.sessions.token();
            let (sink, stream) = adapt(socket);
            run_visitor(app, site, sink, stream).await;
        }
        .instrument(span)
    })
}

/// `GET /ws/agent` with `Authorization: Bearer TOKEN` or the dashboard's session cookie.
pub async fn agent_socket(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if app.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if !app.chat.limits.allow_connection(peer.ip()).await {
        return refuse(
            &app,
            ErrorCode::RateLimited,
            "too many connection attempts; retry in a minute",
        );
    }
    let Some(credential) = crate::http::auth::credential_from(&headers) else {
        return refuse(
            &app,
            ErrorCode::InvalidToken,
            "sign in, or send Authorization: Bearer TOKEN",
        );
    };
    // A browser sends the session cookie with any page's socket to this host: only the
    // dashboard's own origin may use it (cross-site websocket hijacking).
    if matches!(credential, Credential::Session(_))
        && !crate::http::auth::same_origin(&headers, &app.config)
    {
        return refuse(
            &app,
            ErrorCode::OriginNotAllowed,
            "the session cookie is accepted from this server's own pages only",
        );
    }
    let agent = match authenticate(&app.chat.store, &app.config.auth, &credential).await {
        Ok(Some(principal)) => principal.agent,
        Ok(None) => {
            return refuse(
                &app,
                ErrorCode::InvalidToken,
                "the session or bearer token is invalid or has ended",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "token lookup failed");
            return refuse(
                &app,
                ErrorCode::Internal,
                "something went wrong on our side",
            );
        }
    };
    let span = tracing::info_span!(
        parent: None,
        "agent_session",
        agent = %agent.id,
        account = %agent.account_id,
        request_id = %crate::http::trace::request_id(&headers),
    );
    configure(ws).on_upgrade(move |socket| {
        async move {
            let _tracked = app.sessions.token();
            let (sink, stream) = adapt(socket);
            run_agent(app, agent, credential, sink, stream).await;
        }
        .instrument(span)
    })
}

fn to_ws(out: Outgoing) -> Message {
    match out {
        Outgoing::Text(text) => Message::Text(text.into()),
        Outgoing::Ping => Message::Ping(Default::default()),
        Outgoing::Close(code, reason) => Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
    }
}

fn from_ws(msg: Result<Message, axum::Error>) -> Incoming {
    match msg {
        Ok(Message::Text(text)) => Incoming::Text(text.to_string()),
        Ok(Message::Binary(_)) => Incoming::Binary,
        Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => Incoming::Heartbeat,
        Ok(Message::Close(_)) => Incoming::Close,
        Err(e) => match e.into_inner().downcast::<tungstenite::Error>().map(|e| *e) {
            Ok(tungstenite::Error::Capacity(_)) => Incoming::TooBig,
            Ok(tungstenite::Error::Utf8(_)) => Incoming::InvalidUtf8,
            _ => Incoming::Close,
        },
    }
}

#[allow(clippy::type_complexity)]
fn adapt(
    socket: WebSocket,
) -> (
    impl futures_util::Sink<Outgoing> + Unpin,
    impl futures_util::Stream<Item = Incoming> + Unpin,
) {
    let (sink, stream) = socket.split();
    let sink = sink.with(|out: Outgoing| future::ready(Ok::<_, axum::Error>(to_ws(out))));
    (sink, stream.map(from_ws))
}
