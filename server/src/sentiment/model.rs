//! The shipped escalation classifier, trained offline (`cargo xtask train-escalation`, see
//! `examples/triage/train.rs`) and compiled in as data (`data/escalation-model.json`): the
//! server only loads it, it never trains.
//!
//! Two heads over the same inputs, the message's MiniLM embedding (the one retrieval uses, so
//! a message is embedded once) joined with word (and, for intents, character) n-gram TF-IDF:
//! - **intents**: softmax over "none" and every [`Intent`]; the probabilities sum to one.
//! - **negativity**: the probability that the visitor is upset (frustrated, angry), with the
//!   VADER score as one more feature. It gives the message's sentiment (`1 - 2p`) that the
//!   policy's mood reads.
//!
//! The file names the embedding it was trained with and carries that embedding of a probe
//! sentence: a server running another embedding model does not use it (rules and VADER only).

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::intents::{Intent, IntentScores};
use super::lexical::Vectorizer;

/// The trained weights, compiled in.
pub const MODEL_JSON: &str = include_str!("../../data/escalation-model.json");
/// Bumped whenever features change; a file of another format is refused.
pub const FORMAT: u32 = 2;
/// The sentence whose embedding identifies the embedding model.
pub const PROBE: &str = "Can I talk to a real person about my refund?";
/// The probe's embedding must be at least this similar to the trained one.
pub const PROBE_SIMILARITY: f32 = 0.99;

/// The embedding a model was trained with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingId {
    pub model: String,
    pub dim: usize,
    /// [`PROBE`]'s embedding (4 decimals).
    pub probe: Vec<f32>,
}

/// One softmax head: `[embedding | vader? | words | chars?]` → class probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub classes: Vec<String>,
    /// VADER's compound score is a feature.
    pub vader: bool,
    pub words: Vectorizer,
    pub chars: Option<Vectorizer>,
    /// Row-major `[class][feature]` little-endian f32, base64.
    pub weights: String,
    pub bias: Vec<f32>,
    #[serde(skip)]
    unpacked: Vec<f32>,
}

impl Head {
    /// A head from trained weights (`weights[class * features + feature]`).
    pub fn new(
        classes: Vec<String>,
        vader: bool,
        words: Vectorizer,
        chars: Option<Vectorizer>,
        weights: Vec<f32>,
        bias: Vec<f32>,
    ) -> Head {
        let packed = base64::engine::general_purpose::STANDARD.encode(
            weights
                .iter()
                .flat_map(|w| w.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
        Head {
            classes,
            vader,
            words,
            chars,
            weights: packed,
            bias,
            unpacked: weights,
        }
    }

    /// Features after the embedding.
    pub fn extra_features(&self) -> usize {
        usize::from(self.vader) + self.words.len() + self.chars.as_ref().map_or(0, |c| c.len())
    }

    /// The sparse feature vector of a (normalized) text: `(index, value)`.
    pub fn features(&self, text: &str, embedding: &[f32], vader: f32) -> Vec<(u32, f32)> {
        let mut f: Vec<(u32, f32)> = embedding
            .iter()
            .enumerate()
            .map(|(i, x)| (i as u32, *x))
            .collect();
        let mut next = embedding.len() as u32;
        if self.vader {
            f.push((next, vader));
            next += 1;
        }
        f.extend(
            self.words
                .transform(text)
                .into_iter()
                .map(|(i, x)| (next + i, x)),
        );
        next += self.words.len() as u32;
        if let Some(chars) = &self.chars {
            f.extend(
                chars
                    .transform(text)
                    .into_iter()
                    .map(|(i, x)| (next + i, x)),
            );
        }
        f
    }

    fn unpack(&mut self, dim: usize) -> Option<()> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.weights)
            .ok()?;
        let n = dim + self.extra_features();
        if self.classes.len() < 2
            || bytes.len() != 4 * self.classes.len() * n
            || self.bias.len() != self.classes.len()
        {
            return None;
        }
        self.unpacked = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Some(())
    }

    /// Class probabilities.
    pub fn probabilities(&self, features: &[(u32, f32)]) -> Vec<f32> {
        let classes = self.bias.len();
        let n = self.unpacked.len() / classes.max(1);
        let mut z: Vec<f32> = (0..classes)
            .map(|k| {
                let w = &self.unpacked[k * n..(k + 1) * n];
                self.bias[k]
                    + features
                        .iter()
                        .map(|&(j, v)| w.get(j as usize).map_or(0.0, |w| w * v))
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
        z.iter_mut().for_each(|x| *x /= sum);
        z
    }
}

/// The shipped classifier: intents and negativity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationModel {
    pub format: u32,
    /// What it was trained on and how (written by the trainer).
    pub about: String,
    pub embedding: EmbeddingId,
    pub intents: Head,
    pub negativity: Head,
}

/// What the model says about one message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelScores {
    pub intents: IntentScores,
    /// Probability that the visitor is upset.
    pub negativity: f32,
}

impl EscalationModel {
    /// Parses a serialized model; `None` when it is damaged or of another format.
    pub fn from_json(json: &str) -> Option<EscalationModel> {
        let mut m: EscalationModel = serde_json::from_str(json).ok()?;
        if m.format != FORMAT || m.embedding.probe.len() != m.embedding.dim {
            return None;
        }
        let dim = m.embedding.dim;
        m.intents.unpack(dim)?;
        m.negativity.unpack(dim)?;
        if m.intents.classes.len() != 1 + Intent::ALL.len()
            || m.intents.classes[0] != "none"
            || Intent::ALL
                .iter()
                .zip(&m.intents.classes[1..])
                .any(|(i, c)| i.as_str() != c)
            || m.negativity.classes.len() != 2
        {
            return None;
        }
        Some(m)
    }

    /// The compiled-in model, parsed once.
    pub fn shipped() -> Option<&'static EscalationModel> {
        static SHIPPED: OnceLock<Option<EscalationModel>> = OnceLock::new();
        SHIPPED
            .get_or_init(|| {
                let m = EscalationModel::from_json(MODEL_JSON);
                if m.is_none() {
                    tracing::error!("data/escalation-model.json is unreadable; keyword rules only");
                }
                m
            })
            .as_ref()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a model serialises")
    }

    /// Whether `probe` (the running embedder's embedding of [`PROBE`]) is the embedding this
    /// model was trained with.
    pub fn accepts_embedder(&self, probe: &[f32]) -> bool {
        probe.len() == self.embedding.dim
            && super::cosine(probe, &self.embedding.probe) >= PROBE_SIMILARITY
    }

    /// Scores a message; `embedding` must be unit length and of the trained dimension, else
    /// `None`.
    pub fn score(&self, text: &str, embedding: &[f32], vader: f32) -> Option<ModelScores> {
        if embedding.len() != self.embedding.dim {
            return None;
        }
        let text = normalize(text);
        let p = self
            .intents
            .probabilities(&self.intents.features(&text, embedding, vader));
        let mut intents = IntentScores::default();
        for (k, intent) in Intent::ALL.into_iter().enumerate() {
            intents.set(intent, p[k + 1]);
        }
        let n = self
            .negativity
            .probabilities(&self.negativity.features(&text, embedding, vader));
        Some(ModelScores {
            intents,
            negativity: n[1],
        })
    }
}

/// The text the classifier and VADER read: links, `@handles` and HTML entities carry no
/// intent or mood, and differ from one visitor to the next.
pub fn normalize(text: &str) -> Cow<'_, str> {
    static NOISE: OnceLock<Regex> = OnceLock::new();
    let noise = NOISE.get_or_init(|| {
        Regex::new(r"https?://\S+|www\.\S+|(?:^|\s)@\w+").expect("valid regex (unit-tested)")
    });
    if !noise.is_match(text) && !text.contains("&amp;") {
        return Cow::Borrowed(text);
    }
    let cleaned = noise.replace_all(text, " ").replace("&amp;", "&");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    Cow::Owned(cleaned)
}

#[cfg(test)]
mod tests;
