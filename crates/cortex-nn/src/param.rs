//! Parameter creation: PyTorch's default initializations, overridable by any
//! [`Initializer`], drawn on the host from a seed so both backends get identical values.

use burn::module::Param;
use burn::tensor::{DType, Device, Tensor};
use cortex_ops::Initializer;

use crate::error::{Error, Result};

/// PyTorch's default for weights and biases of `Linear`, convolutions and recurrent layers:
/// `U(-1/√fan_in, 1/√fan_in)` (what `kaiming_uniform_(a=√5)` works out to).
pub(crate) fn pytorch_uniform(fan_in: usize) -> Initializer {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Initializer::Uniform {
        low: -bound,
        high: bound,
    }
}

/// A stream of per-parameter seeds derived from one layer seed, so two parameters of a
/// layer, or two layers of a model, never share their random draws.
pub(crate) fn derive_seed(seed: u64, index: u64) -> u64 {
    cortex_ops::random::mix(seed, index)
}

/// Draws a parameter of `shape` with `rule`.
pub(crate) fn param<const D: usize>(
    layer: &'static str,
    rule: &Initializer,
    shape: [usize; D],
    device: &Device,
    dtype: DType,
    seed: u64,
) -> Result<Param<Tensor<D>>> {
    let tensor = rule
        .init(shape, device, dtype, seed)
        .map_err(Error::op(layer))?;
    Ok(Param::from_tensor(tensor))
}

/// Wraps a given tensor as a parameter. A tensor that already tracks gradients (a leaf, or
/// the result of a computation, e.g. when a gradient check builds the layer from its inputs)
/// is kept as it is, so gradients flow back to its origin; any other becomes a trainable
/// leaf. (`Param::from_tensor` would panic on a computed tracked tensor.)
pub(crate) fn wrap<const D: usize>(tensor: Tensor<D>) -> Param<Tensor<D>> {
    if tensor.is_tracked() {
        Param::initialized(burn::module::ParamId::new(), tensor)
    } else {
        Param::from_tensor(tensor)
    }
}
