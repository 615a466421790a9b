//! Regression losses (`mse`, `mae`, `huber`) and the [`Reduction`] shared by every loss.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::Result;

/// How a loss reduces its per-element values.
///
/// Reduced losses keep the input's rank with every dimension 1 (`[1, 1]` for a rank-2 input),
/// so one return type serves all three; read the value with `into_scalar`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// The mean over all elements (PyTorch's default).
    #[default]
    Mean,
    /// The sum over all elements.
    Sum,
    /// No reduction: one loss value per element.
    None,
}

impl Reduction {
    /// Applies the reduction, keeping the rank (reduced outputs have every dimension 1).
    pub fn apply<const D: usize>(self, values: Tensor<D>) -> Tensor<D> {
        match self {
            Reduction::Mean => values.mean().reshape([1; D]),
            Reduction::Sum => values.sum().reshape([1; D]),
            Reduction::None => values,
        }
    }
}

/// Validates a prediction/target pair: same shape, same dtype, not empty.
pub(crate) fn check_pair<const D: usize>(
    op: &'static str,
    input: &Tensor<D>,
    target: &Tensor<D>,
) -> Result<()> {
    check::non_empty(op, "input", &input.dims())?;
    check::same_shape(op, "target", &input.dims(), &target.dims())?;
    check::same_kind(op, "target", input, target)
}

/// Mean squared error, `(input - target)²` reduced.
///
/// # Errors
/// `ShapeMismatch` when the shapes differ, `EmptyInput` for an empty input,
/// `DTypeMismatch` when the precisions differ, `DeviceMismatch` when the devices differ.
///
/// # Shapes
/// input and target: any equal shape; output: that shape (`None`) or all ones.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// # use cortex_ops::{mse_loss, Reduction};
/// let device = Device::flex();
/// let input = Tensor::<1>::from_floats([1.0, 2.0], &device);
/// let target = Tensor::<1>::from_floats([1.0, 4.0], &device);
/// let loss: f32 = mse_loss(input, target, Reduction::Mean).unwrap().into_scalar();
/// assert_eq!(loss, 2.0);
/// ```
pub fn mse_loss<const D: usize>(
    input: Tensor<D>,
    target: Tensor<D>,
    reduction: Reduction,
) -> Result<Tensor<D>> {
    check_pair("mse_loss", &input, &target)?;
    Ok(reduction.apply(input.sub(target).square()))
}

/// Mean absolute error (L1 loss), `|input - target|` reduced; the gradient at a zero
/// difference is 0, as in PyTorch.
///
/// # Errors
/// As [`mse_loss`].
///
/// # Shapes
/// input and target: any equal shape; output: that shape (`None`) or all ones.
pub fn mae_loss<const D: usize>(
    input: Tensor<D>,
    target: Tensor<D>,
    reduction: Reduction,
) -> Result<Tensor<D>> {
    check_pair("mae_loss", &input, &target)?;
    Ok(reduction.apply(input.sub(target).abs()))
}

/// Huber loss with threshold `delta`: `½ d²` where `|d| < delta`, else `delta (|d| - ½ delta)`,
/// with `d = input - target` (PyTorch's `huber_loss`).
///
/// # Errors
/// As [`mse_loss`], plus `InvalidArgument` when `delta` is not finite and positive.
///
/// # Shapes
/// input and target: any equal shape; output: that shape (`None`) or all ones.
pub fn huber_loss<const D: usize>(
    input: Tensor<D>,
    target: Tensor<D>,
    delta: f64,
    reduction: Reduction,
) -> Result<Tensor<D>> {
    check_pair("huber_loss", &input, &target)?;
    check::positive("huber_loss", "delta", delta)?;
    let diff = input.sub(target);
    let abs = diff.clone().abs();
    let quadratic = diff.square().mul_scalar(0.5);
    let linear = abs.clone().sub_scalar(0.5 * delta).mul_scalar(delta);
    let is_linear = abs.greater_equal_elem(delta);
    Ok(reduction.apply(quadratic.mask_where(is_linear, linear)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, tensor, values};

    #[test]
    fn regression_losses_match_hand_computed_values() {
        for device in devices() {
            // d = input - target = [0.5, -2, 0]
            let input = tensor(&[1.5, 0.0, 3.0], [3], &device);
            let target = tensor(&[1.0, 2.0, 3.0], [3], &device);
            let mse = mse_loss(input.clone(), target.clone(), Reduction::Sum).unwrap();
            assert_close(&values(&mse), &[4.25], 1e-12);
            let mae = mae_loss(input.clone(), target.clone(), Reduction::Mean).unwrap();
            assert_close(&values(&mae), &[2.5 / 3.0], 1e-12);
            // delta 1: 0.5 * 0.25, 1 * (2 - 0.5), 0
            let huber = huber_loss(input.clone(), target.clone(), 1.0, Reduction::None).unwrap();
            assert_close(&values(&huber), &[0.125, 1.5, 0.0], 1e-12);

            let x = input.require_grad();
            let loss = huber_loss(x.clone(), target, 1.0, Reduction::Sum).unwrap();
            let grad = values(&x.grad(&loss.backward()).unwrap());
            // quadratic: d; linear: delta * sign(d); at d = 0: 0
            assert_close(&grad, &[0.5, -1.0, 0.0], 1e-12);
        }
    }

    #[test]
    fn reductions_keep_the_rank() {
        let device = devices().remove(0);
        let a = tensor(&[1.0, 2.0, 3.0, 4.0], [2, 2], &device);
        let b = tensor(&[0.0; 4], [2, 2], &device);
        let mean = mse_loss(a.clone(), b.clone(), Reduction::Mean).unwrap();
        assert_eq!(mean.dims(), [1, 1]);
        assert_close(&values(&mean), &[7.5], 1e-12);
        assert_eq!(mse_loss(a, b, Reduction::None).unwrap().dims(), [2, 2]);
    }

    #[test]
    fn mismatched_or_empty_inputs_are_errors() {
        let device = devices().remove(0);
        let a = tensor(&[1.0, 2.0], [2], &device);
        let b = tensor(&[1.0, 2.0, 3.0], [3], &device);
        assert!(matches!(
            mse_loss(a.clone(), b, Reduction::Mean),
            Err(Error::ShapeMismatch {
                op: "mse_loss",
                arg: "target",
                ..
            })
        ));
        let empty = tensor(&[], [0], &device);
        assert!(matches!(
            mae_loss(empty.clone(), empty, Reduction::Mean),
            Err(Error::EmptyInput { op: "mae_loss", .. })
        ));
        assert!(matches!(
            huber_loss(a.clone(), a.clone(), 0.0, Reduction::Mean),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "huber_loss",
                argument: "delta",
                ..
            }))
        ));
        assert!(matches!(
            mse_loss(a.clone(), a.cast(burn::tensor::DType::F32), Reduction::Mean),
            Err(Error::DTypeMismatch { op: "mse_loss", .. })
        ));
    }
}
