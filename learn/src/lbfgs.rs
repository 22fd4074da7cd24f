//! Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex objectives.

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub max_iterations: usize,
    /// Stop when the largest gradient component is below this.
    pub gradient_tolerance: f64,
    /// Stop when an iteration lowers the objective by less than this, relative.
    pub relative_decrease: f64,
    /// Number of correction pairs kept.
    pub memory: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iterations: 500,
            gradient_tolerance: 1e-6,
            relative_decrease: 1e-10,
            memory: 10,
        }
    }
}

/// Minimises `f` (which writes its gradient into the second argument and returns its value)
/// from `x`. Returns the minimiser and a report.
pub fn minimize<F>(mut x: Vec<f64>, mut f: F, options: Options) -> (Vec<f64>, crate::Report)
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let dim = x.len();
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut evaluations = 1;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut direction = vec![0.0; dim];
    let mut x_new = vec![0.0; dim];
    let mut g_new = vec![0.0; dim];
    let mut converged = false;
    let mut iterations = 0;
    while iterations < options.max_iterations {
        if inf_norm(&g) < options.gradient_tolerance {
            converged = true;
            break;
        }
        iterations += 1;
        // Two-loop recursion: direction = -H·g.
        direction.copy_from_slice(&g);
        let mut alpha = vec![0.0; s_hist.len()];
        for i in (0..s_hist.len()).rev() {
            alpha[i] = rho[i] * dot(&s_hist[i], &direction);
            axpy(-alpha[i], &y_hist[i], &mut direction);
        }
        let gamma = match (s_hist.last(), y_hist.last()) {
            (Some(s), Some(y)) => dot(s, y) / dot(y, y),
            _ => 1.0 / inf_norm(&g).max(1.0),
        };
        direction.iter_mut().for_each(|d| *d *= gamma);
        for i in 0..s_hist.len() {
            let beta = rho[i] * dot(&y_hist[i], &direction);
            axpy(alpha[i] - beta, &s_hist[i], &mut direction);
        }
        direction.iter_mut().for_each(|d| *d = -*d);
        let mut slope = dot(&g, &direction);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            direction.iter_mut().zip(&g).for_each(|(d, gi)| *d = -gi);
            slope = dot(&g, &direction);
        }
        // Backtracking line search (Armijo).
        let mut step = 1.0;
        let mut f_new;
        loop {
            for i in 0..dim {
                x_new[i] = x[i] + step * direction[i];
            }
            f_new = f(&x_new, &mut g_new);
            evaluations += 1;
            if f_new <= fx + 1e-4 * step * slope || step < 1e-12 {
                break;
            }
            step *= 0.5;
        }
        if step < 1e-12 {
            break;
        }
        let s: Vec<f64> = (0..dim).map(|i| x_new[i] - x[i]).collect();
        let y: Vec<f64> = (0..dim).map(|i| g_new[i] - g[i]).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if s_hist.len() == options.memory {
                s_hist.remove(0);
                y_hist.remove(0);
                rho.remove(0);
            }
            rho.push(1.0 / sy);
            s_hist.push(s);
            y_hist.push(y);
        }
        let decrease = (fx - f_new) / fx.abs().max(f_new.abs()).max(1.0);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if decrease < options.relative_decrease {
            converged = inf_norm(&g) < options.gradient_tolerance.sqrt();
            break;
        }
    }
    if !converged && inf_norm(&g) < options.gradient_tolerance {
        converged = true;
    }
    (
        x,
        crate::Report {
            iterations,
            evaluations,
            objective: fx,
            converged,
        },
    )
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(yi, xi)| *yi += a * xi);
}

fn inf_norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_the_rosenbrock_function() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let (x, report) = minimize(vec![-1.2, 1.0], f, Options::default());
        assert!(report.converged, "{report:?}");
        assert!(
            (x[0] - 1.0).abs() < 1e-4 && (x[1] - 1.0).abs() < 1e-4,
            "{x:?}"
        );
    }
}
