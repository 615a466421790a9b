//! Where the hand-written CPU kernels run.
//!
//! Every fused op of this crate (the fused losses, sigmoid, linear and recurrences) is a backend
//! extension implemented for burn's flex and ndarray backends only. Each op asks
//! [`cpu_kernels_supported`] at run time and, on any other device (wgpu, vulkan, cuda, …),
//! computes the same value and gradient from burn's composed tensor ops instead: a speed path,
//! never a requirement, and never a panic in burn's dispatch.

use burn::backend::Backend;
use burn::backend::tensor::FloatTensor;
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
