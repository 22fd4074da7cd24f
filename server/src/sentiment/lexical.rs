//! Word and character n-gram features with TF-IDF weights, as scikit-learn's
//! `TfidfVectorizer(sublinear_tf=True)` computes them: words are runs of two or more letters,
//! digits or underscores, lowercased, with their bigrams; character n-grams (2–5) are taken
//! inside each whitespace-separated word padded with a space on each side (`char_wb`). A
//! term's weight is `(1 + ln tf) · idf`, `idf = ln((1 + n) / (1 + df)) + 1`, and each
//! message's vector has unit length.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// Which terms a text is cut into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Analyzer {
    /// Words and word bigrams.
    Words,
    /// Character 2- to 5-grams within words.
    CharsInWords,
}

/// A fitted vocabulary with its inverse document frequencies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vectorizer {
    analyzer: Analyzer,
    /// Written in term order, so the same training gives the same file.
    #[serde(serialize_with = "sorted")]
    vocabulary: HashMap<String, u32>,
    idf: Vec<f32>,
}

/// Lowercased words of two or more word characters.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_string)
        .collect()
}

pub fn terms(analyzer: Analyzer, text: &str) -> Vec<String> {
    match analyzer {
        Analyzer::Words => {
            let w = words(text);
            let mut out = w.clone();
            out.extend(w.windows(2).map(|p| format!("{} {}", p[0], p[1])));
            out
        }
        Analyzer::CharsInWords => {
            let mut out = Vec::new();
            for word in text.to_lowercase().split_whitespace() {
                let padded: Vec<char> = std::iter::once(' ')
                    .chain(word.chars())
                    .chain(std::iter::once(' '))
                    .collect();
                for n in 2..=5 {
                    if padded.len() <= n {
                        out.push(padded.iter().collect());
                        break;
                    }
                    out.extend(padded.windows(n).map(|g| g.iter().collect::<String>()));
                }
            }
            out
        }
    }
}

fn sorted<S: serde::Serializer>(map: &HashMap<String, u32>, s: S) -> Result<S::Ok, S::Error> {
    let ordered: BTreeMap<&String, &u32> = map.iter().collect();
    ordered.serialize(s)
}

impl Vectorizer {
    /// A vectorizer from a fitted vocabulary (term → column) and the columns' IDF weights
    /// (the trainer in `examples/triage` fits them like scikit-learn's `TfidfVectorizer` with
    /// `sublinear_tf` and smooth IDF).
    pub fn new(analyzer: Analyzer, vocabulary: HashMap<String, u32>, idf: Vec<f32>) -> Self {
        Vectorizer {
            analyzer,
            vocabulary,
            idf,
        }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// The unit-length TF-IDF vector of `text`, as (term index, weight) sorted by index;
    /// empty when no term is known.
    pub fn transform(&self, text: &str) -> Vec<(u32, f32)> {
        let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
        for t in terms(self.analyzer, text) {
            if let Some(&i) = self.vocabulary.get(&t) {
                *counts.entry(i).or_default() += 1;
            }
        }
        let mut v: Vec<(u32, f32)> = counts
            .into_iter()
            .map(|(i, tf)| (i, (1.0 + (tf as f32).ln()) * self.idf[i as usize]))
            .collect();
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_bigrams_like_scikit_learn() {
        assert_eq!(
            words("I want a REFUND, now!! order #A-12"),
            ["want", "refund", "now", "order", "12"]
        );
        let t = terms(Analyzer::Words, "talk to a human");
        assert_eq!(t, ["talk", "to", "human", "talk to", "to human"]);
    }

    #[test]
    fn character_ngrams_stay_inside_padded_words() {
        let t = terms(Analyzer::CharsInWords, "Hi yo");
        // " hi " and " yo ": 3 bigrams, 2 trigrams, 1 four-gram each; no 5-gram.
        assert_eq!(
            t,
            [" h", "hi", "i ", " hi", "hi ", " hi ", " y", "yo", "o ", " yo", "yo ", " yo "]
        );
    }

    #[test]
    fn tf_idf_weights_and_unit_length() {
        let vocabulary = HashMap::from([
            ("refund".to_string(), 0),
            ("my".to_string(), 1),
            ("refund refund".to_string(), 2),
            ("refund my".to_string(), 3),
        ]);
        let v = Vectorizer::new(Analyzer::Words, vocabulary, vec![1.5, 1.25, 2.0, 2.0]);
        let x = v.transform("refund refund my");
        assert_eq!(x.len(), 4, "refund, my, refund refund, refund my: {x:?}");
        let norm: f32 = x.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        // refund: tf 2 → (1 + ln 2) · 1.5; my: tf 1 → 1.25.
        let w = |i: u32| x.iter().find(|(j, _)| *j == i).unwrap().1;
        assert!((w(0) / w(1) - (1.0 + 2f32.ln()) * 1.5 / 1.25).abs() < 1e-5);
        assert!(v.transform("nothing known here").is_empty());
        assert_eq!(v.len(), 4);
    }
}
