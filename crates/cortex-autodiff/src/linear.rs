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
//!
//! On flex, f32 and f64 run `cortex_kernels::linear` (the products split across rayon's
//! threads, each result written once into the tensor it becomes); ndarray and the other float
//! dtypes run the same products as burn's ops (ndarray would copy every operand first).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};
use cortex_kernels::Real;
use cortex_kernels::linear::{self, LinearShape};

use cortex_ops::Result;

use crate::kernels::{
    HostRead, OperandGrads, SavedOperands, operand_backward, read_optional, tensor,
};

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

/// The kernel's sizes of `x [rows, in]` by `weight [out, in]`.
fn linear_shape<B: Backend>(x: &FloatTensor<B>, weight: &FloatTensor<B>) -> LinearShape {
    let (x, weight) = (x.shape(), weight.shape());
    LinearShape {
        rows: x[0],
        inputs: x[1],
        outputs: weight[0],
    }
}

/// The forward in the kernel precision `T`.
fn host_forward<B: HostRead, T: Real>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
) -> FloatTensor<B> {
    let (dtype, device, shape) = (x.dtype(), x.device(), linear_shape::<B>(&x, &weight));
    let y = B::read(x, |x| {
        B::read(weight, |weight| {
            read_optional::<B, T, _>(bias, |bias| linear::linear_forward(shape, x, weight, bias))
        })
    });
    tensor::<B, T>(y, [shape.rows, shape.outputs], dtype, &device)
}

/// The kernel precision of a linear layer on `B` in `dtype`: f32 or f64 where the backend
/// lends its buffers in place (flex); `None` elsewhere, where burn's own products run.
fn kernel_dtype<B: HostRead>(dtype: DType) -> Option<DType> {
    (B::READS_IN_PLACE && matches!(dtype, DType::F32 | DType::F64)).then_some(dtype)
}

/// `x Wᵀ (+ b)` on a plain backend: the host kernel (see [`kernel_dtype`]), or burn's linear
/// on the transposed view (its GEMM reads it in place).
fn forward<B: HostRead>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
) -> FloatTensor<B> {
    match kernel_dtype::<B>(x.dtype()) {
        Some(DType::F64) => host_forward::<B, f64>(x, weight, bias),
        Some(_) => host_forward::<B, f32>(x, weight, bias),
        None => B::linear(x, B::float_transpose(weight), bias),
    }
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

/// What the backward needs (see [`SavedOperands`]).
type Saved<B> = SavedOperands<B, LinearShape>;

/// The gradients in the kernel precision `T`.
fn host_backward<B: HostRead, T: Real>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    bias: bool,
) -> OperandGrads<B> {
    let (dtype, device, shape) = (grad.dtype(), grad.device(), saved.shape);
    let (dx, dw, db) = B::read(grad, |grad| {
        let dw = read_optional::<B, T, _>(saved.x, |x| {
            x.map(|x| linear::linear_weight_grad(shape, grad, x))
        });
        let dx = read_optional::<B, T, _>(saved.weight, |weight| {
            weight.map(|weight| linear::linear_input_grad(shape, grad, weight))
        });
        (dx, dw, bias.then(|| linear::linear_bias_grad(shape, grad)))
    });
    [
        dx.map(|v| tensor::<B, T>(v, [shape.rows, shape.inputs], dtype, &device)),
        dw.map(|v| tensor::<B, T>(v, [shape.outputs, shape.inputs], dtype, &device)),
        db.map(|v| tensor::<B, T>(v, [shape.outputs], dtype, &device)),
    ]
}

/// The gradients with burn's ops, where the kernels do not run (see [`kernel_dtype`]):
/// `∂x = ∂y W`, `∂W = ∂yᵀ x` (`[out, in]`, contiguous), `∂b = Σ_rows ∂y`.
fn composed_backward<B: Backend>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    bias: bool,
) -> OperandGrads<B> {
    let outputs = saved.shape.outputs;
    [
        saved
            .weight
            .map(|weight| B::float_matmul(grad.clone(), weight)),
        saved
            .x
            .map(|x| B::float_matmul(B::float_transpose(grad.clone()), x)),
        bias.then(|| B::float_reshape(B::float_sum_dim(grad, 0), [outputs].into())),
    ]
}

/// The gradients by the kernel or by burn's products (see [`kernel_dtype`]).
fn backward<B: HostRead, const N: usize>(ops: Ops<Saved<B>, N>, grads: &mut Gradients) {
    operand_backward(ops, grads, |saved, grad, bias| {
        match kernel_dtype::<B>(grad.dtype()) {
            Some(DType::F64) => host_backward::<B, f64>(saved, grad, bias),
            Some(_) => host_backward::<B, f32>(saved, grad, bias),
            None => composed_backward::<B>(saved, grad, bias),
        }
    });
}

#[derive(Debug)]
struct LinearWithBias;

impl<B: HostRead> Backward<B, 3> for LinearWithBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        backward::<B, 3>(ops, grads);
    }
}

#[derive(Debug)]
struct LinearNoBias;

impl<B: HostRead> Backward<B, 2> for LinearNoBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        backward::<B, 2>(ops, grads);
    }
}

/// What the backward of `x` by `weight` saves, given which of them are tracked.
fn saved<B: Backend>(x: &FloatTensor<B>, weight: &FloatTensor<B>, tracked: [bool; 2]) -> Saved<B> {
    SavedOperands::new(x, weight, tracked, linear_shape::<B>(x, weight))
}

impl<B: FusedLinearOps + HostRead, C: CheckpointStrategy> FusedLinearOps for Autodiff<B, C> {
    fn linear_out_in(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let tracked = [x.is_tracked(), weight.is_tracked()];
        let nodes = [x.node(), weight.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        match LinearNoBias.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let state = saved::<B>(&x, &weight, tracked);
                prep.finish(state, B::linear_out_in(x, weight))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::linear_out_in(x, weight)),
        }
    }

    fn linear_out_in_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let tracked = [x.is_tracked(), weight.is_tracked()];
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
                let state = saved::<B>(&x, &weight, tracked);
                prep.finish(state, B::linear_out_in_bias(x, weight, bias))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::linear_out_in_bias(x, weight, bias)),
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
