//! The fused max pooling: PyTorch's `max_pool2d` (and `max_pool1d`, as a pool of height 1) on
//! flex and ndarray by the kernel of `cortex-kernels` (`cortex_kernels::pool`), which keeps
//! each window's arg-max for the backward (`∂x` = each output's gradient at its arg-max).
//!
//! burn's flex max pooling goes through its generic 3-D kernel, with integer divisions per
//! element and 64-bit indices: in the bench's CNN it was ~20% of a training step, more than
//! both convolutions' forward GEMMs. f32 and f64 run natively; every other dtype, and every
//! other device, takes `cortex_ops::max_pool2d`.

use std::sync::Arc;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};
use cortex_kernels::Real;
use cortex_kernels::pool::{self, MaxPool2dShape, Pool2dWindow};
use cortex_ops::{Pool1dOptions, Pool2dOptions, Result};

use crate::kernels::{HostRead, kernel_runs, tensor};

/// The fused max pooling, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedPoolOps: Backend {
    /// The maximum of every window of x `[N, C, H, W]`; `[N, C, H_out, W_out]`.
    ///
    /// # Panics
    /// When the window does not fit `x`: [`fused_max_pool2d`] checks it first and returns a
    /// typed error instead.
    fn max_pool2d_nchw(x: FloatTensor<Self>, window: Pool2dWindow) -> FloatTensor<Self>;
}

/// The kernel's shape of pooling `x` by `window`.
fn pool_shape<B: Backend>(x: &FloatTensor<B>, window: Pool2dWindow) -> MaxPool2dShape {
    let shape = x.shape();
    MaxPool2dShape::new([shape[0], shape[1], shape[2], shape[3]], window)
        .expect("fused max_pool2d: the window was checked by cortex_ops::check_pool2d")
}

/// The forward in the kernel precision `T`: the output and each window's arg-max.
fn host_forward<B: HostRead, T: Real>(
    shape: &MaxPool2dShape,
    x: FloatTensor<B>,
) -> (FloatTensor<B>, Vec<u32>) {
    let (dtype, device) = (x.dtype(), x.device());
    let (y, argmax) = B::read(x, |x| pool::max_pool2d_forward(shape, x));
    (
        tensor::<B, T>(y, shape.output_shape(), dtype, &device),
        argmax,
    )
}

fn forward<B: HostRead>(x: FloatTensor<B>, window: Pool2dWindow) -> (FloatTensor<B>, Saved) {
    let shape = pool_shape::<B>(&x, window);
    let (y, argmax) = match x.dtype() {
        DType::F64 => host_forward::<B, f64>(&shape, x),
        _ => host_forward::<B, f32>(&shape, x),
    };
    (
        y,
        Saved {
            shape,
            argmax: Arc::new(argmax),
        },
    )
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedPoolOps for $backend {
            fn max_pool2d_nchw(x: FloatTensor<Self>, window: Pool2dWindow) -> FloatTensor<Self> {
                forward::<Self>(x, window).0
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// What the backward needs: the shape and every window's arg-max.
#[derive(Debug, Clone)]
struct Saved {
    shape: MaxPool2dShape,
    argmax: Arc<Vec<u32>>,
}

fn host_backward<B: HostRead, T: Real>(saved: &Saved, grad: FloatTensor<B>) -> FloatTensor<B> {
    let (dtype, device) = (grad.dtype(), grad.device());
    let dx = B::read(grad, |grad| {
        pool::max_pool2d_backward(&saved.shape, &saved.argmax, grad)
    });
    tensor::<B, T>(dx, saved.shape.input_shape(), dtype, &device)
}

#[derive(Debug)]
struct MaxPool2d;

impl<B: HostRead> Backward<B, 1> for MaxPool2d {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let saved = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| match grad.dtype() {
            DType::F64 => host_backward::<B, f64>(&saved, grad),
            _ => host_backward::<B, f32>(&saved, grad),
        });
    }
}

impl<B: FusedPoolOps + HostRead, C: CheckpointStrategy> FusedPoolOps for Autodiff<B, C> {
    fn max_pool2d_nchw(x: FloatTensor<Self>, window: Pool2dWindow) -> FloatTensor<Self> {
        let node = x.node();
        let x = x.into_primitive();
        match MaxPool2d.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (y, saved) = forward::<B>(x, window);
                prep.finish(saved, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool2d_nchw(x, window)),
        }
    }
}

/// Whether the kernel pools `x`, whose image planes hold `plane` values: [`kernel_runs`], and
/// a plane small enough for the kernel's arg-max (a u32 index into one plane).
fn pools_here<const D: usize>(x: &Tensor<D>, plane: usize) -> bool {
    kernel_runs(x) && u32::try_from(plane).is_ok()
}

/// The fused op on a checked window.
fn dispatch(x: Tensor<4>, window: Pool2dWindow) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as FusedPoolOps>::max_pool2d_nchw(
        x.into_dispatch(),
        window,
    ))
}

/// 2-D max pooling with the same value, errors and gradient as [`cortex_ops::max_pool2d`]:
/// on flex and ndarray in f32/f64 through the fused op (see the module doc), elsewhere
/// `cortex_ops::max_pool2d` itself (and for image planes of 2³² values or more, whose indices
/// the kernel's 32-bit arg-max cannot hold). A window holding a NaN gives NaN.
///
/// # Errors
/// As [`cortex_ops::max_pool2d`] (the same [`cortex_ops::check_pool2d`] checks).
///
/// # Shapes
/// x `[N, C, H, W]`; output `[N, C, ⌊(H + 2p - k)/s⌋ + 1, …]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_ops::Pool2dOptions;
/// let x = Tensor::<4>::from_floats([[[[1.0, 5.0], [3.0, -2.0]]]], &Device::flex());
/// let y = cortex_autodiff::fused_max_pool2d(x, &Pool2dOptions::new([2, 2]))?;
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![5.0]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_max_pool2d(x: Tensor<4>, options: &Pool2dOptions) -> Result<Tensor<4>> {
    cortex_ops::check_pool2d("max_pool2d", &x, options)?;
    let [_, _, h, w] = x.dims();
    if !pools_here(&x, h.saturating_mul(w)) {
        return cortex_ops::max_pool2d(x, options);
    }
    let window = Pool2dWindow {
        kernel: options.kernel_size,
        stride: options.stride,
        padding: options.padding,
    };
    Ok(dispatch(x, window))
}

/// 1-D max pooling with the same value, errors and gradient as [`cortex_ops::max_pool1d`],
/// computed as [`fused_max_pool2d`] over images of height 1 on flex and ndarray.
///
/// # Errors
/// As [`cortex_ops::max_pool1d`].
///
/// # Shapes
/// x `[N, C, L]`; output `[N, C, ⌊(L + 2p - k)/s⌋ + 1]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_ops::Pool1dOptions;
/// let x = Tensor::<3>::from_floats([[[1.0, 5.0, 3.0, -2.0]]], &Device::flex());
/// let y = cortex_autodiff::fused_max_pool1d(x, &Pool1dOptions::new(2))?;
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![5.0, 3.0]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_max_pool1d(x: Tensor<3>, options: &Pool1dOptions) -> Result<Tensor<3>> {
    cortex_ops::check_pool1d("max_pool1d", &x, options)?;
    let [n, c, length] = x.dims();
    if !pools_here(&x, length) {
        return cortex_ops::max_pool1d(x, options);
    }
    let window = Pool2dWindow {
        kernel: [1, options.kernel_size],
        stride: [1, options.stride],
        padding: [0, options.padding],
    };
    let y = dispatch(x.reshape([n, c, 1, length]), window);
    let [_, _, _, out_length] = y.dims();
    Ok(y.reshape([n, c, out_length]))
}
