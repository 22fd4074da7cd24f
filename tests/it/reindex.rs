//! Re-indexing one document: an upload is processed again from the original kept when it was
//! stored (across restarts), a page is fetched again, and what cannot be re-indexed says why.

use std::sync::{Arc, Mutex};

use concierge::rag::SearchMode;
use concierge_tests::*;
use serde_json::Value;

use crate::knowledge_gaps::respawn;

async fn upload(app: &TestApp, token: &str, name: &str, text: &str) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string()),
    );
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    body["job"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn an_upload_is_reindexed_from_its_kept_original_even_after_a_restart() {
    let dir = temp_dir();
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_with(opts.clone()).await.unwrap();
    let site_key = app.site_key.clone();
    let site_id = app.site_id().await;
    let owner = app.member("owner").await;
    let agent = app.member("agent").await;
    let job = upload(
        &app,
        &owner.token,
        "guides/setup.md",
        "# Setup\n\nPlug the router in and hold the reset button for ten seconds.",
    )
    .await;
    app.wait_job(&job).await;
    let before = app
        .app
        .chat
        .store
        .document(&site_id, "guides/setup.md")
        .await
        .unwrap()
        .unwrap();
    app.shutdown().await;

    let mut app = respawn(&opts).await;
    app.site_key = site_key.clone();
    let path = format!("/sites/{site_key}/documents/guides/setup.md/reindex");
    let r = app.bearer(&agent.token).post(&path, Value::Null).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app.bearer(&owner.token).post(&path, Value::Null).await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    assert_eq!(r.body["job"]["site_key"], site_key.as_str());
    let job = app.wait_job(r.body["job"]["id"].as_str().unwrap()).await;
    assert_eq!((job.status.as_str(), job.failed), ("ready", 0), "{job:?}");
    let items = app
        .app
        .chat
        .store
        .job_items(&site_id, &job.id)
        .await
        .unwrap();
    assert_eq!(
        items[0].status, "ready",
        "processed again although unchanged"
    );
    let after = app
        .app
        .chat
        .store
        .document(&site_id, "guides/setup.md")
        .await
        .unwrap()
        .unwrap();
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.content_hash, before.content_hash);
    let found = app
        .app
        .knowledge
        .search(&site_id, "how do I reset the router", 1, SearchMode::Hybrid)
        .await
        .unwrap();
    assert_eq!(found.hits[0].chunk.doc_key, "guides/setup.md");

    // Deleting the document deletes its original too.
    let r = app
        .bearer(&owner.token)
        .delete(&format!("/sites/{site_key}/documents/guides/setup.md"))
        .await;
    assert_eq!(r.status, 204);
    assert!(!app
        .app
        .chat
        .store
        .has_source(&site_id, "guides/setup.md")
        .await
        .unwrap());
    let r = app.bearer(&owner.token).post(&path, Value::Null).await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_page_is_fetched_again_and_what_cannot_be_reindexed_says_why() {
    use axum::routing::get;
    let text = Arc::new(Mutex::new(
        "<h1>Opening hours</h1><p>We open at nine in the morning.</p>".to_string(),
    ));
    let served = text.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }))
        .route(
            "/hours",
            get(move || {
                let page = served.lock().unwrap().clone();
                async move { axum::response::Html(page) }
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let app = spawn_app().await;
    let site_id = app.site_id().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let page = format!("{base}/hours");
    let r = api
        .post(
            &format!("/sites/{}/documents", app.site_key),
            serde_json::json!({ "urls": [page] }),
        )
        .await;
    app.wait_job(r.body["job"]["id"].as_str().unwrap()).await;
    *text.lock().unwrap() = "<h1>Opening hours</h1><p>We now open at seven sharp.</p>".into();
    // A URL as an id, percent-encoded as the dashboard sends it.
    let encoded = page.replace(':', "%3A").replace('/', "%2F");
    let r = api
        .post(
            &format!("/sites/{}/documents/{encoded}/reindex", app.site_key),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let job = app.wait_job(r.body["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job.failed, 0, "{job:?}");
    let chunks = {
        let store = &app.app.chat.store;
        let doc = store.document(&site_id, &page).await.unwrap().unwrap();
        store.chunks_of_document(&site_id, &doc.id).await.unwrap()
    };
    assert!(chunks[0].text.contains("seven sharp"), "{chunks:?}");

    // Stored before originals were kept (written straight to the store): it says what to do.
    app.app
        .chat
        .store
        .replace_document(
            &site_id,
            &concierge::store::NewDocument {
                doc_key: "legacy/faq.md",
                title: "FAQ",
                url: None,
                kind: "markdown",
                content_hash: "h",
                bytes: 1,
            },
            &[],
        )
        .await
        .unwrap();
    let r = api
        .post(
            &format!("/sites/{}/documents/legacy/faq.md/reindex", app.site_key),
            Value::Null,
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "conflict"), "{:?}", r.body);
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("legacy/faq.md") && message.contains("upload the file again"),
        "{message}"
    );
    for missing in ["nope.md", "legacy/faq.md/extra"] {
        let r = api
            .post(
                &format!("/sites/{}/documents/{missing}/reindex", app.site_key),
                Value::Null,
            )
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{missing}");
    }
    // Only `.../reindex` is an action.
    let r = api
        .post(
            &format!("/sites/{}/documents/legacy/faq.md", app.site_key),
            Value::Null,
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}
