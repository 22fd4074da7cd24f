//! A stand-in OpenAI-compatible server for fault injection in bot tests: it speaks the real
//! streaming wire format (`data: {chunk}` … `data: [DONE]`) with scripted text, quotes its
//! first source back at a model's pace, or fails with a status. The real-model test uses
//! llama-cpp-python instead (CONCIERGE_TEST_LLM_URL).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};

/// What the stub answers to every request.
#[derive(Clone)]
pub enum Script {
    /// Streams these pieces, then usage, then `[DONE]`.
    Pieces(Vec<&'static str>),
    /// Answers with this HTTP status.
    Fail(u16),
    /// Quotes source `[1]` of the grounded prompt verbatim with a `[1]` citation (what an
    /// extractive answer would say), streamed a few words at a time over `over`, so a browser
    /// can watch the answer grow. Prompts without sources get a one-line answer.
    Quote { over: Duration },
    /// Escalation reviews (a system prompt starting "You triage") get `verdict` after
    /// `delay`; every other request is answered as `Quote` over 50 ms.
    Review {
        verdict: &'static str,
        delay: Duration,
    },
}

/// Whether a request is an escalation review (`concierge::sentiment::review::REVIEW_SYSTEM`).
pub fn is_review(request: &Value) -> bool {
    request["messages"][0]["content"]
        .as_str()
        .is_some_and(|s| s.starts_with("You triage"))
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
    state.2.lock().unwrap().push(body.clone());
    match &state.0 {
        Script::Fail(code) => (
            StatusCode::from_u16(*code).unwrap(),
            Json(json!({"error": {"message": "scripted failure"}})),
        )
            .into_response(),
        Script::Pieces(pieces) => {
            let text: String = sse_events(pieces.iter().copied()).collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from(Bytes::from(text)))
                .unwrap()
        }
        Script::Review { verdict, delay } if is_review(&body) => {
            tokio::time::sleep(*delay).await;
            let text: String = sse_events(std::iter::once(*verdict)).collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from(Bytes::from(text)))
                .unwrap()
        }
        Script::Quote { .. } | Script::Review { .. } => {
            let over = match &state.0 {
                Script::Quote { over } => *over,
                _ => Duration::from_millis(50),
            };
            let answer = format!("{} [1]", first_source(&body).unwrap_or("Noted."));
            let pieces = word_pieces(&answer, 3);
            let pause = over / pieces.len().max(1) as u32;
            let events: Vec<String> = sse_events(pieces.into_iter()).collect();
            // Event 0 (the role) goes out at once; each piece after a pause.
            let stream = futures_util::stream::iter(events.into_iter().enumerate()).then(
                move |(i, event)| async move {
                    if i > 0 {
                        tokio::time::sleep(pause).await;
                    }
                    Ok::<_, std::convert::Infallible>(Bytes::from(event))
                },
            );
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

/// The server-sent events of a streamed completion: the role, one chunk per piece, the stop
/// reason, the usage, `[DONE]`.
fn sse_events<'a>(pieces: impl Iterator<Item = &'a str>) -> impl Iterator<Item = String> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "stub",
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    events.extend(pieces.map(|p| chunk(json!({ "content": p }), Value::Null)));
    events.push(chunk(json!({}), json!("stop")));
    events.push(
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 0,
        "model": "stub", "choices": [],
        "usage": {"prompt_tokens": 321, "completion_tokens": 12, "total_tokens": 333}}),
    );
    events
        .into_iter()
        .map(|e| format!("data: {e}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()))
}

/// The body of source `[1]` in the last user message of a grounded prompt
/// (`Sources:\n\n[1] title\nbody\n\n[2] …\n\nQuestion: …`).
fn first_source(request: &Value) -> Option<&str> {
    let prompt = request["messages"]
        .as_array()?
        .iter()
        .rev()
        .find(|m| m["role"] == "user")?["content"]
        .as_str()?;
    let rest = prompt.strip_prefix("Sources:\n\n[1] ")?;
    let body = &rest[rest.find('\n')? + 1..];
    let end = [body.find("\n\n[2] "), body.rfind("\n\nQuestion: ")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(body.len());
    Some(body[..end].trim()).filter(|b| !b.is_empty())
}

/// `text` in pieces of `words` words, whitespace kept, so they concatenate back to `text`.
fn word_pieces(text: &str, words: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut count, mut in_word) = (0, 0, false);
    for (i, c) in text.char_indices() {
        if c.is_whitespace() && in_word {
            count += 1;
            if count == words {
                pieces.push(&text[start..i]);
                (start, count) = (i, 0);
            }
        }
        in_word = !c.is_whitespace();
    }
    pieces.push(&text[start..]);
    pieces
}
