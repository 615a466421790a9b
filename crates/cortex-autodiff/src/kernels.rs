//! Where the hand-written CPU kernels run.
//!
//! Every fused op of this crate (the fused losses, sigmoid, linear and recurrences) is a backend
//! extension implemented for burn's flex and ndarray backends only. Each op asks
//! [`cpu_kernels_supported`] at run time and, on any other device (wgpu, vulkan, cuda, …),
//! computes the same value and gradient from burn's composed tensor ops instead: a speed path,
//! never a requirement, and never a panic in burn's dispatch.

use std::any::TypeId;

use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::Ops;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, NdArray};
use burn::tensor::{DType, Device, Shape, TensorData, try_read_sync};
use cortex_kernels::{Buffer, Real};

/// Whether the hand-written CPU kernels run on `device`: burn's flex or ndarray backend, with
/// or without autodiff. Elsewhere the fused ops fall back to composed tensor ops.
///
/// ```
/// use burn::tensor::Device;
/// assert!(cortex_autodiff::cpu_kernels_supported(&Device::flex().autodiff()));
/// ```
pub fn cpu_kernels_supported(device: &Device) -> bool {
    cortex_core::is_host_device(device)
}

/// Whether a fused op's kernel runs for `x`: f32 or f64 (the kernels' precisions) on flex or
/// ndarray. Elsewhere the op computes with its composed twin.
pub(crate) fn kernel_runs<const D: usize>(x: &burn::tensor::Tensor<D>) -> bool {
    matches!(x.dtype(), DType::F32 | DType::F64) && cpu_kernels_supported(&x.device())
}

/// The values of a flex or ndarray tensor in the kernel precision `T`, for the fused ops'
/// host kernels (its own buffer when it is not shared and already of that dtype).
pub(crate) fn host_values<B: Backend, T: Real>(tensor: FloatTensor<B>) -> Buffer<T> {
    // Flex and ndarray read synchronously and cannot fail; the fused ops only route tensors of
    // those backends here.
    let data = try_read_sync(B::float_into_data(tensor))
        .and_then(Result::ok)
        .expect("fused op: reading a CPU tensor cannot fail");
    Buffer::new(data)
}

/// A tensor of `dtype` on `device` from kernel values.
pub(crate) fn tensor<B: Backend, T: Real>(
    values: Vec<T>,
    shape: impl Into<Shape>,
    dtype: DType,
    device: &B::Device,
) -> FloatTensor<B> {
    from_data::<B>(TensorData::new(values, shape), dtype, device)
}

/// A tensor of `dtype` on `device` from `data` (of the kernel's dtype).
pub(crate) fn from_data<B: Backend>(
    data: TensorData,
    dtype: DType,
    device: &B::Device,
) -> FloatTensor<B> {
    B::float_from_data(data.convert_dtype(dtype), device)
}

/// Read access to a CPU tensor's values in the kernel precision `T`, for the fused ops'
/// kernels: in place where the backend holds them contiguously in that precision (flex), as a
/// copy otherwise. Reading in place matters for the tensors autodiff also keeps (an
/// activation saved for its own backward, a parameter): [`host_values`] must copy those.
pub trait HostRead: Backend {
    /// Whether [`HostRead::read`] borrows the tensor's own buffer. Where it copies (ndarray,
    /// whose `into_data` of a shared tensor walks it element by element: 15 ms a step for the
    /// bench MLP's weights), an op whose work is one GEMM is better left to the backend.
    const READS_IN_PLACE: bool = false;

    /// Calls `f` with the values of `tensor`, row-major, in precision `T` (by default those
    /// of [`host_values`], which takes the buffer over when the tensor does not share it).
    fn read<T: Real, R>(tensor: FloatTensor<Self>, f: impl FnOnce(&[T]) -> R) -> R {
        let values = host_values::<Self, T>(tensor);
        f(values.as_slice())
    }
}

impl HostRead for NdArray {}

impl HostRead for Flex {
    const READS_IN_PLACE: bool = true;

    fn read<T: Real, R>(tensor: FlexTensor, f: impl FnOnce(&[T]) -> R) -> R {
        if let Some((start, end)) = tensor.layout().contiguous_offsets() {
            let in_place = match tensor.dtype() {
                DType::F32 => same_type::<f32, T>(&tensor.storage::<f32>()[start..end]),
                DType::F64 => same_type::<f64, T>(&tensor.storage::<f64>()[start..end]),
                _ => None,
            };
            if let Some(values) = in_place {
                return f(values);
            }
        }
        let values = host_values::<Self, T>(tensor);
        f(values.as_slice())
    }
}

/// `values` as `&[T]` when `S` is `T`.
fn same_type<S: 'static, T: 'static>(values: &[S]) -> Option<&[T]> {
    // SAFETY: S and T are the same type (equal `TypeId`s), so the pointer, length and
    // lifetime describe the same valid slice.
    (TypeId::of::<S>() == TypeId::of::<T>())
        .then(|| unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<T>(), values.len()) })
}

/// [`HostRead::read`] of an optional tensor.
pub(crate) fn read_optional<B: HostRead, T: Real, R>(
    tensor: Option<FloatTensor<B>>,
    f: impl FnOnce(Option<&[T]>) -> R,
) -> R {
    match tensor {
        Some(tensor) => B::read(tensor, |values| f(Some(values))),
        None => f(None),
    }
}

/// What the backward of an op of `x` by `weight` (the fused linear layer, the fused
/// convolution) saves: `x` for `∂W` (when the weight is tracked), `W` for `∂x` (when `x` is),
/// and the op's shape.
#[derive(Debug, Clone)]
pub(crate) struct SavedOperands<B: Backend, S> {
    pub x: Option<FloatTensor<B>>,
    pub weight: Option<FloatTensor<B>>,
    pub shape: S,
}

impl<B: Backend, S> SavedOperands<B, S> {
    /// What to save of `x` and `weight`, given which of them are tracked.
    pub fn new(
        x: &FloatTensor<B>,
        weight: &FloatTensor<B>,
        [x_tracked, weight_tracked]: [bool; 2],
        shape: S,
    ) -> Self {
        Self {
            x: weight_tracked.then(|| x.clone()),
            weight: x_tracked.then(|| weight.clone()),
            shape,
        }
    }
}

/// `[∂x, ∂W, ∂b]` of an op of `x` by `weight` (plus a bias), each only where asked for.
pub(crate) type OperandGrads<B> = [Option<FloatTensor<B>>; 3];

/// The backward of an op of `x` by `weight` (and a bias when `N` is 3): `compute(saved, grad,
/// bias)` gives the gradients from the output's, each registered with its parent when that
/// parent is tracked.
pub(crate) fn operand_backward<B: Backend, S, const N: usize>(
    ops: Ops<SavedOperands<B, S>, N>,
    grads: &mut Gradients,
    compute: impl FnOnce(SavedOperands<B, S>, FloatTensor<B>, bool) -> OperandGrads<B>,
) {
    let grad = grads.consume::<B>(&ops.node);
    let bias = N == 3 && ops.parents[N - 1].is_some();
    let computed = compute(ops.state, grad, bias);
    for (parent, gradient) in ops.parents.into_iter().zip(computed) {
        if let (Some(node), Some(gradient)) = (parent, gradient) {
            grads.register::<B>(node.id, gradient);
        }
    }
}
