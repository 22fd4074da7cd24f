//! Leave-one-writer-out cross-validation of the shipped classifier: for each writer of the
//! training transcripts (`server/data/intent-training.jsonl`), train on the exemplar phrases
//! and every other writer's turns, then replay the held-out writer's conversations through
//! the default policy at each intent threshold. Chooses `intent_threshold` without touching
//! the evaluation transcripts, on eight writers' styles instead of one.

use anyhow::Result;
use concierge::sentiment::intents::{exemplar_phrases, Scorer};
use concierge::sentiment::model::{
    training_examples_where, training_writers, writer_of, TRAINING_JSONL,
};
use concierge::sentiment::EscalationPolicy;

use crate::replay::{replay, Counts};
use crate::setup::setup;
use crate::Turn;

/// The intent thresholds tried.
const THRESHOLDS: [f32; 9] = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

fn f1(c: &Counts) -> f64 {
    c.prf().2
}

pub async fn cv() -> Result<()> {
    let turns: Vec<Turn> = TRAINING_JSONL
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let writers = training_writers();
    // [threshold] -> per-writer (explicit, every turn) counts.
    let mut results: Vec<Vec<(Counts, Counts)>> = vec![Vec::new(); THRESHOLDS.len()];
    for writer in &writers {
        let phrases =
            training_examples_where(exemplar_phrases(), |c| writer_of(c) != writer.as_str());
        let held: Vec<Turn> = turns
            .iter()
            .filter(|t| writer_of(&t.conversation_id) == writer.as_str())
            .cloned()
            .collect();
        eprintln!(
            "{writer}: training on {} texts, replaying {} held-out turns",
            phrases.len(),
            held.len()
        );
        let s = setup(Some((phrases, Scorer::Model))).await?;
        for (i, &intent_threshold) in THRESHOLDS.iter().enumerate() {
            let policy = EscalationPolicy {
                intent_threshold,
                ..EscalationPolicy::default()
            };
            let r = replay(&s.escalations, &policy, &held, true).await;
            results[i].push((r.explicit, r.escalate));
        }
    }
    println!(
        "Leave-one-writer-out, default policy but intent_threshold ({} writers; explicit = \
         hand-off/complaint turns vs calm turns):\n",
        writers.len()
    );
    let header: Vec<String> = writers.iter().map(|w| format!("{w} explicit")).collect();
    println!(
        "| intent_threshold | {} | mean explicit F1 | pooled explicit P | pooled explicit R | pooled explicit F1 | pooled every-turn F1 |",
        header.join(" | ")
    );
    println!("|---|{}---|---|---|---|---|", "---|".repeat(writers.len()));
    for (i, t) in THRESHOLDS.iter().enumerate() {
        let per: Vec<String> = results[i]
            .iter()
            .map(|(e, _)| format!("{:.3}", f1(e)))
            .collect();
        let mean = results[i].iter().map(|(e, _)| f1(e)).sum::<f64>() / writers.len() as f64;
        let (mut explicit, mut every) = (Counts::default(), Counts::default());
        for (e, a) in &results[i] {
            explicit.merge(e);
            every.merge(a);
        }
        let (p, r, f) = explicit.prf();
        println!(
            "| {t} | {} | {mean:.3} | {p:.3} | {r:.3} | **{f:.3}** | {:.3} |",
            per.join(" | "),
            f1(&every)
        );
    }
    Ok(())
}
