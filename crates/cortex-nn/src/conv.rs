//! `Conv1d` and `Conv2d`: cross-correlation with stride, padding (explicit, `Valid` or
//! `Same`), dilation, groups and an optional bias, in PyTorch's weight layout
//! `[C_out, C_in / groups, k…]`. Both run through `cortex_autodiff`'s fused convolution
//! (im2col + GEMM with a hand-written backward on the CPU backends, burn's conv elsewhere).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::ops::PadMode;
use burn::tensor::{DType, Device, Tensor};
use cortex_ops::{Conv1dOptions, Conv2dOptions, Initializer};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};
use crate::param::{derive_seed, param, pytorch_uniform, wrap};
use crate::seed::layer_seed;

/// Zero padding of a convolution (`T` is `usize` for 1-D, `[usize; 2]` for 2-D).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding<T> {
    /// No padding.
    Valid,
    /// Output as long as the input (stride 1 only): `d (k - 1)` zeros in all, the odd one
    /// after (right/bottom), as PyTorch's `padding="same"`.
    Same,
    /// This many zeros on both sides.
    Explicit(T),
}

/// Everything but the parameters, per spatial dimension: what `forward` needs.
#[derive(Debug, Clone, PartialEq)]
struct Geometry {
    kernel: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    /// Zeros `(before, after)`.
    padding: Vec<(usize, usize)>,
    groups: usize,
    in_channels: usize,
    out_channels: usize,
    bias: bool,
}

impl Geometry {
    #[allow(clippy::too_many_arguments)]
    fn new(
        layer: &'static str,
        in_channels: usize,
        out_channels: usize,
        kernel: Vec<usize>,
        stride: Vec<usize>,
        dilation: Vec<usize>,
        padding: Padding<Vec<usize>>,
        groups: usize,
        bias: bool,
    ) -> Result<Self> {
        check::non_zero(layer, "in_channels", in_channels)?;
        check::non_zero(layer, "out_channels", out_channels)?;
        check::non_zero_all(layer, "kernel_size", &kernel)?;
        check::non_zero_all(layer, "stride", &stride)?;
        check::non_zero_all(layer, "dilation", &dilation)?;
        check::groups(layer, groups, in_channels, out_channels)?;
        let padding = match padding {
            Padding::Valid => vec![(0, 0); kernel.len()],
            Padding::Explicit(p) => p.iter().map(|&p| (p, p)).collect(),
            Padding::Same => {
                if stride.iter().any(|&s| s != 1) {
                    return Err(check::invalid(
                        layer,
                        "stride",
                        "1 in every dimension with `Padding::Same`",
                        format!("{stride:?}"),
                    ));
                }
                kernel
                    .iter()
                    .zip(&dilation)
                    .map(|(&k, &d)| {
                        let total = d * (k - 1);
                        (total / 2, total - total / 2)
                    })
                    .collect()
            }
        };
        Ok(Self {
            kernel,
            stride,
            dilation,
            padding,
            groups,
            in_channels,
            out_channels,
            bias,
        })
    }

    fn weight_shape(&self) -> Vec<usize> {
        let mut shape = vec![self.out_channels, self.in_channels / self.groups];
        shape.extend_from_slice(&self.kernel);
        shape
    }

    /// PyTorch's default bound: `fan_in = in_channels / groups · ∏ kernel`.
    fn default_init(&self) -> Initializer {
        pytorch_uniform(self.in_channels / self.groups * self.kernel.iter().product::<usize>())
    }

    /// Draws the parameters.
    fn init<const W: usize>(
        &self,
        layer: &'static str,
        weight_init: Option<&Initializer>,
        bias_init: Option<&Initializer>,
        seed: u64,
        device: &Device,
        dtype: DType,
    ) -> Result<(Param<Tensor<W>>, Option<Param<Tensor<1>>>)> {
        let default = self.default_init();
        let mut shape = [0; W];
        shape.copy_from_slice(&self.weight_shape());
        let rule = weight_init.unwrap_or(&default);
        let weight = param(layer, rule, shape, device, dtype, derive_seed(seed, 0))?;
        let bias = self
            .bias
            .then(|| {
                let rule = bias_init.unwrap_or(&default);
                param(
                    layer,
                    rule,
                    [self.out_channels],
                    device,
                    dtype,
                    derive_seed(seed, 1),
                )
            })
            .transpose()?;
        Ok((weight, bias))
    }

    /// Checks tensors handed to `from_tensors`.
    fn check_tensors(
        &self,
        layer: &'static str,
        weight: &[usize],
        bias: Option<&[usize]>,
    ) -> Result<()> {
        check::parameter(layer, "weight", weight, &self.weight_shape())?;
        match (bias, self.bias) {
            (Some(b), true) => check::parameter(layer, "bias", b, &[self.out_channels]),
            (None, false) => Ok(()),
            (Some(_), false) => Err(check::invalid(
                layer,
                "bias",
                "true when a bias tensor is given",
                false,
            )),
            (None, true) => Err(check::invalid(
                layer,
                "bias",
                "false when no bias tensor is given",
                true,
            )),
        }
    }

    /// Validates `x` and pads it where `Same` padding is asymmetric; returns the symmetric
    /// padding left for the op.
    fn prepare<const D: usize>(
        &self,
        layer: &'static str,
        x: Tensor<D>,
    ) -> Result<(Tensor<D>, Vec<usize>)> {
        let mut expected = vec![None; D];
        expected[1] = Some(self.in_channels);
        check::input(layer, "x", &x.dims(), &expected)?;
        if self.padding.iter().all(|(a, b)| a == b) {
            return Ok((x, self.padding.iter().map(|p| p.0).collect()));
        }
        let padded = x.pad(self.padding.clone(), PadMode::Constant(0.0));
        Ok((padded, vec![0; self.kernel.len()]))
    }
}

/// Configuration of [`Conv1d`].
#[derive(Config, Debug, PartialEq)]
pub struct Conv1dConfig {
    /// Input channels (> 0).
    pub in_channels: usize,
    /// Output channels (> 0).
    pub out_channels: usize,
    /// Kernel length (> 0).
    pub kernel_size: usize,
    /// Stride (> 0).
    #[config(default = 1)]
    pub stride: usize,
    /// Zero padding.
    #[config(default = "Padding::Valid")]
    pub padding: Padding<usize>,
    /// Dilation (> 0).
    #[config(default = 1)]
    pub dilation: usize,
    /// Channel groups; must divide both channel counts.
    #[config(default = 1)]
    pub groups: usize,
    /// Whether to add a learnable bias.
    #[config(default = true)]
    pub bias: bool,
    /// Weight initializer; `None`: PyTorch's `U(-1/√fan_in, 1/√fan_in)`,
    /// `fan_in = in_channels / groups · kernel_size`.
    pub weight_init: Option<Initializer>,
    /// Bias initializer; `None`: as the weight's default.
    pub bias_init: Option<Initializer>,
    /// Seed of the initial values; `None` (the default) takes the next seed of the model
    /// seed ([`crate::seeded`]).
    pub seed: Option<u64>,
}

/// Configuration of [`Conv2d`]; sizes are `[height, width]`.
#[derive(Config, Debug, PartialEq)]
pub struct Conv2dConfig {
    /// Input channels (> 0).
    pub in_channels: usize,
    /// Output channels (> 0).
    pub out_channels: usize,
    /// Kernel extent `[kH, kW]` (> 0).
    pub kernel_size: [usize; 2],
    /// Stride (> 0).
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Zero padding.
    #[config(default = "Padding::Valid")]
    pub padding: Padding<[usize; 2]>,
    /// Dilation (> 0).
    #[config(default = "[1, 1]")]
    pub dilation: [usize; 2],
    /// Channel groups; must divide both channel counts.
    #[config(default = 1)]
    pub groups: usize,
    /// Whether to add a learnable bias.
    #[config(default = true)]
    pub bias: bool,
    /// Weight initializer; `None`: PyTorch's `U(-1/√fan_in, 1/√fan_in)`,
    /// `fan_in = in_channels / groups · kH · kW`.
    pub weight_init: Option<Initializer>,
    /// Bias initializer; `None`: as the weight's default.
    pub bias_init: Option<Initializer>,
    /// Seed of the initial values; `None` (the default) takes the next seed of the model
    /// seed ([`crate::seeded`]).
    pub seed: Option<u64>,
}

/// 1-D convolution over `[N, C_in, L]`, as `torch.nn.Conv1d`.
#[derive(Module, Debug)]
pub struct Conv1d {
    /// `[out_channels, in_channels / groups, kernel_size]`.
    pub weight: Param<Tensor<3>>,
    /// `[out_channels]`, if the layer has a bias.
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    geometry: Geometry,
}

/// 2-D convolution over `[N, C_in, H, W]`, as `torch.nn.Conv2d`.
#[derive(Module, Debug)]
pub struct Conv2d {
    /// `[out_channels, in_channels / groups, kH, kW]`.
    pub weight: Param<Tensor<4>>,
    /// `[out_channels]`, if the layer has a bias.
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    geometry: Geometry,
}

impl Conv1dConfig {
    fn geometry(&self) -> Result<Geometry> {
        let padding = match self.padding {
            Padding::Valid => Padding::Valid,
            Padding::Same => Padding::Same,
            Padding::Explicit(p) => Padding::Explicit(vec![p]),
        };
        Geometry::new(
            "Conv1d",
            self.in_channels,
            self.out_channels,
            vec![self.kernel_size],
            vec![self.stride],
            vec![self.dilation],
            padding,
            self.groups,
            self.bias,
        )
    }
}

impl Conv2dConfig {
    fn geometry(&self) -> Result<Geometry> {
        let padding = match self.padding {
            Padding::Valid => Padding::Valid,
            Padding::Same => Padding::Same,
            Padding::Explicit(p) => Padding::Explicit(p.to_vec()),
        };
        Geometry::new(
            "Conv2d",
            self.in_channels,
            self.out_channels,
            self.kernel_size.to_vec(),
            self.stride.to_vec(),
            self.dilation.to_vec(),
            padding,
            self.groups,
            self.bias,
        )
    }
}

impl Conv1d {
    /// Applies the convolution: `[N, C_in, L]` → `[N, C_out, L_out]`.
    ///
    /// # Errors
    /// [`Error::InputShape`] for another rank or channel count, or an empty input;
    /// [`Error::Op`] when the (dilated) kernel does not fit the padded input.
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let (x, padding) = self.geometry.prepare("Conv1d", x)?;
        let g = &self.geometry;
        let options = Conv1dOptions {
            stride: g.stride[0],
            padding: padding[0],
            dilation: g.dilation[0],
            groups: g.groups,
        };
        cortex_autodiff::fused_conv1d(
            x,
            self.weight.val(),
            self.bias.as_ref().map(Param::val),
            &options,
        )
        .map_err(Error::op("Conv1d"))
    }
}

impl Conv2d {
    /// Applies the convolution: `[N, C_in, H, W]` → `[N, C_out, H_out, W_out]`.
    ///
    /// # Errors
    /// As [`Conv1d::forward`].
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<4>> {
        let (x, padding) = self.geometry.prepare("Conv2d", x)?;
        let g = &self.geometry;
        let options = Conv2dOptions {
            stride: [g.stride[0], g.stride[1]],
            padding: [padding[0], padding[1]],
            dilation: [g.dilation[0], g.dilation[1]],
            groups: g.groups,
        };
        cortex_autodiff::fused_conv2d(
            x,
            self.weight.val(),
            self.bias.as_ref().map(Param::val),
            &options,
        )
        .map_err(Error::op("Conv2d"))
    }
}

/// What both convolutions share: `init`, `init_with_dtype` and `from_tensors`.
macro_rules! conv_constructors {
    ($layer:ident, $config:ident, $name:literal, weight_rank = $rank:literal) => {
        impl $config {
            /// Validates the configuration and initializes the layer in f32.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`] for zero sizes, `groups` not dividing the channel
            /// counts, `Same` padding with a stride other than 1, or an invalid initializer.
            pub fn init(&self, device: &Device) -> Result<$layer> {
                self.init_with_dtype(device, DType::F32)
            }

            #[doc = concat!("As [`", stringify!($config), "::init`], with parameters of `dtype`.")]
            ///
            /// # Errors
            /// As `init`.
            pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<$layer> {
                let geometry = self.geometry()?;
                let (weight, bias) = geometry.init(
                    $name,
                    self.weight_init.as_ref(),
                    self.bias_init.as_ref(),
                    layer_seed(self.seed),
                    device,
                    dtype,
                )?;
                Ok($layer {
                    weight,
                    bias,
                    geometry,
                })
            }
        }

        impl $layer {
            /// Builds the layer from existing tensors (PyTorch's `weight` and `bias`, as they
            /// are); channels and kernel must match `config`.
            ///
            /// # Errors
            /// Configuration errors as `init`; [`Error::ParameterShape`] when a tensor does
            /// not match `config`.
            pub fn from_tensors(
                config: &$config,
                weight: Tensor<$rank>,
                bias: Option<Tensor<1>>,
            ) -> Result<Self> {
                let geometry = config.geometry()?;
                let bias_dims = bias.as_ref().map(|b| b.dims());
                geometry.check_tensors(
                    $name,
                    &weight.dims(),
                    bias_dims.as_ref().map(|d| &d[..]),
                )?;
                Ok(Self {
                    weight: wrap(weight),
                    bias: bias.map(wrap),
                    geometry,
                })
            }
        }
    };
}

conv_constructors!(Conv1d, Conv1dConfig, "Conv1d", weight_rank = 3);
conv_constructors!(Conv2d, Conv2dConfig, "Conv2d", weight_rank = 4);
