//! The site owner's console in a real browser: headless Chromium (Debian's `chromium`) driven
//! by `tests/e2e/console.mjs` (npm `playwright-core`). This file is the harness: a server whose
//! answers stream through a stand-in model, a host page on another origin with the widget (the
//! script also serves a fresh page there with the snippet it copied), an owner and a plain
//! agent, and the files the owner uploads (`tests/fixtures/uploads/`: Markdown and a PDF).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use concierge_tests::host_pages::{self, HostSite};
use concierge_tests::llm_stub::{LlmStub, Script};
use concierge_tests::restartable::Restartable;
use concierge_tests::Options;

use super::widget_e2e::{e2e_dir, preflight, run_script};

/// The whole browser run, setup excluded.
const SCRIPT_BUDGET: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_set_up_their_site_in_the_console() {
    let e2e = e2e_dir();
    preflight(&e2e);
    assert!(
        !concierge::http::assets::DASHBOARD.is_empty(),
        "the server was built without the dashboard: run `cargo xtask dashboard`, then rebuild \
         (cargo xtask test does both)"
    );
    concierge_tests::init_logs();

    let (host_listener, host_addr) = host_pages::bind("127.0.0.2").await.unwrap();
    let host_url = format!("http://{host_addr}");
    let llm = LlmStub::start(Script::Quote {
        over: Duration::from_millis(800),
    })
    .await;
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
                "Console shoes",
                std::slice::from_ref(&host_url),
                Some(&account),
            )
            .await
            .expect("console site");
            app.site_key = site.site_key.clone();
            let a = app.member("owner").await;
            let b = app.member("agent").await;
            (site.site_key, (a.email, a.password), (b.email, b.password))
        })
        .await;
    let site = Arc::new(HostSite::new(server_url.clone(), site_key.clone()).unwrap());
    host_pages::serve(host_listener, site);

    let screenshots = screenshot_dir();
    std::fs::create_dir_all(&screenshots).unwrap();
    let uploads = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/uploads");
    let env = [
        ("DASHBOARD_URL", server_url),
        ("HOST_URL", format!("{host_url}/")),
        ("SITE_KEY", site_key),
        ("OWNER_EMAIL", owner.0),
        ("OWNER_PASSWORD", owner.1),
        ("AGENT_EMAIL", agent.0),
        ("AGENT_PASSWORD", agent.1),
        ("UPLOADS", uploads.display().to_string()),
        ("SCREENSHOT_DIR", screenshots.display().to_string()),
    ];
    let status = run_script(&e2e, "console.mjs", &env, SCRIPT_BUDGET).await;
    println!("screenshots: {}", screenshots.display());
    assert!(
        status,
        "the console's browser test failed (its first failing check is printed above)"
    );
}

/// `CONCIERGE_E2E_DASHBOARD_SCREENSHOTS` (relative to the workspace root, e.g.
/// `docs/dashboard`), else a directory under the target dir.
fn screenshot_dir() -> PathBuf {
    match std::env::var_os("CONCIERGE_E2E_DASHBOARD_SCREENSHOTS") {
        Some(dir) => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir),
        None => Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots"),
    }
}
