//! `Linear`: `y = x Wᵀ + b`, with PyTorch's `[out_features, in_features]` weight layout.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{DType, Device, Tensor};
use cortex_ops::Initializer;

use crate::check;
use crate::error::{Error, Result};
use crate::param::{derive_seed, param, pytorch_uniform};
use crate::seed::layer_seed;

const LAYER: &str = "Linear";

/// Configuration of [`Linear`].
#[derive(Config, Debug, PartialEq)]
pub struct LinearConfig {
    /// Size of each input sample (> 0).
    pub in_features: usize,
    /// Size of each output sample (> 0).
    pub out_features: usize,
    /// Whether to add a learnable bias.
    #[config(default = true)]
    pub bias: bool,
    /// Weight initializer; `None`: PyTorch's `U(-1/√in, 1/√in)`.
    pub weight_init: Option<Initializer>,
    /// Bias initializer; `None`: PyTorch's `U(-1/√in, 1/√in)`.
    pub bias_init: Option<Initializer>,
    /// Seed of the initial values; `None` (the default) takes the next seed of the model
    /// seed ([`crate::seeded`]).
    pub seed: Option<u64>,
}

/// A fully connected layer: `y = x Wᵀ + b` over the last dimension of `x`.
///
/// The weight is stored as PyTorch stores it, `[out_features, in_features]` (burn's own
/// `Linear` stores `[in, out]`), so a PyTorch `state_dict` entry is used as it is.
#[derive(Module, Debug)]
pub struct Linear {
    /// `[out_features, in_features]`.
    pub weight: Param<Tensor<2>>,
    /// `[out_features]`, if the layer has a bias.
    pub bias: Option<Param<Tensor<1>>>,
}

impl LinearConfig {
    /// Validates the configuration and initializes the layer in f32.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero size or an invalid initializer.
    pub fn init(&self, device: &Device) -> Result<Linear> {
        self.init_with_dtype(device, DType::F32)
    }

    /// As [`LinearConfig::init`], with parameters of `dtype` (e.g. `DType::F64`).
    ///
    /// # Errors
    /// As [`LinearConfig::init`].
    pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<Linear> {
        check::non_zero(LAYER, "in_features", self.in_features)?;
        check::non_zero(LAYER, "out_features", self.out_features)?;
        let seed = layer_seed(self.seed);
        let default = pytorch_uniform(self.in_features);
        let weight = param(
            LAYER,
            self.weight_init.as_ref().unwrap_or(&default),
            [self.out_features, self.in_features],
            device,
            dtype,
            derive_seed(seed, 0),
        )?;
        let bias = if self.bias {
            Some(param(
                LAYER,
                self.bias_init.as_ref().unwrap_or(&default),
                [self.out_features],
                device,
                dtype,
                derive_seed(seed, 1),
            )?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }
}

impl Linear {
    /// Builds the layer from existing tensors (e.g. PyTorch's `weight` and `bias`, used as
    /// they are: both layouts are `[out, in]`).
    ///
    /// # Errors
    /// [`Error::ParameterShape`] when the bias is not `[out_features]`;
    /// [`Error::InvalidConfig`] for an empty weight.
    pub fn from_tensors(weight: Tensor<2>, bias: Option<Tensor<1>>) -> Result<Self> {
        let [out_features, in_features] = weight.dims();
        check::non_zero(LAYER, "in_features", in_features)?;
        check::non_zero(LAYER, "out_features", out_features)?;
        if let Some(b) = &bias {
            check::parameter(LAYER, "bias", &b.dims(), &[out_features])?;
        }
        Ok(Self {
            weight: crate::param::wrap(weight),
            bias: bias.map(crate::param::wrap),
        })
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Applies the layer to `x` `[…, in_features]`, giving `[…, out_features]`.
    ///
    /// # Errors
    /// [`Error::InputShape`] when the last dimension is not `in_features` (or `x` is empty).
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        let dims = x.dims();
        let in_features = self.in_features();
        if D == 0 || dims[D - 1] != in_features || dims.contains(&0) {
            let mut expected = vec![None; D.max(1)];
            expected[D.max(1) - 1] = Some(in_features);
            return Err(Error::InputShape {
                layer: LAYER,
                arg: "x",
                expected: check::pattern(&expected),
                got: dims.to_vec(),
            });
        }
        cortex_autodiff::fused_linear(x, self.weight.val(), self.bias.as_ref().map(Param::val))
            .map_err(Error::op(LAYER))
    }
}
