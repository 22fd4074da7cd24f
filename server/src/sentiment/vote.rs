//! The nearest-exemplar vote: the scorer shipped before the trained classifier
//! ([`super::model`]), kept for `triage --scorer vote` and the comparison in
//! docs/escalation.md.

use super::intents::{unit, Intent, IntentScores};

/// Dot product in eight independent lanes, so the compiler can use SIMD (a single running
/// sum must add in order and cannot).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Number of nearest exemplars that vote.
pub const NEIGHBOURS: usize = 5;
/// Below this similarity to its nearest exemplar a message is unlike all of them: its votes
/// are scaled down linearly to 0 at `FLOOR - 0.15`.
pub const FLOOR: f32 = 0.45;

/// Similarity-weighted vote of the nearest exemplars: the share of the neighbours'
/// similarity that each intent holds, damped when even the nearest one is far.
pub fn vote(items: &[(Option<Intent>, Vec<f32>)], embedding: &[f32]) -> IntentScores {
    let query = unit(embedding.to_vec());
    let mut scored: Vec<(f32, Option<Intent>)> = items
        .iter()
        .map(|(label, v)| (dot(&query, v), *label))
        .collect();
    let k = NEIGHBOURS.min(scored.len());
    if k == 0 {
        return IntentScores::default();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    let top = &scored[..k];
    let best = top.iter().map(|t| t.0).fold(f32::MIN, f32::max);
    let total: f32 = top.iter().map(|t| t.0.max(0.0)).sum();
    let mut scores = IntentScores::default();
    if total <= 0.0 {
        return scores;
    }
    let confidence = ((best - (FLOOR - 0.15)) / 0.15).clamp(0.0, 1.0);
    for intent in Intent::ALL {
        let share: f32 = top
            .iter()
            .filter(|t| t.1 == Some(intent))
            .map(|t| t.0.max(0.0))
            .sum::<f32>()
            / total;
        scores.set(intent, share * confidence);
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::ExemplarSet;

    #[test]
    fn nearest_exemplars_vote() {
        let phrases = vec![
            (Some(Intent::HumanRequest), "a".to_string()),
            (Some(Intent::HumanRequest), "b".to_string()),
            (None, "c".to_string()),
        ];
        let set = ExemplarSet::new(
            &phrases,
            vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0]],
        );
        let s = set.classify("", &[1.0, 0.05]);
        assert!(s.get(Intent::HumanRequest) > 0.9, "{s:?}");
        assert_eq!(s.get(Intent::Complaint), 0.0);
        let s = set.classify("", &[0.0, 1.0]);
        assert!(s.get(Intent::HumanRequest) < 0.5, "{s:?}");
        // Far from everything: no vote.
        let s = set.classify("", &[-1.0, -1.0]);
        assert_eq!(s.max(), 0.0);
    }

    #[test]
    fn dot_products_match_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
        assert_eq!(dot(&a, &b[..3]), 0.0);
        let u = unit(vec![3.0, 4.0]);
        assert!((u[0] - 0.6).abs() < 1e-6 && (u[1] - 0.8).abs() < 1e-6);
        assert_eq!(unit(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }
}
