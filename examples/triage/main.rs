//! Measures sentiment and escalation: precision/recall/F1 on the human-rated VADER sets and on
//! our labelled support transcripts, threshold calibration on the dev transcripts, and the
//! decision time per message.
//!
//! ```text
//! cargo run --release -p concierge-examples --bin triage -- eval
//! cargo run --release -p concierge-examples --bin triage -- calibrate
//! cargo run --release -p concierge-examples --bin triage -- bench
//! cargo run --release -p concierge-examples --bin triage -- cv
//! ```
//! Needs the embedding model (`concierge model fetch`, or CONCIERGE_MODEL_CACHE).

mod bench;
mod cv;
mod replay;
mod setup;

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
    /// Also use the dev transcripts' single-intent (and calm no-intent) turns as exemplars
    /// (an experiment: dev results are then training results; test stays held out).
    #[arg(long)]
    dev_exemplars: bool,
    /// More exemplar files (`{"intent": [phrases], "none": [...]}`) added to the shipped ones.
    #[arg(long)]
    extra_exemplars: Vec<PathBuf>,
    /// Only these exemplar files, not the shipped ones.
    #[arg(long)]
    no_shipped: bool,
    /// How a message is scored: model (the shipped classifier), vote, linear or mean.
    #[arg(long)]
    scorer: Option<String>,
    /// Transcript splits to report (files `SPLIT.jsonl` under --transcripts).
    #[arg(long, default_values_t = vec!["dev".to_string(), "test".to_string()])]
    splits: Vec<String>,
    /// Skip the human-rated VADER sets (eval).
    #[arg(long)]
    transcripts_only: bool,
    /// With `--scorer model`: train on the phrases alone, without data/intent-training.jsonl.
    #[arg(long)]
    no_training_turns: bool,
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
    /// Sweeps the policy's sentiment and repeat thresholds on the dev transcripts.
    Calibrate,
    /// Decision time per message.
    Bench,
    /// Leave-one-writer-out cross-validation of the classifier over the training
    /// transcripts, by intent threshold.
    Cv,
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
                "{name} | Concierge (VADER + intents), <= {}",
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
            (full.negative, format!("{split} | negative | Concierge (+ exemplars, mood)")),
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

async fn calibrate(args: &Args) -> Result<()> {
    let s = setup_for(args).await?;
    let turns: Vec<Turn> = read_jsonl(&args.transcripts.join("dev.jsonl"))?;
    println!(
        "Escalation F1 on dev ({} turns), best 15 of the grid:\n",
        turns.len()
    );
    // The intent settings (escalate_on, intent_threshold) are chosen by `cv` over nine
    // writers; dev alone chooses the sentiment and repeat thresholds.
    let mut results = Vec::new();
    for negative_message in [-0.4f32, -0.5, -0.6, -0.7] {
        for negative_mood in [-0.35f32, -0.45, -0.55] {
            for repeat_similarity in [0.85f32, 0.9, 0.95] {
                let policy = EscalationPolicy {
                    negative_message,
                    negative_mood,
                    repeat_similarity,
                    ..EscalationPolicy::default()
                };
                let r = replay(&s.escalations, &policy, &turns, true).await;
                results.push((r.escalate.prf(), r.explicit.prf(), policy));
            }
        }
    }
    // Ranked by the mean of the two F1s: every turn, and explicit hand-off/complaint turns
    // against calm ones.
    results.sort_by(|a, b| (b.0 .2 + b.1 .2).total_cmp(&(a.0 .2 + a.1 .2)));
    println!("| escalate_on | intent_threshold | negative_message | negative_mood | repeat_similarity | P | R | F1 | explicit P | explicit R | explicit F1 |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for ((p, r, f), (ep, er, ef), pol) in results.iter().take(15) {
        let on: Vec<&str> = pol.escalate_on.iter().map(|i| i.as_str()).collect();
        println!(
            "| {} | {} | {} | {} | {} | {p:.3} | {r:.3} | {f:.3} | {ep:.3} | {er:.3} | {ef:.3} |",
            on.join(" "),
            pol.intent_threshold,
            pol.negative_message,
            pol.negative_mood,
            pol.repeat_similarity
        );
    }
    println!("\nNegative-turn F1 on dev by negative_turn:\n\n| negative_turn | P | R | F1 |\n|---|---|---|---|");
    for negative_turn in [-0.05f32, -0.1, -0.2, -0.3, -0.4, -0.5] {
        let policy = EscalationPolicy {
            negative_turn,
            ..EscalationPolicy::default()
        };
        let r = replay(&s.escalations, &policy, &turns, true).await;
        let (p, r, f) = r.negative.prf();
        println!("| {negative_turn} | {p:.3} | {r:.3} | {f:.3} |");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    match args.command {
        Cmd::Eval => eval(&args).await,
        Cmd::Calibrate => calibrate(&args).await,
        Cmd::Bench => bench::bench(&args).await,
        Cmd::Cv => cv::cv(&args).await,
    }
}
