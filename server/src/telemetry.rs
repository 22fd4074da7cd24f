//! Logging to stderr (stdout is reserved for command output such as `--json`).
//!
//! What a log line can be followed by: every HTTP request runs in an `http` span with its
//! request id (`x-request-id`, see `http::trace`), every websocket in a `visitor_session`
//! (site, visitor, conversation) or `agent_session` (agent, account) span, and every bot
//! answer in a `bot_answer` span (site, conversation, seq) with `retrieve`, `llm` and
//! `stream` children. `grep CONVERSATION_ID` on the log follows one conversation.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber: `RUST_LOG` if set, else `default_filter` (env-filter
/// syntax, e.g. `info` or `concierge=debug,sqlx=warn`). A second call does nothing.
pub fn init(default_filter: &str, format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only for a terminal: a log file or a shipper gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
}
