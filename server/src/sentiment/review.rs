//! A second opinion on the turns the intent classifier is unsure about, from the site's
//! language model (`EscalationPolicy::llm_review`). Pure parts only: which turns go to the
//! model, the prompt, reading its answer, and how its verdict changes the signals. The call
//! itself is in `escalation::review`.
//!
//! Why: the classifier reads one message at a time with a small sentence model, so the
//! turns it gets wrong are mostly judgement calls a reader settles from context ("WHERE IS
//! THE TRUCK" after a missed delivery slot, a complaint stated as a bare fact, sarcasm).
//! Those sit in the middle of its score range; a model that reads the conversation decides
//! them, and every other turn keeps the microsecond decision.

use super::intents::Intent;
use super::policy::{decide, EscalationPolicy, History, Signals};

/// What the reviewer said about a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A person should take over now, for this reason.
    Escalate(Intent),
    /// The bot can keep handling it.
    Calm,
}

impl Verdict {
    /// The word the model answers with and `concierge triage` reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Escalate(Intent::HumanRequest) => "human",
            Verdict::Escalate(Intent::Complaint) => "complaint",
            Verdict::Escalate(Intent::LegalThreat) => "legal",
            Verdict::Escalate(Intent::Urgency) => "urgent",
            Verdict::Escalate(Intent::CancelRefund) => "refund",
            Verdict::Escalate(Intent::AccountSecurity) => "security",
            Verdict::Escalate(Intent::Problem) => "problem",
            Verdict::Calm => "none",
        }
    }
}

/// The escalating intents' combined score: where the classifier stands on "escalate".
pub fn escalation_mass(policy: &EscalationPolicy, signals: &Signals) -> f32 {
    policy
        .escalate_on
        .iter()
        .map(|i| signals.message.intents.get(*i))
        .sum::<f32>()
        .min(1.0)
}

/// The signals as the reviewer's verdict leaves them: a calm turn loses its escalating
/// intents; an escalating one gets its intent at full score (the others stay, they set the
/// priority). The sentiment follows the intents as it does in `analyze`.
pub fn reviewed(
    policy: &EscalationPolicy,
    signals: &Signals,
    text: &str,
    verdict: Verdict,
) -> Signals {
    let mut out = signals.clone();
    match verdict {
        Verdict::Calm => {
            for i in &policy.escalate_on {
                out.message.intents.set(*i, 0.0);
            }
        }
        Verdict::Escalate(i) => out.message.intents.set(i, 1.0),
    }
    out.message.sentiment = super::sentiment_of(text, out.message.vader, &out.message.intents);
    out
}

/// Whether this turn goes to the reviewer: the review is on, the classifier's escalation
/// score is inside the policy's band, and the verdict could change the outcome (a turn that
/// escalates anyway, on a request for a person, the mood, failures or a repeat, or that
/// cannot escalate, e.g. in the cool-down, is not worth a model call).
pub fn needs_review(
    policy: &EscalationPolicy,
    signals: &Signals,
    text: &str,
    history: &History,
) -> bool {
    if !policy.llm_review || signals.explicit_request {
        return false;
    }
    let mass = escalation_mass(policy, signals);
    let [lo, hi] = policy.llm_review_band;
    if !(lo..hi).contains(&mass) {
        return false;
    }
    let strongest = policy
        .escalate_on
        .iter()
        .copied()
        .max_by(|a, b| {
            signals
                .message
                .intents
                .get(*a)
                .total_cmp(&signals.message.intents.get(*b))
        })
        .unwrap_or(Intent::Complaint);
    let calm = decide(
        policy,
        &reviewed(policy, signals, text, Verdict::Calm),
        history,
    );
    let escalated = decide(
        policy,
        &reviewed(policy, signals, text, Verdict::Escalate(strongest)),
        history,
    );
    calm.escalates() != escalated.escalates()
}

/// How the reviewer is told what to decide (the labelling rules our evaluation transcripts
/// follow, shortened).
pub const REVIEW_SYSTEM: &str = "You triage a website's support chat. A bot answers the \
visitor; you decide whether a human agent must take over now because of the visitor's LATEST \
message, read in the context of their earlier messages. Answer with exactly one word:\n\
human - they ask for a person, agent, manager or a team, want to be put through now, or chase \
a hand-off they asked for (\"hello?? still waiting\"); polite or indirect requests count.\n\
complaint - they ask to file or lodge a formal complaint.\n\
legal - they threaten a lawyer, legal action, a chargeback or dispute, a regulator or going \
public.\n\
security - their account was hacked or taken over, or there is a charge or order they did not \
make, or fraud.\n\
none - anything the bot can try first: how-to and policy questions, problems described (a \
late parcel, an error message, a wrong charge), even when annoyed, contact details or opening \
hours, details they were asked for, thanks, greetings, a request to cancel or return, innocent \
uses of words like agent, complaint or lawyer.";

/// The user message: the visitor's earlier turns (oldest first, at most `max_earlier`) and
/// the latest one.
pub fn review_prompt(earlier: &[&str], latest: &str, max_earlier: usize) -> String {
    let skip = earlier.len().saturating_sub(max_earlier);
    let mut out = String::new();
    if earlier.len() > skip {
        out.push_str("Earlier visitor messages:\n");
        for t in &earlier[skip..] {
            out.push_str("- ");
            out.push_str(&one_line(t, 400));
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("LATEST visitor message:\n");
    out.push_str(&one_line(latest, 1200));
    out.push_str("\n\nAnswer (human, complaint, legal, urgent or none):");
    out
}

fn one_line(text: &str, max_chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect();
    flat.trim().to_string()
}

/// Reads the model's answer: the one verdict its words name (any case, with or without
/// punctuation or a sentence around it). None when it names none, or more than one (a model
/// that repeats the rubric back has not decided).
pub fn parse_verdict(answer: &str) -> Option<Verdict> {
    // Reasoning models may think aloud first; only what follows counts.
    let answer = answer.rsplit("</think>").next().unwrap_or(answer);
    let mut named = answer
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(|w| match w.to_lowercase().as_str() {
            "human" | "person" | "agent" => Some(Verdict::Escalate(Intent::HumanRequest)),
            "complaint" => Some(Verdict::Escalate(Intent::Complaint)),
            "legal" => Some(Verdict::Escalate(Intent::LegalThreat)),
            "urgent" | "urgency" => Some(Verdict::Escalate(Intent::Urgency)),
            "security" | "fraud" | "hacked" => Some(Verdict::Escalate(Intent::AccountSecurity)),
            "none" => Some(Verdict::Calm),
            _ => None,
        });
    let first = named.next()?;
    named.all(|v| v == first).then_some(first)
}

#[cfg(test)]
mod tests;
