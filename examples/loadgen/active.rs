//! The active phase, with the idle sockets still open: each active visitor sends one message,
//! the agents take every conversation over with one warm-up reply, then reply on a fixed
//! schedule while the visitors time each delivery. Ends when every reply is acked and
//! delivered, or when the server stops making progress.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::agent::{self, AgentSink, Share};
use crate::report::Report;
use crate::server::{cpu_secs, Server};
use crate::stats::Stats;
use crate::Args;

/// Runs the three steps; returns the agent sockets so the caller closes them last.
pub async fn run(
    args: &Args,
    server: &Server,
    stats: &Arc<Stats>,
    report: &mut Report,
    conversations: &[(usize, String)],
    spacing: Duration,
    start_visitors: watch::Sender<Option<Instant>>,
) -> anyhow::Result<Vec<AgentSink>> {
    let m = conversations.len() as u64;
    eprintln!("active phase: {m} conversations");

    // 1. Each active visitor sends one message, spread over one schedule period.
    let _ = start_visitors.send(Some(Instant::now() + Duration::from_millis(100)));
    wait_for(Duration::from_secs(60), || {
        Stats::get(&stats.visitor_acks) >= m
    })
    .await;

    // 2. Agents connect; one warm-up reply per conversation takes it over from the bot.
    let mut sinks = Vec::new();
    for _ in 0..args.agents {
        sinks.push(agent::connect(server.addr, &server.owner_token, stats.clone()).await?);
    }
    let shares: Vec<Share> = (0..args.agents)
        .map(|a| {
            conversations
                .iter()
                .filter(|(i, _)| i % args.agents == a)
                .cloned()
                .collect()
        })
        .collect();
    let warm_start = Instant::now() + Duration::from_millis(100);
    drive(&mut sinks, &shares, 'w', 1, warm_start, spacing, stats).await?;
    wait_for(Duration::from_secs(60), || {
        Stats::get(&stats.warmup_acked) >= m
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 3. Measured: every conversation gets `rate` replies per second for `duration` seconds.
    let rounds = ((args.rate * args.duration as f64).round() as u64).max(1);
    eprintln!("measuring: {} replies over {} s", rounds * m, args.duration);
    let (server_cpu, own_cpu) = (server.cpu_secs(), cpu_secs(std::process::id()));
    let t0 = Instant::now();
    let start = t0 + Duration::from_millis(100);
    report.max_schedule_lag =
        drive(&mut sinks, &shares, 'm', rounds, start, spacing, stats).await?;
    let busy = |secs: f64| 100.0 * secs / t0.elapsed().as_secs_f64();
    report.server_cpu_pct = busy(server.cpu_secs() - server_cpu);
    report.loadgen_cpu_pct = busy(cpu_secs(std::process::id()) - own_cpu);

    // Drain: wait while the server still works through a backlog (acks keep coming).
    let drain = Instant::now();
    let mut seen = (0, Instant::now());
    wait_for(Duration::from_secs(120), || {
        let acked = Stats::get(&stats.replies_acked);
        if acked != seen.0 {
            seen = (acked, Instant::now());
        }
        let done =
            acked >= Stats::get(&stats.replies_sent) && Stats::get(&stats.delivered) >= acked;
        done || seen.1.elapsed() > Duration::from_secs(5)
    })
    .await;
    report.drain_secs = drain.elapsed().as_secs_f64();
    Ok(sinks)
}

/// Runs every agent's schedule at once; the agents are offset so their replies interleave.
async fn drive(
    sinks: &mut [AgentSink],
    shares: &[Share],
    phase: char,
    rounds: u64,
    start: Instant,
    spacing: Duration,
    stats: &Stats,
) -> anyhow::Result<Duration> {
    let n = sinks.len().max(1) as u32;
    let runs = sinks
        .iter_mut()
        .zip(shares)
        .enumerate()
        .map(|(a, (sink, share))| {
            // Each agent covers 1/n of the conversations, so its own spacing is n times wider.
            let offset = spacing * a as u32;
            let own_spacing = spacing * n;
            agent::reply_on_schedule(
                sink,
                share,
                phase,
                rounds,
                start + offset,
                own_spacing,
                stats,
            )
        });
    let lags = futures_util::future::try_join_all(runs).await?;
    Ok(lags.into_iter().max().unwrap_or_default())
}

async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
