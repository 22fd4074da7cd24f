//! Words of a question or passage as the lexical side sees them: lower-cased alphanumeric
//! runs without English stopwords. Used to build the full-text query and to score sentences
//! for extractive answers, so both agree on what "a word of the question" is.

/// Common English words that carry no topic; matching them would rank every chunk.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been",
    "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "had",
    "has", "have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "ours", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "to", "too", "us", "very", "was", "we", "were", "what",
    "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you",
    "your", "yours", "get", "got", "please", "hi", "hello", "thanks", "thank",
];

/// Distinct content words of `text`, in order of first appearance, at most 32.
pub fn content_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_lowercase();
        if word.chars().count() > 40 || STOPWORDS.contains(&word.as_str()) {
            continue;
        }
        if !out.contains(&word) {
            out.push(word);
            if out.len() == 32 {
                break;
            }
        }
    }
    out
}

/// A crude stem so "masks" meets "mask" and "spreading" meets "spread" when scoring
/// sentences (the full-text engines stem on their own).
pub fn stem(word: &str) -> &str {
    for suffix in ["ing", "es", "ed", "s"] {
        if let Some(stripped) = word.strip_suffix(suffix) {
            if stripped.chars().count() >= 3 {
                return stripped;
            }
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_words_drop_stopwords_punctuation_and_repeats() {
        assert_eq!(
            content_words("How do I reset MY password? Reset it, please!"),
            vec!["reset", "password"]
        );
        assert_eq!(
            content_words("COVID-19 vaccine"),
            vec!["covid", "19", "vaccine"]
        );
        assert!(content_words("what is the ?!").is_empty());
    }

    #[test]
    fn stems_meet_their_plain_forms() {
        assert_eq!(stem("masks"), "mask");
        assert_eq!(stem("spreading"), "spread");
        assert_eq!(stem("washes"), "wash");
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("bus"), "bus");
    }
}
