//! The agents' inbox API under a site with many conversations: latency of
//! `GET /api/v1/conversations` for the first page, deep keyset pages, a status filter and a
//! text search, on SQLite (the default) and on Postgres.
//!
//! ```text
//! cargo run --release -p concierge-examples --bin inbox
//! cargo run --release -p concierge-examples --bin inbox -- --postgres postgres://postgres@127.0.0.1:5432/test
//! ```
//! The server runs in this process (`Application::build` on port 0, temp data dir; with
//! `--postgres`, a fresh database created next to the one named and dropped at the end). The
//! site's history is written straight into the database (see `seed.rs`); requests go over
//! HTTP, one at a time, on one keep-alive connection: latency, not throughput. A request slower
//! than `--case-secs` ends that backend's run, because its query keeps running in the server.
//! Every run prints what it measured, on what, and how to rerun it.

mod measure;
mod seed;
mod server;

use anyhow::{bail, Result};
use clap::Parser;

use measure::Row;
use seed::Seeded;
use server::{PgDatabase, Server};

#[derive(Debug, Parser)]
#[command(name = "inbox", about = "Concierge inbox (conversations list) latency")]
struct Cli {
    /// Conversations on the site.
    #[arg(long, default_value_t = 100_000)]
    conversations: usize,
    /// Measured requests per case (after 3 warm-up requests).
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Time bound per case: a case stops early after this many seconds.
    #[arg(long, default_value_t = 30)]
    case_secs: u64,
    /// Deep pages to measure (each reached by following next_cursor from page 1).
    #[arg(long, value_delimiter = ',', default_value = "20,200")]
    pages: Vec<usize>,
    /// Also run on Postgres: an existing database URL; a fresh database is created next to
    /// it and dropped at the end.
    #[arg(long)]
    postgres: Option<String>,
    /// Run on Postgres only.
    #[arg(long, requires = "postgres")]
    no_sqlite: bool,
}

impl Cli {
    fn rerun(&self) -> String {
        let mut cmd = format!(
            "cargo run --release -p concierge-examples --bin inbox -- --conversations {} \
             --requests {} --case-secs {} --pages {}",
            self.conversations,
            self.requests,
            self.case_secs,
            self.pages
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Some(url) = &self.postgres {
            cmd.push_str(&format!(" --postgres {url}"));
        }
        if self.no_sqlite {
            cmd.push_str(" --no-sqlite");
        }
        cmd
    }
}

/// One backend's run.
struct Run {
    backend: &'static str,
    version: String,
    seeded: Seeded,
    analyze_secs: Option<f64>,
    rows: Vec<Row>,
    /// A request timed out and its query may still be running in this process.
    abandoned: bool,
}

async fn run_backend(cli: &Cli, pg: Option<&PgDatabase>) -> Result<Run> {
    let backend = if pg.is_some() { "postgres" } else { "sqlite" };
    eprintln!("{backend}: starting the server");
    let server = Server::start(pg.map(|d| d.url.as_str())).await?;
    let result = async {
        eprintln!("{backend}: seeding {} conversations", cli.conversations);
        let seeded = seed::seed(
            &server.database_url,
            &server.site_id,
            &server.agent_id,
            cli.conversations,
        )
        .await?;
        eprintln!("{backend}: seeded in {:.1} s", seeded.secs);
        let version = seed::version(&server.database_url).await?;
        // Postgres's autovacuum analyzes a table that grew this much within a minute or so;
        // SQLite has no statistics unless someone runs ANALYZE, and the server never does.
        let analyze_secs = match pg {
            Some(_) => Some(seed::analyze(&server.database_url).await?),
            None => None,
        };
        let bench = measure::Bench::new(&server, cli.requests, cli.case_secs);
        let (rows, abandoned) = bench.cases(backend, &cli.pages).await?;
        Ok::<_, anyhow::Error>(Run {
            backend,
            version,
            seeded,
            analyze_secs,
            rows,
            abandoned,
        })
    }
    .await;
    match &result {
        Ok(run) if run.abandoned => server.abandon(),
        _ => server.stop().await?,
    }
    result
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let deepest = cli.pages.iter().copied().max().unwrap_or(1);
    if deepest * measure::LIMIT > cli.conversations {
        bail!(
            "page {deepest} needs at least {} conversations",
            deepest * measure::LIMIT
        );
    }
    let mut runs = Vec::new();
    // Postgres first: a request that times out on SQLite leaves its query running in this
    // process until it exits, which would slow whatever ran after it. (On Postgres, dropping
    // the database ends its queries.)
    if let Some(admin_url) = &cli.postgres {
        let db = PgDatabase::create(admin_url).await?;
        let run = run_backend(&cli, Some(&db)).await;
        db.drop().await?;
        runs.push(run?);
    }
    if !cli.no_sqlite {
        runs.insert(0, run_backend(&cli, None).await?);
    }
    report(&cli, &runs);
    if runs.iter().any(|r| r.abandoned) {
        // Not waiting for the timed-out query to finish.
        use std::io::Write;
        std::io::stdout().flush()?;
        std::process::exit(0);
    }
    Ok(())
}

fn report(cli: &Cli, runs: &[Run]) {
    let Some(first) = runs.first() else { return };
    let s = &first.seeded;
    let pct = |n: usize| 100.0 * n as f64 / s.conversations as f64;
    println!(
        "\nInbox: GET /api/v1/conversations?limit={} with an agent's bearer token, one request \
         at a time over one keep-alive connection (reqwest), server in the same process.",
        measure::LIMIT
    );
    println!(
        "Data: one site, {} conversations ({:.0}% resolved, {:.0}% bot, {:.0}% waiting, {:.0}% \
         agent; waiting and agent ones with an open ticket), {} messages (1–3 each), {} \
         visitors, last activity spread uniformly over 30 days; \"{}\" in {} conversations \
         ({:.1}%), \"{}\" in none.",
        s.conversations,
        pct(s.by_status[3]),
        pct(s.by_status[0]),
        pct(s.by_status[1]),
        pct(s.by_status[2]),
        s.messages,
        s.conversations,
        seed::SEARCH_HIT,
        s.search_hits,
        pct(s.search_hits),
        seed::SEARCH_MISS,
    );
    println!(
        "Machine: {} (shared; figures are noisy).",
        measure::machine()
    );
    for r in runs {
        println!("{}: {}", r.backend, r.version);
    }
    println!(
        "Each case: 3 warm-up requests, then {} requests or {} s, whichever comes first. \
         \"walk\" requests pages 1..={} once each, following next_cursor; \"page N\" repeats \
         the request for page N with the cursor that walk returned.",
        cli.requests,
        cli.case_secs,
        cli.pages.iter().max().unwrap_or(&1)
    );
    println!("\n| backend | conversations | messages | tickets | seed s | rows/s | analyze s |");
    println!("|---|---|---|---|---|---|---|");
    for r in runs {
        let s = &r.seeded;
        let rows = s.conversations * 2 + s.messages + s.tickets;
        println!(
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} |",
            r.backend,
            s.conversations,
            s.messages,
            s.tickets,
            s.secs,
            rows as f64 / s.secs,
            r.analyze_secs
                .map(|a| format!("{a:.1}"))
                .unwrap_or_else(|| "not run".into())
        );
    }
    println!(
        "\n| case | backend | requests | rows | p50 ms | p99 ms | max ms | p50 × first page |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let ms = |v: f64| {
        if v.is_nan() {
            "—".to_string()
        } else {
            format!("{v:.2}")
        }
    };
    let mut notes = Vec::new();
    for r in runs {
        let base = r
            .rows
            .iter()
            .find(|row| row.case == measure::FIRST_PAGE)
            .map(|row| row.p50_ms);
        for row in &r.rows {
            let mut case = row.case.clone();
            if let Some(note) = &row.note {
                notes.push(format!("{} ({}): {note}", row.case, r.backend));
                case.push_str(&format!(" [{}]", notes.len()));
            }
            println!(
                "| {case} | {} | {} | {} | {} | {} | {} | {} |",
                r.backend,
                row.requests,
                row.rows,
                ms(row.p50_ms),
                ms(row.p99_ms),
                ms(row.max_ms),
                base.map(|b| row.p50_ms / b)
                    .filter(|x| x.is_finite())
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_else(|| "—".into())
            );
        }
    }
    for (i, note) in notes.iter().enumerate() {
        println!("[{}] {note}", i + 1);
    }
    println!(
        "\nrows: items on the (last) page returned. Rerun: {}",
        cli.rerun()
    );
}
