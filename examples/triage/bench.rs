//! Decision time per visitor message.

use std::time::Instant;

use anyhow::{Context, Result};
use concierge::sentiment::{analyze, decide, EscalationPolicy, History, Signals};

use crate::setup::setup_for;
use crate::{read_jsonl, Args, Turn};

pub async fn bench(args: &Args) -> Result<()> {
    let s = setup_for(args).await?;
    let turns: Vec<Turn> = read_jsonl(&args.transcripts.join("dev.jsonl"))?;
    let policy = EscalationPolicy::default();
    let texts: Vec<&str> = turns.iter().map(|t| t.text.as_str()).collect();
    let reps = 50;
    // Warm up the lexicon and rule tables.
    let _ = analyze(texts[0], None, None);

    let started = Instant::now();
    for _ in 0..reps {
        for t in &texts {
            let signals = analyze(t, None, None);
            let d = decide(
                &policy,
                &Signals {
                    message: signals,
                    explicit_request: false,
                    repeated_question: false,
                },
                &History {
                    sentiments: vec![0.1, -0.2, 0.0],
                    ..History::default()
                },
            );
            std::hint::black_box(d);
        }
    }
    let lexicon = started.elapsed().as_secs_f64() * 1e6 / (reps * texts.len()) as f64;

    let started = Instant::now();
    for _ in 0..reps {
        for t in &texts {
            std::hint::black_box(concierge::sentiment::vader(t));
        }
    }
    let vader_only = started.elapsed().as_secs_f64() * 1e6 / (reps * texts.len()) as f64;

    let model = s.escalations.model().await.context("the classifier")?;
    let embedder = s.escalations.knowledge.embedder().await?;
    let mut vectors = Vec::new();
    let started = Instant::now();
    for (i, t) in texts.iter().enumerate() {
        // A unique text per call: never a cache hit.
        vectors.push(embedder.embed_query(&format!("{t} #{i}")).await?);
    }
    let embed_ms = started.elapsed().as_secs_f64() * 1e3 / texts.len() as f64;

    let started = Instant::now();
    for _ in 0..reps {
        for (t, v) in texts.iter().zip(&vectors) {
            std::hint::black_box(model.score(t, v, 0.0));
        }
    }
    let vote = started.elapsed().as_secs_f64() * 1e6 / (reps * vectors.len()) as f64;

    // The bot path: the embedding is computed once per message and found in the query cache
    // by the next user (retrieval after the assessment); measure with the cache warm.
    for t in &texts {
        std::hint::black_box(s.escalations.analyze(t).await);
    }
    let started = Instant::now();
    for _ in 0..reps {
        for t in &texts {
            std::hint::black_box(s.escalations.analyze(t).await);
        }
    }
    let cached = started.elapsed().as_secs_f64() * 1e6 / (reps * texts.len()) as f64;

    // Start-up: the shipped classifier is parsed from the data compiled in.
    let started = Instant::now();
    let loaded =
        concierge::sentiment::EscalationModel::from_json(concierge::sentiment::model::MODEL_JSON)
            .context("the shipped model parses")?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    std::hint::black_box(&loaded);
    println!(
        "Decision time per visitor message ({} dev turns):\n",
        texts.len()
    );
    println!("| step | time |\n|---|---|");
    println!("| VADER alone | {vader_only:.1} µs |");
    println!("| lexicon + keyword rules + policy decision | {lexicon:.1} µs |");
    println!(
        "| classifier given the embedding (intents: 8 classes, negativity: 2) | {vote:.1} µs |"
    );
    println!(
        "| message embedding, not cached (MiniLM, shared with retrieval) | {embed_ms:.2} ms |"
    );
    println!("| full analysis (VADER, rules, classifier) with the message embedding already cached | {cached:.1} µs |");
    println!(
        "\nStart-up: parse the shipped classifier ({:.1} MB of JSON compiled in) | {load_ms:.0} ms |",
        concierge::sentiment::model::MODEL_JSON.len() as f64 / 1e6
    );
    Ok(())
}
