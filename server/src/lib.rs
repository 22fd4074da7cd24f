//! Concierge server: a self-hosted support chat — widget visitors, a bot answering from the
//! knowledge base, escalation to agents on the dashboard, the owners' console and its API.
//! `ARCHITECTURE.md` at the workspace root is the map; this is its server part.
//!
//! # Layout
//! From top to bottom; a module imports only modules below it (see the direction).
//!
//! Entry:
//! - `main.rs` (telemetry → config → command, nothing else) and [`cli`]: the `concierge`
//!   commands (`serve`, `ingest`, `triage`, …), each with `--json`.
//! - [`app`]: [`app::Application`] builds everything from [`config`], binds the listener,
//!   serves, shuts down gracefully; [`app::App`] is the state handlers and sockets hold.
//! - [`config`]: one `Config` (`CONCIERGE_*` env over `concierge.toml` over defaults); it
//!   gathers the settings structs each module owns (`AuthConfig`, `LimitsConfig`, `RagConfig`).
//! - [`telemetry`]: the log subscriber (text or JSON, to stderr).
//!
//! Transport:
//! - [`http`]: the router, thin REST handlers (`/api/v1`, OpenAPI), `/healthz`, `/readyz`,
//!   `/metrics`, request ids and spans (`http::trace`), the widget's and dashboard's files
//!   embedded at build time (`build.rs`).
//! - [`ws`]: websocket upgrades and the visitor / agent session loops (generic over
//!   `Sink`/`Stream`), gap-free delivery through `SeqTracker`.
//! - [`error`]: the only place errors become HTTP responses or protocol error frames.
//!
//! Flows (the services the HTTP API, the sockets and the CLI all call):
//! - [`turn`]: a visitor message's turn, the one place that decides: [`escalation`]
//!   assesses and decides (answer, answer and watch, hand over), then [`bot`] answers or
//!   escalation hands over, and the outcome is recorded; the plan's bot answers are reserved
//!   here.
//! - [`bot`]: answers from the knowledge base, streamed, with citations (visitors and "Ask
//!   your docs"); it only answers.
//! - [`escalation`]: assesses a message (signals, history), decides, and hands over (ticket,
//!   handoff packet, who is told what); it only decides and hands over.
//! - [`chat`]: the conversation service (persist, then publish).
//! - [`accounts`]: tenants, sites, agents, sign-in, tokens, plans and usage, audit, privacy.
//! - [`widget`]: the embeddable widget's settings, signed visitor identities, installs.
//! - [`analytics`]: the owner's figures over a date range.
//!
//! Engines:
//! - [`rag`]: the knowledge base (ingest, chunk, embed, index, retrieve, answer, LLM).
//! - [`sentiment`]: the pure half of escalation: scores, keyword rules, the shipped
//!   classifier, the owner's policy and `decide` (no I/O).
//! - [`store`]: persistence on SQLite (default) or Postgres; every tenant-owned query
//!   filters on `site_id`.
//! - [`bus`]: fan-out to sockets on this node and, with Redis, on every node (hints; the
//!   store is the truth).
//! - [`limits`]: rate limits and abuse control.
//! - [`metrics`]: the Prometheus registry behind `/metrics` (`prometheus-client`).
//! - [`text`]: text patterns shared across modules (the email address); a leaf that imports
//!   nothing of the crate, so any module may use it.
//!
//! Dependency direction:
//!
//! ```text
//! main → cli → app → {http, ws} → turn → {bot, escalation} → chat → {accounts, widget, analytics}
//!      → {rag → {store, bus}, sentiment, limits, metrics} → protocol
//! ```
//!
//! Within engines only `rag` imports others (`store`, `bus`). `config` and `telemetry` sit
//! with the entry points; nothing below transport imports `config`. `error` sits with
//! transport; only `cli`, `http` and `ws` import it. Two crossings are sanctioned: transport
//! names `app::App` and `config::Config` (the state it is handed), and `http` ⇄ `ws` are one
//! layer (`http` mounts `ws::upgrade`; the upgrades use `http::auth` and `http::trace`).
//! Flows and engines never import axum, `http`, `ws`, `app` or `error`; `bot` and
//! `escalation` never import each other; `store` never imports `sentiment`.

pub mod accounts;
pub mod analytics;
pub mod app;
pub mod bot;
pub mod bus;
pub mod chat;
pub mod cli;
pub mod config;
pub mod error;
pub mod escalation;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod rag;
pub mod sentiment;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod turn;
pub mod widget;
pub mod ws;
