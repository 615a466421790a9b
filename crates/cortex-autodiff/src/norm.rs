//! The fused batch normalization (training mode): PyTorch's `batch_norm` on flex and ndarray by
//! the kernel of `cortex-kernels` (`cortex_kernels::norm`): the statistics a pass per channel,
//! `y` one fused pass, and a hand-written backward of two passes.
//!
//! burn's default `batch_norm_train` composes it from tensor ops: a swap of the batch and
//! channel dimensions (a strided copy of `x`) for each of the mean and the variance, the
//! centred values, their squares, the normalized values and four broadcast ops, and a
//! backward of a dozen more. Inference mode (`y = x·a + b` with the running statistics) and
//! every other dtype and device take `cortex_ops::batch_norm`.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};
use cortex_kernels::Real;
use cortex_kernels::norm::{self, BatchNormShape};
use cortex_ops::{BatchNormOptions, Result, RunningStats};

use crate::kernels::{HostRead, kernel_runs, tensor};

/// The fused batch normalization, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedNormOps: Backend {
    /// Training-mode batch normalization of x `[N, C, S]` by gamma and beta `[C]`: `y` (x's
    /// shape), the batch mean and the biased batch variance (`[C]` each, not differentiated).
    fn batch_norm_train_ncs(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

fn norm_shape<B: Backend>(x: &FloatTensor<B>) -> BatchNormShape {
    let shape = x.shape();
    BatchNormShape {
        batch: shape[0],
        channels: shape[1],
        spatial: shape[2],
    }
}

/// `(y, mean, var)` in the kernel precision `T`.
fn host_forward<B: HostRead, T: Real>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    eps: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let shape = norm_shape::<B>(&x);
    let (dtype, device) = (x.dtype(), x.device());
    let run = B::read(x, |x| {
        B::read(gamma, |gamma| {
            B::read(beta, |beta| {
                norm::batch_norm_forward::<T>(&shape, x, Some(gamma), Some(beta), eps)
            })
        })
    });
    let c = shape.channels;
    (
        tensor::<B, T>(run.y, [shape.batch, c, shape.spatial], dtype, &device),
        tensor::<B, T>(run.mean, [c], dtype, &device),
        tensor::<B, T>(run.var, [c], dtype, &device),
    )
}

fn forward<B: HostRead>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    eps: f64,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    match x.dtype() {
        DType::F64 => host_forward::<B, f64>(x, gamma, beta, eps),
        _ => host_forward::<B, f32>(x, gamma, beta, eps),
    }
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedNormOps for $backend {
            fn batch_norm_train_ncs(
                x: FloatTensor<Self>,
                gamma: FloatTensor<Self>,
                beta: FloatTensor<Self>,
                eps: f64,
            ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
                forward::<Self>(x, gamma, beta, eps)
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// What the backward needs: the input, gamma, and the statistics the forward computed.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    mean: FloatTensor<B>,
    var: FloatTensor<B>,
    eps: f64,
}

/// `[∂x, ∂γ, ∂β]` in the kernel precision `T`.
fn host_backward<B: HostRead, T: Real>(
    saved: Saved<B>,
    grad: FloatTensor<B>,
) -> [FloatTensor<B>; 3] {
    let shape = norm_shape::<B>(&saved.x);
    let (dtype, device) = (grad.dtype(), grad.device());
    let eps = saved.eps;
    let grads = B::read(grad, |dy| {
        B::read(saved.x, |x| {
            B::read(saved.gamma, |gamma| {
                B::read(saved.mean, |mean| {
                    B::read(saved.var, |var| {
                        norm::batch_norm_backward::<T>(&shape, x, Some(gamma), mean, var, eps, dy)
                    })
                })
            })
        })
    });
    let c = shape.channels;
    [
        tensor::<B, T>(grads.x, [shape.batch, c, shape.spatial], dtype, &device),
        tensor::<B, T>(grads.gamma, [c], dtype, &device),
        tensor::<B, T>(grads.beta, [c], dtype, &device),
    ]
}

#[derive(Debug)]
struct BatchNormTrain;

impl<B: HostRead> Backward<B, 3> for BatchNormTrain {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let computed = match grad.dtype() {
            DType::F64 => host_backward::<B, f64>(ops.state, grad),
            _ => host_backward::<B, f32>(ops.state, grad),
        };
        for (parent, gradient) in ops.parents.into_iter().zip(computed) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, gradient);
            }
        }
    }
}

impl<B: FusedNormOps + HostRead, C: CheckpointStrategy> FusedNormOps for Autodiff<B, C> {
    fn batch_norm_train_ncs(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        eps: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let nodes = [x.node(), gamma.node(), beta.node()];
        let (x, gamma, beta) = (
            x.into_primitive(),
            gamma.into_primitive(),
            beta.into_primitive(),
        );
        match BatchNormTrain
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let saved_x = x.clone();
                let saved_gamma = gamma.clone();
                let (y, mean, var) = B::batch_norm_train_ncs(x, gamma, beta, eps);
                let saved = Saved {
                    x: saved_x,
                    gamma: saved_gamma,
                    mean: mean.clone(),
                    var: var.clone(),
                    eps,
                };
                (
                    prep.finish(saved, y),
                    FloatTensor::<Self>::new(mean),
                    FloatTensor::<Self>::new(var),
                )
            }
            OpsKind::UnTracked(prep) => {
                let (y, mean, var) = B::batch_norm_train_ncs(x, gamma, beta, eps);
                (
                    prep.finish(y),
                    FloatTensor::<Self>::new(mean),
                    FloatTensor::<Self>::new(var),
                )
            }
        }
    }
}

/// Batch normalization with the same value, errors, gradient and running-statistics update
/// as [`cortex_ops::batch_norm`]: in training mode on flex and ndarray in f32/f64 through the
/// fused op (see the module doc), elsewhere `cortex_ops::batch_norm` itself.
///
/// # Errors
/// As [`cortex_ops::batch_norm`] (the same [`cortex_ops::check_batch_norm`] checks).
///
/// # Shapes
/// x `[N, C, …]`, weight/bias/running `[C]`; output: x's shape.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_ops::BatchNormOptions;
/// let x = Tensor::<2>::from_floats([[1.0], [3.0]], &Device::flex());
/// let y = cortex_autodiff::fused_batch_norm(x, None, None, None, &BatchNormOptions::new(true))?;
/// let y = y.into_data().to_vec::<f32>().unwrap();
/// assert!((y[0] + 1.0).abs() < 1e-4 && (y[1] - 1.0).abs() < 1e-4);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_batch_norm<const D: usize>(
    x: Tensor<D>,
    weight: Option<Tensor<1>>,
    bias: Option<Tensor<1>>,
    running: Option<&mut RunningStats>,
    options: &BatchNormOptions,
) -> Result<Tensor<D>> {
    cortex_ops::check_batch_norm(
        &x,
        weight.as_ref(),
        bias.as_ref(),
        running.as_deref(),
        options,
    )?;
    if !options.training || !kernel_runs(&x) {
        return cortex_ops::batch_norm(x, weight, bias, running, options);
    }
    let dims = x.dims();
    let (batch, channels) = (dims[0], dims[1]);
    let spatial = dims[2..].iter().product::<usize>();
    let (dtype, device) = (x.dtype(), x.device());
    let gamma = weight.unwrap_or_else(|| Tensor::ones([channels], (&device, dtype)));
    let beta = bias.unwrap_or_else(|| Tensor::zeros([channels], (&device, dtype)));
    let (y, mean, var) = <Dispatch as FusedNormOps>::batch_norm_train_ncs(
        x.reshape([batch, channels, spatial]).into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        options.eps,
    );
    if let Some(stats) = running {
        stats.update(
            Tensor::from_dispatch(mean),
            Tensor::from_dispatch(var),
            batch * spatial,
            options.momentum,
        )?;
    }
    Ok(Tensor::<3>::from_dispatch(y).reshape(dims))
}
