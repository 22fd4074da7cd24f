//! The shipped intent classifier: softmax regression over the message's MiniLM embedding
//! (the one retrieval uses) joined with word and character n-gram TF-IDF features, trained
//! on the exemplar phrases (`data/intents.json`) and on labelled visitor turns from
//! transcripts written for training (`data/intent-training.jsonl`).
//!
//! Why both kinds of features: the general-purpose embedding places a message by its topic
//! ("laptop", "booking") as much as by what the visitor wants, while the n-grams pick up
//! wording ("still", "third time", "speak to") whatever the topic. Together, and trained on
//! whole visitor turns, they beat the nearest-exemplar vote on every writer's transcripts
//! held out in turn (docs/escalation.md).
//!
//! Classes: "none" and the five intents; a turn with several intents gives one row per
//! intent. The probabilities sum to one, so the policy's sum over `escalate_on` is the
//! probability that the visitor wants one of those things.

use base64::Engine;
use concierge_learn::{Options, Report, Row, Softmax};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::intents::{Intent, IntentScores};
use super::lexical::{Analyzer, Vectorizer};

/// Labelled visitor turns for training (JSON lines like the evaluation transcripts).
pub const TRAINING_JSONL: &str = include_str!("../../data/intent-training.jsonl");

/// Inverse regularisation strength (scikit-learn's `C`), chosen by leaving each writer's
/// transcripts out in turn (docs/escalation.md).
pub const C: f64 = 10.0;
/// Character n-grams seen in fewer training texts than this are dropped.
pub const CHAR_MIN_DF: usize = 2;
/// Bumped whenever features or training change, so cached models are retrained.
pub const FORMAT: u32 = 1;

/// A trained classifier; serialisable so a process can reuse another's training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentModel {
    /// What it was trained from (see [`cache_key`]).
    pub key: String,
    /// Embedding dimension.
    dim: usize,
    words: Vectorizer,
    chars: Vectorizer,
    /// Row-major `[class][feature]` little-endian f32, base64: class 0 is "none", class
    /// `k` is `Intent::ALL[k - 1]`.
    weights: String,
    bias: Vec<f32>,
    #[serde(skip)]
    unpacked: Vec<f32>,
}

#[derive(Debug, Deserialize)]
struct Turn {
    #[serde(default)]
    conversation_id: String,
    text: String,
    #[serde(default)]
    intents: Vec<String>,
}

/// The training texts with their labels: the exemplar phrases, then every transcript turn
/// (one entry per intent it carries, `None` when it carries none).
pub fn training_examples(
    exemplars: Vec<(Option<Intent>, String)>,
) -> Vec<(Option<Intent>, String)> {
    training_examples_where(exemplars, |_| true)
}

/// As [`training_examples`], with only the transcript turns whose conversation id passes
/// `keep` (`triage cv` leaves one writer's conversations out at a time).
pub fn training_examples_where(
    exemplars: Vec<(Option<Intent>, String)>,
    keep: impl Fn(&str) -> bool,
) -> Vec<(Option<Intent>, String)> {
    let mut out = exemplars;
    for line in TRAINING_JSONL.lines().filter(|l| !l.trim().is_empty()) {
        let turn: Turn =
            serde_json::from_str(line).expect("data/intent-training.jsonl is valid (unit-tested)");
        if !keep(&turn.conversation_id) {
            continue;
        }
        if turn.intents.is_empty() {
            out.push((None, turn.text));
        } else {
            for name in &turn.intents {
                let intent = Intent::parse(name).expect("known intent label (unit-tested)");
                out.push((Some(intent), turn.text.clone()));
            }
        }
    }
    out
}

/// The writers of the training transcripts: the `trainN` prefixes of their conversation ids,
/// in order of first appearance.
pub fn training_writers() -> Vec<String> {
    let mut writers: Vec<String> = Vec::new();
    for line in TRAINING_JSONL.lines().filter(|l| !l.trim().is_empty()) {
        let turn: Turn =
            serde_json::from_str(line).expect("data/intent-training.jsonl is valid (unit-tested)");
        let writer = writer_of(&turn.conversation_id).to_string();
        if !writers.contains(&writer) {
            writers.push(writer);
        }
    }
    writers
}

/// `train3` of `train3-017`.
pub fn writer_of(conversation_id: &str) -> &str {
    conversation_id
        .split_once('-')
        .map_or(conversation_id, |(w, _)| w)
}

/// Identifies a trained model: the format, the hyperparameters, the training data and the
/// embedding model (by the embedding it gives a fixed probe sentence).
pub fn cache_key(probe_embedding: &[f32], examples: &[(Option<Intent>, String)]) -> String {
    let mut h = Sha256::new();
    h.update(format!("format {FORMAT} C {C} min_df {CHAR_MIN_DF}\n"));
    for x in probe_embedding {
        h.update(format!("{:.4} ", x));
    }
    for (intent, text) in examples {
        h.update(intent.map(Intent::as_str).unwrap_or("none"));
        h.update([0]);
        h.update(text);
        h.update([0]);
    }
    let digest = h.finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The sentence whose embedding identifies the embedding model in [`cache_key`].
pub const PROBE: &str = "Can I talk to a real person about my refund?";

fn class_of(intent: Option<Intent>) -> usize {
    match intent {
        None => 0,
        Some(i) => 1 + Intent::ALL.iter().position(|x| *x == i).unwrap_or(0),
    }
}

impl IntentModel {
    /// Trains on `examples` (label, text) with `embeddings[i]` the unit embedding of the
    /// i-th text.
    pub fn train(
        examples: &[(Option<Intent>, String)],
        embeddings: &[Vec<f32>],
        key: String,
    ) -> (IntentModel, Report) {
        let dim = embeddings.first().map(Vec::len).unwrap_or(0);
        let texts = || examples.iter().map(|(_, t)| t.as_str());
        let words = Vectorizer::fit(Analyzer::Words, texts(), 1);
        let chars = Vectorizer::fit(Analyzer::CharsInWords, texts(), CHAR_MIN_DF);
        let mut model = IntentModel {
            key,
            dim,
            words,
            chars,
            weights: String::new(),
            bias: Vec::new(),
            unpacked: Vec::new(),
        };
        let rows: Vec<Row> = examples
            .iter()
            .zip(embeddings)
            .map(|((intent, text), e)| Row {
                features: model.features(text, e),
                class: class_of(*intent),
            })
            .collect();
        let (softmax, report) = Softmax::train(
            &rows,
            1 + Intent::ALL.len(),
            model.feature_count(),
            C,
            Options::default(),
        );
        model.bias = softmax.bias;
        model.weights = base64::engine::general_purpose::STANDARD.encode(
            softmax
                .weights
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
        model.unpacked = softmax.weights;
        (model, report)
    }

    /// Parses a serialised model; `None` when it is damaged.
    pub fn from_json(json: &str) -> Option<IntentModel> {
        let mut m: IntentModel = serde_json::from_str(json).ok()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&m.weights)
            .ok()?;
        let classes = 1 + Intent::ALL.len();
        if bytes.len() != 4 * classes * m.feature_count() || m.bias.len() != classes {
            return None;
        }
        m.unpacked = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(m)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises")
    }

    fn feature_count(&self) -> usize {
        self.dim + self.words.len() + self.chars.len()
    }

    /// `[embedding | word TF-IDF | char TF-IDF]` as sparse (index, value).
    fn features(&self, text: &str, embedding: &[f32]) -> Vec<(u32, f32)> {
        let mut f: Vec<(u32, f32)> = embedding
            .iter()
            .take(self.dim)
            .enumerate()
            .map(|(i, x)| (i as u32, *x))
            .collect();
        let w0 = self.dim as u32;
        f.extend(
            self.words
                .transform(text)
                .into_iter()
                .map(|(i, x)| (w0 + i, x)),
        );
        let c0 = w0 + self.words.len() as u32;
        f.extend(
            self.chars
                .transform(text)
                .into_iter()
                .map(|(i, x)| (c0 + i, x)),
        );
        f
    }

    /// Intent probabilities of a message; `embedding` must be unit length (as the embedder
    /// gives it) and of the dimension trained on, else the scores are empty.
    pub fn classify(&self, text: &str, embedding: &[f32]) -> IntentScores {
        let mut scores = IntentScores::default();
        if embedding.len() != self.dim {
            return scores;
        }
        let features = self.features(text, embedding);
        let n = self.feature_count();
        let classes = self.bias.len();
        let mut z: Vec<f32> = (0..classes)
            .map(|k| {
                let w = &self.unpacked[k * n..(k + 1) * n];
                self.bias[k]
                    + features
                        .iter()
                        .map(|&(j, v)| w[j as usize] * v)
                        .sum::<f32>()
            })
            .collect();
        let max = z.iter().cloned().fold(f32::MIN, f32::max);
        let sum: f32 = z
            .iter_mut()
            .map(|x| {
                *x = (*x - max).exp();
                *x
            })
            .sum();
        for (k, intent) in Intent::ALL.into_iter().enumerate() {
            scores.set(intent, z[k + 1] / sum);
        }
        scores
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_training_turns_parse_with_known_intents() {
        let all = training_examples(Vec::new());
        assert!(all.len() >= 1000, "{}", all.len());
        for intent in Intent::ALL {
            assert!(
                all.iter().filter(|(i, _)| *i == Some(intent)).count() >= 15,
                "{intent:?}"
            );
        }
        assert!(all.iter().filter(|(i, _)| i.is_none()).count() >= 500);
        // Every turn belongs to a writer; leaving one out removes exactly its turns.
        let writers = training_writers();
        assert!(writers.len() >= 8, "{writers:?}");
        let without = training_examples_where(Vec::new(), |c| writer_of(c) != writers[0]);
        assert!(without.len() < all.len() && !without.is_empty());
        assert_eq!(writer_of("train3-017"), "train3");
    }

    /// Two-dimensional "embeddings" plus words: the model learns both kinds of feature and
    /// survives a round trip through JSON bit for bit.
    #[test]
    fn learns_from_words_and_embeddings_and_round_trips() {
        let examples: Vec<(Option<Intent>, String)> = vec![
            (Some(Intent::HumanRequest), "let me talk to a person".into()),
            (Some(Intent::HumanRequest), "person please".into()),
            (Some(Intent::HumanRequest), "a real person now".into()),
            (Some(Intent::Complaint), "this is useless".into()),
            (Some(Intent::Complaint), "useless service".into()),
            (Some(Intent::Complaint), "totally useless again".into()),
            (None, "how do i reset my password".into()),
            (None, "where is the export button".into()),
            (None, "thanks that worked".into()),
        ];
        // The embedding separates "asks for something" from "asks how"; the words tell
        // which something.
        let emb = |i: usize| {
            if examples[i].0.is_some() {
                vec![1.0, 0.0]
            } else {
                vec![0.0, 1.0]
            }
        };
        let embeddings: Vec<Vec<f32>> = (0..examples.len()).map(emb).collect();
        let (model, report) = IntentModel::train(&examples, &embeddings, "k".into());
        assert!(report.converged, "{report:?}");
        let s = model.classify("could a person call me", &[1.0, 0.0]);
        assert!(s.get(Intent::HumanRequest) > 0.5, "{s:?}");
        let s = model.classify("the app is useless", &[1.0, 0.0]);
        assert!(s.get(Intent::Complaint) > 0.5, "{s:?}");
        let s = model.classify("how do i find the export", &[0.0, 1.0]);
        assert!(s.max() < 0.3, "{s:?}");
        // Wrong dimension: no scores rather than garbage.
        assert_eq!(model.classify("person", &[1.0]).max(), 0.0);

        let back = IntentModel::from_json(&model.to_json()).expect("parses");
        assert_eq!(back, model);
        assert!(IntentModel::from_json("{}").is_none());
        let mut damaged = model.clone();
        damaged.bias.pop();
        assert!(IntentModel::from_json(&damaged.to_json()).is_none());
    }

    #[test]
    fn the_key_changes_with_data_and_embedding_model() {
        let ex = vec![(None, "hello".to_string())];
        let a = cache_key(&[0.1, 0.2], &ex);
        assert_eq!(a, cache_key(&[0.1, 0.2], &ex));
        assert_ne!(a, cache_key(&[0.1, 0.3], &ex));
        assert_ne!(
            a,
            cache_key(&[0.1, 0.2], &[(Some(Intent::Urgency), "hello".into())])
        );
    }
}
