//! The fused f32 sigmoid: `σ(x) = 1 / (1 + e^(-x))` computed in the tensor's own buffer by the
//! vectorised kernel of `cortex-kernels` (8 lanes with AVX2, a polynomial `eˣ`), with burn's
//! `s (1 - s)` backward from the saved output; and the fused f32 ReLU, the same way (burn's
//! runs on one thread into a new buffer, while the other cores wait for the next product).
//!
//! burn's flex and ndarray backends evaluate the sigmoid one element at a time through libm's
//! `expf` behind a branch (~5 ns an element); in an MLP's inference that was as long as the
//! matrix products themselves. f64 keeps `cortex_ops::sigmoid`'s exact two-branch form, which
//! the oracle checks to 1e-9.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, TensorMetadata, backend_extension};
use burn::tensor::{DType, Tensor};

use crate::kernels::host_values;

/// The fused activations, implemented for each CPU backend and for burn-autodiff.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait FusedActivationOps: Backend {
    /// `σ(x)` elementwise, for an f32 tensor.
    fn sigmoid_f32(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `max(x, 0)` elementwise, for an f32 tensor.
    fn relu_f32(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `f` on an f32 CPU tensor's values, in its own buffer when the tensor does not share it.
fn in_place<B: Backend>(x: FloatTensor<B>, f: fn(&mut [f32])) -> FloatTensor<B> {
    let device = x.device();
    let mut values = host_values::<B, f32>(x);
    f(values.as_mut_slice());
    B::float_from_data(values.into_data(), &device)
}

macro_rules! plain_backend {
    ($backend:ty) => {
        impl FusedActivationOps for $backend {
            fn sigmoid_f32(x: FloatTensor<Self>) -> FloatTensor<Self> {
                in_place::<Self>(x, cortex_kernels::sigmoid_in_place)
            }

            fn relu_f32(x: FloatTensor<Self>) -> FloatTensor<Self> {
                in_place::<Self>(x, cortex_kernels::relu_in_place)
            }
        }
    };
}
plain_backend!(Flex);
plain_backend!(NdArray);

/// The backward of an activation whose derivative is a function of its output (`σ' = s (1 − s)`,
/// ReLU's mask `y > 0`): burn's `*_backward(output, grad)` from the saved output.
struct FromOutput<B: Backend> {
    derivative: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
}

impl<B: Backend> std::fmt::Debug for FromOutput<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FromOutput")
    }
}

impl<B: Backend> Backward<B, 1> for FromOutput<B> {
    /// The activation's output.
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (output, derivative) = (ops.state, self.derivative);
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            derivative(output, grad)
        });
    }
}

/// `forward` on the inner backend, recorded with a [`FromOutput`] backward (the output saved
/// only when the input is tracked).
fn from_output<B: Backend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    forward: fn(FloatTensor<B>) -> FloatTensor<B>,
    derivative: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    let guard = x.node();
    let out = forward(x.into_primitive());
    match (FromOutput { derivative })
        .prepare::<C>([guard])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(out.clone(), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

impl<B: Backend + FusedActivationOps, C: CheckpointStrategy> FusedActivationOps for Autodiff<B, C> {
    fn sigmoid_f32(x: FloatTensor<Self>) -> FloatTensor<Self> {
        from_output::<B, C>(x, B::sigmoid_f32, B::sigmoid_backward)
    }

    fn relu_f32(x: FloatTensor<Self>) -> FloatTensor<Self> {
        from_output::<B, C>(x, B::relu_f32, B::relu_backward)
    }
}

/// Logistic sigmoid, `σ(x) = 1 / (1 + e^(-x))`, the same value and gradient as
/// [`cortex_ops::sigmoid`]: in f32 on flex and ndarray by the vectorised kernel (relative
/// error below 4e-7, `σ' = s (1 - s)` from the saved output); in f64, in other precisions and
/// on every other device, `cortex_ops::sigmoid` itself.
///
/// # Shapes
/// Any shape; the output has the input's shape.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// let x = Tensor::<1>::from_floats([-1000.0, 0.0, 2.0], &Device::flex());
/// let y = cortex_autodiff::fused_sigmoid(x).into_data().to_vec::<f32>().unwrap();
/// assert!(y[0] < 1e-38 && y[1] == 0.5);
/// assert!((y[2] - 0.880_797_1).abs() < 1e-6);
/// ```
pub fn fused_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() != DType::F32 || !crate::cpu_kernels_supported(&x.device()) {
        return cortex_ops::sigmoid(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedActivationOps>::sigmoid_f32(
        x.into_dispatch(),
    ))
}

/// Rectified linear unit, `max(x, 0)`, the same value and gradient as [`cortex_ops::relu`]
/// (0 at exactly 0, NaN kept): in f32 on flex and ndarray in the tensor's own buffer, cut into
/// parts across threads; in other precisions and on every other device, `cortex_ops::relu`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// let x = Tensor::<1>::from_floats([-2.0, 0.0, 3.0], &Device::flex());
/// let y = cortex_autodiff::fused_relu(x).into_data().try_to_vec::<f32>().unwrap();
/// assert_eq!(y, vec![0.0, 0.0, 3.0]);
/// ```
pub fn fused_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.dtype() != DType::F32 || !crate::cpu_kernels_supported(&x.device()) {
        return cortex_ops::relu(x);
    }
    Tensor::from_dispatch(<Dispatch as FusedActivationOps>::relu_f32(
        x.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    /// On the CPU backends f32 goes through the kernel (bit for bit what `sigmoid_in_place`
    /// gives, with and without autodiff); f64 through the exact composed form.
    #[test]
    fn f32_on_the_cpu_backends_runs_the_kernel() {
        let xs: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) * 0.7).collect();
        let mut expected = xs.clone();
        cortex_kernels::sigmoid_in_place(&mut expected);
        for device in [Device::flex(), Device::ndarray()] {
            for device in [device.clone(), device.clone().autodiff()] {
                let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [37]), &device);
                let got = fused_sigmoid(x).into_data().to_vec::<f32>().unwrap();
                assert_eq!(got, expected, "{device:?}");
            }
            let x64 = TensorData::new(vec![-30.0f64, 3.0], [2]);
            let x64 = Tensor::<1>::from_data(x64, (&device, DType::F64));
            let got = fused_sigmoid(x64).into_data().to_vec::<f64>().unwrap();
            let tiny = (-30f64).exp() / (1.0 + (-30f64).exp());
            assert!((got[0] - tiny).abs() < 1e-15 * tiny, "{got:?}");
            assert!((got[1] - 1.0 / (1.0 + (-3f64).exp())).abs() < 1e-15);
        }
    }

    /// The fused ReLU against `cortex_ops::relu`: values and gradients (0 at exactly 0), with
    /// and without autodiff, on both CPU backends.
    #[test]
    fn relu_matches_the_composed_relu_with_its_gradient() {
        let xs: Vec<f32> = (0..41).map(|i| (i as f32 - 20.0) * 0.5).collect(); // 0 included
        let upstream: Vec<f32> = (0..41).map(|i| 1.0 + i as f32).collect();
        for device in [Device::flex(), Device::ndarray()] {
            let plain = Tensor::<1>::from_data(TensorData::new(xs.clone(), [41]), &device);
            let got = fused_relu(plain.clone())
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            let expected = cortex_ops::relu(plain)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert_eq!(got, expected, "{device:?}");
            let tracked = device.clone().autodiff();
            let grads = |f: fn(Tensor<1>) -> Tensor<1>| {
                let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [41]), &tracked)
                    .require_grad();
                let w = Tensor::<1>::from_data(TensorData::new(upstream.clone(), [41]), &tracked);
                let g = (f(x.clone()) * w).sum().backward();
                x.grad(&g).unwrap().into_data().try_to_vec::<f32>().unwrap()
            };
            let (fused, composed) = (grads(fused_relu), grads(cortex_ops::relu));
            assert_eq!(fused, composed, "{device:?}");
            assert_eq!(fused[20], 0.0, "the gradient at exactly 0");
            assert_eq!(fused[21], 22.0);
        }
    }
}
