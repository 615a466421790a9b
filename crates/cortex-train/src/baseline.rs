//! Closed-form baselines a trained model is measured against: ordinary least squares.

use crate::error::{Result, invalid};

/// The least-squares coefficients of `y ≈ X β` over `[x, 1]` (the last coefficient is the
/// intercept): the solution of the normal equations `X̃ᵀX̃ β = X̃ᵀ y`, by Gaussian elimination
/// with partial pivoting. `features` is row-major with `columns` columns.
///
/// # Errors
/// [`crate::Error::InvalidConfig`] when the shapes disagree or the columns are linearly
/// dependent (no unique solution).
pub fn least_squares(features: &[f64], columns: usize, y: &[f64]) -> Result<Vec<f64>> {
    if columns == 0 || features.len() != y.len() * columns || y.is_empty() {
        return Err(invalid(
            "least_squares",
            "features",
            &format!("{} rows x {columns} columns", y.len()),
            features.len(),
        ));
    }
    let n = columns + 1;
    // Augmented matrix [X̃ᵀX̃ | X̃ᵀy], row by row.
    let mut a = vec![vec![0.0; n + 1]; n];
    for (row, &target) in features.chunks(columns).zip(y) {
        let x: Vec<f64> = row.iter().copied().chain([1.0]).collect();
        for (i, a_i) in a.iter_mut().enumerate() {
            for (j, value) in x.iter().enumerate() {
                a_i[j] += x[i] * value;
            }
            a_i[n] += x[i] * target;
        }
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let scale = a.iter().map(|r| r[col].abs()).fold(0.0, f64::max).max(1.0);
        if a[col][col].abs() < 1e-12 * scale {
            return Err(invalid(
                "least_squares",
                "features",
                "linearly independent columns",
                "dependent columns",
            ));
        }
        let pivot_row = a[col].clone();
        for row in a.iter_mut().skip(col + 1) {
            let factor = row[col] / pivot_row[col];
            for (value, p) in row.iter_mut().zip(&pivot_row).skip(col) {
                *value -= factor * p;
            }
        }
    }
    let mut beta = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * beta[k]).sum();
        beta[row] = (a[row][n] - s) / a[row][row];
    }
    Ok(beta)
}
