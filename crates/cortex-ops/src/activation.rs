//! Activation functions: elementwise nonlinearities and (log-)softmax.
//!
//! Parameter-free elementwise activations accept every tensor, so they return the tensor
//! directly; those with a parameter or a dimension validate it and return [`Result`].
//! All are stable at |x| = 1000 in f32 and f64: no overflow in the forward or backward pass.

use burn::tensor::{DType, Tensor, activation};

use crate::check;
use crate::error::Result;

/// Logistic sigmoid, `σ(x) = 1 / (1 + e^(-x))`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let x = Tensor::<1>::from_floats([0.0], &Device::flex());
/// let y: f32 = cortex_ops::sigmoid(x).into_scalar();
/// assert_eq!(y, 0.5);
/// ```
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    // Below f64, burn's own sigmoid: one fused kernel whose backward is `s (1 - s)` from the
    // saved output, stable at |x| = 1000 on both backends (measured: the composed form below
    // cost a quarter of an LSTM training step in masks and exponentials).
    if x.dtype() != DType::F64 {
        return activation::sigmoid(x);
    }
    // In f64, both branches exponentiate -|x| <= 0, so nothing overflows and every gradient is
    // finite: σ(x) = 1 / (1 + e^(-|x|)) for x >= 0 and e^(-|x|) / (1 + e^(-|x|)) for x < 0.
    // (burn's generic sigmoid, which ndarray uses, rounds f64 through f32, ~2e-8 off; this
    // form is exact, as the oracle checks.)
    let non_negative = x.clone().greater_equal_elem(0.0);
    let neg_abs = x.clone().mask_where(non_negative.clone(), x.neg());
    let z = neg_abs.exp();
    let denominator = z.clone().add_scalar(1.0);
    let negative_branch = z.div(denominator.clone());
    denominator
        .recip()
        .mask_where(non_negative.bool_not(), negative_branch)
}

/// Hyperbolic tangent, `tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x))`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::tanh(x)
}

/// Rectified linear unit, `max(x, 0)`; its gradient at exactly 0 is 0, as in PyTorch.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    activation::relu(x)
}

/// Leaky ReLU, `x` for `x > 0` and `negative_slope * x` otherwise.
///
/// # Errors
/// `InvalidArgument` when `negative_slope` is not finite.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, negative_slope: f64) -> Result<Tensor<D>> {
    check::finite("leaky_relu", "negative_slope", negative_slope)?;
    let negative = x.clone().lower_equal_elem(0.0);
    let scaled = x.clone().mul_scalar(negative_slope);
    Ok(x.mask_where(negative, scaled))
}

/// Exponential linear unit, `x` for `x > 0` and `α (e^x - 1)` otherwise.
///
/// The exponential is taken of `min(x, 0)` so large positive inputs never overflow (a masked
/// `inf` would otherwise turn the backward pass into `0 * inf = NaN`).
///
/// # Errors
/// `InvalidArgument` when `alpha` is not finite.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn elu<const D: usize>(x: Tensor<D>, alpha: f64) -> Result<Tensor<D>> {
    check::finite("elu", "alpha", alpha)?;
    let negative = x.clone().lower_equal_elem(0.0);
    let safe = x.clone().mask_fill(negative.clone().bool_not(), 0.0);
    let exponential = safe.exp().sub_scalar(1.0).mul_scalar(alpha);
    Ok(x.mask_where(negative, exponential))
}

/// Gaussian error linear unit, exact (erf) form: `x Φ(x) = x/2 (1 + erf(x / √2))`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let cdf = x
        .clone()
        .mul_scalar(std::f64::consts::FRAC_1_SQRT_2)
        .erf()
        .add_scalar(1.0)
        .mul_scalar(0.5);
    x.mul(cdf)
}

/// Sigmoid linear unit (swish), `x σ(x)`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn silu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    x.clone().mul(sigmoid(x))
}

/// Softplus, `(1/β) ln(1 + e^(βx))`, linear above `βx > 20` as in PyTorch.
///
/// # Errors
/// `InvalidArgument` when `beta` is not finite and positive.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn softplus<const D: usize>(x: Tensor<D>, beta: f64) -> Result<Tensor<D>> {
    check::positive("softplus", "beta", beta)?;
    const THRESHOLD: f64 = 20.0;
    let z = x.clone().mul_scalar(beta);
    let linear = z.clone().greater_elem(THRESHOLD);
    // Multiply by 1/β rather than divide: burn-autodiff's `div_scalar` backward rounds the
    // divisor to f32, which costs f64 gradients their precision.
    let smooth = softplus_unit(z).mul_scalar(1.0 / beta);
    Ok(smooth.mask_where(linear, x))
}

/// `ln(1 + e^z)` as `max(z, 0) + ln(1 + e^(-|z|))`: no overflow for any `z`, and both masks
/// split at `z >= 0` so the one-sided derivatives at `z = 0` add up to the true `σ(0) = ½`.
pub(crate) fn softplus_unit<const D: usize>(z: Tensor<D>) -> Tensor<D> {
    let non_negative = z.clone().greater_equal_elem(0.0);
    let neg_abs = z.clone().mask_where(non_negative.clone(), z.clone().neg());
    let positive_part = z.mask_fill(non_negative.bool_not(), 0.0);
    positive_part.add(neg_abs.exp().log1p())
}

/// Softmax along `dim` (negative counts from the end): `e^(x_i - m) / Σ_j e^(x_j - m)` with
/// `m = max_j x_j`, so no exponential overflows.
///
/// # Errors
/// `InvalidArgument` when `dim` is outside `[-D, D)`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let x = Tensor::<2>::from_floats([[1000.0, 1000.0]], &Device::flex());
/// let p = cortex_ops::softmax(x, -1).unwrap();
/// assert_eq!(p.into_data().to_vec::<f32>().unwrap(), vec![0.5, 0.5]);
/// ```
pub fn softmax<const D: usize>(x: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = check::dim_index("softmax", dim, D)?;
    if x.dims().contains(&0) {
        // Nothing to normalise (PyTorch returns the empty tensor too).
        return Ok(x);
    }
    let shifted = x.clone().sub(x.max_dim(dim).detach());
    let exp = shifted.exp();
    let total = exp.clone().sum_dim(dim);
    Ok(exp.div(total))
}

/// Log-softmax along `dim`: `x_i - m - ln Σ_j e^(x_j - m)` with `m = max_j x_j`.
///
/// # Errors
/// `InvalidArgument` when `dim` is outside `[-D, D)`.
///
/// # Shapes
/// Any shape; the output has the input's shape.
pub fn log_softmax<const D: usize>(x: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = check::dim_index("log_softmax", dim, D)?;
    if x.dims().contains(&0) {
        return Ok(x);
    }
    let shifted = x.clone().sub(x.max_dim(dim).detach());
    let log_total = shifted.clone().exp().sum_dim(dim).log();
    Ok(shifted.sub(log_total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, tensor, values};
    use burn::tensor::DType;

    type Activation = fn(Tensor<1>) -> Tensor<1>;

    /// Every activation at x = -1000, 0.5, 1000, in f32 and f64: the forward values are the
    /// limits of the closed forms and the gradients are finite (no inf - inf, no 0 * inf).
    #[test]
    fn every_activation_is_stable_at_large_magnitudes() {
        let cases: Vec<(&str, Activation, [f64; 3], [f64; 3])> = vec![
            (
                "sigmoid",
                sigmoid,
                [0.0, 0.622_459_331_201_854_6, 1.0],
                [0.0, 0.235_003_712_201_594_5, 0.0],
            ),
            (
                "tanh",
                tanh,
                [-1.0, 0.462_117_157_260_009_8, 1.0],
                [0.0, 0.786_447_732_965_927_4, 0.0],
            ),
            ("relu", relu, [0.0, 0.5, 1000.0], [0.0, 1.0, 1.0]),
            (
                "leaky_relu",
                |x| leaky_relu(x, 0.01).unwrap(),
                [-10.0, 0.5, 1000.0],
                [0.01, 1.0, 1.0],
            ),
            (
                "elu",
                |x| elu(x, 1.0).unwrap(),
                [-1.0, 0.5, 1000.0],
                [0.0, 1.0, 1.0],
            ),
            // Φ(0.5) = 0.691462461274013; gelu' = Φ(x) + x φ(x), φ(0.5) = 0.3520653267642995.
            (
                "gelu",
                gelu,
                [0.0, 0.345_731_230_637_006_5, 1000.0],
                [0.0, 0.867_495_124_656_163_2, 1.0],
            ),
            (
                "silu",
                silu,
                [0.0, 0.311_229_665_600_927_3, 1000.0],
                [0.0, 0.739_961_187_302_651_9, 1.0],
            ),
            // softplus(0.5) = ln(1 + e^0.5); its derivative is σ(0.5).
            (
                "softplus",
                |x| softplus(x, 1.0).unwrap(),
                [0.0, 0.974_076_984_180_107_2, 1000.0],
                [0.0, 0.622_459_331_201_854_6, 1.0],
            ),
        ];
        for device in devices() {
            for dtype in [DType::F32, DType::F64] {
                let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                for (name, f, expected, expected_grad) in &cases {
                    let x = tensor([-1000.0, 0.5, 1000.0].as_slice(), [3], &device)
                        .cast(dtype)
                        .require_grad();
                    let y = f(x.clone());
                    let got = values(&y);
                    let grad = values(&x.grad(&y.sum().backward()).unwrap());
                    let scaled: Vec<f64> = got
                        .iter()
                        .zip(expected)
                        .map(|(g, e)| (g - e) / e.abs().max(1.0))
                        .collect();
                    assert_close(&scaled, &[0.0; 3], tol);
                    assert_close(&grad, expected_grad, tol);
                    assert!(grad.iter().all(|g| g.is_finite()), "{name}: {grad:?}");
                }
            }
        }
    }

    #[test]
    fn softmax_and_log_softmax_do_not_overflow() {
        for device in devices() {
            for dtype in [DType::F32, DType::F64] {
                let x = tensor(&[1000.0, 0.0, -1000.0, 1000.0], [2, 2], &device).cast(dtype);
                let p = values(&softmax(x.clone(), -1).unwrap());
                assert_close(&p, &[1.0, 0.0, 0.0, 1.0], 1e-7);
                let x = x.require_grad();
                let lp = log_softmax(x.clone(), 1).unwrap();
                assert_close(&values(&lp), &[0.0, -1000.0, -2000.0, 0.0], 1e-3);
                let grad = values(&x.grad(&lp.sum().backward()).unwrap());
                // d/dx Σ_i log_softmax_i = 1 - C softmax: [1-2, 1-0], [1-0, 1-2].
                assert_close(&grad, &[-1.0, 1.0, 1.0, -1.0], 1e-6);
            }
        }
    }

    #[test]
    fn bad_parameters_are_errors() {
        let device = devices().remove(0);
        let x = tensor(&[1.0, 2.0], [1, 2], &device);
        assert!(matches!(
            softmax(x.clone(), 2),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "softmax",
                argument: "dim",
                ..
            }))
        ));
        assert!(matches!(
            log_softmax(x.clone(), -3),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "log_softmax",
                argument: "dim",
                ..
            }))
        ));
        assert!(matches!(
            softplus(x.clone(), 0.0),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "softplus",
                argument: "beta",
                ..
            }))
        ));
        assert!(matches!(
            elu(x.clone(), f64::NAN),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "elu",
                argument: "alpha",
                ..
            }))
        ));
        assert!(matches!(
            leaky_relu(x, f64::INFINITY),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "leaky_relu",
                ..
            }))
        ));
    }
}
