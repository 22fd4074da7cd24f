//! The agents' dashboard in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `tests/e2e/dashboard.mjs` (npm `playwright-core`). This file is the harness: a server with a
//! help center (answers stream through a stand-in model, so the transcript can be watched as
//! it grows), host pages on another origin with the widget, two agents with passwords, and a
//! proxy in front of the dashboard whose connections the script can cut (`/cut`, `/restore`
//! on the control endpoint) to check that nothing said meanwhile is missed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use concierge_tests::host_pages::{self, HostSite};
use concierge_tests::llm_stub::{LlmStub, Script};
use concierge_tests::proxy::CutProxy;
use concierge_tests::restartable::Restartable;
use concierge_tests::Options;

use super::widget_e2e::{e2e_dir, ingest_help_center, preflight, run_script};

/// The whole browser run, setup excluded.
const SCRIPT_BUDGET: Duration = Duration::from_secs(240);
/// How long the stand-in model takes to stream one answer: long enough to see it grow.
const ANSWER_TIME: Duration = Duration::from_millis(3000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, the e2e npm packages, the built widget and dashboard and the model (cargo xtask test)"]
async fn agents_work_the_live_inbox_in_a_real_browser() {
    let h = Harness::start(ANSWER_TIME, "Dashboard shop").await;
    let e2e = h.e2e.clone();
    let (server, host_url, site_key, site) = (h.server, h.host_url, h.site_key, h.site);
    let (owner, agent) = (h.owner, h.agent);
    ingest_help_center(&server, &site.doc_urls(&host_url)).await;

    // The dashboard is opened through the proxy, so its connections can be cut.
    let proxy = CutProxy::start(server.addr).await;
    let control_url = serve_control(proxy.clone()).await;
    let screenshots = screenshot_dir("dashboard-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let env = [
        ("DASHBOARD_URL", format!("http://{}", proxy.addr)),
        ("HOST_URL", format!("{host_url}/")),
        ("SITE_KEY", site_key),
        ("OWNER_EMAIL", owner.0),
        ("OWNER_PASSWORD", owner.1),
        ("AGENT_EMAIL", agent.0),
        ("AGENT_PASSWORD", agent.1),
        ("CONTROL_URL", control_url),
        ("SCREENSHOT_DIR", screenshots.display().to_string()),
        (
            "CORPUS_PATH",
            host_pages::xss_corpus().display().to_string(),
        ),
    ];
    let status = run_script(&e2e, "dashboard.mjs", &env, SCRIPT_BUDGET).await;
    println!("screenshots: {}", screenshots.display());
    assert!(
        status,
        "the dashboard's browser test failed (its first failing check is printed above)"
    );
}

/// `CONCIERGE_E2E_DASHBOARD_SCREENSHOTS` (relative to the workspace root, e.g.
/// `docs/dashboard` to refresh the README's pictures), else `name` under the target dir.
pub(crate) fn screenshot_dir(name: &str) -> PathBuf {
    match std::env::var_os("CONCIERGE_E2E_DASHBOARD_SCREENSHOTS") {
        Some(dir) => concierge_tests::package_dir().join("..").join(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join(name),
    }
}

/// What the dashboard's browser tests start with: a server whose answers stream through a
/// stand-in model over `answer_time`, a site named `site_name` whose pages are the host pages
/// (another origin, `127.0.0.2`), an owner and a plain agent with passwords.
pub(crate) struct Harness {
    /// `tests/e2e`, with its npm packages installed.
    pub e2e: PathBuf,
    pub server: Arc<Restartable>,
    pub host_url: String,
    pub site_key: String,
    pub site: Arc<HostSite>,
    /// (email, password)
    pub owner: (String, String),
    pub agent: (String, String),
    _llm: LlmStub,
}

impl Harness {
    /// Checks the browser and the built dashboard first (a clear message when missing).
    pub async fn start(answer_time: Duration, site_name: &str) -> Harness {
        let e2e = e2e_dir();
        preflight(&e2e);
        assert!(
            !concierge::http::assets::DASHBOARD.is_empty(),
            "the server was built without the dashboard: run `cargo xtask dashboard`, then \
             rebuild (cargo xtask test does both)"
        );
        concierge_tests::init_logs();
        let (host_listener, host_addr) = host_pages::bind("127.0.0.2").await.unwrap();
        let host_url = format!("http://{host_addr}");
        let llm = LlmStub::start(Script::Quote { over: answer_time }).await;
        let opts = Options {
            llm_base_url: Some(llm.base_url()),
            ..Options::default()
        };
        let server = Arc::new(Restartable::start(opts).await.expect("server starts"));
        let server_url = format!("http://{}", server.addr);
        let (site_key, owner, agent) = server
            .with_app(async |app| {
                let store = &app.app.chat.store;
                let account = store
                    .site_by_key(&app.site_key)
                    .await
                    .unwrap()
                    .expect("test site")
                    .account_id;
                let site = concierge::accounts::create_site(
                    store,
                    site_name,
                    std::slice::from_ref(&host_url),
                    Some(&account),
                )
                .await
                .expect("the browser test's site");
                app.site_key = site.site_key.clone();
                let a = app.member("owner").await;
                let b = app.member("agent").await;
                (site.site_key, (a.email, a.password), (b.email, b.password))
            })
            .await;
        let site = Arc::new(HostSite::new(server_url, site_key.clone()).unwrap());
        host_pages::serve(host_listener, site.clone());
        Harness {
            e2e,
            server,
            host_url,
            site_key,
            site,
            owner,
            agent,
            _llm: llm,
        }
    }
}

/// `POST /cut` and `POST /restore` on 127.0.0.1: the script's way to drop the dashboard's
/// network and bring it back.
async fn serve_control(proxy: Arc<CutProxy>) -> String {
    async fn cut(State(p): State<Arc<CutProxy>>) -> StatusCode {
        p.cut();
        StatusCode::NO_CONTENT
    }
    async fn restore(State(p): State<Arc<CutProxy>>) -> StatusCode {
        p.restore();
        StatusCode::NO_CONTENT
    }
    let router = Router::new()
        .route("/cut", post(cut))
        .route("/restore", post(restore))
        .with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}
