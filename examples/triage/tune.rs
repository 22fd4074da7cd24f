//! `tune`: chooses the policy's mood thresholds on the first half of the TweetSumm dialogs
//! (`train::first_half` of the dialog id) and reports the two measures, as
//! `../shared/eval-dev/escalation/score.py` computes them, on the other halves, which nothing
//! was chosen on.
//!
//! - TweetSumm: each dialog's customer turns in order as one conversation; escalated when any
//!   turn escalates. Share of the dialogs annotators marked negative that escalate, and of
//!   the others.
//! - Bitext: each request alone; escalate = asks for a person or to file a complaint.

use std::collections::BTreeMap;

use anyhow::Result;
use concierge::escalation::triage::Triage;
use concierge::sentiment::{decide, EscalationPolicy, History, Signals};
use serde::Deserialize;

use crate::read_jsonl;
use crate::setup::setup_for;
use crate::train::{first_half, Bitext};
use crate::Args;

#[derive(Deserialize)]
struct Dialog {
    dialog_id: String,
    /// 0 or 1.
    is_negative: u8,
    turns: Vec<DialogTurn>,
}

#[derive(Deserialize)]
struct DialogTurn {
    speaker: String,
    text: String,
}

/// One dialog's customer turns as the policy sees them (no knowledge base: no failures).
struct Observed {
    negative: bool,
    first_half: bool,
    turns: Vec<(Signals, History)>,
}

/// Shares escalated `(of the positives, of the others, positives, others)` from
/// `(positive, escalated)` pairs.
fn shares(items: impl Iterator<Item = (bool, bool)>) -> (f64, f64, usize, usize) {
    // [others, positives] x [count, escalated]
    let mut n = [[0usize; 2]; 2];
    for (positive, escalated) in items {
        let row = &mut n[usize::from(positive)];
        row[0] += 1;
        row[1] += usize::from(escalated);
    }
    let share = |r: [usize; 2]| r[1] as f64 / r[0].max(1) as f64;
    (share(n[1]), share(n[0]), n[1][0], n[0][0])
}

/// TweetSumm: escalated shares of the negative dialogs and of the others under `policy`, for
/// one half or both (a dialog escalates when any customer turn does).
fn tweetsumm_rates(
    dialogs: &[Observed],
    policy: &EscalationPolicy,
    half: Option<bool>,
) -> (f64, f64, usize, usize) {
    shares(
        dialogs
            .iter()
            .filter(|d| half.is_none_or(|h| d.first_half == h))
            .map(|d| {
                let escalated = d
                    .turns
                    .iter()
                    .any(|(s, h)| decide(policy, s, h).escalates());
                (d.negative, escalated)
            }),
    )
}

/// The default policy with the two mood thresholds the grid varies.
fn mood_policy(negative_message: f32, negative_mood: f32) -> EscalationPolicy {
    EscalationPolicy {
        negative_message,
        negative_mood,
        ..EscalationPolicy::default()
    }
}

/// Bitext: recall on "escalate" and the share of other requests escalated under `policy`.
fn bitext_rates(
    rows: &[(bool, bool, Signals)],
    policy: &EscalationPolicy,
    half: Option<bool>,
) -> (f64, f64, usize, usize) {
    shares(
        rows.iter()
            .filter(|r| half.is_none_or(|h| r.0 == h))
            .map(|(_, gold, s)| (*gold, decide(policy, s, &History::default()).escalates())),
    )
}

pub async fn tune(args: &Args) -> Result<()> {
    let s = setup_for(args).await?;
    let started = std::time::Instant::now();
    let raw: Vec<Dialog> = read_jsonl(&args.escalation_data.join("tweetsumm_train_dialogs.jsonl"))?;
    let mut triage = Triage::with_policy(&s.escalations, EscalationPolicy::default());
    let mut dialogs = Vec::new();
    for d in &raw {
        let mut turns = Vec::new();
        for t in d.turns.iter().filter(|t| t.speaker == "customer") {
            turns.push(triage.observe(&d.dialog_id, &t.text).await);
        }
        dialogs.push(Observed {
            negative: d.is_negative != 0,
            first_half: first_half(&d.dialog_id),
            turns,
        });
    }
    let bitext: Vec<Bitext> = read_jsonl(&args.escalation_data.join("bitext_dev.jsonl"))?;
    let mut requests = Vec::new();
    for b in &bitext {
        let (signals, _) = s.escalations.analyze(&b.text).await;
        requests.push((
            first_half(&b.id),
            b.escalation_label == "escalate",
            Signals {
                message: signals,
                explicit_request: false,
                repeated_question: false,
            },
        ));
    }
    eprintln!(
        "scored {} dialogs and {} requests in {:.0} s",
        dialogs.len(),
        requests.len(),
        started.elapsed().as_secs_f64()
    );

    // The grid: one very negative message, and the mood over two or more turns. Chosen: the
    // most negative dialogs escalated on the first half with at most `MAX_OTHERS` of the
    // others (the goal's bound).
    const MAX_OTHERS: f64 = 0.20;
    let mut grid = Vec::new();
    for m in (0..=20).map(|i| -0.8 - 0.01 * i as f32) {
        for mood in (0..=16).map(|i| -0.3 - 0.025 * i as f32).chain([-1.0]) {
            let policy = mood_policy(m, mood);
            let (neg, oth, _, _) = tweetsumm_rates(&dialogs, &policy, Some(true));
            grid.push((neg, oth, m, mood));
        }
    }
    grid.sort_by(|a, b| {
        (b.1 <= MAX_OTHERS)
            .cmp(&(a.1 <= MAX_OTHERS))
            .then(b.0.total_cmp(&a.0))
            .then(a.1.total_cmp(&b.1))
    });
    println!("## TweetSumm, first half: mood thresholds (best 10 of the grid)\n");
    println!("| negative_message | negative_mood | negative dialogs escalated | others escalated | second half: negative | second half: others |");
    println!("|---|---|---|---|---|---|");
    for (neg, oth, m, mood) in grid.iter().take(10) {
        let policy = mood_policy(*m, *mood);
        let (bn, bo, _, _) = tweetsumm_rates(&dialogs, &policy, Some(false));
        println!("| {m:.2} | {mood:.3} | {neg:.3} | {oth:.3} | {bn:.3} | {bo:.3} |");
    }
    let (_, _, m, mood) = grid[0];
    // How well the classifier separates the dialogs at all, for comparing classifiers (not
    // for choosing thresholds): each part's best share of negative dialogs escalated over the
    // same grid with at most `MAX_OTHERS` of its others, the thresholds chosen on that part.
    println!("\nSeparability (each part's own best grid point with others <= {MAX_OTHERS}):\n");
    println!("| part | negative dialogs escalated | others | at |\n|---|---|---|---|");
    for (name, half) in [
        ("first half", Some(true)),
        ("second half", Some(false)),
        ("all", None),
    ] {
        let best = grid
            .iter()
            .map(|&(_, _, m, mood)| {
                let policy = mood_policy(m, mood);
                let (neg, oth, _, _) = tweetsumm_rates(&dialogs, &policy, half);
                (neg, oth, m, mood)
            })
            .filter(|g| g.1 <= MAX_OTHERS)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        if let Some((neg, oth, m, mood)) = best {
            println!("| {name} | {neg:.3} | {oth:.3} | {m:.2} / {mood:.3} |");
        }
    }
    let default = EscalationPolicy::default();
    println!(
        "\nChosen: negative_message {m}, negative_mood {mood} (the defaults are {}, {}).\n",
        default.negative_message, default.negative_mood
    );

    println!("## The measures with the default policy\n");
    println!("| data | part | escalate (goal) | others escalated (goal) |");
    println!("|---|---|---|---|");
    for (name, half) in [
        ("second half (held out)", Some(false)),
        ("first half (tuned on)", Some(true)),
        ("all", None),
    ] {
        let (neg, oth, nn, on) = tweetsumm_rates(&dialogs, &default, half);
        println!(
            "| TweetSumm train dialogs | {name}: {nn} negative, {on} others | {neg:.3} (>= 0.70) | {oth:.3} (<= 0.20) |"
        );
    }
    for (name, half) in [
        ("second half (held out)", Some(false)),
        ("first half (trained on)", Some(true)),
        ("all", None),
    ] {
        let (r, o, pn, on) = bitext_rates(&requests, &default, half);
        println!(
            "| Bitext dev requests | {name}: {pn} escalate, {on} others | {r:.3} (>= 0.97) | {o:.3} (<= 0.03) |"
        );
    }
    // What escalates the TweetSumm dialogs: the first escalating turn's first reason, and
    // whether it was the dialog's first customer turn, for the negative dialogs and the others.
    let mut why: BTreeMap<(String, bool), [usize; 2]> = BTreeMap::new();
    for d in &dialogs {
        let first = d
            .turns
            .iter()
            .enumerate()
            .map(|(i, (s, h))| (i, decide(&default, s, h)))
            .find(|(_, decision)| decision.escalates());
        if let Some((i, decision)) = first {
            let reason = decision
                .reasons
                .first()
                .map_or("(none)", |r| r.as_str())
                .to_string();
            why.entry((reason, i == 0)).or_default()[usize::from(!d.negative)] += 1;
        }
    }
    println!("\nTweetSumm (all), what escalates a dialog first:\n");
    println!("| reason | at the first customer turn | negative dialogs | other dialogs |\n|---|---|---|---|");
    for ((reason, at_first), [neg, oth]) in &why {
        println!(
            "| {reason} | {} | {neg} | {oth} |",
            if *at_first { "yes" } else { "no" }
        );
    }
    // Which Bitext intents escalate wrongly, on the held-out half.
    let mut by_intent: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (b, (first, _, s)) in bitext.iter().zip(&requests) {
        if *first {
            continue;
        }
        let e = by_intent.entry(b.intent.as_str()).or_default();
        e.1 += 1;
        e.0 += usize::from(decide(&default, s, &History::default()).escalates());
    }
    println!("\nBitext second half, escalated share by intent:\n");
    println!("| intent | escalated | of |\n|---|---|---|");
    for (intent, (e, n)) in by_intent {
        println!("| {intent} | {:.3} | {n} |", e as f64 / n.max(1) as f64);
    }
    Ok(())
}
