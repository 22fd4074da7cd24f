//! The printed result: what was measured, on what, the numbers against the targets, and the
//! command that reproduces them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::server::{machine, rss_kib, SERVER_ENV};
use crate::stats::{Stats, Summary};
use crate::Args;

#[derive(Default)]
pub struct Report {
    args: Option<Args>,
    bin: PathBuf,
    /// RLIMIT_NOFILE (soft, hard, whether the hard limit could be raised).
    nofile: (u64, u64, bool),
    pub rss_baseline_kib: u64,
    /// Seconds from the server's start until it was idle (the baseline was read then).
    pub settle_secs: f64,
    pub server_fds_baseline: usize,
    pub idle_planned: usize,
    pub active: usize,
    pub connected: usize,
    pub connect_failed: usize,
    pub connect_errors: Vec<String>,
    pub connect_secs: f64,
    pub rss_idle_kib: u64,
    pub server_fds_idle: usize,
    pub held_after_idle: u64,
    pub server_visitor_sockets: Option<f64>,
    pub max_schedule_lag: Duration,
    pub server_cpu_pct: f64,
    pub loadgen_cpu_pct: f64,
    /// Time after the last reply was sent until every ack and delivery arrived (or stalled).
    pub drain_secs: f64,
    pub rss_end_kib: u64,
    pub held_at_end: u64,
    pub server_log_lines: usize,
    pub server_log: Vec<String>,
    pub server_alive: bool,
    finished: Option<Finished>,
}

/// Numbers taken from the shared counters once the run is over.
struct Finished {
    connect: Summary,
    visitor_ack: Summary,
    agent_ack: Summary,
    delivery: Summary,
    replies_sent: u64,
    replies_acked: u64,
    delivered: u64,
    duplicates: u64,
    gaps: u64,
    visitor_closed: u64,
    agent_frames: u64,
    agent_resyncs: u64,
    error_frames: u64,
    first_errors: Vec<String>,
    loadgen_rss_kib: u64,
}

impl Report {
    pub fn new(args: &Args, bin: &Path, nofile: (u64, u64, bool)) -> Self {
        Report {
            args: Some(args.clone()),
            bin: bin.to_path_buf(),
            nofile,
            ..Report::default()
        }
    }

    pub fn finish(&mut self, stats: &Stats) {
        let get = Stats::get;
        self.finished = Some(Finished {
            connect: stats.connect.summary(),
            visitor_ack: stats.visitor_ack.summary(),
            agent_ack: stats.agent_ack.summary(),
            delivery: stats.delivery.summary(),
            replies_sent: get(&stats.replies_sent),
            replies_acked: get(&stats.replies_acked),
            delivered: get(&stats.delivered),
            duplicates: get(&stats.duplicates),
            gaps: get(&stats.gaps),
            visitor_closed: get(&stats.visitor_closed),
            agent_frames: get(&stats.agent_frames),
            agent_resyncs: get(&stats.agent_resyncs),
            error_frames: get(&stats.error_frames),
            first_errors: stats
                .first_errors
                .lock()
                .map(|v| v.clone())
                .unwrap_or_default(),
            loadgen_rss_kib: rss_kib(std::process::id()),
        });
    }

    pub fn print(&self) {
        let (Some(a), Some(f)) = (&self.args, &self.finished) else {
            println!("loadgen: the run did not finish");
            return;
        };
        let rerun = format!(
            "cargo build --release -p concierge -p concierge-examples && \
             target/release/loadgen --idle {} --active {} --rate {} --duration {} --sources {} \
             --concurrency {} --agents {}",
            a.idle, a.active, a.rate, a.duration, a.sources, a.concurrency, a.agents
        );
        let (soft, hard, raised) = self.nofile;
        let grow_kib = self.rss_idle_kib.saturating_sub(self.rss_baseline_kib);
        let per_socket = if self.held_after_idle > 0 {
            grow_kib as f64 * 1024.0 / self.held_after_idle as f64
        } else {
            f64::NAN
        };
        let lost = f.replies_acked.saturating_sub(f.delivered);
        let mib = |kib: u64| kib as f64 / 1024.0;

        println!("\n## Concierge load test\n");
        println!(
            "- What: {} idle visitor sockets (hello → welcome each) held open; then {} of them \
             active: each sends one message, an agent takes the conversation over, then replies \
             at {} msg/s per conversation for {} s ({} replies/s in all) while the idle sockets \
             stay open.",
            self.idle_planned,
            self.active,
            a.rate,
            a.duration,
            a.rate * self.active as f64
        );
        println!(
            "- Server: `{}` (child process), SQLite in a fresh temp dir, in-process bus, \
             CONCIERGE_LISTEN=127.0.0.1:0, {}.",
            self.bin.display(),
            SERVER_ENV
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "- Clients: this process, tokio-tungstenite 0.29, visitor sockets from {} source \
             addresses 127.0.0.2.., {} connects in flight, {} agent socket(s) with the demo \
             owner's token.",
            a.sources, a.concurrency, a.agents
        );
        println!(
            "- Machine: {}; load generator and server share it.",
            machine()
        );
        println!(
            "- RLIMIT_NOFILE (both processes): soft {soft}, hard {hard}{}.",
            if raised {
                " (hard limit raised by this run)"
            } else if a.idle > self.idle_planned {
                "; the hard limit could not be raised (needs CAP_SYS_RESOURCE), so the idle \
                 count was clamped to fit"
            } else {
                ""
            }
        );
        println!("- Rerun: `{rerun}`\n");

        println!("| measured | result | target |");
        println!("|---|---|---|");
        println!(
            "| idle sockets held | {} of {} asked{} ({} failed); {} still open at the end{} | ≥ 20,000 |",
            self.held_after_idle,
            self.idle_planned,
            if a.idle > self.idle_planned {
                format!(" ({} requested)", a.idle)
            } else {
                String::new()
            },
            self.connect_failed,
            self.held_at_end,
            match self.server_visitor_sockets {
                Some(n) => format!("; server counted {n}"),
                None => String::new(),
            }
        );
        println!(
            "| server RSS | {:.1} MiB at rest (idle {:.0} s after start) → {:.1} MiB with the idle sockets → {:.1} MiB at the end | |",
            mib(self.rss_baseline_kib),
            self.settle_secs,
            mib(self.rss_idle_kib),
            mib(self.rss_end_kib)
        );
        println!(
            "| server RSS per idle socket | {:.1} KiB ({:.0} bytes) | ≤ 16 KB |",
            per_socket / 1024.0,
            per_socket
        );
        println!(
            "| connect rate | {:.0} sockets/s ({} in {:.1} s, TCP + upgrade + hello → welcome) | |",
            self.connected as f64 / self.connect_secs.max(1e-9),
            self.connected,
            self.connect_secs
        );
        println!(
            "| connect + hello → welcome, per socket | {} | |",
            f.connect.line()
        );
        println!("| visitor send → ack | {} | |", f.visitor_ack.line());
        println!("| agent reply → ack | {} | |", f.agent_ack.line());
        println!(
            "| agent → visitor delivery | {} | p99 < 10 ms |",
            f.delivery.line()
        );
        println!(
            "| replies sent / acked / delivered | {} / {} / {} ({:.1} s after the last send) | equal |",
            f.replies_sent, f.replies_acked, f.delivered, self.drain_secs
        );
        println!(
            "| lost / duplicated / seq gaps | {lost} / {} / {} | 0 / 0 / 0 |",
            f.duplicates, f.gaps
        );
        println!(
            "| error frames / agent resyncs / visitor sockets closed by server | {} / {} / {} (server {}) | 0 / 0 / 0 |",
            f.error_frames,
            f.agent_resyncs,
            f.visitor_closed,
            if self.server_alive { "still running" } else { "EXITED" }
        );
        println!(
            "| CPU while replying: server / loadgen | {:.0} % / {:.0} % of one core | |",
            self.server_cpu_pct, self.loadgen_cpu_pct
        );
        println!(
            "| loadgen schedule lag (max) | {:.1} ms | |",
            self.max_schedule_lag.as_secs_f64() * 1e3
        );
        println!(
            "| frames received by the agent socket(s) | {} | |",
            f.agent_frames
        );
        println!(
            "| server fds | {} at start, {} with the idle sockets | |",
            self.server_fds_baseline, self.server_fds_idle
        );
        println!("| loadgen RSS | {:.1} MiB | |", mib(f.loadgen_rss_kib));
        let notes: Vec<&String> = self
            .connect_errors
            .iter()
            .chain(&f.first_errors)
            .chain(&self.server_log)
            .collect();
        if !notes.is_empty() {
            println!(
                "\nFirst errors (connect failures, error frames, then {} server log line(s)):",
                self.server_log_lines
            );
            for n in notes {
                println!("- {n}");
            }
        }
    }
}
