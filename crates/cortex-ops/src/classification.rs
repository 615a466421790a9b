//! Classification losses: `cross_entropy` (from logits), `nll_loss` (from log-probabilities)
//! and `binary_cross_entropy_with_logits`, with PyTorch's semantics.

use burn::tensor::{Int, Tensor};

use crate::activation::{log_softmax, softplus_unit};
use crate::check;
use crate::class_targets::{ClassTargets, TargetCheck};
use crate::error::Result;
use crate::loss::{Reduction, check_pair};

/// Options of [`cross_entropy`]; the defaults are PyTorch's.
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyOptions {
    /// How the per-sample losses are reduced (default: mean).
    pub reduction: Reduction,
    /// Label smoothing `ε` in `[0, 1]`: the target distribution is `(1-ε) onehot + ε / C`
    /// (default 0).
    pub label_smoothing: f64,
    /// Per-class weights `[C]`, non-negative (default: all 1).
    pub class_weights: Option<Tensor<1>>,
    /// A target value whose samples contribute nothing (default: none).
    pub ignore_index: Option<i64>,
    /// How the targets are checked (default: eagerly, on the host).
    pub target_check: TargetCheck,
}

impl CrossEntropyOptions {
    /// PyTorch's defaults: mean reduction, no smoothing, no weights, no ignore index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    /// Sets the label smoothing `ε`.
    pub fn with_label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }

    /// Sets per-class weights `[C]`.
    pub fn with_class_weights(mut self, class_weights: Tensor<1>) -> Self {
        self.class_weights = Some(class_weights);
        self
    }

    /// Sets the ignored target value.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// Sets how the targets are checked ([`TargetCheck::Deferred`] keeps a training step free
    /// of reads back to the host).
    pub fn with_target_check(mut self, target_check: TargetCheck) -> Self {
        self.target_check = target_check;
        self
    }
}

/// Cross-entropy of logits against integer class targets.
///
/// With `p = log_softmax(logits)`, class weights `w` and smoothing `ε`, sample `i` contributes
/// `ℓ_i = (1-ε) w[t_i] (-p[i, t_i]) + (ε/C) Σ_c w[c] (-p[i, c])` (0 when `t_i` is ignored);
/// the mean divides `Σ ℓ_i` by `Σ_i w[t_i]` over kept samples, exactly as PyTorch.
///
/// # Errors
/// `EmptyInput` for no samples or no classes; `ShapeMismatch` when `targets` is not `[N]` or
/// `class_weights` not `[C]`; `DTypeMismatch`/`DeviceMismatch` for class weights or targets
/// of another precision or on another device; `IndexOutOfRange` for a target outside `[0, C)`
/// that is not the ignore index; `InvalidArgument` for smoothing outside `[0, 1]`, a negative
/// or non-finite class weight, or a mean over samples whose weights sum to 0 (all ignored).
/// With [`TargetCheck::Deferred`], neither `IndexOutOfRange` nor the class-weight and
/// zero-sum checks (see there).
///
/// # Shapes
/// logits `[N, C]`, targets `[N]`; output `[N]` (`None`) or `[1]`.
///
/// ```
/// # use burn::tensor::{Device, Int, Tensor};
/// # use cortex_ops::{cross_entropy, CrossEntropyOptions};
/// let device = Device::flex();
/// let logits = Tensor::<2>::from_floats([[0.0, 0.0]], &device);
/// let targets = Tensor::<1, Int>::from_ints([1], &device);
/// let loss: f32 = cross_entropy(logits, targets, &CrossEntropyOptions::new())
///     .unwrap()
///     .into_scalar();
/// assert!((loss - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
pub fn cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    options: &CrossEntropyOptions,
) -> Result<Tensor<1>> {
    const OP: &str = "cross_entropy";
    check::non_empty(OP, "logits", &logits.dims())?;
    let ls = options.label_smoothing;
    if !(0.0..=1.0).contains(&ls) {
        return Err(check::invalid(OP, "label_smoothing", "in [0, 1]", ls));
    }
    let log_probs = log_softmax(logits, 1)?;
    class_loss(
        OP,
        log_probs,
        targets,
        options.reduction,
        ClassOptions {
            class_weights: options.class_weights.as_ref(),
            ignore_index: options.ignore_index,
            label_smoothing: ls,
            target_check: options.target_check,
        },
    )
}

/// Negative log-likelihood of log-probabilities against integer class targets:
/// `ℓ_i = -w[t_i] p[i, t_i]`, mean divided by `Σ_i w[t_i]` (PyTorch's `nll_loss`).
///
/// # Errors
/// As [`cross_entropy`] (without the smoothing check).
///
/// # Shapes
/// log_probs `[N, C]`, targets `[N]`; output `[N]` (`None`) or `[1]`.
pub fn nll_loss(
    log_probs: Tensor<2>,
    targets: Tensor<1, Int>,
    reduction: Reduction,
    class_weights: Option<&Tensor<1>>,
    ignore_index: Option<i64>,
) -> Result<Tensor<1>> {
    class_loss(
        "nll_loss",
        log_probs,
        targets,
        reduction,
        ClassOptions {
            class_weights,
            ignore_index,
            label_smoothing: 0.0,
            target_check: TargetCheck::Eager,
        },
    )
}

/// The shared body of `nll_loss` and `cross_entropy` (see the latter for the formula).
fn class_loss(
    op: &'static str,
    log_probs: Tensor<2>,
    targets: Tensor<1, Int>,
    reduction: Reduction,
    options: ClassOptions<'_>,
) -> Result<Tensor<1>> {
    let [n, classes] = log_probs.dims();
    let checked = ClassTargets::new(
        op,
        &log_probs,
        &targets,
        options.class_weights,
        options.ignore_index,
        reduction,
        options.target_check,
    )?;
    let picked = log_probs
        .clone()
        .gather(1, checked.gather().reshape([n, 1]))
        .reshape([n]);
    let mut per_sample = picked.neg().mul(checked.sample_weights());

    let label_smoothing = options.label_smoothing;
    if label_smoothing > 0.0 {
        let weighted = match options.class_weights {
            Some(w) => log_probs.mul(w.clone().detach().reshape([1, classes])),
            None => log_probs,
        };
        let smooth = weighted.sum_dim(1).reshape([n]).neg().mul(checked.kept());
        per_sample = per_sample
            .mul_scalar(1.0 - label_smoothing)
            .add(smooth.mul_scalar(label_smoothing / classes as f64));
    }

    Ok(checked.reduce(per_sample, reduction))
}

/// The options `nll_loss` and `cross_entropy` share.
#[derive(Clone, Copy)]
struct ClassOptions<'a> {
    class_weights: Option<&'a Tensor<1>>,
    ignore_index: Option<i64>,
    label_smoothing: f64,
    target_check: TargetCheck,
}

/// Validates a logits/targets pair of a binary cross-entropy: same shape and dtype, not
/// empty, every target in `[0, 1]` (NaN rejected).
///
/// # Errors
/// `ShapeMismatch`, `DTypeMismatch`, `DeviceMismatch`, `EmptyInput`, or `InvalidArgument`
/// naming a bad target.
pub fn check_binary_targets<const D: usize>(
    op: &'static str,
    logits: &Tensor<D>,
    targets: &Tensor<D>,
) -> Result<()> {
    check_pair(op, logits, targets)?;
    if let Some(bad) = targets
        .to_data()
        .iter::<f64>()
        .find(|t| !(0.0..=1.0).contains(t))
    {
        return Err(check::invalid(op, "targets", "in [0, 1]", bad));
    }
    Ok(())
}

/// Binary cross-entropy of logits `x` against targets `t ∈ [0, 1]`:
/// `max(x, 0) - x t + ln(1 + e^(-|x|))`, stable for any |x| (no overflow at |x| = 1000) and
/// with the exact gradient `σ(x) - t` everywhere, including `x = 0`.
///
/// # Errors
/// As [`crate::mse_loss`], plus `InvalidArgument` for a target outside `[0, 1]` or NaN.
///
/// # Shapes
/// logits and targets: any equal shape; output: that shape (`None`) or all ones.
pub fn binary_cross_entropy_with_logits<const D: usize>(
    logits: Tensor<D>,
    targets: Tensor<D>,
    reduction: Reduction,
) -> Result<Tensor<D>> {
    check_binary_targets("binary_cross_entropy_with_logits", &logits, &targets)?;
    // ln(1 + e^x) - x t, with the overflow-free softplus whose gradient at x = 0 is exact.
    let loss = softplus_unit(logits.clone()).sub(logits.mul(targets));
    Ok(reduction.apply(loss))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, ints, tensor, values};

    const LN2: f64 = std::f64::consts::LN_2;

    #[test]
    fn class_weights_and_ignore_index_follow_pytorch() {
        for device in devices() {
            // Row 0: logits [ln 3, 0] -> p = [3/4, 1/4], target 0 (weight 1): -ln 0.75.
            // Row 1: logits [0, 0] -> p = [1/2, 1/2], target 1 (weight 3): 3 ln 2.
            // Row 2: ignored (-100).
            let logits = tensor(&[3f64.ln(), 0.0, 0.0, 0.0, 5.0, -5.0], [3, 2], &device);
            let targets = ints(&[0, 1, -100], [3], &device);
            let weights = tensor(&[1.0, 3.0], [2], &device);
            let options = CrossEntropyOptions::new()
                .with_class_weights(weights)
                .with_ignore_index(-100);
            let mean = cross_entropy(logits.clone(), targets.clone(), &options).unwrap();
            let expected = (-(0.75f64).ln() + 3.0 * LN2) / 4.0;
            assert_close(&values(&mean), &[expected], 1e-12);
            let none =
                cross_entropy(logits, targets, &options.with_reduction(Reduction::None)).unwrap();
            assert_close(&values(&none), &[-(0.75f64).ln(), 3.0 * LN2, 0.0], 1e-12);
        }
    }

    #[test]
    fn nll_loss_picks_the_target_log_probability() {
        for device in devices() {
            let log_probs = tensor(&[-0.1, -2.0, -3.0, -0.5], [2, 2], &device).require_grad();
            let targets = ints(&[1, 0], [2], &device);
            let loss = nll_loss(log_probs.clone(), targets, Reduction::Sum, None, None).unwrap();
            assert_close(&values(&loss), &[5.0], 1e-12);
            let grad = values(&log_probs.grad(&loss.backward()).unwrap());
            assert_close(&grad, &[0.0, -1.0, -1.0, 0.0], 1e-12);
        }
    }

    #[test]
    fn bce_with_logits_is_stable_and_exact_at_zero() {
        for device in devices() {
            for dtype in [burn::tensor::DType::F32, burn::tensor::DType::F64] {
                let logits = tensor(&[1000.0, -1000.0, 0.0, 1000.0], [4], &device)
                    .cast(dtype)
                    .require_grad();
                let targets = tensor(&[0.0, 0.0, 1.0, 1.0], [4], &device).cast(dtype);
                let loss =
                    binary_cross_entropy_with_logits(logits.clone(), targets, Reduction::None)
                        .unwrap();
                assert_close(&values(&loss), &[1000.0, 0.0, LN2, 0.0], 1e-6);
                let grad = values(&logits.grad(&loss.sum().backward()).unwrap());
                // σ(x) - t
                assert_close(&grad, &[1.0, 0.0, -0.5, 0.0], 1e-7);
            }
        }
    }

    #[test]
    fn out_of_range_targets_are_errors() {
        let device = devices().remove(0);
        let logits = tensor(&[0.0; 6], [2, 3], &device);
        for (bad, position) in [(3, 1), (-1, 1)] {
            let targets = ints(&[0, bad], [2], &device);
            let err = cross_entropy(logits.clone(), targets, &CrossEntropyOptions::new());
            assert_eq!(
                err.unwrap_err(),
                Error::IndexOutOfRange {
                    op: "cross_entropy",
                    arg: "targets",
                    position,
                    value: bad,
                    bound: 3,
                }
            );
        }
        let targets = ints(&[0, 1, 2], [3], &device);
        assert!(matches!(
            cross_entropy(logits.clone(), targets, &CrossEntropyOptions::new()),
            Err(Error::ShapeMismatch { arg: "targets", .. })
        ));
        let targets = ints(&[0, 1], [2], &device);
        assert!(matches!(
            cross_entropy(
                logits.clone(),
                targets.clone(),
                &CrossEntropyOptions::new().with_label_smoothing(1.5)
            ),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "label_smoothing",
                ..
            }))
        ));
        let all_ignored = ints(&[-100, -100], [2], &device);
        assert!(matches!(
            cross_entropy(
                logits,
                all_ignored,
                &CrossEntropyOptions::new().with_ignore_index(-100)
            ),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "targets",
                ..
            }))
        ));
        let targets = tensor(&[0.5, 2.0], [2], &device);
        assert!(matches!(
            binary_cross_entropy_with_logits(
                tensor(&[0.0, 0.0], [2], &device),
                targets,
                Reduction::Mean
            ),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "targets",
                ..
            }))
        ));
    }

    #[test]
    fn empty_batch_is_an_error() {
        let device = devices().remove(0);
        let logits = tensor(&[], [0, 3], &device);
        let targets = ints(&[], [0], &device);
        assert!(matches!(
            cross_entropy(logits, targets, &CrossEntropyOptions::new()),
            Err(Error::EmptyInput {
                op: "cross_entropy",
                ..
            })
        ));
    }
}
