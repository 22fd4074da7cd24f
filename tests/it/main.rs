//! Concierge integration tests: real servers on port 0, real websockets, real databases.
//! Tests that need a service or a download (Postgres, Redis, the model, the test LLM, SMTP,
//! Chromium) are `#[ignore = "needs ..."]`: a plain `cargo test` lists them as ignored with
//! the reason; `cargo xtask test` runs them all (`--include-ignored`) and a missing service
//! fails them. See `concierge_tests::needs` and CONTRIBUTING.md.

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
mod logs;
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
mod snapshots;
mod store_story;
mod streaming;
mod team_api;
mod tenancy;
mod visitor;
mod widget_api;
mod widget_e2e;
mod widget_preview;
