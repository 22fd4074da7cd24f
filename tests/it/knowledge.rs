//! Documents in the knowledge base: ingestion jobs and their progress, HTML and text
//! extraction, tenancy in every search mode, replacement, dedup and deletion, bad input.

use concierge::rag::SearchMode;
use concierge_protocol::agent::AgentServerFrame;
use concierge_tests::kb::helpcenter;
use concierge_tests::*;
use serde_json::Value;

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
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
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
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
        .get(app.http(&format!("/api/v1/sites/{}/search?q=refund", app.site_key)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_site");
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
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn reingesting_replaces_chunks_skips_identical_content_and_delete_removes_everywhere() {
    let app = spawn_app().await;
    let dir = temp_dir();
    let page = dir.path().join("hours.md");
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
        .delete(app.http(&format!(
            "/api/v1/sites/{}/documents/hours.md",
            app.site_key
        )))
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
        .delete(app.http(&format!(
            "/api/v1/sites/{}/documents/hours.md",
            app.site_key
        )))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
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
        .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
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
        .get(app.http(&format!("/api/v1/sites/{}/jobs/{job_id}", app.site_key)))
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
        .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
        .bearer_auth(&app.agent_token)
        .json(&serde_json::json!({"urls": ["https://example.com/a"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
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
