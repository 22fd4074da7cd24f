//! `loadgen`: a websocket load generator for the Concierge server. Not a timed test: it starts
//! the release server as a child process, holds N idle visitor sockets, then runs M active
//! conversations where an agent replies at a fixed rate, and prints a table of what it measured,
//! on what, and how to rerun it.
//!
//! ```text
//! cargo build --release -p concierge -p concierge-examples
//! target/release/loadgen --idle 20000 --active 1000 --rate 1 --duration 30
//! ```
//!
//! Layout: `server.rs` (the child and `/proc`), `visitor.rs` and `agent.rs` (the two sockets),
//! `stats.rs` (clock, samples, counters), `report.rs` (the table).

mod agent;
mod report;
mod server;
mod stats;
mod visitor;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::time::Instant;

use report::Report;
use server::Server;
use stats::{now_ns, Stats};

#[derive(Debug, Clone, Parser)]
#[command(about = "Websocket load generator for the Concierge server")]
pub struct Args {
    /// Idle visitor sockets to hold (clamped to what the open-file limit allows).
    #[arg(long, default_value_t = 20_000)]
    pub idle: usize,
    /// Active conversations (the first M idle visitors send a message and get agent replies).
    #[arg(long, default_value_t = 1_000)]
    pub active: usize,
    /// Agent replies per second per active conversation.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Seconds of the measured active phase (at most 300).
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Loopback source addresses for visitor sockets: 127.0.0.2 ..= 127.0.0.(K+1).
    #[arg(long, default_value_t = 8)]
    pub sources: u8,
    /// Server binary (default: `concierge` next to this executable, i.e. target/release).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// Visitor connects in flight at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Agent sockets sharing the replies (each also receives every event of the site).
    #[arg(long, default_value_t = 1)]
    pub agents: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    args.duration = args.duration.clamp(1, 300);
    args.agents = args.agents.max(1);
    args.rate = args.rate.clamp(0.01, 100.0);
    now_ns();
    let bin = match &args.server_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("executable has no directory")?
            .join("concierge"),
    };
    let nofile = server::raise_nofile(1 << 20);
    let mut server = Server::start(&bin).await?;
    eprintln!(
        "server pid {} on {} (data dir {})",
        server.pid,
        server.addr,
        server.data_dir.display()
    );
    // Ctrl-C or SIGTERM still stops the child (kill_on_drop does not run on a signal).
    let result = tokio::select! {
        r = run(&args, &bin, nofile, &server) => r,
        _ = interrupted() => Err(anyhow::anyhow!("interrupted")),
    };
    let alive = server.alive();
    let (log_lines, first_log) = server.stderr_summary();
    server.stop().await;
    let mut report = result?;
    report.server_log_lines = log_lines;
    report.server_log = first_log;
    report.server_alive = alive;
    report.print();
    Ok(())
}

async fn run(
    args: &Args,
    bin: &std::path::Path,
    nofile: (u64, u64, bool),
    server: &Server,
) -> anyhow::Result<Report> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = Arc::new(Stats::default());
    let mut report = Report::new(args, bin, nofile);
    report.rss_baseline_kib = server.rss_kib();
    report.server_fds_baseline = server.open_fds();

    // Both processes need one fd per socket; leave room for the database, the agents, pipes.
    let own_fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let fit = (nofile.0 as usize)
        .saturating_sub(report.server_fds_baseline.max(own_fds) + args.agents + 64);
    let idle = args.idle.min(fit);
    let active = args.active.min(idle);
    report.idle_planned = idle;
    report.active = active;

    // Idle phase: N visitors, `concurrency` in flight, from several source addresses.
    eprintln!(
        "connecting {idle} visitor sockets ({} in flight)",
        args.concurrency
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let (start_tx, start_rx) = watch::channel::<Option<Instant>>(None);
    let spacing = Duration::from_secs_f64(1.0 / (active.max(1) as f64 * args.rate));
    let sem = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Result<String, String>)>();
    let sources = visitor::sources(args.sources);
    let started = Instant::now();
    for i in 0..idle {
        let (sem, stats, done_tx) = (sem.clone(), stats.clone(), done_tx.clone());
        let (stop_rx, start_rx) = (stop_rx.clone(), start_rx.clone());
        let (addr, site_key, src) = (
            server.addr,
            server.site_key.clone(),
            sources[i % sources.len()],
        );
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
                    let active = (i < active).then(|| visitor::Active {
                        index: i,
                        start: start_rx,
                        offset: spacing.mul_f64(i as f64),
                    });
                    visitor::hold(ws, active, stats, stop_rx).await;
                }
                Err(e) => {
                    drop(permit);
                    let _ = done_tx.send((i, Err(format!("{e:#}"))));
                }
            }
        });
    }
    drop(done_tx);
    let mut conversations: Vec<(usize, String)> = Vec::with_capacity(active);
    // Each socket task keeps its sender while it holds the socket: count answers instead.
    let mut next_progress = 5_000;
    for _ in 0..idle {
        let Some((i, result)) = done_rx.recv().await else {
            break;
        };
        match result {
            Ok(id) => {
                report.connected += 1;
                if i < active {
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
            eprintln!("  {n} / {idle} done");
            next_progress += 5_000;
        }
    }
    report.connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    report.rss_idle_kib = server.rss_kib();
    report.server_fds_idle = server.open_fds();
    report.held_after_idle = Stats::get(&stats.open_visitors);
    report.server_visitor_sockets = server
        .metric("concierge_open_sockets{kind=\"visitor\"}")
        .await
        .ok();

    // Active phase 1: each active visitor sends one message, spread over one schedule period.
    conversations.sort();
    report.active = conversations.len();
    eprintln!("active phase: {} conversations", conversations.len());
    let _ = start_tx.send(Some(Instant::now() + Duration::from_millis(100)));
    wait_for(Duration::from_secs(60), || {
        Stats::get(&stats.visitor_acks) >= conversations.len() as u64
    })
    .await;

    // Agents: connect, then one warm-up reply per conversation (takes it over from the bot).
    let mut sinks = Vec::new();
    for _ in 0..args.agents {
        sinks.push(agent::connect(server.addr, &server.owner_token, stats.clone()).await?);
    }
    let shares: Vec<agent::Share> = (0..args.agents)
        .map(|a| {
            conversations
                .iter()
                .filter(|(i, _)| i % args.agents == a)
                .cloned()
                .collect()
        })
        .collect();
    let warm_start = Instant::now() + Duration::from_millis(100);
    drive(&mut sinks, &shares, 'w', 1, warm_start, spacing, &stats).await?;
    wait_for(Duration::from_secs(60), || {
        Stats::get(&stats.warmup_acked) >= conversations.len() as u64
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Active phase 2, measured: every conversation gets `rate` replies per second.
    let rounds = ((args.rate * args.duration as f64).round() as u64).max(1);
    eprintln!(
        "measuring: {} replies over {} s",
        rounds * conversations.len() as u64,
        args.duration
    );
    let cpu0 = server.cpu_secs();
    let own0 = server::cpu_secs(std::process::id());
    let t0 = Instant::now();
    let start = t0 + Duration::from_millis(100);
    report.max_schedule_lag =
        drive(&mut sinks, &shares, 'm', rounds, start, spacing, &stats).await?;
    let sent_done = t0.elapsed();
    let busy = |secs: f64| 100.0 * secs / sent_done.as_secs_f64();
    report.server_cpu_pct = busy(server.cpu_secs() - cpu0);
    report.loadgen_cpu_pct = busy(server::cpu_secs(std::process::id()) - own0);
    wait_for(Duration::from_secs(10), || {
        let acked = Stats::get(&stats.replies_acked);
        acked >= Stats::get(&stats.replies_sent) && Stats::get(&stats.delivered) >= acked
    })
    .await;
    report.rss_end_kib = server.rss_kib();
    report.held_at_end = Stats::get(&stats.open_visitors);
    report.finish(&stats);
    let _ = stop_tx.send(true);
    for mut sink in sinks {
        let _ = futures_util::SinkExt::close(&mut sink).await;
    }
    Ok(report)
}

/// Runs every agent's schedule at once; the agents are offset so their replies interleave.
async fn drive(
    sinks: &mut [agent::AgentSink],
    shares: &[agent::Share],
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
            agent::reply_on_schedule(
                sink,
                share,
                phase,
                rounds,
                start + offset,
                spacing * n,
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

async fn interrupted() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
