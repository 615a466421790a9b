//! The gradient cases of every differentiable op in `cortex-ops`.
//!
//! Non-differentiable points are avoided by construction (see `docs/gradcheck.md`): inputs of
//! ops with a kink at 0 (relu, leaky relu, elu, abs in mae/huber) come from
//! [`sample::away_from_zero`], max-pool inputs from [`sample::distinct`] (no ties), and the
//! Huber differences stay away from `|d| = delta`.
//!
//! One file per op family; each exposes a `*_cases(&mut Vec<GradCase>)` that pushes its cases.

mod activation;
mod classification;
mod fused;
mod layers;
mod regression;

use burn::tensor::{Int, Tensor, TensorData};

use crate::registry::GradCase;

pub use fused::fused_cases;

/// Applies `$body` (using `$x`) to rank-2 inputs of shape `[1, 5]` (batch 1) and `[3, 7]`
/// (odd sizes), and to a rank-3 input `[2, 3, 4]`.
macro_rules! elementwise {
    ($cases:ident, $op:literal, $sampler:path, |$x:ident| $body:expr) => {
        for (variant, shape, seed) in [("batch1", [1usize, 5], 1u64), ("odd", [3, 7], 2)] {
            $cases.push(GradCase::new(
                format!("{}/{variant}", $op),
                $op,
                vec![$sampler("x", &shape, seed)],
                |args| {
                    let $x: Tensor<2> = args.get::<2>(0)?;
                    Ok($body)
                },
            ));
        }
        $cases.push(GradCase::new(
            format!("{}/rank3", $op),
            $op,
            vec![$sampler("x", &[2, 3, 4], 3)],
            |args| {
                let $x: Tensor<3> = args.get::<3>(0)?;
                Ok($body)
            },
        ));
    };
}

pub(crate) use elementwise;

/// Every registered case: the ops of `cortex-ops` and the fused losses of this crate.
pub fn op_cases() -> Vec<GradCase> {
    let mut cases = Vec::new();
    activation::activation_cases(&mut cases);
    regression::loss_cases(&mut cases);
    classification::classification_cases(&mut cases);
    layers::linear_cases(&mut cases);
    layers::conv_cases(&mut cases);
    layers::pool_cases(&mut cases);
    layers::norm_cases(&mut cases);
    layers::lookup_cases(&mut cases);
    cases.extend(fused_cases());
    cases
}

pub(crate) fn int_tensor(values: &[i64], like: &Tensor<2>) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len()]),
        &like.device(),
    )
}

pub(crate) fn float_like<const D: usize>(
    values: &[f64],
    shape: [usize; D],
    like: &Tensor<2>,
) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        (&like.device(), like.dtype()),
    )
}

/// Cross-entropy options of a case; class weights become a tensor like `logits`.
pub(crate) fn ce_options(
    reduction: cortex_ops::Reduction,
    smoothing: f64,
    weights: Option<&[f64]>,
    ignore: Option<i64>,
    logits: &Tensor<2>,
) -> cortex_ops::CrossEntropyOptions {
    let mut options = cortex_ops::CrossEntropyOptions::new()
        .with_reduction(reduction)
        .with_label_smoothing(smoothing);
    if let Some(w) = weights {
        options = options.with_class_weights(float_like(w, [w.len()], logits));
    }
    if let Some(index) = ignore {
        options = options.with_ignore_index(index);
    }
    options
}
