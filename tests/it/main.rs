//! Concierge integration tests: real servers on port 0, real websockets, real databases.
//! Postgres/Redis tests need CONCIERGE_TEST_POSTGRES_URL / CONCIERGE_TEST_REDIS_URL (CI sets
//! both); without them they print SKIPPED and pass, as does the mail test without
//! CONCIERGE_TEST_SMTP_PYTHON (a Python with aiosmtpd; `cargo xtask test` installs one). The
//! widget's browser test (`widget_e2e`) needs Debian's `chromium` and
//! `npm ci --prefix tests/e2e`; it fails, never skips, without.

mod accounts_api;
mod agent;
mod analytics;
mod answers;
mod ask_docs;
mod bad_input;
mod cli;
mod console_e2e;
mod console_store;
mod conversations_api;
mod conversations_detail;
mod conversations_takeover;
mod dashboard_e2e;
mod escalation;
mod escalation_deflect;
mod escalation_policy;
mod escalation_presence;
mod escalation_replay;
mod escalation_review;
mod hardening;
mod installation;
mod kb_progress;
mod kb_store;
mod knowledge;
mod knowledge_gaps;
mod knowledge_ops;
mod llm;
mod mail;
mod multi_node;
mod openapi;
mod ops;
mod plans;
mod privacy;
mod reindex;
mod resume;
mod shared_sessions;
mod site_llm;
mod site_llm_bot;
mod site_llm_store;
mod store_story;
mod streaming;
mod team_api;
mod tenancy;
mod visitor;
mod widget_api;
mod widget_e2e;
mod widget_preview;
