//! Leave-one-writer-out cross-validation of the shipped classifier: for each writer of the
//! training transcripts (`server/data/intent-training.jsonl`), train on the exemplar phrases
//! and every other writer's turns, then replay the held-out writer's conversations. The
//! dev transcripts, whose writer is in no training fold, are replayed by the classifier
//! trained on every writer. Each turn's signals are computed once per fold; the policies
//! swept are then pure decisions over them, so thousands can be compared.
//!
//! Two sweeps, ranked by the mean of the pooled every-turn and explicit F1 (as `calibrate`):
//! `escalate_on` × one `intent_threshold`, and per-intent thresholds (`intent_thresholds`)
//! on top of the default `escalate_on`. This chooses the intent settings without touching
//! the evaluation transcripts, on many writers' styles instead of one.

use std::collections::BTreeMap;

use anyhow::Result;
use concierge::escalation::triage::Triage;
use concierge::sentiment::intents::{exemplar_phrases, Scorer};
use concierge::sentiment::model::{
    training_examples_where, training_writers, writer_of, TRAINING_JSONL,
};
use concierge::sentiment::{decide, EscalationPolicy, History, Intent, Signals};

use crate::replay::Counts;
use crate::setup::setup;
use crate::{read_jsonl, Args, Turn};

/// The single intent thresholds tried.
const THRESHOLDS: [f32; 11] = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9];
/// The per-intent thresholds tried.
const PER_INTENT: [f32; 7] = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/// (`legal_threat` is rare: three thresholds.)
/// `cancel_refund`: not escalating, or escalating from these scores.
const CANCEL: [Option<f32>; 4] = [None, Some(0.7), Some(0.8), Some(0.9)];
/// Rows of the per-intent sweep printed.
const TOP: usize = 15;

fn f1(c: &Counts) -> f64 {
    c.prf().2
}

/// One held-out turn as the policy sees it.
struct Observed {
    signals: Signals,
    history: History,
    escalate: bool,
    explicit: bool,
}

/// (explicit, every-turn) counts of `policy` on one fold.
fn count(policy: &EscalationPolicy, fold: &[Observed]) -> (Counts, Counts) {
    let (mut explicit, mut every) = (Counts::default(), Counts::default());
    for o in fold {
        let d = decide(policy, &o.signals, &o.history);
        every.add(d.escalate, o.escalate);
        if o.explicit || !o.escalate {
            explicit.add(d.escalate, o.explicit);
        }
    }
    (explicit, every)
}

async fn observe(s: &crate::setup::Setup, turns: &[Turn]) -> Vec<Observed> {
    let mut triage = Triage::with_policy(&s.escalations, EscalationPolicy::default());
    let mut out = Vec::with_capacity(turns.len());
    for t in turns {
        let (signals, history) = triage.observe(&t.conversation_id, &t.text).await;
        out.push(Observed {
            signals,
            history,
            escalate: t.escalate,
            explicit: t
                .intents
                .iter()
                .any(|i| i == "human_request" || i == "complaint"),
        });
    }
    out
}

/// One swept policy's results: per fold (explicit, every turn), and the pooled figures.
struct Row {
    policy: EscalationPolicy,
    per_fold: Vec<(Counts, Counts)>,
    explicit: Counts,
    every: Counts,
}

impl Row {
    fn new(policy: EscalationPolicy, folds: &[Vec<Observed>]) -> Row {
        let per_fold: Vec<(Counts, Counts)> = folds.iter().map(|f| count(&policy, f)).collect();
        let (mut explicit, mut every) = (Counts::default(), Counts::default());
        for (e, a) in &per_fold {
            explicit.merge(e);
            every.merge(a);
        }
        Row {
            policy,
            per_fold,
            explicit,
            every,
        }
    }
    fn rank(&self) -> f64 {
        f1(&self.explicit) + f1(&self.every)
    }
    fn cells(&self) -> String {
        let per: Vec<String> = self
            .per_fold
            .iter()
            .map(|(e, _)| format!("{:.3}", f1(e)))
            .collect();
        let (p, r, f) = self.explicit.prf();
        format!(
            "{} | {:.3} | {p:.3} | {r:.3} | **{f:.3}** |",
            per.join(" | "),
            f1(&self.every)
        )
    }
}

fn thresholds_cell(policy: &EscalationPolicy) -> String {
    Intent::ALL
        .iter()
        .filter(|i| policy.escalate_on.contains(i))
        .map(|i| format!("{} {}", i.as_str(), policy.threshold(*i)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn cv(args: &Args) -> Result<()> {
    let turns: Vec<Turn> = TRAINING_JSONL
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut writers = training_writers();
    let mut folds: Vec<Vec<Observed>> = Vec::new();
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
        folds.push(observe(&s, &held).await);
    }
    // The dev transcripts' writer is held out of all training: the shipped classifier
    // (trained on every training writer) replays them as the last fold.
    let dev: Vec<Turn> = read_jsonl(&args.transcripts.join("dev.jsonl"))?;
    eprintln!("dev: the shipped classifier, replaying {} turns", dev.len());
    let s = setup(None).await?;
    folds.push(observe(&s, &dev).await);
    writers.push("dev".to_string());
    let n_train = writers.len() - 1;
    let header: Vec<String> = writers.iter().map(|w| format!("{w} explicit")).collect();
    let columns = format!(
        "{} | pooled every-turn F1 | pooled explicit P | pooled explicit R | pooled explicit F1 |",
        header.join(" | ")
    );
    let rule = format!("{}---|---|---|---|", "---|".repeat(writers.len()));

    // Sweep 1: escalate_on × one threshold.
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
    let mut rows: Vec<Row> = escalate_ons
        .iter()
        .flat_map(|on| {
            THRESHOLDS.iter().map(|&intent_threshold| EscalationPolicy {
                escalate_on: on.clone(),
                intent_threshold,
                ..EscalationPolicy::default()
            })
        })
        .map(|p| Row::new(p, &folds))
        .collect();
    rows.sort_by(|a, b| b.rank().total_cmp(&a.rank()));
    println!(
        "Leave-one-writer-out over {} writers (the {n_train} training writers, and dev replayed by \
         the classifier trained on all of them), default policy but `escalate_on` and one \
         `intent_threshold`; explicit = hand-off/complaint turns vs calm turns. Ranked by the \
         mean of the pooled every-turn and explicit F1 (as `calibrate`):\n",
        writers.len()
    );
    println!("| escalate_on | intent_threshold | {columns}");
    println!("|---|---|{rule}");
    for row in &rows {
        let on: Vec<&str> = row.policy.escalate_on.iter().map(|i| i.as_str()).collect();
        println!(
            "| {} | {} | {}",
            on.join(" "),
            row.policy.intent_threshold,
            row.cells()
        );
    }

    // Sweep 2: a threshold per escalating intent (cancel_refund optionally escalating).
    let default = EscalationPolicy::default();
    let mut rows: Vec<Row> = Vec::new();
    for cancel in CANCEL {
        for &h in &PER_INTENT {
            for &c in &PER_INTENT {
                for l in [0.3, 0.5, 0.7] {
                    for &u in &PER_INTENT {
                        let mut thresholds = BTreeMap::from([
                            (Intent::HumanRequest, h),
                            (Intent::Complaint, c),
                            (Intent::LegalThreat, l),
                            (Intent::Urgency, u),
                        ]);
                        let mut escalate_on = default.escalate_on.clone();
                        if let Some(x) = cancel {
                            thresholds.insert(Intent::CancelRefund, x);
                            escalate_on.push(Intent::CancelRefund);
                        }
                        let policy = EscalationPolicy {
                            escalate_on,
                            intent_thresholds: thresholds,
                            ..default.clone()
                        };
                        rows.push(Row::new(policy, &folds));
                    }
                }
            }
        }
    }
    let swept = rows.len();
    rows.sort_by(|a, b| b.rank().total_cmp(&a.rank()));
    let shipped = Row::new(default.clone(), &folds);
    println!(
        "\nPer-intent thresholds ({swept} settings; `intent_thresholds`, escalate_on = the \
         default, plus cancel_refund where it has a threshold). The {TOP} best, then the \
         shipped policy:\n"
    );
    println!("| thresholds | {columns}");
    println!("|---|{rule}");
    for row in rows.iter().take(TOP) {
        println!("| {} | {}", thresholds_cell(&row.policy), row.cells());
    }
    println!(
        "| shipped: {} | {}",
        thresholds_cell(&default),
        shipped.cells()
    );
    Ok(())
}
