//! The fused convolution: PyTorch's `conv2d` (and `conv1d`, as a conv2d of height 1) on flex
//! and ndarray by the im2col + GEMM kernel of `cortex-kernels` (`cortex_kernels::conv`), with
//! its hand-written backward: `∂W = Σ_n ∂y_n · colsᵀ`, `∂x = col2im(Wᵀ · ∂y_n)`,
//! `∂b = Σ ∂y`, all in NCHW.
//!
//! burn's flex conv2d runs NHWC im2col + GEMM with layout copies around it, and its backward
//! computes the weight gradient as a second convolution with batch and channels swapped and
//! the input gradient as a transposed convolution (again with layout copies): in the bench's
//! CNN only ~20% of a training step was spent in the GEMM microkernel. f32 and f64 run
//! natively; every other dtype, and every other device, takes `cortex_ops::conv2d`.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape, Tensor};
use cortex_kernels::Real;
use cortex_kernels::conv::{self, Conv2dShape, Conv2dWindow};
use cortex_ops::{Conv1dOptions, Conv2dOptions, Result};

use crate::kernels::{
    HostRead, OperandGrads, SavedOperands, kernel_runs, operand_backward, read_optional, tensor,
};

/// The fused 2-D convolution, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedConvOps: Backend {
    /// `conv2d(x, weight)`: x `[N, C, H, W]`, weight `[O, C/groups, kH, kW]`;
    /// `[N, O, H_out, W_out]`.
    ///
    /// # Panics
    /// When the shapes do not agree with each other and `window`: [`fused_conv2d`] checks them
    /// first and returns a typed error instead.
    fn conv2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Conv2dWindow,
    ) -> FloatTensor<Self>;

    /// `conv2d(x, weight) + bias`, bias `[O]`; otherwise as [`FusedConvOps::conv2d_nchw`].
    fn conv2d_nchw_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        window: Conv2dWindow,
    ) -> FloatTensor<Self>;
}

fn dims4(shape: Shape) -> [usize; 4] {
    [shape[0], shape[1], shape[2], shape[3]]
}

/// The kernel's shape of a convolution of `x` by `weight`.
fn conv_shape<B: Backend>(
    x: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    window: Conv2dWindow,
) -> Conv2dShape {
    Conv2dShape::new(dims4(x.shape()), dims4(weight.shape()), window)
        .expect("fused conv2d: the shapes were checked by cortex_ops::check_conv2d")
}

/// The forward in the kernel precision `T`.
fn host_forward<B: HostRead, T: Real>(
    shape: &Conv2dShape,
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
) -> FloatTensor<B> {
    let (dtype, device) = (x.dtype(), x.device());
    let out = B::read(x, |x| {
        B::read(weight, |weight| {
            read_optional::<B, T, _>(bias, |bias| conv::conv2d_forward(shape, x, weight, bias))
        })
    });
    tensor::<B, T>(out, shape.output_shape(), dtype, &device)
}

/// The forward on a plain CPU backend: f64 in f64, everything else in f32.
fn forward<B: HostRead>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
    window: Conv2dWindow,
) -> FloatTensor<B> {
    let shape = conv_shape::<B>(&x, &weight, window);
    match x.dtype() {
        DType::F64 => host_forward::<B, f64>(&shape, x, weight, bias),
        _ => host_forward::<B, f32>(&shape, x, weight, bias),
    }
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedConvOps for $backend {
            fn conv2d_nchw(
                x: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                window: Conv2dWindow,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, weight, None, window)
            }

            fn conv2d_nchw_bias(
                x: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                bias: FloatTensor<Self>,
                window: Conv2dWindow,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, weight, Some(bias), window)
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// What the backward needs (see [`SavedOperands`]).
type Saved<B> = SavedOperands<B, Conv2dShape>;

/// `[∂x, ∂W, ∂b]` in the kernel precision `T`, each only where asked for.
fn host_backward<B: HostRead, T: Real>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
    bias: bool,
) -> OperandGrads<B> {
    let (dtype, device) = (grad.dtype(), grad.device());
    let shape = saved.shape;
    let grads = B::read(grad, |grad| {
        read_optional::<B, T, _>(saved.x, |x| {
            read_optional::<B, T, _>(saved.weight, |weight| {
                conv::conv2d_backward(&shape, x, weight, grad, bias)
            })
        })
    });
    let [_, out_channels, ..] = shape.output_shape();
    [
        grads
            .x
            .map(|v| tensor::<B, T>(v, shape.input_shape(), dtype, &device)),
        grads
            .weight
            .map(|v| tensor::<B, T>(v, shape.weight_shape(), dtype, &device)),
        grads
            .bias
            .map(|v| tensor::<B, T>(v, [out_channels], dtype, &device)),
    ]
}

/// The gradients in f64 for f64, in f32 otherwise.
fn backward<B: HostRead, const N: usize>(ops: Ops<Saved<B>, N>, grads: &mut Gradients) {
    operand_backward(ops, grads, |saved, grad, bias| match grad.dtype() {
        DType::F64 => host_backward::<B, f64>(saved, grad, bias),
        _ => host_backward::<B, f32>(saved, grad, bias),
    });
}

#[derive(Debug)]
struct Conv2dWithBias;

impl<B: HostRead> Backward<B, 3> for Conv2dWithBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        backward::<B, 3>(ops, grads);
    }
}

#[derive(Debug)]
struct Conv2dNoBias;

impl<B: HostRead> Backward<B, 2> for Conv2dNoBias {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        backward::<B, 2>(ops, grads);
    }
}

/// What the backward of a convolution of `x` by `weight` saves, given which inputs are
/// tracked.
fn saved<B: Backend>(
    x: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    tracked: [bool; 2],
    window: Conv2dWindow,
) -> Saved<B> {
    SavedOperands::new(x, weight, tracked, conv_shape::<B>(x, weight, window))
}

impl<B: FusedConvOps + HostRead, C: CheckpointStrategy> FusedConvOps for Autodiff<B, C> {
    fn conv2d_nchw(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Conv2dWindow,
    ) -> FloatTensor<Self> {
        let tracked = [x.is_tracked(), weight.is_tracked()];
        let nodes = [x.node(), weight.node()];
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        match Conv2dNoBias.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let state = saved::<B>(&x, &weight, tracked, window);
                prep.finish(state, B::conv2d_nchw(x, weight, window))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_nchw(x, weight, window)),
        }
    }

    fn conv2d_nchw_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        window: Conv2dWindow,
    ) -> FloatTensor<Self> {
        let tracked = [x.is_tracked(), weight.is_tracked()];
        let nodes = [x.node(), weight.node(), bias.node()];
        let (x, weight, bias) = (
            x.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
        );
        match Conv2dWithBias
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let state = saved::<B>(&x, &weight, tracked, window);
                prep.finish(state, B::conv2d_nchw_bias(x, weight, bias, window))
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_nchw_bias(x, weight, bias, window)),
        }
    }
}

/// The fused op on checked shapes: `x [N, C, H, W]` by `weight` (`+ bias`) over `window`.
fn dispatch(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    window: Conv2dWindow,
) -> Tensor<4> {
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    let y = match bias {
        Some(b) => {
            <Dispatch as FusedConvOps>::conv2d_nchw_bias(x, weight, b.into_dispatch(), window)
        }
        None => <Dispatch as FusedConvOps>::conv2d_nchw(x, weight, window),
    };
    Tensor::from_dispatch(y)
}

/// 2-D convolution with the same value, errors and gradients as [`cortex_ops::conv2d`]: on
/// flex and ndarray in f32/f64 through the fused op (im2col + GEMM in NCHW, hand-written
/// backward; see the module doc), elsewhere `cortex_ops::conv2d` itself.
///
/// # Errors
/// As [`cortex_ops::conv2d`] (the same [`cortex_ops::check_conv2d`] checks).
///
/// # Shapes
/// x `[N, C_in, H, W]`, weight `[C_out, C_in/groups, kH, kW]`, bias `[C_out]`;
/// output `[N, C_out, H_out, W_out]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_ops::Conv2dOptions;
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 4, 4], &device);
/// let w = Tensor::<4>::ones([2, 1, 3, 3], &device);
/// let options = Conv2dOptions::default().with_padding([1, 1]);
/// let y = cortex_autodiff::fused_conv2d(x, w, None, &options)?;
/// assert_eq!(y.dims(), [1, 2, 4, 4]);
/// // A corner sees 2 × 2 ones, the centre 3 × 3.
/// let y = y.into_data().to_vec::<f32>().unwrap();
/// assert_eq!((y[0], y[5]), (4.0, 9.0));
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: &Conv2dOptions,
) -> Result<Tensor<4>> {
    cortex_ops::check_conv2d(&x, &weight, bias.as_ref(), options)?;
    if !kernel_runs(&x) {
        return cortex_ops::conv2d(x, weight, bias, options);
    }
    let window = Conv2dWindow {
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
        groups: options.groups,
    };
    Ok(dispatch(x, weight, bias, window))
}

/// 1-D convolution with the same value, errors and gradients as [`cortex_ops::conv1d`],
/// computed as [`fused_conv2d`] over images of height 1 on flex and ndarray (f32/f64),
/// elsewhere by `cortex_ops::conv1d` itself.
///
/// # Errors
/// As [`cortex_ops::conv1d`] (the same [`cortex_ops::check_conv1d`] checks).
///
/// # Shapes
/// x `[N, C_in, L]`, weight `[C_out, C_in/groups, K]`, bias `[C_out]`;
/// output `[N, C_out, L_out]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_ops::Conv1dOptions;
/// let device = Device::flex();
/// let x = Tensor::<3>::from_floats([[[1.0, 2.0, 3.0, 4.0]]], &device);
/// let w = Tensor::<3>::from_floats([[[1.0, -1.0]]], &device);
/// let y = cortex_autodiff::fused_conv1d(x, w, None, &Conv1dOptions::default())?;
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![-1.0, -1.0, -1.0]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_conv1d(
    x: Tensor<3>,
    weight: Tensor<3>,
    bias: Option<Tensor<1>>,
    options: &Conv1dOptions,
) -> Result<Tensor<3>> {
    cortex_ops::check_conv1d(&x, &weight, bias.as_ref(), options)?;
    if !kernel_runs(&x) {
        return cortex_ops::conv1d(x, weight, bias, options);
    }
    let ([n, c, length], [o, per_group, k]) = (x.dims(), weight.dims());
    let window = Conv2dWindow {
        stride: [1, options.stride],
        padding: [0, options.padding],
        dilation: [1, options.dilation],
        groups: options.groups,
    };
    let x = x.reshape([n, c, 1, length]);
    let y = dispatch(x, weight.reshape([o, per_group, 1, k]), bias, window);
    let [_, _, _, out_length] = y.dims();
    Ok(y.reshape([n, o, out_length]))
}
