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
//! `idle.rs` and `active.rs` (the two phases), `stats.rs` (clock, samples, counters),
//! `report.rs` (the table).

mod active;
mod agent;
mod idle;
mod report;
mod server;
mod stats;
mod visitor;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tokio::sync::watch;
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
    // The baseline is the server at rest: what it loads in the background at start (the
    // embedding model, the intent classifier) is not counted per socket.
    let settled = server.wait_quiet(Duration::from_secs(180)).await;
    eprintln!("server idle after {:.1} s", settled.as_secs_f64());
    let stats = Arc::new(Stats::default());
    let mut report = Report::new(args, bin, nofile);
    report.settle_secs = settled.as_secs_f64();
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
    let plan = idle::Plan {
        addr: server.addr,
        site_key: server.site_key.clone(),
        idle,
        active,
        sources: args.sources,
        concurrency: args.concurrency,
        spacing: Duration::from_secs_f64(1.0 / (active.max(1) as f64 * args.rate)),
    };

    eprintln!(
        "connecting {idle} visitor sockets ({} in flight)",
        args.concurrency
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let (start_tx, start_rx) = watch::channel::<Option<Instant>>(None);
    let conversations = idle::connect_all(&plan, &stats, &mut report, start_rx, stop_rx).await;
    // Let the server settle (allocator, SQLite cache) before reading its RSS.
    tokio::time::sleep(Duration::from_secs(3)).await;
    report.rss_idle_kib = server.rss_kib();
    report.server_fds_idle = server.open_fds();
    report.held_after_idle = Stats::get(&stats.open_visitors);
    report.server_visitor_sockets = server
        .metric("concierge_open_sockets{kind=\"visitor\"}")
        .await
        .ok();

    report.active = conversations.len();
    let spacing = plan.spacing;
    let sinks = active::run(
        args,
        server,
        &stats,
        &mut report,
        &conversations,
        spacing,
        start_tx,
    )
    .await?;
    report.rss_end_kib = server.rss_kib();
    report.held_at_end = Stats::get(&stats.open_visitors);
    report.finish(&stats);
    let _ = stop_tx.send(true);
    for mut sink in sinks {
        let _ = futures_util::SinkExt::close(&mut sink).await;
    }
    Ok(report)
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
