//! Where the hand-written CPU kernels run.
//!
//! Every fused op of this crate (the fused losses, the fused recurrences) is a backend
//! extension implemented for burn's flex and ndarray backends only. Each op asks
//! [`cpu_kernels_supported`] at run time and, on any other device (wgpu, vulkan, cuda, …),
//! computes the same value and gradient from burn's composed tensor ops instead: a speed path,
//! never a requirement, and never a panic in burn's dispatch.

use burn::tensor::Device;

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
