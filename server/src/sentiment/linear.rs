//! The intent classifier tried against the nearest-exemplar vote (`triage --scorer linear`):
//! one-vs-rest logistic regression over the exemplar embeddings. Not the shipped scorer; kept
//! so the comparison in docs/escalation.md can be rerun.

use super::intents::{Intent, IntentScores};
use super::vote::dot;

/// One-vs-rest logistic regression over unit-length exemplar embeddings: per intent a weight
/// vector and a bias, trained with the classes balanced (an intent's few exemplars weigh as
/// much as all the others together) and a small L2 penalty. Deterministic: zero start,
/// full-batch Adam, a fixed number of epochs.
pub struct Linear {
    weights: Vec<Vec<f32>>,
    bias: Vec<f32>,
}

/// L2 penalty of the intent classifier.
pub const LINEAR_L2: f32 = 1e-3;
/// Training epochs of the intent classifier.
pub const LINEAR_EPOCHS: usize = 300;

impl Linear {
    /// Trains one classifier per intent on unit-length `items`.
    pub fn train(items: &[(Option<Intent>, Vec<f32>)], l2: f32, epochs: usize) -> Linear {
        let dim = items.first().map(|(_, v)| v.len()).unwrap_or(0);
        let n = items.len() as f32;
        let mut weights = Vec::with_capacity(Intent::ALL.len());
        let mut bias = Vec::with_capacity(Intent::ALL.len());
        for intent in Intent::ALL {
            let positives = items.iter().filter(|(l, _)| *l == Some(intent)).count() as f32;
            let negatives = n - positives;
            if positives == 0.0 || negatives == 0.0 {
                weights.push(vec![0.0; dim]);
                bias.push(-10.0);
                continue;
            }
            let (wp, wn) = (n / (2.0 * positives), n / (2.0 * negatives));
            let mut w = vec![0.0f32; dim];
            let mut b = 0.0f32;
            // Adam state.
            let (mut mw, mut vw) = (vec![0.0f32; dim], vec![0.0f32; dim]);
            let (mut mb, mut vb) = (0.0f32, 0.0f32);
            let (lr, b1, b2, eps) = (0.05f32, 0.9f32, 0.999f32, 1e-8f32);
            let mut grad = vec![0.0f32; dim];
            for epoch in 1..=epochs {
                grad.iter_mut().for_each(|g| *g = 0.0);
                let mut gb = 0.0f32;
                for (label, x) in items {
                    let y = if *label == Some(intent) { 1.0 } else { 0.0 };
                    let weight = if y == 1.0 { wp } else { wn };
                    let p = sigmoid(dot(&w, x) + b);
                    let e = weight * (p - y) / n;
                    for (g, xi) in grad.iter_mut().zip(x) {
                        *g += e * xi;
                    }
                    gb += e;
                }
                let t = epoch as i32;
                let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                for i in 0..dim {
                    let g = grad[i] + l2 * w[i];
                    mw[i] = b1 * mw[i] + (1.0 - b1) * g;
                    vw[i] = b2 * vw[i] + (1.0 - b2) * g * g;
                    w[i] -= lr * (mw[i] / c1) / ((vw[i] / c2).sqrt() + eps);
                }
                mb = b1 * mb + (1.0 - b1) * gb;
                vb = b2 * vb + (1.0 - b2) * gb * gb;
                b -= lr * (mb / c1) / ((vb / c2).sqrt() + eps);
            }
            weights.push(w);
            bias.push(b);
        }
        Linear { weights, bias }
    }

    /// Per-intent probability for a unit-length query.
    pub fn classify(&self, query: &[f32]) -> IntentScores {
        let mut scores = IntentScores::default();
        for (k, intent) in Intent::ALL.into_iter().enumerate() {
            if let (Some(w), Some(b)) = (self.weights.get(k), self.bias.get(k)) {
                scores.set(intent, sigmoid(dot(w, query) + b));
            }
        }
        scores
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
