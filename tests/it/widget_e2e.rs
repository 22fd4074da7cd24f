//! The chat widget in a real browser: headless Chromium (Debian's `chromium`) driven by
//! `tests/e2e/widget.mjs` (npm `playwright-core`, never a downloaded browser). This file is
//! the harness: a restartable server with a help center crawled from the host site, the host
//! pages on other origins, a control endpoint the script calls to restart the server, and
//! the script's exit code as the verdict.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use concierge_tests::host_pages::{self, HostSite};
use concierge_tests::llm_stub::{LlmStub, Script};
use concierge_tests::restartable::Restartable;
use concierge_tests::Options;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The whole browser run, setup excluded.
const SCRIPT_BUDGET: Duration = Duration::from_secs(200);
/// How long the stand-in model takes to stream one answer: long enough to watch it grow.
const ANSWER_TIME: Duration = Duration::from_millis(2500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, the e2e npm packages, the built widget and dashboard and the model (cargo xtask test)"]
async fn the_widget_works_in_a_real_browser_on_a_foreign_site() {
    let e2e = e2e_dir();
    preflight(&e2e);
    concierge_tests::init_logs();

    // Host pages first: the site must allow their origin, and they must name the server.
    let (host_listener, host_addr) = host_pages::bind("127.0.0.2").await.unwrap();
    let (bad_listener, bad_addr) = host_pages::bind("127.0.0.3").await.unwrap();
    let host_url = format!("http://{host_addr}");

    // The bot answers through a stand-in model that quotes its first source at a model's
    // pace, so the browser sees a real stream (the extractive bot streams in milliseconds).
    let llm = LlmStub::start(Script::Quote { over: ANSWER_TIME }).await;
    let opts = Options {
        llm_base_url: Some(llm.base_url()),
        ..Options::default()
    };
    let server = Arc::new(Restartable::start(opts).await.expect("server starts"));
    let server_url = format!("http://{}", server.addr);

    let (site_key, agent_token, owner_token) = server
        .with_app(async |app| {
            // In the test agent's account (enterprise plan), so its socket sees this site.
            let store = &app.app.chat.store;
            let account = store
                .site_by_key(&app.site_key)
                .await
                .unwrap()
                .expect("test site")
                .account_id;
            let site = concierge::accounts::create_site(
                store,
                "Widget shop",
                std::slice::from_ref(&host_url),
                Some(&account),
            )
            .await
            .expect("widget site");
            app.site_key = site.site_key.clone();
            // The script reads the site's identity secret as the site's backend would.
            let owner_token = app.owner_token().await;
            (site.site_key, app.agent_token.clone(), owner_token)
        })
        .await;
    let site = Arc::new(HostSite::new(server_url.clone(), site_key.clone()).unwrap());
    host_pages::serve(host_listener, site.clone());
    host_pages::serve(bad_listener, site.clone());
    ingest_help_center(&server, &site.doc_urls(&host_url)).await;
    let control_url = serve_control(server.clone()).await;

    let screenshots = screenshot_dir();
    std::fs::create_dir_all(&screenshots).unwrap();
    let env = [
        ("SERVER_URL", server_url),
        ("HOST_URL", format!("{host_url}/")),
        ("HOSTILE_URL", format!("{host_url}/hostile-css")),
        ("FRENCH_URL", format!("{host_url}/fr")),
        ("BAD_HOST_URL", format!("http://{bad_addr}/")),
        ("AGENT_TOKEN", agent_token),
        ("OWNER_TOKEN", owner_token),
        ("SITE_KEY", site_key),
        ("CONTROL_URL", control_url),
        ("SCREENSHOT_DIR", screenshots.display().to_string()),
        (
            "CORPUS_PATH",
            host_pages::xss_corpus().display().to_string(),
        ),
        (
            "E2E_BUDGET_MS",
            (SCRIPT_BUDGET - Duration::from_secs(10))
                .as_millis()
                .to_string(),
        ),
    ];
    let status = run_script(&e2e, "widget.mjs", &env, SCRIPT_BUDGET).await;
    println!("screenshots: {}", screenshots.display());
    assert!(
        status,
        "the browser test failed (its first failing check is printed above)"
    );
}

/// `CONCIERGE_E2E_SCREENSHOTS` (relative to the workspace root, e.g. `docs/widget` to refresh
/// the README's pictures), else a directory under the target dir.
fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CONCIERGE_E2E_SCREENSHOTS") {
        Some(dir) => concierge_tests::package_dir().join("..").join(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("widget-screenshots"),
    }
}

/// `tests/e2e`.
pub(crate) fn e2e_dir() -> PathBuf {
    concierge_tests::package_dir().join("e2e")
}

/// Fails (never skips) when the browser or the npm packages are missing, with the fix.
pub(crate) fn preflight(e2e: &Path) {
    let chromium = chromium();
    assert!(
        chromium.exists(),
        "{} is missing: install Debian's browser with \
         `sudo apt-get install -y chromium` (or set CONCIERGE_CHROMIUM to a Chromium binary)",
        chromium.display()
    );
    assert!(
        e2e.join("node_modules/playwright-core").is_dir()
            && e2e.join("node_modules/axe-core").is_dir(),
        "tests/e2e/node_modules is missing: run `npm ci --prefix tests/e2e` \
         (cargo xtask test does it)"
    );
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "`node` is not on PATH: install Node.js 18 or later (`sudo apt-get install -y nodejs npm`)"
    );
}

pub(crate) fn chromium() -> PathBuf {
    std::env::var_os("CONCIERGE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Crawls the host site's help pages (so citations carry URLs) and waits for the job.
pub(crate) async fn ingest_help_center(server: &Restartable, urls: &[String]) {
    server
        .with_app(async |app| {
            let kb = &app.app.knowledge;
            let items = urls.iter().map(|u| kb.url_item(u).unwrap()).collect();
            let job = kb.enqueue(&app.site_id().await, items).await.unwrap();
            let job = app.wait_job(&job.id).await;
            assert_eq!(job.failed, 0, "every help page is ingested: {job:?}");
        })
        .await;
}

/// `POST /stop`, `POST /start`, `POST /restart` on 127.0.0.1: the script's way to take the
/// server away and bring it back. Each answers once done.
async fn serve_control(server: Arc<Restartable>) -> String {
    async fn stop(State(s): State<Arc<Restartable>>) -> StatusCode {
        s.stop().await;
        StatusCode::NO_CONTENT
    }
    async fn start(State(s): State<Arc<Restartable>>) -> (StatusCode, String) {
        match s.start_again().await {
            Ok(()) => (StatusCode::NO_CONTENT, String::new()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        }
    }
    async fn restart(State(s): State<Arc<Restartable>>) -> (StatusCode, String) {
        match s.restart().await {
            Ok(()) => (StatusCode::NO_CONTENT, String::new()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
        }
    }
    let router = Router::new()
        .route("/stop", post(stop))
        .route("/start", post(start))
        .route("/restart", post(restart))
        .with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

/// Runs `node tests/e2e/SCRIPT`, echoing its output line by line; true on exit code 0.
pub(crate) async fn run_script(
    e2e: &Path,
    script: &str,
    env: &[(&str, String)],
    budget: Duration,
) -> bool {
    let mut child = tokio::process::Command::new("node")
        .arg(e2e.join(script))
        .current_dir(e2e)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CHROMIUM", chromium())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let echo = async {
        let (mut out_open, mut err_open) = (true, true);
        while out_open || err_open {
            tokio::select! {
                line = out.next_line(), if out_open => match line {
                    Ok(Some(l)) => println!("e2e | {l}"),
                    _ => out_open = false,
                },
                line = err.next_line(), if err_open => match line {
                    Ok(Some(l)) => eprintln!("e2e ! {l}"),
                    _ => err_open = false,
                },
            }
        }
        child.wait().await
    };
    match tokio::time::timeout(budget, echo).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(e)) => panic!("waiting for node: {e}"),
        Err(_) => {
            panic!("the browser test did not finish within {budget:?} (last check printed above)")
        }
    }
}
