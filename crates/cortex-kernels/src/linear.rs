//! The linear layer `y = x Wᵀ + b` with the weight in PyTorch's `[out, in]` layout, and its
//! gradients, on row-major slices:
//!
//! `∂x = ∂y W` (`[N, out] · [out, in]`), `∂W = ∂yᵀ x` (`[out, N] · [N, in]`), `∂b = Σ_rows ∂y`.
//!
//! Every product reads its transposed operand in place (no materialised `Wᵀ` or `∂yᵀ`) and is
//! split across rayon's threads by [`crate::real`]'s GEMM wrapper; each result is a fresh
//! `Vec` that the caller hands to its tensor as it is (burn's flex backend allocates a matmul's
//! output zeroed and then copies it once more to align it).

use rayon::prelude::*;

use crate::real::{Mat, Real, fresh_product};

/// The sizes of a linear layer applied to a batch: `rows` inputs of `inputs` features mapped
/// to `outputs` features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearShape {
    /// Rows of `x` (every leading dimension flattened).
    pub rows: usize,
    /// Input features (`x`'s last dimension, the weight's second).
    pub inputs: usize,
    /// Output features (the weight's first dimension).
    pub outputs: usize,
}

impl LinearShape {
    fn check(&self, what: &str, len: usize, expected: usize) {
        // Internal invariant: the callers size every slice from checked tensor shapes.
        assert_eq!(len, expected, "linear kernel: {what} has the wrong length");
    }
}

/// `y [rows, outputs] = x Wᵀ + b`: x `[rows, inputs]`, weight `[outputs, inputs]`, bias
/// `[outputs]`.
///
/// # Panics
/// When a slice's length does not match `shape` (the callers check tensor shapes first).
pub fn linear_forward<T: Real>(
    shape: LinearShape,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
) -> Vec<T> {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    shape.check("x", x.len(), rows * inputs);
    shape.check("weight", weight.len(), outputs * inputs);
    if let Some(bias) = bias {
        shape.check("bias", bias.len(), outputs);
    }
    let (x, weight_t) = (Mat::rows(x, inputs), Mat::transposed(weight, inputs));
    fresh_product([rows, outputs, inputs], x, weight_t, bias)
}

/// `∂x [rows, inputs] = ∂y W`: grad `[rows, outputs]`, weight `[outputs, inputs]`.
///
/// # Panics
/// When a slice's length does not match `shape`.
pub fn linear_input_grad<T: Real>(shape: LinearShape, grad: &[T], weight: &[T]) -> Vec<T> {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    shape.check("grad", grad.len(), rows * outputs);
    shape.check("weight", weight.len(), outputs * inputs);
    let (grad, weight) = (Mat::rows(grad, outputs), Mat::rows(weight, inputs));
    fresh_product([rows, inputs, outputs], grad, weight, None)
}

/// `∂W [outputs, inputs] = ∂yᵀ x`: grad `[rows, outputs]`, x `[rows, inputs]`.
///
/// # Panics
/// When a slice's length does not match `shape`.
pub fn linear_weight_grad<T: Real>(shape: LinearShape, grad: &[T], x: &[T]) -> Vec<T> {
    let LinearShape {
        rows,
        inputs,
        outputs,
    } = shape;
    shape.check("grad", grad.len(), rows * outputs);
    shape.check("x", x.len(), rows * inputs);
    let (grad_t, x) = (Mat::transposed(grad, outputs), Mat::rows(x, inputs));
    fresh_product([outputs, inputs, rows], grad_t, x, None)
}

/// `∂b [outputs] = Σ_rows ∂y`: grad `[rows, outputs]`. Long gradients are summed in one block
/// of rows per thread, then the partial sums are added.
///
/// # Panics
/// When `grad`'s length does not match `shape`.
pub fn linear_bias_grad<T: Real>(shape: LinearShape, grad: &[T]) -> Vec<T> {
    let LinearShape { rows, outputs, .. } = shape;
    shape.check("grad", grad.len(), rows * outputs);
    let mut db = vec![T::ZERO; outputs];
    if outputs == 0 {
        return db;
    }
    let sum_rows = |rows: &[T]| {
        let mut sums = vec![T::ZERO; outputs];
        for row in rows.chunks_exact(outputs) {
            for (acc, &v) in sums.iter_mut().zip(row) {
                *acc += v;
            }
        }
        sums
    };
    let threads = rayon::current_num_threads();
    if threads < 2 || rows * outputs < 1 << 16 {
        return sum_rows(grad);
    }
    let block = rows.div_ceil(threads) * outputs;
    let partials: Vec<Vec<T>> = grad.par_chunks(block).map(sum_rows).collect();
    for partial in partials {
        for (acc, v) in db.iter_mut().zip(partial) {
            *acc += v;
        }
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len)
            .map(|i| ((i * 7 + seed * 13) % 17) as f64 * 0.25 - 2.0)
            .collect()
    }

    /// Every kernel against the definition, on shapes below and above the size where the
    /// products are split across threads (by rows: 300 × 257; by columns: 40 × 600; a product
    /// of W2 inference's size: 256 × 260 × 257), with odd sizes.
    #[test]
    fn kernels_match_the_definition() {
        for (rows, inputs, outputs) in [
            (1, 1, 1),
            (3, 5, 2),
            (7, 33, 17),
            (300, 70, 257),
            (40, 300, 600),
            (256, 257, 260),
        ] {
            let shape = LinearShape {
                rows,
                inputs,
                outputs,
            };
            let (x, w, b, g) = (
                values(rows * inputs, 1),
                values(outputs * inputs, 2),
                values(outputs, 3),
                values(rows * outputs, 4),
            );
            let y = linear_forward(shape, &x, &w, Some(&b));
            let y_plain = linear_forward(shape, &x, &w, None);
            let dx = linear_input_grad(shape, &g, &w);
            let dw = linear_weight_grad(shape, &g, &x);
            let db = linear_bias_grad(shape, &g);
            let close = |a: f64, b: f64, what: &str| {
                assert!(
                    (a - b).abs() < 1e-9,
                    "{what} {rows}x{inputs}x{outputs}: {a} vs {b}"
                )
            };
            for r in 0..rows {
                for o in 0..outputs {
                    let dot: f64 = (0..inputs)
                        .map(|i| x[r * inputs + i] * w[o * inputs + i])
                        .sum();
                    close(y[r * outputs + o], dot + b[o], "y");
                    close(y_plain[r * outputs + o], dot, "y without bias");
                }
                for i in 0..inputs {
                    let dot: f64 = (0..outputs)
                        .map(|o| g[r * outputs + o] * w[o * inputs + i])
                        .sum();
                    close(dx[r * inputs + i], dot, "dx");
                }
            }
            for o in 0..outputs {
                for i in 0..inputs {
                    let dot: f64 = (0..rows)
                        .map(|r| g[r * outputs + o] * x[r * inputs + i])
                        .sum();
                    close(dw[o * inputs + i], dot, "dw");
                }
                let sum: f64 = (0..rows).map(|r| g[r * outputs + o]).sum();
                close(db[o], sum, "db");
            }
        }
    }

    #[test]
    #[should_panic(expected = "weight has the wrong length")]
    fn a_mis_sized_slice_is_caught_before_the_gemm() {
        let shape = LinearShape {
            rows: 2,
            inputs: 3,
            outputs: 4,
        };
        linear_forward(shape, &[0.0f32; 6], &[0.0; 11], None);
    }
}
