//! `Activation`: the elementwise nonlinearities of `cortex-ops`, chosen by configuration.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An elementwise nonlinearity, serializable so a model's config names it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `1 / (1 + e^{-x})`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `x Φ(x)` (exact, erf-based).
    Gelu,
    /// `x σ(x)`.
    Silu,
    /// `x` for `x > 0`, `slope · x` otherwise.
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: f64,
    },
    /// `x` for `x > 0`, `α (eˣ - 1)` otherwise.
    Elu {
        /// `α`.
        alpha: f64,
    },
    /// The identity.
    Identity,
}

impl Activation {
    /// Applies the nonlinearity.
    ///
    /// # Errors
    /// [`Error::Op`] for a non-finite slope or alpha.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        Ok(match *self {
            Activation::Relu => cortex_autodiff::fused_relu(x),
            Activation::Sigmoid => cortex_autodiff::fused_sigmoid(x),
            Activation::Tanh => cortex_ops::tanh(x),
            Activation::Gelu => cortex_ops::gelu(x),
            Activation::Silu => cortex_ops::silu(x),
            Activation::LeakyRelu { negative_slope } => {
                cortex_ops::leaky_relu(x, negative_slope).map_err(Error::op("Activation"))?
            }
            Activation::Elu { alpha } => {
                cortex_ops::elu(x, alpha).map_err(Error::op("Activation"))?
            }
            Activation::Identity => x,
        })
    }
}
