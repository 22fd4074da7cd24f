//! The idle phase: N visitor sockets, a bounded number of connects in flight, spread over
//! several source addresses. Each socket task keeps running after its welcome and holds the
//! socket (see [`visitor::hold`]); the first `active` ones later take part in the active phase.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

use crate::report::Report;
use crate::stats::{now_ns, Stats};
use crate::visitor;

/// What the idle phase sets up for the active one.
pub struct Plan {
    pub addr: SocketAddr,
    pub site_key: String,
    pub idle: usize,
    pub active: usize,
    pub sources: u8,
    pub concurrency: usize,
    /// Gap between two active visitors' sends (one schedule period / active).
    pub spacing: Duration,
}

/// Connects `plan.idle` visitors; returns the active ones' (index, conversation id), in order.
pub async fn connect_all(
    plan: &Plan,
    stats: &Arc<Stats>,
    report: &mut Report,
    start: watch::Receiver<Option<Instant>>,
    stop: watch::Receiver<bool>,
) -> Vec<(usize, String)> {
    let sem = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Result<String, String>)>();
    let sources = visitor::sources(plan.sources);
    let started = Instant::now();
    for i in 0..plan.idle {
        let (sem, stats, done_tx) = (sem.clone(), stats.clone(), done_tx.clone());
        let (start, stop) = (start.clone(), stop.clone());
        let (addr, site_key, src) = (plan.addr, plan.site_key.clone(), sources[i % sources.len()]);
        let active = (i < plan.active).then(|| visitor::Active {
            index: i,
            start,
            offset: plan.spacing.mul_f64(i as f64),
        });
        tokio::spawn(async move {
            let Ok(permit) = sem.acquire_owned().await else {
                return;
            };
            let t0 = now_ns();
            let limit = Duration::from_secs(30);
            match visitor::connect_within(limit, addr, &site_key, src).await {
                Ok((ws, conversation_id)) => {
                    stats.connect.record_since(t0);
                    drop(permit);
                    let _ = done_tx.send((i, Ok(conversation_id)));
                    visitor::hold(ws, active, stats, stop).await;
                }
                Err(e) => {
                    drop(permit);
                    let _ = done_tx.send((i, Err(format!("{e:#}"))));
                }
            }
        });
    }
    drop(done_tx);
    let mut conversations = Vec::with_capacity(plan.active);
    // Each socket task keeps its sender while it holds the socket: count answers instead of
    // waiting for the channel to close.
    let mut next_progress = 5_000;
    for _ in 0..plan.idle {
        let Some((i, result)) = done_rx.recv().await else {
            break;
        };
        match result {
            Ok(id) => {
                report.connected += 1;
                if i < plan.active {
                    conversations.push((i, id));
                }
            }
            Err(e) => {
                report.connect_failed += 1;
                if report.connect_errors.len() < 5 {
                    report.connect_errors.push(e);
                }
            }
        }
        let n = report.connected + report.connect_failed;
        if n == next_progress {
            eprintln!("  {n} / {} done", plan.idle);
            next_progress += 5_000;
        }
    }
    report.connect_secs = started.elapsed().as_secs_f64();
    conversations.sort();
    conversations
}
