//! Multinomial logistic regression (softmax regression) over sparse feature rows, trained
//! with L-BFGS: the trainer behind Concierge's intent classifier.
//!
//! A crate of its own so that its loops are compiled with optimisations even in debug builds
//! (see `[profile.dev.package.concierge-learn]` in the workspace manifest): a server started
//! by a debug test trains in seconds, not minutes. No dependencies, deterministic.
//!
//! The objective is scikit-learn's `LogisticRegression(C, multi_class="multinomial")`:
//! `C · Σ cross-entropy + ½‖W‖²`, the intercepts unpenalised. It is minimised here divided by
//! `C · n` (the same minimiser, better scaled).

mod lbfgs;

pub use lbfgs::{minimize, Options};

/// One training row: sparse features as (index, value), sorted or not, and its class.
#[derive(Debug, Clone)]
pub struct Row {
    pub features: Vec<(u32, f32)>,
    pub class: usize,
}

/// A trained softmax regression: per class, a weight per feature and an intercept.
#[derive(Debug, Clone, PartialEq)]
pub struct Softmax {
    pub classes: usize,
    pub features: usize,
    /// `weights[k * features + j]`.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// What training did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    pub iterations: usize,
    pub evaluations: usize,
    /// Final objective (mean cross-entropy + penalty).
    pub objective: f64,
    pub converged: bool,
}

impl Softmax {
    /// Trains on `rows` (every `class < classes`, every feature index `< features`) with
    /// inverse regularisation strength `c` (scikit-learn's `C`).
    pub fn train(
        rows: &[Row],
        classes: usize,
        features: usize,
        c: f64,
        options: Options,
    ) -> (Softmax, Report) {
        assert!(classes >= 2, "softmax regression needs two classes");
        assert!(c > 0.0, "C must be positive");
        let n = rows.len().max(1) as f64;
        let lambda = 1.0 / (c * n);
        let wlen = classes * features;
        let mut z = vec![0.0f64; classes];
        let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let (w, b) = theta.split_at(wlen);
            let mut loss = 0.0f64;
            for row in rows {
                for (k, zk) in z.iter_mut().enumerate() {
                    let wk = &w[k * features..(k + 1) * features];
                    let mut s = b[k];
                    for &(j, v) in &row.features {
                        s += wk[j as usize] * v as f64;
                    }
                    *zk = s;
                }
                let max = z.iter().cloned().fold(f64::MIN, f64::max);
                let mut sum = 0.0;
                for zk in z.iter_mut() {
                    *zk = (*zk - max).exp();
                    sum += *zk;
                }
                loss += sum.ln() + max - (z[row.class].ln() + max);
                let (gw, gb) = grad.split_at_mut(wlen);
                for k in 0..classes {
                    let p = z[k] / sum;
                    let e = (p - if k == row.class { 1.0 } else { 0.0 }) / n;
                    gb[k] += e;
                    let gk = &mut gw[k * features..(k + 1) * features];
                    for &(j, v) in &row.features {
                        gk[j as usize] += e * v as f64;
                    }
                }
            }
            let mut penalty = 0.0;
            for (g, x) in grad[..wlen].iter_mut().zip(w) {
                *g += lambda * x;
                penalty += x * x;
            }
            loss / n + 0.5 * lambda * penalty
        };
        let (theta, report) = minimize(vec![0.0; wlen + classes], objective, options);
        let model = Softmax {
            classes,
            features,
            weights: theta[..wlen].iter().map(|x| *x as f32).collect(),
            bias: theta[wlen..].iter().map(|x| *x as f32).collect(),
        };
        (model, report)
    }

    /// Class probabilities of one sparse row (indices past `features` are ignored).
    pub fn probabilities(&self, features: &[(u32, f32)]) -> Vec<f32> {
        let mut z: Vec<f32> = (0..self.classes)
            .map(|k| {
                let wk = &self.weights[k * self.features..(k + 1) * self.features];
                self.bias[k]
                    + features
                        .iter()
                        .filter_map(|&(j, v)| wk.get(j as usize).map(|w| w * v))
                        .sum::<f32>()
            })
            .collect();
        let max = z.iter().cloned().fold(f32::MIN, f32::max);
        let mut sum = 0.0;
        for zk in z.iter_mut() {
            *zk = (*zk - max).exp();
            sum += *zk;
        }
        z.iter_mut().for_each(|zk| *zk /= sum);
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(points: &[([f32; 2], usize)]) -> Vec<Row> {
        points
            .iter()
            .map(|(x, c)| Row {
                features: vec![(0, x[0]), (1, x[1])],
                class: *c,
            })
            .collect()
    }

    #[test]
    fn separates_three_clusters() {
        let data = rows(&[
            ([1.0, 0.1], 0),
            ([0.9, -0.1], 0),
            ([1.1, 0.0], 0),
            ([-0.1, 1.0], 1),
            ([0.1, 0.9], 1),
            ([0.0, 1.2], 1),
            ([-1.0, -1.0], 2),
            ([-0.8, -1.1], 2),
            ([-1.2, -0.9], 2),
        ]);
        let (m, report) = Softmax::train(&data, 3, 2, 10.0, Options::default());
        assert!(report.converged, "{report:?}");
        for row in &data {
            let p = m.probabilities(&row.features);
            let best = (0..3).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap();
            assert_eq!(best, row.class, "{p:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // Unseen points land with their cluster.
        let p = m.probabilities(&[(0, 0.0), (1, 2.0)]);
        assert!(p[1] > 0.8, "{p:?}");
    }

    #[test]
    fn matches_the_closed_form_of_a_balanced_two_class_problem() {
        // One feature, x = +1 for class 1 and -1 for class 0. The penalty makes the two
        // classes' weights opposite (w0 = -w1, d = w1 - w0), and stationarity of
        // C·Σ CE + ½‖W‖² in w1 gives w1 = C · n · (1 - σ(d)).
        let data = rows(&[
            ([1.0, 0.0], 1),
            ([-1.0, 0.0], 0),
            ([1.0, 0.0], 1),
            ([-1.0, 0.0], 0),
        ]);
        let c = 0.5;
        let (m, report) = Softmax::train(&data, 2, 2, c, Options::default());
        assert!(report.converged);
        let d = (m.weights[2] - m.weights[0]) as f64; // class 1 minus class 0, feature 0
        let sigma = 1.0 / (1.0 + (-d).exp());
        let w1 = m.weights[2] as f64;
        assert!((c * 4.0 * (1.0 - sigma) - w1).abs() < 1e-3, "d {d} w1 {w1}");
        assert!((m.weights[2] + m.weights[0]).abs() < 1e-4);
        assert!((m.bias[0] - m.bias[1]).abs() < 1e-4);
        // A stronger penalty shrinks the weights.
        let (weak, _) = Softmax::train(&data, 2, 2, 0.05, Options::default());
        assert!(weak.weights[2].abs() < m.weights[2].abs());
    }

    #[test]
    fn training_is_deterministic() {
        let data = rows(&[([1.0, 0.0], 0), ([0.0, 1.0], 1), ([0.5, 0.4], 0)]);
        let a = Softmax::train(&data, 2, 2, 1.0, Options::default()).0;
        let b = Softmax::train(&data, 2, 2, 1.0, Options::default()).0;
        assert_eq!(a, b);
    }
}
