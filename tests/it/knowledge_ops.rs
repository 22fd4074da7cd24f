//! Operating the knowledge base: the CLI with and without a running server, jobs that resume
//! after a crash, and crawling a site through its sitemap.

use concierge::store::{NewItem, Store};
use concierge_tests::kb::helpcenter;
use concierge_tests::*;
use serde_json::Value;

use concierge_tests::binary::{cli, cli_lines, serve};

fn create_site(dir: &std::path::Path) -> String {
    let (code, site) = cli(
        dir,
        &[
            "--json",
            "site",
            "create",
            "--name",
            "Docs",
            "--origin",
            "https://docs.example",
        ],
    );
    assert_eq!(code, 0, "{site}");
    site["site_key"].as_str().unwrap().to_string()
}

#[test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
fn the_cli_ingests_a_directory_and_searches_it_one_question_or_many() {
    let dir = temp_dir();
    let key = create_site(dir.path());
    let fixtures = helpcenter();
    let (code, out) = cli(
        dir.path(),
        &[
            "--json",
            "ingest",
            "--site",
            &key,
            fixtures.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["status"], "ready");
    assert_eq!(out["total"], 5);
    assert_eq!(out["failed"], 0);
    let mut ids: Vec<String> = out["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "account/password.md",
            "refunds.md",
            "shipping.md",
            "store-hours.html",
            "warranty.txt"
        ]
    );

    let (code, found) = cli(
        dir.path(),
        &[
            "--json",
            "search",
            "--site",
            &key,
            "--k",
            "3",
            "How long does a refund take?",
        ],
    );
    assert_eq!(code, 0, "{found}");
    assert_eq!(found["question"], "How long does a refund take?");
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["document_id"], "refunds.md");
    assert_eq!(results[0]["title"], "Refunds and returns");
    assert!(results[0]["score"].as_f64().unwrap() > 0.0);
    assert!(results[0]["text"]
        .as_str()
        .unwrap()
        .contains("5 business days"));

    // Bulk: one JSON line per question from stdin.
    let lines = cli_lines(
        dir.path(),
        &["search", "--site", &key],
        "Do you ship to Japan?\n\nIs the store open on Sunday?\n",
    );
    assert_eq!(lines.len(), 2, "blank lines are skipped");
    assert_eq!(lines[0]["question"], "Do you ship to Japan?");
    assert_eq!(lines[0]["results"][0]["document_id"], "shipping.md");
    assert_eq!(lines[1]["results"][0]["document_id"], "store-hours.html");

    // Unknown site: a coded error.
    let (code, err) = cli(
        dir.path(),
        &["--json", "ingest", "--site", "site_nope", "x.md"],
    );
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "unknown_site");
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn next_to_a_running_server_ingest_goes_through_its_worker_and_search_is_refused_clearly() {
    let dir = temp_dir();
    let (_server, started) = serve(dir.path());
    let key = started["demo"]["site_key"].as_str().unwrap().to_string();
    let page = dir.path().join("hours.md");
    std::fs::write(
        &page,
        "# Hours\n\nThe help desk answers from 8 am to 8 pm.\n",
    )
    .unwrap();
    let (code, out) = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let page = page.clone();
        let key = key.clone();
        move || {
            cli(
                &dir,
                &["--json", "ingest", "--site", &key, page.to_str().unwrap()],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["status"], "ready");
    assert_eq!(out["documents"][0]["id"], "hours.md");
    assert_eq!(out["documents"][0]["status"], "ready");

    let (code, err) = cli(dir.path(), &["--json", "search", "--site", &key, "hours?"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "index_locked");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/api/v1/sites/"));

    // The running server answers from what its worker indexed.
    let addr = started["listening"].as_str().unwrap();
    let token = started["demo"]["owner_token"].as_str().unwrap();
    let found: Value = reqwest::Client::new()
        .get(format!(
            "http://{addr}/api/v1/sites/{key}/search?q=when%20does%20the%20help%20desk%20answer"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["results"][0]["document_id"], "hours.md", "{found}");
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_job_abandoned_by_a_crashed_node_resumes_when_a_server_starts() {
    let dir = temp_dir();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("concierge.db").display()
    );
    {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let site = concierge::accounts::create_site(&store, "Shop", &[ORIGIN.to_string()], None)
            .await
            .unwrap();
        let item = |name: &str, text: &str| NewItem {
            doc_key: name.to_string(),
            source: "file",
            name: name.to_string(),
            payload: Some(text.as_bytes().to_vec()),
            failed: None,
            forced: false,
        };
        let job = store
            .create_job(
                &site.id,
                &[
                    item("a.md", "# A\n\nAlpha answers about the loyalty programme."),
                    item("b.md", "# B\n\nBeta answers about gift wrapping."),
                ],
            )
            .await
            .unwrap();
        // A node claimed it and died: its heartbeat is old.
        let claimed = store.claim_job("dead-node", 0).await.unwrap().unwrap();
        assert_eq!(claimed.id, job.id);
        assert!(
            store.claim_job("other", 0).await.unwrap().is_none(),
            "a live claim is exclusive"
        );
        store.close().await;
        let raw = sqlx::any::AnyPoolOptions::new()
            .connect(&url)
            .await
            .unwrap();
        sqlx::query("update ingest_jobs set heartbeat_at = 1")
            .execute(&raw)
            .await
            .unwrap();
        raw.close().await;
    }
    let app = spawn_with(Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    })
    .await
    .unwrap();
    let store = &app.app.chat.store;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let done = indexed_documents(store).await;
        if done == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the abandoned job was not resumed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Documents indexed on the only site of the store.
async fn indexed_documents(store: &Store) -> usize {
    let account = store.only_account_id().await.unwrap();
    let sites = store.sites_for_account(&account).await.unwrap();
    let docs = store.documents(&sites[0].id).await.unwrap();
    docs.iter().filter(|d| d.indexed).count()
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_sitemap_is_crawled_into_documents_and_a_missing_page_fails_alone() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let sitemap = format!(
        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
         <url><loc>{base}/help/returns</loc></url><url><loc>{base}/help/gone</loc></url>\
         <url><loc>{base}/help/pickup</loc></url></urlset>"
    );
    let router = axum::Router::new()
        .route("/robots.txt", get(|| async { "User-agent: *\nAllow: /\n" }))
        .route("/sitemap.xml", get(move || async move { sitemap }))
        .route(
            "/help/returns",
            get(|| async {
                axum::response::Html(
                    "<html><body><nav>Menu</nav><main><h1>Returns</h1>\
                     <p>Returns are accepted for 30 days with the receipt.</p></main></body></html>",
                )
            }),
        )
        .route(
            "/help/pickup",
            get(|| async {
                axum::response::Html(
                    "<html><body><main><h1>Store pickup</h1>\
                     <p>Orders can be picked up in store after 2 hours.</p></main></body></html>",
                )
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let app = spawn_app().await;
    let owner = app.owner_token().await;
    let r = reqwest::Client::new()
        .post(app.http(&format!("/api/v1/sites/{}/documents", app.site_key)))
        .bearer_auth(&owner)
        .json(&serde_json::json!({"urls": [format!("{base}/sitemap.xml")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let job = app.wait_job(body["job"]["id"].as_str().unwrap()).await;
    assert_eq!(job.status, "ready");
    // The sitemap item itself, two pages, one 404.
    assert_eq!((job.total, job.done, job.failed), (4, 4, 1), "{job:?}");
    let items = app
        .app
        .chat
        .store
        .job_items(&app.site_id().await, &job.id)
        .await
        .unwrap();
    let gone = items.iter().find(|i| i.doc_key.ends_with("/gone")).unwrap();
    assert_eq!(gone.status, "failed");
    assert!(gone.error.as_deref().unwrap().contains("404"), "{gone:?}");

    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.say("q", "Can I pick my order up in the store?")
        .await
        .unwrap();
    let answer = concierge_tests::kb::bot_answer(&mut v).await;
    let source = &answer.message.sources[0];
    assert_eq!(
        source.url.as_deref(),
        Some(format!("{base}/help/pickup").as_str())
    );
    assert_eq!(source.title, "Store pickup");
}
