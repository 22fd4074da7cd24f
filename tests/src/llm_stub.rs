//! A stand-in OpenAI-compatible server for fault injection in bot tests: it speaks the real
//! streaming wire format (`data: {chunk}` … `data: [DONE]`) with scripted text, or fails with a
//! status. The real-model test uses llama-cpp-python instead (CONCIERGE_TEST_LLM_URL).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the stub answers to every request.
#[derive(Clone)]
pub enum Script {
    /// Streams these pieces, then usage, then `[DONE]`.
    Pieces(Vec<&'static str>),
    /// Answers with this HTTP status.
    Fail(u16),
}

pub struct LlmStub {
    pub addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl LlmStub {
    pub async fn start(script: Script) -> LlmStub {
        let requests = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let state = (script, requests.clone(), bodies.clone());
        let router = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(Arc::new(state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        LlmStub {
            addr,
            requests,
            bodies,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// The request bodies received, as JSON.
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

type StubState = Arc<(Script, Arc<AtomicUsize>, Arc<Mutex<Vec<Value>>>)>;

async fn completions(State(state): State<StubState>, Json(body): Json<Value>) -> Response {
    state.1.fetch_add(1, Ordering::SeqCst);
    state.2.lock().unwrap().push(body);
    match &state.0 {
        Script::Fail(code) => (
            StatusCode::from_u16(*code).unwrap(),
            Json(json!({"error": {"message": "scripted failure"}})),
        )
            .into_response(),
        Script::Pieces(pieces) => {
            let chunk = |delta: Value, finish: Value| {
                json!({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            };
            let mut events = vec![chunk(
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            )];
            events.extend(
                pieces
                    .iter()
                    .map(|p| chunk(json!({"content": p}), Value::Null)),
            );
            events.push(chunk(json!({}), json!("stop")));
            events.push(
                json!({"id": "c1", "object": "chat.completion.chunk", "created": 0,
                "model": "stub", "choices": [],
                "usage": {"prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333}}),
            );
            let mut text = String::new();
            for e in events {
                text.push_str(&format!("data: {e}\n\n"));
            }
            text.push_str("data: [DONE]\n\n");
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from(Bytes::from(text)))
                .unwrap()
        }
    }
}
