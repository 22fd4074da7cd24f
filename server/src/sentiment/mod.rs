//! Signals about how a conversation is going, and the escalation policy that turns them into
//! "a person should take over now". Pure functions over text, numbers and vectors: no I/O.
//!
//! - [`score`]: VADER sentiment per message (crate `vader-parity`, identical to Python
//!   vaderSentiment 3.3.2) and the conversation's mood, a trend over recent visitor turns.
//! - [`rules`]: precise keyword rules for the intents (asks for a person, files a complaint,
//!   legal or public threat, hacked account or fraud, a described problem, cancel/refund,
//!   urgency): what a server without the embedding model goes by.
//! - [`model`]: the shipped classifier (trained offline, loaded as data): the intents and how
//!   upset the visitor is, over the MiniLM embedding the knowledge base already uses (one
//!   embedding per message, shared with retrieval) joined with word and character n-grams
//!   ([`lexical`]).
//! - [`intents`]: intent names and scores; which intents only a person can act on.
//! - [`policy`]: [`EscalationPolicy`] (per site, owner-tunable) and [`decide`], which gives a
//!   decision (answer, answer and watch, hand over) with its [`reason`]s and a priority.
//! - [`review`]: which uncertain turns the site's language model is asked about (when the
//!   owner turns `llm_review` on), its prompt, and how its verdict changes the signals.

pub mod intents;
pub mod lexical;
pub mod model;
pub mod policy;
pub mod reason;
pub mod review;
pub mod rules;
pub mod score;

pub use intents::{Intent, IntentScores};
pub use model::EscalationModel;
pub use policy::{decide, Decision, EscalationPolicy, History, Outcome, Priority, Reason, Signals};
pub use score::{mood, support_sentiment, vader};

/// Everything the policy needs to know about one visitor message, computed without I/O from
/// its text and (when the model is available) its embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSignals {
    /// VADER compound score in [-1, 1].
    pub vader: f32,
    /// Sentiment in [-1, 1]: with the classifier see [`sentiment_of_negativity`]; without it
    /// VADER, pulled down by threat intents that carry no
    /// sentiment words ("I'll see you in court").
    pub sentiment: f32,
    pub intents: IntentScores,
}

/// Scores one message: the shipped classifier when an embedding and the model are given,
/// else VADER and the keyword rules. The rules for the intents a person must act on (asks for
/// a person, a legal threat, a hacked account) add to the classifier: they fire only on
/// unambiguous wording, and a missed one costs most.
pub fn analyze(
    text: &str,
    embedding: Option<&[f32]>,
    model: Option<&EscalationModel>,
) -> MessageSignals {
    let normalized = model::normalize(text);
    let vader = vader(&normalized);
    let rules = rules::match_rules(&normalized);
    let scored = match (embedding, model) {
        (Some(e), Some(m)) => m.score(&normalized, e, vader),
        _ => None,
    };
    let (intents, sentiment) = match scored {
        Some(s) => {
            let mut intents = s.intents;
            for i in [
                Intent::HumanRequest,
                Intent::LegalThreat,
                Intent::AccountSecurity,
            ] {
                intents.set(i, intents.get(i).max(rules.get(i)));
            }
            (intents, sentiment_of_negativity(s.negativity, vader))
        }
        None => (rules, sentiment_of(&normalized, vader, &rules)),
    };
    MessageSignals {
        vader,
        sentiment,
        intents,
    }
}

/// The sentiment of a message from the classifier's probability that the visitor is upset:
/// `1 - 2p` when upset is more likely than not (down to -1), otherwise VADER's positive part
/// scaled by how calm the message is, so a neutral question reads 0, not "very positive", and
/// does not dilute the mood of an upset conversation.
pub fn sentiment_of_negativity(p: f32, vader: f32) -> f32 {
    let calm = 1.0 - 2.0 * p;
    if calm <= 0.0 {
        calm
    } else {
        calm * vader.max(0.0)
    }
}

/// The sentiment of a message without the classifier, from its VADER score and intents.
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

        let s = analyze("I'll take you to court over this", None, None);
        assert!(s.intents.get(Intent::LegalThreat) >= 0.9);
        assert!(
            s.sentiment <= -0.4,
            "a threat pulls sentiment down: {}",
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
    fn the_classifiers_sentiment_is_negative_only_when_upset_is_likely() {
        assert_eq!(sentiment_of_negativity(1.0, 0.5), -1.0);
        assert!((sentiment_of_negativity(0.9, 0.3) + 0.8).abs() < 1e-6);
        assert_eq!(sentiment_of_negativity(0.5, -0.9), 0.0);
        // Calm: VADER's positive part, scaled; a neutral or VADER-negative calm text is 0.
        assert!((sentiment_of_negativity(0.1, 0.5) - 0.4).abs() < 1e-6);
        assert_eq!(sentiment_of_negativity(0.1, 0.0), 0.0);
        assert_eq!(sentiment_of_negativity(0.2, -0.6), 0.0);
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
