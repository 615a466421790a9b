//! The closed-form baseline the linear-regression example and the optimizer convergence test
//! measure trained models against: ordinary least squares by Householder QR, in f64.
//!
//! burn's `linalg::qr` would do the decomposition, but it builds its `Q` from an identity in
//! the device's default float type (f32), so an f64 input stops at a dtype assertion — and a
//! yardstick for a model trained in f32 must itself be exact. Hence these few lines.

use crate::BoxError;

/// The coefficients `β` minimising `‖[X, 1] β − y‖²` (the last coefficient is the intercept).
/// `features` is `X`, row-major with `columns` columns.
///
/// Householder reflections turn `[X, 1]` into `R` (upper triangular) and `y` into `Qᵀy`;
/// `β` then solves `R β = (Qᵀy)[..n]` by back substitution. Unlike the normal equations
/// `XᵀX β = Xᵀy`, this never squares the condition number of `X`.
///
/// # Errors
/// When the shapes disagree, when there are fewer rows than coefficients, or when the columns
/// are linearly dependent (no unique solution).
pub fn least_squares(features: &[f64], columns: usize, y: &[f64]) -> Result<Vec<f64>, BoxError> {
    let (rows, n) = (y.len(), columns + 1);
    if columns == 0 || features.len() != rows * columns {
        return Err(format!(
            "least squares: {} feature values for {rows} targets × {columns} columns",
            features.len()
        )
        .into());
    }
    if rows < n {
        return Err(format!(
            "least squares: {rows} rows cannot determine {n} coefficients (columns + intercept)"
        )
        .into());
    }
    // Column-major [X, 1], so that each reflection works on contiguous columns.
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|c| {
            (0..rows)
                .map(|r| {
                    if c == columns {
                        1.0
                    } else {
                        features[r * columns + c]
                    }
                })
                .collect()
        })
        .collect();
    let mut qty = y.to_vec();
    let scale = a
        .iter()
        .map(|col| col.iter().map(|v| v * v).sum::<f64>().sqrt())
        .fold(0.0, f64::max);
    for k in 0..n {
        let norm = a[k][k..].iter().map(|v| v * v).sum::<f64>().sqrt();
        // A column with nothing left beyond the earlier ones (or NaN): no unique solution.
        if norm.is_nan() || norm <= 1e-10 * scale {
            return Err(
                "least squares: the columns are linearly dependent (no unique solution)".into(),
            );
        }
        // v = x − α e₁ with α = −sign(x₀)‖x‖ (no cancellation); H = I − 2 v vᵀ / vᵀv.
        let alpha = if a[k][k] >= 0.0 { -norm } else { norm };
        let mut v = a[k][k..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        let reflect = |target: &mut [f64]| {
            let dot: f64 = v.iter().zip(target.iter()).map(|(a, b)| a * b).sum();
            let factor = 2.0 * dot / vv;
            for (t, vi) in target.iter_mut().zip(&v) {
                *t -= factor * vi;
            }
        };
        for column in &mut a[k..] {
            reflect(&mut column[k..]);
        }
        reflect(&mut qty[k..]);
    }
    // Back substitution on R (a[c][r] for r <= c).
    let mut beta = vec![0.0; n];
    for r in (0..n).rev() {
        let known: f64 = (r + 1..n).map(|c| a[c][r] * beta[c]).sum();
        beta[r] = (qty[r] - known) / a[r][r];
    }
    Ok(beta)
}

#[cfg(test)]
mod tests {
    use super::least_squares;

    #[test]
    fn recovers_an_exact_linear_map() {
        // y = 2 x₁ − 3 x₂ + 1 on five points.
        let x = [0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 5.0, -1.0, 2.0];
        let y: Vec<f64> = x.chunks(2).map(|r| 2.0 * r[0] - 3.0 * r[1] + 1.0).collect();
        let beta = least_squares(&x, 2, &y).unwrap();
        for (b, e) in beta.iter().zip([2.0, -3.0, 1.0]) {
            assert!((b - e).abs() < 1e-12, "{beta:?}");
        }
    }

    #[test]
    fn minimises_the_squared_residual_of_a_noisy_line() {
        // Points off the line y = x: slope Sxy/Sxx = 4.5/5 = 0.9, intercept ȳ − 0.9 x̄ = 0.15.
        let (x, y) = ([0.0, 1.0, 2.0, 3.0], [0.0, 1.5, 1.5, 3.0]);
        let beta = least_squares(&x, 1, &y).unwrap();
        assert!(
            (beta[0] - 0.9).abs() < 1e-12 && (beta[1] - 0.15).abs() < 1e-12,
            "{beta:?}"
        );
    }

    #[test]
    fn refuses_what_has_no_unique_solution() {
        let dependent = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        assert!(least_squares(&dependent, 2, &[1.0, 2.0, 3.0]).is_err());
        assert!(least_squares(&[1.0, 2.0], 1, &[1.0]).is_err()); // shapes disagree
        assert!(least_squares(&[1.0], 1, &[1.0]).is_err()); // one row, two coefficients
    }
}
