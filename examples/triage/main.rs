//! Trains and measures escalation: the shipped classifier (`train`), the policy's mood
//! thresholds and the measures on real support text (`tune`), precision/recall/F1 on the
//! human-rated VADER sets and our labelled support transcripts (`eval`), and the decision
//! time per message (`bench`).
//!
//! ```text
//! cargo xtask train-escalation          # = triage train, writes server/data/escalation-model.json
//! cargo run --release -p concierge-examples --bin triage -- tune
//! cargo run --release -p concierge-examples --bin triage -- eval
//! cargo run --release -p concierge-examples --bin triage -- bench
//! ```
//! Needs the embedding model (`concierge model fetch`, or CONCIERGE_MODEL_CACHE) and the dev
//! data in `../shared/eval-dev`.

mod bench;
mod replay;
mod setup;
mod train;
mod tune;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use concierge::sentiment::EscalationPolicy;
use serde::Deserialize;

use replay::{replay, vader_counts, Counts};
use setup::setup_for;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
    /// The VADER ground-truth sets (tweets.jsonl, amazonReviewSnippets.jsonl).
    #[arg(long, default_value = "../shared/eval-dev/sentiment")]
    sentiment: PathBuf,
    /// Our labelled transcripts (dev.jsonl, test.jsonl).
    #[arg(long, default_value = "tests/fixtures/support_transcripts")]
    transcripts: PathBuf,
    /// The escalation dev data (TweetSumm dialogs, Bitext requests).
    #[arg(long, default_value = "../shared/eval-dev/escalation")]
    escalation_data: PathBuf,
    /// Measure this classifier file instead of the shipped one.
    #[arg(long)]
    model: Option<PathBuf>,
    /// train: the negativity head's C (default: `train::NEGATIVITY_C`).
    #[arg(long)]
    negativity_c: Option<f64>,
    /// train: how many times our support turns count in the negativity head.
    #[arg(long)]
    support_weight: Option<usize>,
    /// train: character n-grams in the negativity head too.
    #[arg(long)]
    negativity_chars: bool,
    /// train: the first half's Bitext requests as calm support text in the negativity head
    /// (`none`: not at all; `all`; `clean`: without the ones that swear).
    #[arg(long, default_value = "none")]
    bitext_calm: String,
    /// train: more labelled turns (`{text, negative}` lines) for the negativity head only,
    /// counted as our support turns are.
    #[arg(long)]
    negativity_extra: Option<PathBuf>,
    /// train: where the classifier is written.
    #[arg(long, default_value = "server/data/escalation-model.json")]
    out: PathBuf,
    /// Transcript splits to report (files `SPLIT.jsonl` under --transcripts).
    #[arg(long, default_values_t = vec!["dev".to_string(), "test".to_string(), "test2".to_string()])]
    splits: Vec<String>,
    /// Skip the human-rated VADER sets (eval).
    #[arg(long)]
    transcripts_only: bool,
    /// An OpenAI-compatible server (base URL with `/v1`) for the policy's `llm_review`; its
    /// key, if any, from CONCIERGE_LLM_API_KEY.
    #[arg(long)]
    llm_url: Option<String>,
    /// The model name sent to `--llm-url`.
    #[arg(long, default_value = "gpt-4o-mini")]
    llm_model: String,
    /// eval: turn the policy's `llm_review` on (needs --llm-url), with this band and timeout.
    #[arg(long)]
    llm_review: bool,
    #[arg(long, num_args = 2, value_names = ["LOW", "HIGH"])]
    review_band: Option<Vec<f32>>,
    #[arg(long)]
    review_timeout_ms: Option<u64>,
}

#[derive(Subcommand)]
enum Cmd {
    /// P/R/F1 for "negative" and "escalate" with the default policy.
    Eval,
    /// Decision time per message.
    Bench,
    /// Trains the shipped classifier and writes it (`--out`).
    Train,
    /// Chooses the mood thresholds on half of TweetSumm; the measures on the held-out halves.
    Tune,
}

#[derive(Deserialize)]
struct Rated {
    text: String,
    label_3way: String,
}

#[derive(Deserialize, Clone)]
struct Turn {
    conversation_id: String,
    text: String,
    negative: bool,
    escalate: bool,
    #[serde(default)]
    intents: Vec<String>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

async fn eval(args: &Args) -> Result<()> {
    let s = setup_for(args).await?;
    let mut policy = EscalationPolicy::default();
    if args.llm_review {
        anyhow::ensure!(args.llm_url.is_some(), "--llm-review needs --llm-url");
        policy.llm_review = true;
        if let Some(b) = &args.review_band {
            policy.llm_review_band = [b[0], b[1]];
        }
        if let Some(t) = args.review_timeout_ms {
            policy.llm_review_timeout_ms = t;
        }
        policy.validate().map_err(anyhow::Error::msg)?;
        println!(
            "LLM review: {} at {}, band {:?}, timeout {} ms\n",
            args.llm_model,
            args.llm_url.as_deref().unwrap_or_default(),
            policy.llm_review_band,
            policy.llm_review_timeout_ms
        );
    }
    println!("## Negative messages: human-rated sets (label_3way = negative)\n");
    println!("| set | scorer | precision | recall | F1 |\n|---|---|---|---|---|");
    let rated_sets: &[&str] = if args.transcripts_only {
        &[]
    } else {
        &["tweets.jsonl", "amazonReviewSnippets.jsonl"]
    };
    for file in rated_sets {
        let rated: Vec<Rated> = read_jsonl(&args.sentiment.join(file))?;
        let (mut vader05, mut vader_ours, mut ours) =
            (Counts::default(), Counts::default(), Counts::default());
        for r in &rated {
            let gold = r.label_3way == "negative";
            let (signals, _) = s.escalations.analyze(&r.text).await;
            vader05.add(signals.vader <= -0.05, gold);
            vader_ours.add(signals.vader <= policy.negative_turn, gold);
            ours.add(signals.sentiment <= policy.negative_turn, gold);
        }
        let name = file.trim_end_matches(".jsonl");
        println!(
            "{}",
            vader05.row(&format!("{name} ({}) | VADER alone, <= -0.05", rated.len()))
        );
        println!(
            "{}",
            vader_ours.row(&format!(
                "{name} | VADER alone, <= {}",
                policy.negative_turn
            ))
        );
        println!(
            "{}",
            ours.row(&format!(
                "{name} | Concierge (classifier), <= {}",
                policy.negative_turn
            ))
        );
    }
    println!("\n## Support transcripts (our labels), default policy\n");
    println!("| set | what | scorer | precision | recall | F1 |\n|---|---|---|---|---|---|");
    for split in args.splits.iter().map(String::as_str) {
        let turns: Vec<Turn> = read_jsonl(&args.transcripts.join(format!("{split}.jsonl")))?;
        let (v_esc, v_neg) = vader_counts(&turns, -0.05);
        let rules = replay(&s.escalations, &policy, &turns, false).await;
        let full = replay(&s.escalations, &policy, &turns, true).await;
        let n = turns.len();
        let rows = [
            (v_neg, format!("{split} ({n} turns) | negative | VADER alone (<= -0.05)")),
            (rules.negative, format!("{split} | negative | VADER + keyword rules")),
            (full.negative, format!("{split} | negative | Concierge (classifier, mood)")),
            (v_esc, format!("{split} | escalate, every turn | VADER alone negative")),
            (rules.escalate, format!("{split} | escalate, every turn | VADER + keyword rules, no history")),
            (full.escalate, format!("{split} | escalate, every turn | Concierge policy")),
            (full.live, format!("{split} | escalate, turns the bot still handles ({}) | Concierge policy", full.live.n)),
            (rules.explicit, format!("{split} | escalate, explicit hand-off/complaint vs calm turns | keyword rules")),
            (full.explicit, format!("{split} | escalate, explicit hand-off/complaint vs calm turns | Concierge policy")),
        ];
        for (counts, name) in rows {
            println!("{}", counts.row(&name));
        }
        // Which explicit turns are missed: hand-off requests or complaints.
        for (counts, kind) in [
            (full.handoff, "human_request"),
            (full.complaint, "complaint"),
        ] {
            let what = format!("{split} | escalate, `{kind}` turns caught");
            println!("{}", counts.recall_row(&what, "Concierge policy"));
        }
        if args.llm_review {
            println!(
                "| {split} | turns reviewed by the LLM: {} of {n} ({} without a verdict) | – | – | – | – |",
                full.reviews.0, full.reviews.1
            );
        }
        println!(
            "{}",
            full.conversations.row(&format!(
                "{split} | escalate, per conversation ({} conversations; {} of {} escalated no later than the first labelled turn) | Concierge policy",
                full.conversations.n, full.on_time.0, full.on_time.1
            ))
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Cmd::Eval => eval(&args).await,
        Cmd::Bench => bench::bench(&args).await,
        Cmd::Train => train::train(&args).await,
        Cmd::Tune => tune::tune(&args).await,
    }
}
