//! "Ask your docs": the owner's console asks the knowledge base a question and reads, streamed
//! as NDJSON, the passages retrieval found, the answer the bot would give a visitor in pieces,
//! and the whole answer with its citations; nothing is stored but the LLM tokens spent.

use concierge_protocol::kb_api::AskEvent;
use concierge_tests::kb::helpcenter;
use concierge_tests::llm_stub::{LlmStub, Script};
use concierge_tests::*;
use futures_util::StreamExt;
use serde_json::{json, Value};

/// What an ask answered: the HTTP status, the content type, the events in order, and the
/// events of each body chunk as it arrived.
struct Asked {
    status: u16,
    content_type: String,
    events: Vec<AskEvent>,
    chunks: Vec<Vec<AskEvent>>,
    error: Value,
}

async fn ask(app: &TestApp, token: &str, question: &str) -> Asked {
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/v1/sites/{}/ask", app.site_key)))
        .bearer_auth(token)
        .json(&json!({ "question": question }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if status != 200 {
        let error = r.json().await.unwrap_or(Value::Null);
        return Asked {
            status,
            content_type,
            events: Vec::new(),
            chunks: Vec::new(),
            error,
        };
    }
    let mut body = r.bytes_stream();
    let mut pending = Vec::new();
    let mut chunks = Vec::new();
    let deadline = std::time::Instant::now() + WAIT * 3;
    while let Some(chunk) = tokio::time::timeout_at(deadline.into(), body.next())
        .await
        .expect("the answer ends in time")
    {
        pending.extend_from_slice(&chunk.unwrap());
        let mut events = Vec::new();
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            events.push(serde_json::from_slice(&line[..end]).expect("each line is an AskEvent"));
        }
        if !events.is_empty() {
            chunks.push(events);
        }
    }
    assert!(pending.is_empty(), "the last line ends with a newline");
    Asked {
        status,
        content_type,
        events: chunks.iter().flatten().cloned().collect(),
        chunks,
        error: Value::Null,
    }
}

/// The `done` event's fields, after checking the deltas add up to its answer.
fn done(asked: &Asked) -> (String, Vec<concierge_protocol::Source>, bool) {
    let streamed: String = asked
        .events
        .iter()
        .filter_map(|e| match e {
            AskEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    match asked.events.last() {
        Some(AskEvent::Done {
            answer,
            citations,
            answered,
        }) => {
            assert_eq!(&streamed, answer, "the deltas add up to the answer");
            (answer.clone(), citations.clone(), *answered)
        }
        other => panic!("the last event is not done: {other:?}"),
    }
}

fn deltas(asked: &Asked) -> usize {
    asked
        .events
        .iter()
        .filter(|e| matches!(e, AskEvent::Delta { .. }))
        .count()
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn any_agent_asks_the_docs_and_reads_the_passages_then_the_answer_in_pieces_then_its_citations(
) {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    // A plain agent (not owner) may ask.
    let asked = ask(&app, &app.agent_token, "How long does a refund take?").await;
    assert_eq!(asked.status, 200, "{}", asked.error);
    assert_eq!(asked.content_type, "application/x-ndjson");
    let AskEvent::Passages {
        passages,
        best_similarity,
        threshold,
    } = &asked.events[0]
    else {
        panic!("passages come first: {:?}", asked.events[0]);
    };
    assert_eq!(passages[0].document_id, "refunds.md");
    assert_eq!(passages[0].title, "Refunds and returns");
    assert!(passages[0].score > 0.0);
    assert!(passages.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        best_similarity >= threshold,
        "{best_similarity} < {threshold}"
    );
    assert!(
        deltas(&asked) >= 2,
        "the extractive answer streams in pieces"
    );
    let (answer, citations, answered) = done(&asked);
    assert!(answered);
    assert!(
        answer.contains("Refunds are issued within 5 business days"),
        "{answer}"
    );
    assert_eq!(citations[0].document_id, "refunds.md");

    // Read-only: no conversation, no gap, no bot answer counted against the plan.
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let conversations = api
        .get(&format!("/conversations?site_key={}", app.site_key))
        .await;
    assert_eq!(conversations.body["items"], json!([]));
    let usage = api.get("/usage").await;
    assert_eq!(usage.body["bot_answers"]["used"], 0, "{}", usage.body);
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_question_the_docs_do_not_answer_is_answered_with_i_dont_know_and_no_gap_is_recorded() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let asked = ask(
        &app,
        &app.agent_token,
        "What is the airspeed velocity of an unladen swallow?",
    )
    .await;
    assert_eq!(asked.status, 200);
    assert!(matches!(asked.events[0], AskEvent::Passages { .. }));
    let (answer, citations, answered) = done(&asked);
    assert!(!answered);
    assert_eq!(answer, concierge::bot::DONT_KNOW);
    assert!(citations.is_empty());
    let owner = app.member("owner").await;
    let gaps = app
        .bearer(&owner.token)
        .get(&format!("/sites/{}/knowledge-gaps", app.site_key))
        .await;
    assert_eq!(
        gaps.body["items"],
        json!([]),
        "asking the docs is not a gap"
    );
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn with_an_llm_the_answer_is_streamed_as_the_model_writes_it_and_its_tokens_are_recorded() {
    let stub = LlmStub::start(Script::Quote {
        over: std::time::Duration::from_millis(1_500),
    })
    .await;
    let mut opts = Options {
        llm_base_url: Some(stub.base_url()),
        ..Options::default()
    };
    opts.rag.llm_first_token_timeout_ms = 30_000;
    let app = spawn_with(opts).await.unwrap();
    app.ingest(&helpcenter()).await;
    let asked = ask(&app, &app.agent_token, "How long does a refund take?").await;
    assert_eq!(asked.status, 200, "{}", asked.error);
    // Flushed as produced: the passages arrive alone, before the model has written anything.
    assert!(
        matches!(asked.chunks[0].as_slice(), [AskEvent::Passages { .. }]),
        "{:?}",
        asked.chunks[0]
    );
    assert!(asked.chunks.len() >= 3, "{} chunks", asked.chunks.len());
    assert!(deltas(&asked) >= 3);
    let (answer, citations, answered) = done(&asked);
    assert!(answered);
    assert!(answer.contains("[1]"), "{answer}");
    assert_eq!(citations[0].document_id, "refunds.md");
    assert_eq!(stub.requests(), 1);

    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let usage = api.get(&format!("/sites/{}/llm-usage", app.site_key)).await;
    assert_eq!(usage.body["days"][0]["requests"], 1, "{}", usage.body);
    assert!(usage.body["days"][0]["completion_tokens"].as_i64().unwrap() > 0);
    let plan = api.get("/usage").await;
    assert_eq!(plan.body["bot_answers"]["used"], 0, "{}", plan.body);
}

#[tokio::test]
async fn an_empty_or_oversized_question_is_refused_before_anything_streams() {
    let app = spawn_app().await;
    for question in ["".to_string(), "   ".to_string(), "x".repeat(4_001)] {
        let asked = ask(&app, &app.agent_token, &question).await;
        assert_eq!(asked.status, 400, "{}", question.len());
        assert_eq!(asked.error["error"]["code"], "bad_frame");
        assert!(asked.content_type.starts_with("application/json"));
    }
    let asked = ask(&app, &app.agent_token, "x").await;
    assert_eq!(asked.status, 200, "a one-character question is asked");
    let r = app
        .anonymous()
        .post(
            &format!("/sites/{}/ask", app.site_key),
            json!({"question": "hi"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (401, "unauthenticated"));
    let r = app
        .bearer(&app.agent_token)
        .post("/sites/site_nobody/ask", json!({"question": "hi"}))
        .await;
    assert_eq!((r.status, r.code()), (404, "unknown_site"));
    let r = app
        .bearer(&app.agent_token)
        .post(&format!("/sites/{}/ask", app.site_key), json!({"q": "hi"}))
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_frame"));
}

#[tokio::test]
async fn without_a_usable_model_the_answer_ends_with_a_coded_error_line() {
    let empty = temp_dir();
    let app = spawn_with(Options {
        model_dir: Some(empty.path().to_path_buf()),
        ..Options::default()
    })
    .await
    .unwrap();
    let asked = ask(&app, &app.agent_token, "How long does a refund take?").await;
    assert_eq!(asked.status, 200);
    match asked.events.as_slice() {
        [AskEvent::Error { code, message }] => {
            assert_eq!(*code, concierge_protocol::ErrorCode::Unavailable);
            assert!(!message.is_empty());
        }
        other => panic!("expected one error line: {other:?}"),
    }
}
