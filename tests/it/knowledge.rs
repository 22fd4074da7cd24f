//! The knowledge base end to end: ingestion jobs, grounded streamed answers with citations,
//! "I don't know" with knowledge gaps, tenancy, replacement and deletion, bad input.

use concierge::rag::SearchMode;
use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::Phase;
use concierge_tests::kb::{bot_answer, covid_docs, helpcenter};
use concierge_tests::*;
use serde_json::Value;

#[tokio::test]
async fn a_visitor_question_is_answered_from_the_documents_streamed_with_citations() {
    let app = spawn_app().await;
    let job = app.ingest(&helpcenter()).await;
    assert_eq!(job.status, "ready");
    assert_eq!((job.total, job.done, job.failed), (5, 5, 0), "{job:?}");

    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "How long does a refund take?").await.unwrap();
    let answer = bot_answer(&mut v).await;
    assert_eq!(answer.phases, vec![Phase::Searching, Phase::Writing]);
    assert!(answer.deltas >= 2, "streamed in pieces: {answer:?}");
    assert_eq!(
        answer.streamed_text, answer.message.text,
        "deltas add up to the final text"
    );
    assert!(
        answer
            .message
            .text
            .contains("Refunds are issued within 5 business days"),
        "{}",
        answer.message.text
    );
    assert!(answer.message.text.contains("[1]"));
    let first = &answer.message.sources[0];
    assert_eq!(first.document_id, "refunds.md");
    assert_eq!(first.title, "Refunds and returns");
    assert!(
        first.section.contains("How long does a refund take?"),
        "{first:?}"
    );

    // The citations are stored: a reloaded visitor sees them in its welcome.
    let stored = app.stored_messages(&w.conversation_id).await;
    let bot = stored
        .iter()
        .find(|m| m.author == concierge_protocol::Author::Bot)
        .unwrap();
    assert_eq!(bot.sources, answer.message.sources);
}

#[tokio::test]
async fn html_pages_are_indexed_without_their_navigation_and_text_files_too() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let kb = &app.app.knowledge;
    let site_id = app.site_id().await;
    let hours = kb
        .search(
            &site_id,
            "When is the store open on Sunday?",
            3,
            SearchMode::Hybrid,
        )
        .await
        .unwrap();
    let top = &hours.hits[0].chunk;
    assert_eq!(top.doc_key, "store-hours.html");
    assert_eq!(top.title, "Store opening hours");
    let all_text: String = kb
        .store
        .chunks_of_document(&site_id, &top.document_id)
        .await
        .unwrap()
        .iter()
        .map(|c| c.text.clone())
        .collect();
    assert!(
        !all_text.contains("newsletter"),
        "navigation was indexed: {all_text}"
    );
    assert!(
        !all_text.contains("Cookie settings"),
        "footer was indexed: {all_text}"
    );
    let warranty = kb
        .search(
            &site_id,
            "is water damage covered by the warranty",
            1,
            SearchMode::Hybrid,
        )
        .await
        .unwrap();
    assert_eq!(warranty.hits[0].chunk.doc_key, "warranty.txt");
    let nested = kb
        .search(
            &site_id,
            "forgot my password reset link",
            1,
            SearchMode::Hybrid,
        )
        .await
        .unwrap();
    assert_eq!(
        nested.hits[0].chunk.doc_key, "account/password.md",
        "keyed by relative path"
    );
}

#[tokio::test]
async fn an_unanswerable_question_gets_an_honest_i_dont_know_and_becomes_a_knowledge_gap() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.say("q1", "What is the airspeed velocity of an unladen swallow?")
        .await
        .unwrap();
    let answer = bot_answer(&mut v).await;
    assert_eq!(answer.message.text, concierge::bot::DONT_KNOW);
    assert!(answer.message.sources.is_empty());
    assert_eq!(answer.phases, vec![Phase::Searching]);

    let owner = app.owner_token().await;
    let gaps: Value = reqwest::Client::new()
        .get(app.http(&format!("/api/sites/{}/knowledge-gaps", app.site_key)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let gaps = gaps["knowledge_gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(
        gaps[0]["question"],
        "What is the airspeed velocity of an unladen swallow?"
    );
}

#[tokio::test]
async fn a_site_without_documents_has_no_bot() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.say("q1", "How long does a refund take?").await.unwrap();
    // The visitor's own message comes back; nothing from a bot follows.
    let extra = v.next_within(std::time::Duration::from_millis(800)).await;
    match extra {
        None => {}
        Some(concierge_protocol::visitor::VisitorServerFrame::Message { message }) => {
            assert_eq!(message.author, concierge_protocol::Author::Visitor)
        }
        Some(other) => panic!("unexpected frame {other:?}"),
    }
    assert_eq!(
        app.app
            .chat
            .store
            .count_chunks(&app.site_id().await)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn search_never_returns_another_sites_chunks() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let store = &app.app.chat.store;
    let other = concierge::accounts::create_site(store, "Other", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let kb = &app.app.knowledge;
    // The other site holds the same refund page under another name.
    let bytes = std::fs::read(helpcenter().join("refunds.md")).unwrap();
    let job = kb
        .enqueue(
            &other.id,
            vec![kb.file_item("theirs.md".into(), "theirs.md".into(), bytes)],
        )
        .await
        .unwrap();
    let site_id = app.site_id().await;
    wait_job_of(&app, &other.id, &job.id).await;
    for mode in [SearchMode::Dense, SearchMode::Lexical, SearchMode::Hybrid] {
        for (site, foreign) in [(&site_id, "theirs.md"), (&other.id, "refunds.md")] {
            let out = kb
                .search(site, "How long does a refund take?", 20, mode)
                .await
                .unwrap();
            assert!(!out.hits.is_empty(), "{mode:?} finds the site's own page");
            assert!(
                out.hits
                    .iter()
                    .all(|h| h.chunk.doc_key != foreign && &h.chunk.site_id == site),
                "{mode:?} leaked {foreign} into {site}"
            );
        }
    }
    // Through the API with another account's token, the site does not exist.
    let account = store.create_account("Stranger").await.unwrap();
    let stranger = concierge::accounts::create_site(
        store,
        "Stranger",
        &["https://x.example".into()],
        Some(&account.id),
    )
    .await
    .unwrap();
    let email = "stranger@x.example";
    concierge::accounts::create_agent(store, email, None, "owner", &stranger.site_key)
        .await
        .unwrap();
    let token = concierge::accounts::issue_token(store, email)
        .await
        .unwrap()
        .1;
    let r = reqwest::Client::new()
        .get(app.http(&format!("/api/sites/{}/search?q=refund", app.site_key)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unknown_site");
}

async fn wait_job_of(app: &TestApp, site_id: &str, job_id: &str) {
    for _ in 0..1200 {
        let job = app
            .app
            .chat
            .store
            .job(site_id, job_id)
            .await
            .unwrap()
            .unwrap();
        if job.is_finished() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {job_id} did not finish");
}

#[tokio::test]
async fn reingesting_replaces_chunks_skips_identical_content_and_delete_removes_everywhere() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let page = dir.0.join("hours.md");
    std::fs::write(
        &page,
        "# Hours\n\nWe are open from 8 am to 6 pm on weekdays.\n",
    )
    .unwrap();
    app.ingest(&page).await;
    let kb = &app.app.knowledge;
    let site_id = app.site_id().await;

    // Same bytes again: unchanged, nothing embedded or replaced.
    let before = kb
        .store
        .document(&site_id, "hours.md")
        .await
        .unwrap()
        .unwrap();
    let again = app.ingest(&page).await;
    let items = kb.store.job_items(&site_id, &again.id).await.unwrap();
    assert_eq!(items[0].status, "unchanged");
    let same = kb
        .store
        .document(&site_id, "hours.md")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same.updated_at, before.updated_at);

    // New content replaces the old chunks in both indexes.
    std::fs::write(
        &page,
        "# Hours\n\nWe are now open around the clock, every day of the year.\n",
    )
    .unwrap();
    app.ingest(&page).await;
    for mode in [SearchMode::Dense, SearchMode::Lexical] {
        let out = kb
            .search(&site_id, "open weekdays 8 am 6 pm", 10, mode)
            .await
            .unwrap();
        assert!(
            out.hits.iter().all(|h| !h.chunk.text.contains("8 am")),
            "{mode:?} still finds old text"
        );
    }
    let out = kb
        .search(&site_id, "open around the clock", 1, SearchMode::Hybrid)
        .await
        .unwrap();
    assert!(out.hits[0].chunk.text.contains("around the clock"));
    assert_eq!(
        kb.index.count(&site_id).await.unwrap(),
        1,
        "old vectors removed"
    );

    // Delete through the API: gone from the database, full-text and vector indexes.
    let owner = app.owner_token().await;
    let r = reqwest::Client::new()
        .delete(app.http(&format!("/api/sites/{}/documents/hours.md", app.site_key)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(kb.index.count(&site_id).await.unwrap(), 0);
    assert_eq!(kb.store.count_chunks(&site_id).await.unwrap(), 0);
    for mode in [SearchMode::Dense, SearchMode::Lexical, SearchMode::Hybrid] {
        assert!(kb
            .search(&site_id, "open around the clock", 5, mode)
            .await
            .unwrap()
            .hits
            .is_empty());
    }
    let again = reqwest::Client::new()
        .delete(app.http(&format!("/api/sites/{}/documents/hours.md", app.site_key)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn bad_documents_fail_with_reasons_without_stopping_the_job() {
    let mut opts = Options::default();
    opts.rag.max_document_bytes = 64 * 1024;
    let app = spawn_with(opts).await.unwrap();
    let owner = app.owner_token().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"# Good\n\nThis page is fine and answers questions about gift wrapping.".to_vec(),
            )
            .file_name("good.md"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"%PDF-1.4\n%garbage that is not a pdf at all\x00\x01".to_vec(),
            )
            .file_name("broken.pdf"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes([0u8, 159, 146, 150, 0, 1, 2, 3, 255, 0].repeat(50))
                .file_name("binary.txt"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![b'a'; 100 * 1024]).file_name("huge.md"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"   \n\n  ".to_vec()).file_name("empty.md"),
        );
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/sites/{}/documents", app.site_key)))
        .bearer_auth(&owner)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let job_id = body["job"]["id"].as_str().unwrap().to_string();
    let job = app.wait_job(&job_id).await;
    assert_eq!(job.status, "ready", "{job:?}");
    assert_eq!((job.total, job.done, job.failed), (5, 5, 4));

    let detail: Value = reqwest::Client::new()
        .get(app.http(&format!("/api/sites/{}/jobs/{job_id}", app.site_key)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reason = |id: &str| -> String {
        detail["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["document_id"] == id)
            .map(|i| format!("{} {}", i["status"], i["error"]))
            .unwrap()
    };
    assert!(
        reason("good.md").starts_with("\"ready\""),
        "{}",
        reason("good.md")
    );
    for (id, words) in [
        ("broken.pdf", "damaged"),
        ("binary.txt", "binary"),
        ("huge.md", "limit"),
        ("empty.md", "no text"),
    ] {
        let r = reason(id).to_lowercase();
        assert!(
            r.starts_with("\"failed\"") && r.contains(words),
            "{id}: {r}"
        );
    }
    // An agent (not owner/admin) cannot upload.
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/sites/{}/documents", app.site_key)))
        .bearer_auth(&app.agent_token)
        .json(&serde_json::json!({"urls": ["https://example.com/a"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn agents_see_ingestion_progress_on_their_socket() {
    let app = spawn_app().await;
    let mut agent = app.agent().await;
    let job = app.ingest(&helpcenter()).await;
    let mut seen = Vec::new();
    while let Ok(frame) =
        tokio::time::timeout(std::time::Duration::from_secs(5), agent.next()).await
    {
        if let Ok(AgentServerFrame::Ingest { job: j }) = frame {
            assert_eq!(j.id, job.id);
            assert_eq!(j.site_key, app.site_key);
            let last = j.status == "ready";
            seen.push((j.status, j.done));
            if last {
                break;
            }
        }
    }
    assert!(seen.len() >= 2, "{seen:?}");
    assert_eq!(seen.last().unwrap(), &("ready".to_string(), 5));
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "progress only grows: {seen:?}"
    );
}

#[tokio::test]
async fn without_a_usable_model_the_bot_says_it_cannot_search_instead_of_hanging() {
    let empty = TempDir::new();
    let app = spawn_with(Options {
        model_dir: Some(empty.0.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    // Chunks exist (written straight to the store), but nothing can embed the question.
    let store = &app.app.chat.store;
    store
        .replace_document(
            &app.site_id().await,
            &concierge::store::NewDocument {
                doc_key: "a.md",
                title: "A",
                url: None,
                kind: "markdown",
                content_hash: "h",
                bytes: 1,
            },
            &[concierge::store::NewChunk {
                ordinal: 0,
                heading: "A",
                text: "Refunds take 5 days.",
                location: "line 1",
            }],
        )
        .await
        .unwrap();
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.say("q", "How long does a refund take?").await.unwrap();
    let answer = bot_answer(&mut v).await;
    assert_eq!(answer.message.text, concierge::bot::CANNOT_SEARCH);

    // The API says why, naming the setting to fix.
    let owner = app.owner_token().await;
    let r = reqwest::Client::new()
        .get(app.http(&format!("/api/sites/{}/search?q=refund", app.site_key)))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("CONCIERGE_MODEL_DIR"),
        "{body}"
    );
}

#[tokio::test]
async fn the_dev_set_is_ingested_and_answered_with_citations_extractively_and_by_a_real_llm() {
    let mut modes = vec![("extractive", None)];
    match std::env::var("CONCIERGE_TEST_LLM_URL") {
        Ok(url) => modes.push(("llm", Some(url))),
        Err(_) => pg::skip(
            "the_dev_set_is_ingested_and_answered_..._by_a_real_llm (llm half)",
            "CONCIERGE_TEST_LLM_URL",
        ),
    }
    for (mode, llm) in modes {
        let mut opts = Options {
            llm_base_url: llm,
            llm_model: Some("smollm2".into()),
            ..Options::default()
        };
        opts.rag.llm_first_token_timeout_ms = 30_000;
        let app = spawn_with(opts).await.unwrap();
        let job = app.ingest(&covid_docs()).await;
        assert_eq!(
            (job.status.as_str(), job.total, job.failed),
            ("ready", 213, 0),
            "{job:?}"
        );
        let mut v = app.visitor().await;
        v.hello(None, None, None).await.unwrap();
        // A paraphrase from the dev set's questions; its gold document is cf005.
        v.say("q", "In which ways is the virus spread?")
            .await
            .unwrap();
        let answer = bot_answer(&mut v).await;
        assert!(answer.deltas >= 2, "{mode}: streamed: {answer:?}");
        assert_eq!(answer.streamed_text, answer.message.text);
        let cited: Vec<&str> = answer
            .message
            .sources
            .iter()
            .map(|s| s.document_id.as_str())
            .collect();
        // The dev set's gold document is among the top five; the answer cites what
        // retrieval ranked (extractive: the best passage first).
        let top = app
            .app
            .knowledge
            .search(
                &app.site_id().await,
                "In which ways is the virus spread?",
                5,
                SearchMode::Hybrid,
            )
            .await
            .unwrap();
        let ranked: Vec<&str> = top.hits.iter().map(|h| h.chunk.doc_key.as_str()).collect();
        assert!(
            ranked.contains(&"cf005.md"),
            "gold not in the top 5: {ranked:?}"
        );
        assert!(
            !cited.is_empty() && cited.iter().all(|c| ranked.contains(c)),
            "{mode}: cited {cited:?} of {ranked:?}"
        );
        if mode == "extractive" {
            assert_eq!(cited[0], ranked[0]);
        }
    }
}

#[tokio::test]
async fn a_visitor_who_drops_mid_answer_gets_the_whole_answer_on_resume() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    let seq = v.say("q", "How long does a refund take?").await.unwrap();
    drop(v); // gone before (or while) the bot writes
    let mut again = app.visitor().await;
    let resumed = again
        .hello(Some(&w.token), Some(&w.conversation_id), Some(seq))
        .await
        .unwrap();
    // Either the answer is already complete in the welcome, or it streams in now.
    let text = match resumed
        .messages
        .iter()
        .find(|m| m.author == concierge_protocol::Author::Bot)
    {
        Some(m) if m.state == concierge_protocol::MessageState::Complete => m.text.clone(),
        // Mid-stream: the welcome held a snapshot; the final snapshot follows the deltas.
        _ => again
            .wait_for(|f| match f {
                concierge_protocol::visitor::VisitorServerFrame::Message { message }
                    if message.author == concierge_protocol::Author::Bot
                        && message.state == concierge_protocol::MessageState::Complete =>
                {
                    Some(message.text.clone())
                }
                _ => None,
            })
            .await
            .unwrap(),
    };
    assert!(
        text.contains("Refunds are issued within 5 business days"),
        "{text}"
    );
    let stored = app.stored_messages(&w.conversation_id).await;
    assert_eq!(stored.len(), 2, "one question, one answer");
    assert_eq!(stored[1].text, text);
}
