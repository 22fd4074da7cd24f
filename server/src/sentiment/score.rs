//! Sentiment of a message and mood of a conversation.

use std::sync::OnceLock;

use vader_parity::SentimentIntensityAnalyzer;

use super::intents::{Intent, IntentScores};

fn analyzer() -> &'static SentimentIntensityAnalyzer {
    static ANALYZER: OnceLock<SentimentIntensityAnalyzer> = OnceLock::new();
    ANALYZER.get_or_init(SentimentIntensityAnalyzer::new)
}

/// VADER's compound score in [-1, 1] (negation, boosters, caps, punctuation, emoji).
pub fn vader(text: &str) -> f32 {
    analyzer().polarity_scores(text).compound as f32
}

/// The complaint or legal-threat score from which a message counts as negative whatever its
/// words.
pub const GRIEVANCE: f32 = 0.7;
/// ... and from which it overrides a positive VADER score (sarcasm: "great, charged twice").
/// Chosen on dev and the human-rated tweets and review snippets (docs/escalation.md): below
/// these the classifier's guesses turned many positive tweets negative.
pub const GRIEVANCE_OVER_POSITIVE: f32 = 0.9;

/// Sentiment for support text: VADER, except that a complaint or a threat counts as negative
/// even without sentiment words ("I was charged twice", "I'll see you in court"). The
/// stronger the intent, the lower the score (a rule match, 0.95, gives -0.57; a classifier
/// probability of 0.7 gives -0.42); VADER's own score wins when it is lower.
pub fn support_sentiment(vader: f32, intents: &IntentScores) -> f32 {
    let grievance = intents
        .get(Intent::Complaint)
        .max(intents.get(Intent::LegalThreat));
    if grievance < GRIEVANCE || (vader > 0.05 && grievance < GRIEVANCE_OVER_POSITIVE) {
        return vader;
    }
    vader.min(-(0.6 * grievance)).clamp(-1.0, 1.0)
}

/// How much of VADER's negativity an information-seeking question keeps: "Who is at risk of
/// severe illness?" is about a sad topic, not an upset visitor.
pub const QUESTION_DAMPING: f32 = 0.4;

/// Whether `text` is a calm information-seeking question: it opens with an interrogative
/// (not "why", which often carries frustration) or ends with one question mark, and it is
/// not shouted (mostly capitals) or piled with "??" / "!".
pub fn calm_question(text: &str) -> bool {
    let t = text.trim();
    let first = t
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_lowercase();
    const OPENERS: [&str; 24] = [
        "what", "how", "who", "when", "where", "which", "is", "are", "can", "could", "do", "does",
        "did", "should", "would", "will", "may", "might", "shall", "have", "has", "am", "was",
        "were",
    ];
    let asks = OPENERS.contains(&first.as_str()) || t.ends_with('?');
    let letters = t.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = t.chars().filter(|c| c.is_uppercase()).count();
    let shouted = letters >= 8 && capitals * 10 >= letters * 6;
    asks && !shouted && !t.contains("??") && !t.contains('!')
}

/// Weight of each older turn relative to the next newer one in [`mood`].
pub const MOOD_DECAY: f32 = 0.6;

/// The conversation's mood: an exponentially weighted mean of the last `window` visitor-turn
/// sentiments (oldest first in `turns`), so one neutral question after three angry messages
/// still reads as a bad mood, and one mild word does not. 0 for no turns.
pub fn mood(turns: &[f32], window: usize) -> f32 {
    let window = window.max(1);
    let recent = &turns[turns.len().saturating_sub(window)..];
    let (mut sum, mut weights, mut w) = (0.0f32, 0.0f32, 1.0f32);
    for s in recent.iter().rev() {
        sum += s * w;
        weights += w;
        w *= MOOD_DECAY;
    }
    if weights == 0.0 {
        0.0
    } else {
        sum / weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vader_matches_the_reference_on_its_demo_sentences() {
        // Python vaderSentiment 3.3.2's published demo outputs.
        let cases = [
            ("VADER is smart, handsome, and funny.", 0.8316),
            ("VADER is not smart, handsome, nor funny.", -0.7424),
            ("VADER is smart, handsome, and funny!", 0.8439),
            ("VADER is VERY SMART, handsome, and FUNNY.", 0.9227),
        ];
        for (text, want) in cases {
            assert!((vader(text) - want).abs() < 1e-4, "{text}: {}", vader(text));
        }
        assert_eq!(vader("How do I reset my password?"), 0.0);
    }

    #[test]
    fn vader_alone_underrates_support_anger() {
        let v = vader("This is the worst support ever. I want a refund NOW!!!");
        assert!(v > -0.7 && v < -0.3, "VADER gives {v}");
    }

    #[test]
    fn grievances_pull_sentiment_down_but_never_up() {
        let mut intents = IntentScores::default();
        assert_eq!(support_sentiment(0.3, &intents), 0.3);
        intents.set(Intent::Complaint, 0.9);
        let s = support_sentiment(0.3, &intents);
        assert!((s - -0.54).abs() < 1e-5, "{s}");
        assert_eq!(support_sentiment(-0.95, &intents), -0.95);
        intents.set(Intent::Complaint, 0.4);
        assert_eq!(support_sentiment(0.1, &intents), 0.1);
        // A likely complaint darkens a neutral message but needs near certainty to
        // overrule a positive one.
        intents.set(Intent::Complaint, 0.75);
        assert!((support_sentiment(0.0, &intents) - -0.45).abs() < 1e-5);
        assert_eq!(support_sentiment(0.5, &intents), 0.5);
    }

    #[test]
    fn mood_is_a_weighted_trend_not_the_last_message() {
        assert_eq!(mood(&[], 4), 0.0);
        assert_eq!(mood(&[-0.5], 4), -0.5);
        // Three angry turns then a neutral question: still a bad mood.
        let m = mood(&[-0.8, -0.7, -0.9, 0.0], 4);
        assert!(m < -0.35, "{m}");
        // One mildly negative turn among positive ones: not.
        let m = mood(&[0.5, 0.4, -0.3, 0.4], 4);
        assert!(m > 0.0, "{m}");
        // Only the window counts.
        assert_eq!(mood(&[-1.0, -1.0, 0.2], 1), 0.2);
    }
}
