//! The real `concierge` binary for the tests that drive it (CLI output, `serve`, SIGKILL and
//! SIGTERM, logs): built when missing, run with the tests' model cache on the embedded
//! defaults.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::{model_cache, needs};

/// `target/<profile>/concierge`, built once per test run when missing.
pub fn binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_binary).clone()
}

/// `target/<profile>/concierge`, built now when missing (a plain `cargo test` builds the test
/// binaries but not the server's own; `cargo xtask test` builds everything first).
fn build_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/it-HASH → target/<profile>/concierge
    let profile_dir = exe.parent().and_then(|p| p.parent()).unwrap();
    let path = profile_dir.join("concierge");
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "-p", "concierge", "--bin", "concierge"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the concierge binary failed");
    }
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p concierge` (cargo xtask test does)",
        path.display()
    );
    path
}

/// The binary with the test model cache and `data_dir`, on the embedded defaults (no
/// Postgres or Redis from the environment).
pub fn command(data_dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(binary());
    c.args(args)
        .env("CONCIERGE_MODEL_CACHE", model_cache())
        .env("CONCIERGE_DATA_DIR", data_dir)
        .env_remove("CONCIERGE_DATABASE_URL")
        .env_remove("CONCIERGE_REDIS_URL");
    if !needs::model_present() {
        // A bare checkout: an install without a model, so nothing is downloaded.
        c.env("CONCIERGE_MODEL_DIR", data_dir.join("no-model"));
    }
    c
}

/// Runs a `--json` command: its exit code and its one JSON line.
pub fn cli(data_dir: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = command(data_dir, args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one JSON line on stdout, got {stdout:?}"
    );
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(lines[0]).unwrap(),
    )
}

/// Runs a bulk command with `input` on stdin; it must succeed, and prints one JSON line per
/// result.
pub fn cli_lines(data_dir: &std::path::Path, args: &[&str], input: &str) -> Vec<serde_json::Value> {
    use std::io::Write;
    let mut child = command(data_dir, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A running `concierge serve`, killed when dropped.
pub struct Server(pub Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `concierge serve --json` on a free port; returns it and its one JSON line.
pub fn serve(data_dir: &std::path::Path) -> (Server, serde_json::Value) {
    let mut child = command(data_dir, &["serve", "--json"])
        .env("CONCIERGE_LISTEN", "127.0.0.1:0")
        .env("CONCIERGE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Server(child), serde_json::from_str(&line).unwrap())
}
