//! The fused linear layer `y = x Wᵀ + b` with the weight in PyTorch's `[out, in]` layout and a
//! hand-written backward:
//!
//! `∂x = ∂y W` (`[N, out] · [out, in]`), `∂W = ∂yᵀ x` (`[out, N] · [N, in]`), `∂b = Σ_rows ∂y`.
//!
//! Composed, `x · Wᵀ` differentiates through the transpose: burn's matmul gives the gradient of
//! `Wᵀ` (`[in, out]`, contiguous) and the transpose's backward hands the weight a transposed
//! *view* of it. Every later elementwise op on that gradient — the optimizer's `lr · g`, Adam's
//! moments — then walks it element by element through a strided iterator on flex and ndarray:
//! 36% of an MLP's training step (perf, W2). Here `∂W` comes out of its own GEMM, contiguous in
//! the weight's layout; the GEMMs read their transposed operands in place.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::Tensor;

use cortex_ops::Result;

/// The fused linear layer, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedLinearOps: Backend {
    /// `x Wᵀ`: x `[N, in]`, weight `[out, in]`; `[N, out]`.
    fn linear_out_in(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `x Wᵀ + b`: x `[N, in]`, weight `[out, in]`, bias `[out]`; `[N, out]`.
    fn linear_out_in_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `x Wᵀ (+ b)` on a plain backend: burn's linear on the transposed view (the GEMM reads it
/// in place).
fn forward<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
) -> FloatTensor<B> {
    B::linear(x, B::float_transpose(weight), bias)
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedLinearOps for $backend {
            fn linear_out_in(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
                forward::<Self>(x, weight, None)
            }

            fn linear_out_in_bias(
                x: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                bias: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, weight, Some(bias))
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// `∂x = ∂y W`.
fn x_grad<B: Backend>(weight: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    B::float_matmul(grad, weight)
}

/// `∂W = ∂yᵀ x`, `[out, in]` and contiguous.
fn weight_grad<B: Backend>(x: FloatTensor<B>, grad: FloatTensor<B>) -> FloatTensor<B> {
    B::float_matmul(B::float_transpose(grad), x)
}

/// `∂b = Σ_rows ∂y`, `[out]`.
fn bias_grad<B: Backend>(grad: FloatTensor<B>) -> FloatTensor<B> {
    let out = grad.shape()[1];
    B::float_reshape(B::float_sum_dim(grad, 0), [out].into())
}

/// What the backward needs: `x` for `∂W` (when the weight is tracked) and `W` for `∂x` (when
/// `x` is).
type Saved<B> = (Option<FloatTensor<B>>, Option<FloatTensor<B>>);

#[derive(Debug)]
struct LinearWithBias;

impl<B: Backend> Backward<B, 3> for LinearWithBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        if let (Some(node), Some(weight)) = (node_x, weight) {
            grads.register::<B>(node.id, x_grad::<B>(weight, grad.clone()));
        }
        if let (Some(node), Some(x)) = (node_weight, x) {
            grads.register::<B>(node.id, weight_grad::<B>(x, grad.clone()));
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, bias_grad::<B>(grad));
        }
    }
}

#[derive(Debug)]
struct LinearNoBias;

impl<B: Backend> Backward<B, 2> for LinearNoBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        if let (Some(node), Some(weight)) = (node_x, weight) {
            grads.register::<B>(node.id, x_grad::<B>(weight, grad.clone()));
        }
        if let (Some(node), Some(x)) = (node_weight, x) {
            grads.register::<B>(node.id, weight_grad::<B>(x, grad));
        }
    }
}

impl<B: Backend + FusedLinearOps, C: CheckpointStrategy> FusedLinearOps for Autodiff<B, C> {
    fn linear_out_in(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
        let nodes = [x.node(), weight.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        match LinearNoBias.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let saved = (
                    weight_tracked.then(|| x.clone()),
                    x_tracked.then(|| weight.clone()),
                );
                prep.finish(saved, forward::<B>(x, weight, None))
            }
            OpsKind::UnTracked(prep) => prep.finish(forward::<B>(x, weight, None)),
        }
    }

    fn linear_out_in_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
        let nodes = [x.node(), weight.node(), bias.node()];
        let (x, weight, bias) = (
            x.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
        );
        match LinearWithBias
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved = (
                    weight_tracked.then(|| x.clone()),
                    x_tracked.then(|| weight.clone()),
                );
                prep.finish(saved, forward::<B>(x, weight, Some(bias)))
            }
            OpsKind::UnTracked(prep) => prep.finish(forward::<B>(x, weight, Some(bias))),
        }
    }
}

/// `y = x Wᵀ + b` with the weight `[out, in]` (PyTorch's layout): the same value, errors and
/// gradients as [`cortex_ops::linear`]; on flex and ndarray through the fused op, whose
/// backward gives `∂W` contiguous in the weight's layout (see the module doc); elsewhere
/// `cortex_ops::linear` itself.
///
/// # Errors
/// As [`cortex_ops::linear`] (the same [`cortex_ops::check_linear`] checks, the same
/// `cortex_ops::Error`).
///
/// # Shapes
/// x `[…, in]`, weight `[out, in]`, bias `[out]`; output `[…, out]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// let device = Device::flex();
/// let x = Tensor::<2>::from_floats([[1.0, 2.0]], &device);
/// let w = Tensor::<2>::from_floats([[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]], &device);
/// let b = Tensor::<1>::from_floats([0.5, 0.0, -1.0], &device);
/// let y = cortex_autodiff::fused_linear(x, w, Some(b))?;
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![3.5, 2.0, 1.0]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_linear<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Result<Tensor<D>> {
    if !crate::cpu_kernels_supported(&x.device()) {
        // No fused op on this device: the composed op computes the same value and gradient.
        return cortex_ops::linear(x, weight, bias);
    }
    cortex_ops::check_linear(&x, &weight, bias.as_ref())?;
    let dims = x.dims();
    let (in_features, out_features) = (dims[D - 1], weight.dims()[0]);
    let rows = dims[..D - 1].iter().product::<usize>();
    let x = x.reshape([rows, in_features]).into_dispatch();
    let y = match bias {
        Some(b) => <Dispatch as FusedLinearOps>::linear_out_in_bias(
            x,
            weight.into_dispatch(),
            b.into_dispatch(),
        ),
        None => <Dispatch as FusedLinearOps>::linear_out_in(x, weight.into_dispatch()),
    };
    let mut out_dims = dims;
    out_dims[D - 1] = out_features;
    Ok(Tensor::<2>::from_dispatch(y).reshape(out_dims))
}
