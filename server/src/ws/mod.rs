//! Websockets: upgrade (origin and token checks, small buffers) and the session loops.
//!
//! Sessions are generic over a `Stream` of [`Incoming`] and a `Sink` of [`Outgoing`], so unit
//! tests drive them with channels and the axum adapter in [`upgrade`] is the only code that
//! knows the socket library. One task per socket: a `select!` over the socket, the
//! conversation's events, the resync signal, the heartbeat and shutdown.

mod agent;
mod conn;
mod revs;
mod subscription;
mod tracker;
pub mod upgrade;
mod visitor;

pub use agent::run_agent;
pub use conn::{Incoming, Outgoing};
pub use tracker::{DeltaVerdict, SeqTracker, Verdict};
pub use visitor::run_visitor;
