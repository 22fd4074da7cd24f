//! The site owner's console in a real browser: headless Chromium (Debian's `chromium`) driven
//! by `tests/e2e/console.mjs` (npm `playwright-core`). This file is the harness: a server whose
//! answers stream through a stand-in model, a host page on another origin with the widget (the
//! script also serves a fresh page there with the snippet it copied), an owner and a plain
//! agent, and the files the owner uploads (`tests/fixtures/uploads/`: Markdown and a PDF).

use std::time::Duration;

use super::dashboard_e2e::{screenshot_dir, Harness};
use super::widget_e2e::run_script;

/// The whole browser run, setup excluded.
const SCRIPT_BUDGET: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, the e2e npm packages, the built widget and dashboard and the model (cargo xtask test)"]
async fn owners_set_up_their_site_in_the_console() {
    // Answers stream in under a second: this test reads them, it does not watch them grow.
    let h = Harness::start(Duration::from_millis(800), "Console shoes").await;
    let e2e = h.e2e.clone();
    let server_url = format!("http://{}", h.server.addr);
    let screenshots = screenshot_dir("console-screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let uploads = concierge_tests::package_dir().join("fixtures/uploads");
    let env = [
        ("DASHBOARD_URL", server_url),
        ("HOST_URL", format!("{}/", h.host_url)),
        ("SITE_KEY", h.site_key.clone()),
        ("OWNER_EMAIL", h.owner.0.clone()),
        ("OWNER_PASSWORD", h.owner.1.clone()),
        ("AGENT_EMAIL", h.agent.0.clone()),
        ("AGENT_PASSWORD", h.agent.1.clone()),
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
