//! Replays labelled transcripts through the policy and counts the verdicts.

use concierge::escalation::triage::Triage;
use concierge::escalation::Escalations;
use concierge::sentiment::{analyze, decide, EscalationPolicy, History, Signals};

use crate::Turn;

#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
    /// Turns counted.
    pub n: u32,
}

impl Counts {
    pub fn add(&mut self, predicted: bool, gold: bool) {
        self.n += 1;
        match (predicted, gold) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            _ => {}
        }
    }
    pub fn prf(&self) -> (f64, f64, f64) {
        let p = self.tp as f64 / (self.tp + self.fp).max(1) as f64;
        let r = self.tp as f64 / (self.tp + self.fn_).max(1) as f64;
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }
    /// A row with the recall alone (the counts hold positives only).
    pub fn recall_row(&self, what: &str, scorer: &str) -> String {
        format!(
            "| {what} ({} of {}) | {scorer} | – | {:.3} | – |",
            self.tp,
            self.n,
            self.prf().1
        )
    }
    pub fn row(&self, name: &str) -> String {
        let (p, r, f) = self.prf();
        format!("| {name} | {p:.3} | {r:.3} | **{f:.3}** |")
    }
}

/// Counts of one replay.
#[derive(Default, Clone, Copy)]
pub struct Replay {
    /// Every turn.
    pub escalate: Counts,
    pub negative: Counts,
    /// Turns labelled as explicit hand-off requests or complaints, against calm turns.
    pub explicit: Counts,
    /// `human_request` turns only (their recall: every calm turn is in `explicit` already).
    pub handoff: Counts,
    /// `complaint` turns only (their recall).
    pub complaint: Counts,
    /// Turns the bot would still be handling live (not already escalated earlier).
    pub live: Counts,
    /// Per conversation: escalated at some turn, against "some turn is labelled escalate".
    pub conversations: Counts,
    /// Conversations escalated by both, and of those escalated no later than the first
    /// labelled turn.
    pub on_time: (u32, u32),
    /// Turns the LLM reviewed, and of those how many got no verdict.
    pub reviews: (u32, u32),
}

/// Replays transcripts through the policy.
pub async fn replay(
    escalations: &Escalations,
    policy: &EscalationPolicy,
    turns: &[Turn],
    use_embeddings: bool,
) -> Replay {
    let mut triage = Triage::with_policy(escalations, policy.clone());
    let mut r = Replay::default();
    // conversation -> (turn index, first gold escalation, first predicted escalation)
    let mut convs: std::collections::BTreeMap<&str, (usize, Option<usize>, Option<usize>)> =
        std::collections::BTreeMap::new();
    for t in turns {
        let (escalate, negative, already) = if use_embeddings {
            let out = triage.turn(&t.conversation_id, &t.text).await;
            if let Some(path) = std::env::var_os("TRIAGE_DUMP") {
                use std::io::Write;
                let line = serde_json::json!({"gold_escalate": t.escalate, "gold_negative": t.negative,
                    "gold_intents": t.intents, "text": t.text, "out": out});
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = writeln!(f, "{line}");
                }
            }
            if let Some(v) = out["llm_review"].as_str() {
                r.reviews.0 += 1;
                if matches!(v, "timeout" | "error" | "unreadable") {
                    r.reviews.1 += 1;
                }
            }
            (
                out["escalate"] == true,
                out["negative"] == true,
                out["already_escalated"] == true,
            )
        } else {
            // Rules and VADER only, one turn at a time with no history.
            let s = analyze(&t.text, None, None);
            let d = decide(
                policy,
                &Signals {
                    message: s,
                    explicit_request: false,
                    repeated_question: false,
                },
                &History::default(),
            );
            (d.escalates(), d.negative, false)
        };
        r.escalate.add(escalate, t.escalate);
        r.negative.add(negative, t.negative);
        let has = |name: &str| t.intents.iter().any(|i| i == name);
        let is_explicit = has("human_request") || has("complaint");
        if is_explicit || !t.escalate {
            r.explicit.add(escalate, is_explicit);
        }
        if has("human_request") {
            r.handoff.add(escalate, true);
        }
        if has("complaint") {
            r.complaint.add(escalate, true);
        }
        if !already {
            r.live.add(escalate, t.escalate);
        }
        let c = convs.entry(t.conversation_id.as_str()).or_default();
        if t.escalate && c.1.is_none() {
            c.1 = Some(c.0);
        }
        if escalate && c.2.is_none() {
            c.2 = Some(c.0);
        }
        c.0 += 1;
    }
    for (_, gold, predicted) in convs.values() {
        r.conversations.add(predicted.is_some(), gold.is_some());
        if let (Some(g), Some(p)) = (gold, predicted) {
            r.on_time.1 += 1;
            if p <= g {
                r.on_time.0 += 1;
            }
        }
    }
    r
}

pub fn vader_counts(turns: &[Turn], threshold: f32) -> (Counts, Counts) {
    let (mut esc, mut neg) = (Counts::default(), Counts::default());
    for t in turns {
        let v = concierge::sentiment::vader(&t.text) <= threshold;
        esc.add(v, t.escalate);
        neg.add(v, t.negative);
    }
    (esc, neg)
}
