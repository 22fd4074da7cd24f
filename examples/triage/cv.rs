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
use crate::{read_jsonl, Args, Turn};

/// The intent thresholds tried.
const THRESHOLDS: [f32; 11] = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];

fn f1(c: &Counts) -> f64 {
    c.prf().2
}

pub async fn cv(args: &Args) -> Result<()> {
    let turns: Vec<Turn> = TRAINING_JSONL
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let writers = training_writers();
    use concierge::sentiment::Intent;
    let base = vec![Intent::HumanRequest, Intent::Complaint, Intent::LegalThreat];
    let with = |extra: &[Intent]| {
        let mut v = base.clone();
        v.extend_from_slice(extra);
        v
    };
    let escalate_ons = [
        with(&[Intent::CancelRefund, Intent::Urgency]),
        with(&[Intent::Urgency]),
        with(&[Intent::CancelRefund]),
        base.clone(),
    ];
    let policies: Vec<EscalationPolicy> = escalate_ons
        .iter()
        .flat_map(|on| {
            THRESHOLDS.iter().map(|&intent_threshold| EscalationPolicy {
                escalate_on: on.clone(),
                intent_threshold,
                ..EscalationPolicy::default()
            })
        })
        .collect();
    // [policy] -> per-writer (explicit, every turn) counts.
    let mut results: Vec<Vec<(Counts, Counts)>> = vec![Vec::new(); policies.len()];
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
        for (i, policy) in policies.iter().enumerate() {
            let r = replay(&s.escalations, policy, &held, true).await;
            results[i].push((r.explicit, r.escalate));
        }
    }
    // The dev transcripts' writer is held out of all training: the shipped classifier
    // (trained on every training writer) replays them as a ninth fold.
    let dev: Vec<Turn> = read_jsonl(&args.transcripts.join("dev.jsonl"))?;
    eprintln!("dev: the shipped classifier, replaying {} turns", dev.len());
    let s = setup(None).await?;
    for (i, policy) in policies.iter().enumerate() {
        let r = replay(&s.escalations, policy, &dev, true).await;
        results[i].push((r.explicit, r.escalate));
    }
    let mut writers = writers;
    writers.push("dev".to_string());
    println!(
        "Leave-one-writer-out over {} writers (the eight training writers, and dev replayed by the classifier trained on all eight), default policy but `escalate_on` and \
         `intent_threshold`; explicit = hand-off/complaint turns vs calm turns. Ranked by the \
         mean of the pooled every-turn and explicit F1 (as `calibrate`):\n",
        writers.len()
    );
    let header: Vec<String> = writers.iter().map(|w| format!("{w} explicit")).collect();
    println!(
        "| escalate_on | intent_threshold | {} | pooled every-turn F1 | pooled explicit P | pooled explicit R | pooled explicit F1 |",
        header.join(" | ")
    );
    println!("|---|---|{}---|---|---|---|", "---|".repeat(writers.len()));
    let mut rows: Vec<(f64, String)> = Vec::new();
    for (i, policy) in policies.iter().enumerate() {
        let per: Vec<String> = results[i]
            .iter()
            .map(|(e, _)| format!("{:.3}", f1(e)))
            .collect();
        let (mut explicit, mut every) = (Counts::default(), Counts::default());
        for (e, a) in &results[i] {
            explicit.merge(e);
            every.merge(a);
        }
        let (p, r, f) = explicit.prf();
        let on: Vec<&str> = policy.escalate_on.iter().map(|i| i.as_str()).collect();
        rows.push((
            f + f1(&every),
            format!(
                "| {} | {} | {} | {:.3} | {p:.3} | {r:.3} | **{f:.3}** |",
                on.join(" "),
                policy.intent_threshold,
                per.join(" | "),
                f1(&every)
            ),
        ));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, row) in rows {
        println!("{row}");
    }
    Ok(())
}
