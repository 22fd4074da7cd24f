//! A stand-in OpenAI-compatible server speaking the real streaming wire format
//! (`data: {chunk}\n\n` … `data: [DONE]\n\n`), scripted per request, counting requests.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use futures::StreamExt;
use serde_json::{json, Value};

use super::super::LlmConfig;

#[derive(Clone)]
pub(super) enum Step {
    Data(String),
    Done,
    /// Sends nothing more but keeps the connection open.
    Hang,
}

#[derive(Clone)]
pub(super) enum Reply {
    Events(Vec<Step>),
    Status(u16, &'static str),
}

pub(super) struct Stub {
    /// One reply per request, in order; the last one repeats.
    replies: Vec<Reply>,
    requests: AtomicUsize,
    pub(super) bodies: Mutex<Vec<Value>>,
    pub(super) authorizations: Mutex<Vec<Option<String>>>,
}

impl Stub {
    pub(super) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

pub(super) async fn chat_completions(
    State(stub): State<Arc<Stub>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let n = stub.requests.fetch_add(1, Ordering::SeqCst);
    stub.bodies.lock().unwrap().push(body);
    stub.authorizations.lock().unwrap().push(
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    let reply = stub.replies.get(n).or(stub.replies.last()).cloned();
    match reply.expect("stub has replies") {
        Reply::Status(code, body) => (
            StatusCode::from_u16(code).unwrap(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Reply::Events(steps) => {
            let body = futures::stream::iter(steps).then(|step| async move {
                match step {
                    Step::Data(json) => Ok(Bytes::from(format!("data: {json}\n\n"))),
                    Step::Done => Ok(Bytes::from_static(b"data: [DONE]\n\n")),
                    Step::Hang => std::future::pending::<Result<Bytes, std::io::Error>>().await,
                }
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(body))
                .unwrap()
        }
    }
}

pub(super) async fn spawn_stub(replies: Vec<Reply>) -> (LlmConfig, Arc<Stub>) {
    let stub = Arc::new(Stub {
        replies,
        requests: AtomicUsize::new(0),
        bodies: Mutex::new(Vec::new()),
        authorizations: Mutex::new(Vec::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(stub.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // Trailing slash on purpose: configs written by hand often have one.
    (
        LlmConfig::new(format!("http://{addr}/v1/"), "stub-model"),
        stub,
    )
}

pub(super) fn chunk(delta: Value, finish_reason: Option<&str>) -> Step {
    Step::Data(
        json!({
            "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "stub-model", "system_fingerprint": "fp_stub",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
            "usage": null
        })
        .to_string(),
    )
}

pub(super) fn role() -> Step {
    chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    )
}

pub(super) fn text(t: &str) -> Step {
    chunk(json!({"content": t}), None)
}

pub(super) fn stop() -> Step {
    chunk(json!({}), Some("stop"))
}

pub(super) fn usage(prompt: u32, completion: u32) -> Step {
    Step::Data(
        json!({
            "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "stub-model", "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        })
        .to_string(),
    )
}

/// Answers every request with `steps` in a chunked body and then closes the socket without the
/// terminating chunk: a connection lost mid-answer. Raw TCP because hyper, when a body stream
/// fails, may drop what it buffered instead of sending it first.
pub(super) async fn spawn_breaking_stub(steps: Vec<Step>) -> (LlmConfig, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let mut response = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
    );
    for step in steps {
        if let Step::Data(json) = step {
            let event = format!("data: {json}\n\n");
            response.push_str(&format!("{:x}\r\n{event}\r\n", event.len()));
        }
    }
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            // Read the whole request first: closing with unread input would reset the
            // connection and could discard the answer before the client reads it.
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (
        LlmConfig::new(format!("http://{addr}/v1"), "stub-model"),
        requests,
    )
}
