//! Fused losses with hand-written backward passes (burn-autodiff's `Backward` trait, through
//! burn's `extension` feature): softmax + cross-entropy and sigmoid + binary cross-entropy.
//!
//! The composed ops keep every intermediate (exp, sums, logs, gathers) on the tape; the fused
//! ones keep only what the closed-form gradient needs and never overflow:
//!
//! - softmax cross-entropy on class indices (gather forward, scatter backward), or, with class
//!   weights or an ignore index, with a target weight matrix `T`:
//!   `ℓ_i = Σ_c T_ic (lse_i - x_ic)`, `∂ℓ_i/∂x_ic = p_ic Σ_c' T_ic' - T_ic` (`softmax - onehot`
//!   when `T` is one-hot), with `lse` computed after subtracting the row maximum;
//! - sigmoid binary cross-entropy: `ℓ = max(x, 0) - x t + ln(1 + e^(-|x|))`,
//!   `∂ℓ/∂x = σ(x) - t` with `σ(x) = ½ (1 + tanh(x/2))`, finite for every `x`.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::ops::IndexingUpdateOp;
use burn::tensor::{Int, Tensor};
use cortex_ops::{ClassTargets, CrossEntropyOptions, Reduction};

use crate::error::Result;
use cortex_ops::InvalidValue;

/// The fused losses, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedLossOps: Backend {
    /// Per-row softmax cross-entropy of logits `[N, C]` against target weights `[N, C]`; `[N]`.
    fn softmax_cross_entropy(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// Per-row label-smoothed softmax cross-entropy of logits `[N, C]` against class indices
    /// `[N]` (no weights, nothing ignored): the fast path that never builds a `[N, C]` target.
    fn softmax_cross_entropy_index(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        label_smoothing: f64,
    ) -> FloatTensor<Self>;

    /// Elementwise sigmoid binary cross-entropy of logits against targets (same shape).
    fn sigmoid_binary_cross_entropy(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// Forward of the softmax cross-entropy: `(loss [N], softmax [N, C])`.
fn softmax_ce_forward<B: Backend>(
    logits: FloatTensor<B>,
    targets: FloatTensor<B>,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let rows = logits.shape()[0];
    let max = B::float_max_dim(logits.clone(), 1);
    let shifted = B::float_sub(logits.clone(), max.clone());
    let log_total = B::float_log(B::float_sum_dim(B::float_exp(shifted.clone()), 1));
    let probs = B::float_exp(B::float_sub(shifted, log_total.clone()));
    let lse = B::float_add(log_total, max);
    let per_class = B::float_mul(targets, B::float_sub(lse, logits));
    let loss = B::float_reshape(B::float_sum_dim(per_class, 1), [rows].into());
    (loss, probs)
}

/// Forward of the index softmax cross-entropy:
/// `ℓ_i = L_i - (1-ε) s_{i,t_i} - ε/C Σ_c s_ic` with `s = x - max`, `L = ln Σ e^s` (the shift
/// cancels). Returns `(loss [N], s [N, C], L [N, 1], targets [N, 1])`.
fn ce_index_forward<B: Backend>(
    logits: FloatTensor<B>,
    targets: IntTensor<B>,
    label_smoothing: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, IntTensor<B>) {
    let [rows, classes] = [logits.shape()[0], logits.shape()[1]];
    let max = B::float_max_dim(logits.clone(), 1);
    let shifted = B::float_sub(logits, max);
    let log_total = B::float_log(B::float_sum_dim(B::float_exp(shifted.clone()), 1));
    let index = B::int_reshape(targets, [rows, 1].into());
    let picked = B::float_gather(1, shifted.clone(), index.clone());
    let mut loss = B::float_sub(
        log_total.clone(),
        B::float_mul_scalar(picked, (1.0 - label_smoothing).into()),
    );
    if label_smoothing > 0.0 {
        let spread = B::float_sum_dim(shifted.clone(), 1);
        loss = B::float_sub(
            loss,
            B::float_mul_scalar(spread, (label_smoothing / classes as f64).into()),
        );
    }
    (
        B::float_reshape(loss, [rows].into()),
        shifted,
        log_total,
        index,
    )
}

/// Forward of the sigmoid binary cross-entropy.
fn sigmoid_bce_forward<B: Backend>(
    logits: FloatTensor<B>,
    targets: FloatTensor<B>,
) -> FloatTensor<B> {
    let positive = B::float_clamp_min(logits.clone(), 0.0.into());
    let tail = B::float_log1p(B::float_exp(B::float_neg(B::float_abs(logits.clone()))));
    B::float_add(B::float_sub(positive, B::float_mul(logits, targets)), tail)
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedLossOps for $backend {
            fn softmax_cross_entropy(
                logits: FloatTensor<Self>,
                targets: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                softmax_ce_forward::<Self>(logits, targets).0
            }

            fn softmax_cross_entropy_index(
                logits: FloatTensor<Self>,
                targets: IntTensor<Self>,
                label_smoothing: f64,
            ) -> FloatTensor<Self> {
                ce_index_forward::<Self>(logits, targets, label_smoothing).0
            }

            fn sigmoid_binary_cross_entropy(
                logits: FloatTensor<Self>,
                targets: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                sigmoid_bce_forward::<Self>(logits, targets)
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

impl<B: Backend + FusedLossOps, C: CheckpointStrategy> FusedLossOps for Autodiff<B, C> {
    fn softmax_cross_entropy(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct SoftmaxCrossEntropy;

        impl<B: Backend> Backward<B, 1> for SoftmaxCrossEntropy {
            /// The softmax and the target weights.
            type State = (FloatTensor<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let (probs, targets) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    let rows = probs.shape()[0];
                    let mass = B::float_sum_dim(targets.clone(), 1);
                    let d_logits = B::float_sub(B::float_mul(probs, mass), targets);
                    B::float_mul(d_logits, B::float_reshape(grad, [rows, 1].into()))
                });
            }
        }

        let guard = logits.node();
        let targets = targets.into_primitive();
        let (loss, probs) = softmax_ce_forward::<B>(logits.into_primitive(), targets.clone());
        match SoftmaxCrossEntropy
            .prepare::<C>([guard])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((probs, targets), loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn softmax_cross_entropy_index(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        label_smoothing: f64,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct SoftmaxCrossEntropyIndex;

        impl<B: Backend> Backward<B, 1> for SoftmaxCrossEntropyIndex {
            /// Shifted logits, log-sum-exp of the shifted row, target indices `[N, 1]`, ε.
            type State = (FloatTensor<B>, FloatTensor<B>, IntTensor<B>, f64);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let (shifted, log_total, index, ls) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    let [rows, classes] = [shifted.shape()[0], shifted.shape()[1]];
                    let grad = B::float_reshape(grad, [rows, 1].into());
                    // g (p - ε/C), then -(1-ε) g added at each target: g (p - T).
                    let probs = B::float_exp(B::float_sub(shifted, log_total));
                    let spread = B::float_sub_scalar(probs, (ls / classes as f64).into());
                    let d_logits = B::float_mul(spread, grad.clone());
                    let at_target = B::float_mul_scalar(grad, (ls - 1.0).into());
                    B::float_scatter(1, d_logits, index, at_target, IndexingUpdateOp::Add)
                });
            }
        }

        let guard = logits.node();
        let (loss, shifted, log_total, index) =
            ce_index_forward::<B>(logits.into_primitive(), targets, label_smoothing);
        match SoftmaxCrossEntropyIndex
            .prepare::<C>([guard])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                prep.finish((shifted, log_total, index, label_smoothing), loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }

    fn sigmoid_binary_cross_entropy(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct SigmoidBinaryCrossEntropy;

        impl<B: Backend> Backward<B, 1> for SigmoidBinaryCrossEntropy {
            /// The logits and the targets.
            type State = (FloatTensor<B>, FloatTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let (logits, targets) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    let half = B::float_mul_scalar(logits, 0.5.into());
                    let sigmoid = B::float_mul_scalar(
                        B::float_add_scalar(B::float_tanh(half), 1.0.into()),
                        0.5.into(),
                    );
                    B::float_mul(B::float_sub(sigmoid, targets), grad)
                });
            }
        }

        let guard = logits.node();
        let (logits, targets) = (logits.into_primitive(), targets.into_primitive());
        let loss = sigmoid_bce_forward::<B>(logits.clone(), targets.clone());
        match SigmoidBinaryCrossEntropy
            .prepare::<C>([guard])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((logits, targets), loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }
}

/// Cross-entropy of logits against class targets through the fused softmax + cross-entropy
/// op (on flex and ndarray; elsewhere [`cortex_ops::cross_entropy`] itself, see
/// [`crate::cpu_kernels_supported`]): the same value and options as
/// [`cortex_ops::cross_entropy`] (label smoothing, class weights, ignore index, PyTorch's
/// mean), with gradient `g (p Σ_c T_c - T)` for the target weight matrix
/// `T_ic = w_c ((1-ε) onehot_ic + ε/C)` (0 for ignored rows).
///
/// Without class weights or an ignore index (the common case) `T` is never built: the forward
/// gathers the target logit and the backward scatters `-(1-ε) g` into `g (p - ε/C)`.
///
/// # Errors
/// As [`cortex_ops::cross_entropy`] (the same [`ClassTargets`] checks).
///
/// # Shapes
/// logits `[N, C]`, targets `[N]`; output `[N]` (`None`) or `[1]`.
pub fn fused_cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    options: &CrossEntropyOptions,
) -> Result<Tensor<1>> {
    let [rows, classes] = logits.dims();
    let ls = options.label_smoothing;
    if !(0.0..=1.0).contains(&ls) {
        let invalid = InvalidValue::new("fused_cross_entropy", "label_smoothing", "in [0, 1]", ls);
        return Err(cortex_ops::Error::InvalidArgument(invalid).into());
    }
    let dtype = logits.dtype();
    if !crate::cpu_kernels_supported(&logits.device()) {
        // No kernel on this device: the composed op computes the same value and gradient.
        return Ok(cortex_ops::cross_entropy(logits, targets, options)?);
    }
    let checked = ClassTargets::new(
        "fused_cross_entropy",
        &logits,
        &targets,
        options.class_weights.as_ref(),
        options.ignore_index,
        options.reduction,
        options.target_check,
    )?;
    if options.class_weights.is_none() && checked.every_row_counts() {
        let per_sample =
            Tensor::<1>::from_dispatch(<Dispatch as FusedLossOps>::softmax_cross_entropy_index(
                logits.into_dispatch(),
                checked.gather().into_dispatch(),
                ls,
            ));
        return Ok(checked.reduce(per_sample, options.reduction));
    }
    // T = ((1-ε) onehot + ε/C) · w_c, zeroed on rows that count nowhere; built on the device.
    let off = ls / classes as f64;
    let mut matrix: Tensor<2> = checked
        .gather()
        .float()
        .cast(dtype)
        .one_hot_fill(classes, 1.0, 0.0, -1)
        .mul_scalar(1.0 - ls)
        .add_scalar(off);
    if let Some(w) = &options.class_weights {
        matrix = matrix.mul(w.clone().detach().reshape([1, classes]));
    }
    if !checked.every_row_counts() {
        matrix = matrix.mul(checked.kept().reshape([rows, 1]));
    }
    let per_sample = Tensor::<1>::from_dispatch(<Dispatch as FusedLossOps>::softmax_cross_entropy(
        logits.into_dispatch(),
        matrix.into_dispatch(),
    ));
    Ok(checked.reduce(per_sample, options.reduction))
}

/// Binary cross-entropy of logits through the fused sigmoid + BCE op (on flex and ndarray;
/// elsewhere the composed op): the same value as
/// [`cortex_ops::binary_cross_entropy_with_logits`], gradient `σ(x) - t` computed directly.
///
/// # Errors
/// As [`cortex_ops::binary_cross_entropy_with_logits`].
///
/// # Shapes
/// logits and targets: any equal shape; output: that shape (`None`) or all ones.
pub fn fused_binary_cross_entropy_with_logits<const D: usize>(
    logits: Tensor<D>,
    targets: Tensor<D>,
    reduction: Reduction,
) -> Result<Tensor<D>> {
    if !crate::cpu_kernels_supported(&logits.device()) {
        // No kernel on this device: the composed op computes the same value and gradient.
        return Ok(cortex_ops::binary_cross_entropy_with_logits(
            logits, targets, reduction,
        )?);
    }
    cortex_ops::check_binary_targets("fused_binary_cross_entropy_with_logits", &logits, &targets)?;
    let loss =
        Tensor::<D>::from_dispatch(<Dispatch as FusedLossOps>::sigmoid_binary_cross_entropy(
            logits.into_dispatch(),
            targets.into_dispatch(),
        ));
    Ok(reduction.apply(loss))
}
