//! Knowledge-base measurements: retrieval quality on a dev set, ingestion throughput against
//! raw embedding throughput, retrieval latency at scale, and question → first streamed token.
//!
//! ```text
//! cargo run --release -p concierge-examples --bin kb -- eval
//! cargo run --release -p concierge-examples --bin kb -- ingest
//! cargo run --release -p concierge-examples --bin kb -- latency --chunks 10000,100000
//! cargo run --release -p concierge-examples --bin kb -- first-token --chunks 10000
//! ```
//! Defaults read the dev set from ../shared/eval-dev/covid_faq (override with --data). Every
//! run prints what it measured, on what, and how to rerun it.

mod eval;
mod latency;
mod setup;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "kb", about = "Concierge knowledge-base benchmarks")]
struct Cli {
    /// The dev set: a directory with docs/, docs.jsonl and questions.jsonl.
    #[arg(long, global = true, default_value = "../shared/eval-dev/covid_faq")]
    data: std::path::PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// recall@1, recall@5 and MRR for lexical, dense and hybrid retrieval, and the confidence
    /// gate's trade-off on off-topic questions.
    Eval {
        /// Off-topic questions (one per line) the bot should refuse.
        #[arg(long, default_value = "examples/kb/offtopic.txt")]
        offtopic: std::path::PathBuf,
    },
    /// Ingestion pipeline chunks/s against raw embedding chunks/s on the same chunks.
    Ingest {
        /// Copies of the dev set to ingest (more copies, steadier figures).
        #[arg(long, default_value_t = 3)]
        copies: usize,
    },
    /// Search latency p50/p99 with N chunks in the index (synthetic chunks, see the output).
    Latency {
        #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
        chunks: Vec<usize>,
        #[arg(long, default_value_t = 500)]
        queries: usize,
    },
    /// Visitor question → first streamed delta over a real websocket, extractive answers.
    FirstToken {
        #[arg(long, default_value_t = 10000)]
        chunks: usize,
        #[arg(long, default_value_t = 200)]
        questions: usize,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Eval { offtopic } => eval::run(&cli.data, &offtopic).await,
        Cmd::Ingest { copies } => eval::ingest_throughput(&cli.data, copies).await,
        Cmd::Latency { chunks, queries } => {
            latency::search_latency(&cli.data, &chunks, queries).await
        }
        Cmd::FirstToken { chunks, questions } => {
            latency::first_token(&cli.data, chunks, questions).await
        }
    }
}
