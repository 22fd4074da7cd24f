//! Signals about how a conversation is going, and the escalation policy that turns them into
//! "a person should take over now". Pure functions over text, numbers and vectors: no I/O.
//!
//! - [`score`]: VADER sentiment per message (crate `vader-parity`, identical to Python
//!   vaderSentiment 3.3.2) and the conversation's mood, a trend over recent visitor turns.
//! - [`rules`]: precise keyword rules for the intents VADER cannot see (asks for a person,
//!   complaint, cancel/refund, legal or public threat, urgency).
//! - [`model`]: the same intents by a classifier trained on labelled phrases and visitor turns,
//!   over the MiniLM embedding the knowledge base already uses (one embedding per message,
//!   shared with retrieval) joined with word and character n-grams ([`lexical`]).
//! - [`intents`]: intent names and scores, and the earlier scorers kept for comparison
//!   ([`vote`]: nearest-exemplar vote, [`linear`]: regression on the embedding alone).
//! - [`policy`]: [`EscalationPolicy`] (per site, owner-tunable) and [`decide`], which gives a
//!   decision with its reasons and a priority.
//! - [`review`]: which uncertain turns the site's language model is asked about (when the
//!   owner turns `llm_review` on), its prompt, and how its verdict changes the signals.

pub mod intents;
pub mod lexical;
pub mod linear;
pub mod model;
pub mod policy;
pub mod review;
pub mod rules;
pub mod score;
pub mod vote;

pub use intents::{ExemplarSet, Intent, IntentScores};
pub use policy::{decide, Decision, EscalationPolicy, History, Priority, Reason, Signals};
pub use score::{mood, support_sentiment, vader};

/// Everything the policy needs to know about one visitor message, computed without I/O from
/// its text and (when the model is available) its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSignals {
    /// VADER compound score in [-1, 1].
    pub vader: f32,
    /// Support-adjusted sentiment in [-1, 1]: VADER, pulled down by complaint and threat
    /// intents that carry no sentiment words ("I was charged twice").
    pub sentiment: f32,
    pub intents: IntentScores,
}

/// Scores one message: VADER, rules, and the intent classifier when an embedding is given.
pub fn analyze(
    text: &str,
    embedding: Option<&[f32]>,
    exemplars: Option<&ExemplarSet>,
) -> MessageSignals {
    let vader = vader(text);
    let mut intents = rules::match_rules(text);
    if let (Some(e), Some(set)) = (embedding, exemplars) {
        intents.merge_max(&set.classify(text, e));
    }
    let sentiment = sentiment_of(text, vader, &intents);
    MessageSignals {
        vader,
        sentiment,
        intents,
    }
}

/// The support-adjusted sentiment of a message from its VADER score and intents.
fn sentiment_of(text: &str, vader: f32, intents: &IntentScores) -> f32 {
    let mut sentiment = support_sentiment(vader, intents);
    // A calm question about a grim topic is not an unhappy visitor, unless an intent says so.
    if sentiment < 0.0 && intents.max() < 0.5 && score::calm_question(text) {
        sentiment *= score::QUESTION_DAMPING;
    }
    sentiment
}

/// Cosine similarity of two vectors (0 for empty or zero vectors).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    dot / (na.sqrt() * nb.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_alone_see_what_vader_misses() {
        let s = analyze("can I talk to a real person", None, None);
        assert!(s.vader.abs() < 0.05, "VADER sees no sentiment: {}", s.vader);
        assert!(s.intents.get(Intent::HumanRequest) >= 0.9);

        let s = analyze("I was charged twice this month", None, None);
        assert!(s.intents.get(Intent::Complaint) >= 0.9);
        assert!(
            s.sentiment <= -0.4,
            "complaint pulls sentiment down: {}",
            s.sentiment
        );

        // A grim topic asked about calmly is not anger; the same words shouted are.
        let calm = analyze("Who is at higher risk of severe illness?", None, None);
        assert!(calm.vader < -0.5 && calm.sentiment > -0.35, "{calm:?}");
        let loud = analyze("WHO IS AT HIGHER RISK OF SEVERE ILLNESS??", None, None);
        assert_eq!(loud.sentiment, loud.vader);

        let s = analyze("How do I reset my password?", None, None);
        assert_eq!(s.intents.max(), 0.0);
        assert_eq!(s.sentiment, s.vader);
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-6);
        assert_eq!(cosine(&[], &[]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }
}
