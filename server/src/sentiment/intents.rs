//! Intents VADER cannot see, scored in [0, 1]; the labelled exemplar phrases
//! (`server/data/intents.json`, written by us); and [`ExemplarSet`], which scores a message
//! with the shipped classifier ([`super::model`]) or, for comparison, the nearest-exemplar
//! vote ([`super::vote`]) or an embedding-only regression ([`super::linear`]).

use serde::{Deserialize, Serialize};

use super::linear::{Linear, LINEAR_EPOCHS, LINEAR_L2};
use super::model::IntentModel;

/// What a visitor wants besides an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// "can I talk to a real person"
    HumanRequest,
    /// Dissatisfaction with the product, the service or the bot.
    Complaint,
    /// Wants to cancel, return, or get money back.
    CancelRefund,
    /// Lawyers, regulators, chargebacks, going public.
    LegalThreat,
    /// Time pressure or high stakes ("our shop is down", "asap").
    Urgency,
}

impl Intent {
    pub const ALL: [Intent; 5] = [
        Intent::HumanRequest,
        Intent::Complaint,
        Intent::CancelRefund,
        Intent::LegalThreat,
        Intent::Urgency,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::HumanRequest => "human_request",
            Intent::Complaint => "complaint",
            Intent::CancelRefund => "cancel_refund",
            Intent::LegalThreat => "legal_threat",
            Intent::Urgency => "urgency",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A score in [0, 1] per intent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntentScores([f32; 5]);

impl IntentScores {
    pub fn get(&self, intent: Intent) -> f32 {
        self.0[intent.index()]
    }

    pub fn set(&mut self, intent: Intent, score: f32) {
        self.0[intent.index()] = score.clamp(0.0, 1.0);
    }

    /// Keeps the higher score of each intent.
    pub fn merge_max(&mut self, other: &IntentScores) {
        for i in Intent::ALL {
            self.set(i, self.get(i).max(other.get(i)));
        }
    }

    pub fn max(&self) -> f32 {
        self.0.iter().copied().fold(0.0, f32::max)
    }

    /// Intents at or above `threshold`, strongest first.
    pub fn above(&self, threshold: f32) -> Vec<Intent> {
        let mut out: Vec<Intent> = Intent::ALL
            .into_iter()
            .filter(|&i| self.get(i) >= threshold && self.get(i) > 0.0)
            .collect();
        out.sort_by(|a, b| self.get(*b).total_cmp(&self.get(*a)));
        out
    }

    /// `{"human_request": 0.93, ...}` with three decimals, every intent present.
    pub fn to_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = Intent::ALL
            .into_iter()
            .map(|i| {
                let v = (self.get(i) * 1000.0).round() / 1000.0;
                (i.as_str().to_string(), serde_json::json!(v))
            })
            .collect();
        serde_json::Value::Object(map)
    }

    pub fn from_json(value: &serde_json::Value) -> IntentScores {
        let mut scores = IntentScores::default();
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                if let (Some(i), Some(s)) = (Intent::parse(k), v.as_f64()) {
                    scores.set(i, s as f32);
                }
            }
        }
        scores
    }
}

/// The exemplar phrases shipped with the server.
pub const EXEMPLARS_JSON: &str = include_str!("../../data/intents.json");

#[derive(Debug, Deserialize)]
struct ExemplarFile {
    intents: std::collections::BTreeMap<String, Vec<String>>,
}

/// Exemplar phrases with their label (`None` for the "none of these" class, which holds
/// ordinary support questions and near misses such as "how many people can use one plan").
pub fn exemplar_phrases() -> Vec<(Option<Intent>, String)> {
    let file: ExemplarFile =
        serde_json::from_str(EXEMPLARS_JSON).expect("data/intents.json is valid (unit-tested)");
    let mut out = Vec::new();
    for (label, phrases) in file.intents {
        let intent = if label == "none" {
            None
        } else {
            Some(Intent::parse(&label).expect("known intent label (unit-tested)"))
        };
        out.extend(phrases.into_iter().map(|p| (intent, p)));
    }
    out
}

/// How an [`ExemplarSet`] turns a message embedding into intent scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scorer {
    /// Similarity-weighted vote of the nearest exemplars.
    Vote,
    /// One-vs-rest logistic regression trained on the exemplars.
    Linear,
    /// The mean of the two.
    Mean,
    /// Softmax regression over the embedding and word/character n-grams ([`IntentModel`]),
    /// the shipped scorer.
    Model,
}

impl Scorer {
    pub fn parse(s: &str) -> Option<Scorer> {
        match s {
            "vote" => Some(Scorer::Vote),
            "linear" => Some(Scorer::Linear),
            "mean" => Some(Scorer::Mean),
            "model" => Some(Scorer::Model),
            _ => None,
        }
    }
}

/// Embedded exemplars, ready to classify message embeddings.
pub struct ExemplarSet {
    /// Labels and unit-length vectors: a dot product is the cosine similarity.
    items: Vec<(Option<Intent>, Vec<f32>)>,
    /// The phrases' texts (the model scorer trains on words too).
    texts: Vec<String>,
    /// Trained only when a scorer needs it.
    linear: Option<Linear>,
    model: Option<IntentModel>,
    scorer: Scorer,
}

/// `v` scaled to unit length (unchanged when zero).
pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

impl ExemplarSet {
    /// `vectors[i]` is the embedding of `phrases[i]`.
    pub fn new(phrases: &[(Option<Intent>, String)], vectors: Vec<Vec<f32>>) -> Self {
        let items: Vec<(Option<Intent>, Vec<f32>)> = phrases
            .iter()
            .map(|(i, _)| *i)
            .zip(vectors.into_iter().map(unit))
            .collect();
        ExemplarSet {
            items,
            texts: phrases.iter().map(|(_, t)| t.clone()).collect(),
            linear: None,
            model: None,
            scorer: Scorer::Vote,
        }
    }

    /// A trained classifier, without the exemplars' vectors (the shipped scorer).
    pub fn from_model(model: IntentModel) -> Self {
        ExemplarSet {
            items: Vec::new(),
            texts: Vec::new(),
            linear: None,
            model: Some(model),
            scorer: Scorer::Model,
        }
    }

    /// The same exemplars scored another way (evaluation of other exemplar sets and
    /// scorers; `Model` trains a classifier on exactly these phrases).
    pub fn with_scorer(mut self, scorer: Scorer) -> Self {
        if matches!(scorer, Scorer::Linear | Scorer::Mean) && self.linear.is_none() {
            self.linear = Some(Linear::train(&self.items, LINEAR_L2, LINEAR_EPOCHS));
        }
        if scorer == Scorer::Model && self.model.is_none() {
            let labelled: Vec<(Option<Intent>, String)> = self
                .items
                .iter()
                .map(|(i, _)| *i)
                .zip(self.texts.iter().cloned())
                .collect();
            let vectors: Vec<Vec<f32>> = self.items.iter().map(|(_, v)| v.clone()).collect();
            self.model = Some(IntentModel::train(&labelled, &vectors, "custom".into()).0);
        }
        self.scorer = scorer;
        self
    }

    /// The trained classifier, when the scorer is one.
    pub fn model(&self) -> Option<&IntentModel> {
        self.model.as_ref()
    }

    fn linear_scores(&self, embedding: &[f32]) -> IntentScores {
        match &self.linear {
            Some(l) => l.classify(&unit(embedding.to_vec())),
            None => IntentScores::default(),
        }
    }

    /// Intent scores of a message (its text and its embedding).
    pub fn classify(&self, text: &str, embedding: &[f32]) -> IntentScores {
        match self.scorer {
            Scorer::Model => match &self.model {
                Some(m) => m.classify(text, &unit(embedding.to_vec())),
                None => IntentScores::default(),
            },
            Scorer::Vote => self.vote(embedding),
            Scorer::Linear => self.linear_scores(embedding),
            Scorer::Mean => {
                let (a, b) = (self.vote(embedding), self.linear_scores(embedding));
                let mut s = IntentScores::default();
                for i in Intent::ALL {
                    s.set(i, (a.get(i) + b.get(i)) / 2.0);
                }
                s
            }
        }
    }

    /// Number of exemplar vectors held (0 for a model loaded on its own).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.model.is_none()
    }

    /// Similarity-weighted vote of the nearest exemplars ([`super::vote`]).
    pub fn vote(&self, embedding: &[f32]) -> IntentScores {
        super::vote::vote(&self.items, embedding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_exemplars_cover_every_intent_and_the_none_class() {
        let phrases = exemplar_phrases();
        for intent in Intent::ALL {
            let n = phrases.iter().filter(|(i, _)| *i == Some(intent)).count();
            assert!(n >= 25, "{intent:?} has only {n} exemplars");
        }
        assert!(phrases.iter().filter(|(i, _)| i.is_none()).count() >= 100);
        assert!(phrases.iter().all(|(_, p)| !p.trim().is_empty()));
    }

    #[test]
    fn the_linear_scorer_learns_separable_classes() {
        // Human requests point one way, complaints another, everything else a third; a
        // message between a request and the "none" class leans to the nearer one.
        let mut phrases = Vec::new();
        let mut vectors = Vec::new();
        for k in 0..20 {
            let jitter = k as f32 * 0.01;
            phrases.push((Some(Intent::HumanRequest), format!("h{k}")));
            vectors.push(vec![1.0, jitter, 0.0]);
            phrases.push((Some(Intent::Complaint), format!("c{k}")));
            vectors.push(vec![jitter, 1.0, 0.0]);
            phrases.push((None, format!("n{k}")));
            vectors.push(vec![0.0, jitter, 1.0]);
        }
        let set = ExemplarSet::new(&phrases, vectors).with_scorer(Scorer::Linear);
        let s = set.classify("", &[1.0, 0.0, 0.0]);
        assert!(s.get(Intent::HumanRequest) > 0.9, "{s:?}");
        assert!(s.get(Intent::Complaint) < 0.1, "{s:?}");
        // No exemplars of these: never fired.
        assert!(s.get(Intent::Urgency) < 1e-3 && s.get(Intent::LegalThreat) < 1e-3);
        let s = set.classify("", &[0.0, 0.0, 2.0]);
        assert!(s.max() < 0.1, "{s:?}");
        let s = set.classify("", &[0.0, 3.0, 0.0]);
        assert!(s.get(Intent::Complaint) > 0.9, "{s:?}");
        let near = set.classify("", &[0.8, 0.0, 0.2]).get(Intent::HumanRequest);
        let far = set.classify("", &[0.2, 0.0, 0.8]).get(Intent::HumanRequest);
        assert!(near > 0.5 && far < 0.5 && near > far, "{near} {far}");
        // Deterministic: the same exemplars give the same scores.
        let again = ExemplarSet::new(
            &phrases,
            phrases
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let (k, c) = (i / 3, i % 3);
                    let j = k as f32 * 0.01;
                    match c {
                        0 => vec![1.0, j, 0.0],
                        1 => vec![j, 1.0, 0.0],
                        _ => vec![0.0, j, 1.0],
                    }
                })
                .collect(),
        )
        .with_scorer(Scorer::Linear);
        assert_eq!(
            again.classify("", &[0.8, 0.0, 0.2]),
            set.classify("", &[0.8, 0.0, 0.2])
        );
    }

    #[test]
    fn scores_round_trip_through_json() {
        let mut s = IntentScores::default();
        s.set(Intent::Urgency, 0.25);
        s.set(Intent::Complaint, 2.0);
        let back = IntentScores::from_json(&s.to_json());
        assert_eq!(back, s);
        assert_eq!(back.get(Intent::Complaint), 1.0);
        assert_eq!(s.above(0.2), vec![Intent::Complaint, Intent::Urgency]);
    }
}
