//! Concierge server: a self-hosted support chat — widget visitors, agents, knowledge base.
//!
//! # Layout
//! - [`app`]: builds everything from [`config`], binds the listener, graceful shutdown.
//! - [`http`]: REST and operational endpoints (`/healthz`, `/readyz`, `/metrics`), and the
//!   widget's files, embedded at build time (`build.rs`).
//! - [`ws`]: websocket upgrades and the visitor / agent session loops.
//! - [`chat`]: the conversation service every entry point calls (persist, then publish).
//! - [`bot`]: answers visitors from the knowledge base, streamed, with citations; asks
//!   [`escalation`] first whether a person should take over.
//! - [`escalation`]: per visitor message, assesses (signals, history), decides (answer,
//!   answer and watch, hand over) and acts (ticket, handoff packet, who is told what).
//! - [`sentiment`]: the pure half of escalation: the shipped classifier, keyword rules, VADER,
//!   the mood and the owner's policy (no I/O).
//! - [`rag`]: the knowledge base (ingest, chunk, embed, index, retrieve, answer).
//! - [`widget`]: the embeddable widget's settings and signed visitor identities.
//! - [`accounts`]: provisioning of sites, agents and tokens (CLI today, owner API later).
//! - [`store`]: persistence on SQLite (default) or Postgres.
//! - [`bus`]: fan-out to sockets on this node and, with Redis, on every node.
//! - [`limits`]: rate limits and abuse control.
//! - [`metrics`], [`telemetry`], [`error`] (the only place errors become responses), [`cli`].
//!
//! Dependency direction: `cli → app → {http, ws} → bot → escalation → {chat, accounts,
//! widget} → {rag, sentiment, store, bus, limits} → protocol`; `sentiment` and `store` import
//! neither each other nor anything above them. Engine modules never import axum.

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
pub mod widget;
pub mod ws;
