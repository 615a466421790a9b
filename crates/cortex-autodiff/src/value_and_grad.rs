//! `value_and_grad`: a function's value and its gradient in one call.

use burn::tensor::Tensor;

use crate::error::{Error, InvalidValue, Result};

/// Evaluates a scalar function `f` at `x` and returns `(f(x), ∇f(x))`.
///
/// `x` is detached and given autodiff (if it had none) with a required gradient, so callers
/// pass plain tensors; the gradient comes back on `x`'s kind of device. `f` must return a one-element tensor (a loss).
///
/// # Errors
/// `InvalidOption` when `f` returns more than one element; whatever `f` returns.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_autodiff::value_and_grad;
///
/// let x = Tensor::<1>::from_floats([1.0, -2.0], &Device::flex());
/// let (value, grad) = value_and_grad(|x| Ok(x.clone().mul(x).sum()), x).unwrap();
/// assert_eq!(value, 5.0);
/// assert_eq!(grad.into_data().to_vec::<f32>().unwrap(), vec![2.0, -4.0]);
/// ```
pub fn value_and_grad<const D: usize, F>(f: F, x: Tensor<D>) -> Result<(f64, Tensor<D>)>
where
    F: FnOnce(Tensor<D>) -> Result<Tensor<1>>,
{
    let was_autodiff = x.is_autodiff();
    let leaf = x.detach().autodiff().require_grad();
    let out = f(leaf.clone())?;
    if out.dims() != [1] {
        return Err(Error::InvalidOption(InvalidValue::new(
            "value_and_grad",
            "f",
            "a function returning a one-element tensor",
            format!("an output of shape {:?}", out.dims()),
        )));
    }
    let value: f64 = out.clone().into_scalar();
    let grads = out.backward();
    let grad = leaf
        .grad(&grads)
        .unwrap_or_else(|| leaf.zeros_like().detach());
    let grad = if was_autodiff {
        grad
    } else {
        grad.without_autodiff()
    };
    Ok((value, grad))
}
