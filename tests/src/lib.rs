//! Helpers for Concierge's integration tests: a server on port 0 with its own database, and
//! real websocket clients speaking protocol v1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use concierge::app::{App, Application};
use concierge::config::{Config, LimitsConfig};
use secrecy::SecretString;

pub mod api;
pub mod binary;
pub mod clients;
pub mod escalation;
pub mod host_pages;
pub mod kb;
pub mod llm_stub;
pub mod needs;
pub mod pg;
pub mod proxy;
pub mod restartable;
pub mod smtp;

pub use clients::{Agent, Refused, Visitor, Welcome};

/// Origin the test site allows.
pub const ORIGIN: &str = "https://shop.example";

/// The metrics token test servers are given by default ([`TestApp::metrics`] sends it).
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// Held by each test that talks to the real test LLM (one llama.cpp thread on a 2-core
/// machine): two such tests at once could each wait past their first-token timeout and
/// fall back to the extractive answer.
pub static REAL_LLM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Logs only when TEST_LOG is set.
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        concierge::telemetry::init("debug", concierge::config::LogFormat::Text);
    }
}

/// What a test needs to describe the server it wants.
#[derive(Clone)]
pub struct Options {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub limits: LimitsConfig,
    pub data_dir: Option<PathBuf>,
    pub listen: String,
    /// An OpenAI-compatible endpoint for the bot; `None` = extractive answers.
    pub llm_base_url: Option<String>,
    pub llm_model: Option<String>,
    /// Overrides CONCIERGE_MODEL_DIR (e.g. a directory without a model, to test failures).
    pub model_dir: Option<PathBuf>,
    /// Knowledge-base settings (the model is not preloaded: tests that need it load it once
    /// per test binary, through the shared cache below).
    pub rag: concierge::config::RagConfig,
    /// `CONCIERGE_PUBLIC_URL` (https makes the session cookie Secure).
    pub public_url: Option<String>,
    /// `CONCIERGE_SIGNUP=open`.
    pub signup_open: bool,
    /// `CONCIERGE_SMTP_URL`.
    pub smtp_url: Option<String>,
    /// `/metrics` on the main listener asks for it; default [`METRICS_TOKEN`].
    pub metrics_token: Option<String>,
    /// The private metrics listener (`127.0.0.1:0` works); default none.
    pub metrics_listen: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            database_url: None,
            redis_url: None,
            // Generous by default so unrelated tests never trip a limit.
            limits: LimitsConfig {
                messages_per_minute: 1_000,
                connections_per_ip_per_minute: 10_000,
                frames_per_second: 1_000,
                frame_burst: 1_000,
                // Shared through Redis by every test on this machine's address.
                login_attempts_per_ip_per_minute: 10_000,
                api_requests_per_ip_per_minute: 100_000,
                api_requests_per_token_per_minute: 100_000,
                ..LimitsConfig::default()
            },
            data_dir: None,
            listen: "127.0.0.1:0".into(),
            llm_base_url: None,
            llm_model: None,
            model_dir: None,
            rag: concierge::config::RagConfig {
                preload_model: false,
                // Test servers fetch from 127.0.0.1.
                allow_private_urls: true,
                crawl_delay_ms: 20,
                ..Default::default()
            },
            public_url: None,
            signup_open: false,
            smtp_url: None,
            metrics_token: Some(METRICS_TOKEN.into()),
            metrics_listen: None,
        }
    }
}

/// This package's directory (fixtures live under it), read at run time: a build cache shared
/// by several checkouts may reuse a test binary compiled in another one.
pub fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The model cache shared by every test server: `cargo xtask test` fills it once
/// (`concierge model fetch`) and exports its path; plain `cargo test` uses the same default.
pub fn model_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONCIERGE_MODEL_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("concierge").join("models")
}

/// A running server. Dropping it stops it (the runtime of the test ends with it).
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub data_dir: PathBuf,
    pub site_key: String,
    pub agent_token: String,
    pub agent_email: String,
    /// The test agent's password (for sign-in tests).
    pub agent_password: String,
    /// The private metrics listener's port, when [`Options::metrics_listen`] was set.
    pub metrics_port: Option<u16>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _tmp: Option<Arc<TempDir>>,
}

pub use tempfile::TempDir;

/// A directory removed on drop, named so a leftover one is recognisable.
pub fn temp_dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("concierge-test-")
        .tempdir()
        .expect("temp dir")
}

pub fn config_for(opts: &Options, data_dir: &std::path::Path) -> Config {
    Config {
        listen: opts.listen.clone(),
        metrics_token: opts.metrics_token.clone().map(SecretString::from),
        metrics_listen: opts.metrics_listen.clone(),
        data_dir: data_dir.to_path_buf(),
        database_url: opts.database_url.clone().map(SecretString::from),
        redis_url: opts.redis_url.clone().map(SecretString::from),
        log: "warn".into(),
        shutdown_grace_secs: 5,
        limits: opts.limits.clone(),
        model_cache: Some(model_cache()),
        model_dir: opts
            .model_dir
            .clone()
            .or_else(|| std::env::var_os("CONCIERGE_MODEL_DIR").map(PathBuf::from)),
        ort_dylib: std::env::var_os("CONCIERGE_ORT_DYLIB").map(PathBuf::from),
        llm_base_url: opts.llm_base_url.clone(),
        llm_model: opts
            .llm_model
            .clone()
            .unwrap_or_else(|| "test-model".into()),
        rag: opts.rag.clone(),
        public_url: opts.public_url.clone(),
        smtp_url: opts.smtp_url.clone().map(SecretString::from),
        signup: if opts.signup_open {
            concierge::config::SignupMode::Open
        } else {
            concierge::config::SignupMode::Closed
        },
        ..Config::default()
    }
}

/// Starts a server with a fresh SQLite database in a temp dir, one site allowing [`ORIGIN`],
/// and an owner agent with a token.
pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await.expect("spawn app")
}

pub async fn spawn_with(opts: Options) -> Result<TestApp> {
    init_logs();
    let tmp = match &opts.data_dir {
        Some(_) => None,
        None => Some(Arc::new(temp_dir())),
    };
    let data_dir = opts.data_dir.clone().unwrap_or_else(|| {
        tmp.as_ref()
            .map(|t| t.path().to_path_buf())
            .unwrap_or_default()
    });
    let mut config = config_for(&opts, &data_dir);
    if config.model_dir.is_none() && !needs::model_present() {
        // A bare checkout: no model, and no download either (an air-gapped install whose
        // model directory is empty). Tests that need the model are marked so.
        config.model_dir = Some(data_dir.join("no-model"));
    }
    let application = Application::build(config).await?;
    let addr = application.local_addr()?;
    let metrics_port = application.metrics_port();
    let app = application.app();
    let store = &app.chat.store;
    let site_key = match store.count_accounts().await? {
        0 => {
            let site =
                concierge::accounts::create_site(store, "Test shop", &[ORIGIN.to_string()], None)
                    .await?;
            // Unlimited, so no unrelated test trips a plan limit (the plan tests set their own).
            store
                .set_account_plan(&site.account_id, "enterprise")
                .await?;
            site.site_key
        }
        _ => String::new(),
    };
    let handle = tokio::spawn(application.run_until(std::future::pending()));
    let mut t = TestApp {
        addr,
        app,
        data_dir,
        site_key,
        agent_token: String::new(),
        agent_email: String::new(),
        agent_password: String::new(),
        metrics_port,
        handle: Some(handle),
        _tmp: tmp,
    };
    if !t.site_key.is_empty() {
        let email = format!(
            "agent-{}@shop.example",
            &uuid::Uuid::new_v4().to_string()[..8]
        );
        let (_, password) = concierge::accounts::create_agent(
            &t.app.chat.store,
            &email,
            Some("Alice"),
            "agent",
            &t.site_key,
        )
        .await?;
        let (_, token) = concierge::accounts::issue_token(&t.app.chat.store, &email).await?;
        t.agent_token = token;
        t.agent_email = email;
        t.agent_password = password;
    }
    Ok(t)
}

impl TestApp {
    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until the escalation classifier is in use. Tests do not preload the embedding
    /// model, and live turns never wait for it: until it is loaded and checked they get the
    /// keyword rules and VADER only. A test whose turns only the classifier scores waits for
    /// it first (the classifier itself is data compiled in: nothing is trained).
    pub async fn intent_classifier(&self) {
        needs::model().await;
        assert!(
            self.app.escalations.model().await.is_some(),
            "the escalation classifier is unavailable"
        );
    }

    /// `GET /metrics` on the main listener with [`METRICS_TOKEN`]: the Prometheus text.
    pub async fn metrics(&self) -> String {
        let r = reqwest::Client::new()
            .get(self.http("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .expect("metrics answer");
        assert_eq!(r.status(), 200, "/metrics with the token");
        r.text().await.expect("metrics body")
    }

    pub fn visitor_url(&self, site_key: &str) -> String {
        format!("ws://{}/ws/visitor?site_key={}", self.addr, site_key)
    }

    /// A visitor socket from the allowed origin.
    pub async fn visitor(&self) -> Visitor {
        Visitor::connect(&self.visitor_url(&self.site_key), Some(ORIGIN))
            .await
            .expect("visitor connects")
    }

    pub async fn agent(&self) -> Agent {
        Agent::connect(self.addr, &self.agent_token)
            .await
            .expect("agent connects")
    }

    /// Cancels the server as SIGTERM would and waits for it to finish.
    pub async fn shutdown(mut self) {
        self.app.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), h).await;
        }
    }

    /// A conversation of the test site, read straight from the store.
    pub async fn conversation(&self, id: &str) -> concierge::store::ConversationRecord {
        let store = &self.app.chat.store;
        let site = store.site_by_key(&self.site_key).await.unwrap().unwrap();
        store.conversation(&site.id, id).await.unwrap().unwrap()
    }

    /// Number of stored messages of a conversation (read straight from the store).
    pub async fn stored_messages(
        &self,
        conversation_id: &str,
    ) -> Vec<concierge::store::MessageRecord> {
        let site = self
            .app
            .chat
            .store
            .site_by_key(&self.site_key)
            .await
            .unwrap()
            .unwrap();
        self.app
            .chat
            .store
            .messages_after(&site.id, conversation_id, 0, 10_000)
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.app.shutdown.cancel();
    }
}
