//! Normalization layers: `BatchNorm` (1-D inputs `[N, C]`/`[N, C, L]`, 2-D inputs
//! `[N, C, H, W]`) with running statistics, and `LayerNorm` over trailing dimensions.

use burn::config::Config;
use burn::module::{Flag, Module, Param, RunningState};
use burn::tensor::{DType, Device, Tensor};
use cortex_ops::{BatchNormOptions, RunningStats};

use crate::check;
use crate::error::{Error, Result};

/// Configuration of [`BatchNorm`] (PyTorch's `BatchNorm1d`/`BatchNorm2d`: the same layer,
/// whatever the number of spatial dimensions).
#[derive(Config, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// Channels `C` (> 0).
    pub num_features: usize,
    /// Added to the variance before the square root (> 0).
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Weight of a new batch statistic in the running average, in `[0, 1]`.
    #[config(default = 0.1)]
    pub momentum: f64,
    /// Learnable per-channel scale `γ` (ones) and shift `β` (zeros).
    #[config(default = true)]
    pub affine: bool,
    /// Keep running statistics for evaluation; without them evaluation uses batch
    /// statistics too.
    #[config(default = true)]
    pub track_running_stats: bool,
}

/// Batch normalization over every dimension but the channels (dimension 1):
/// `y = (x - μ) / √(σ² + ε) · γ + β`.
///
/// Training mode (the default; [`Module::train`]) normalizes with the batch's mean and biased
/// variance and updates the running statistics with the unbiased one; evaluation mode
/// ([`Module::valid`]) normalizes with the running statistics — as PyTorch.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// `γ`, `[C]`.
    pub weight: Option<Param<Tensor<1>>>,
    /// `β`, `[C]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Running mean, `[C]`, starts at 0.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance, `[C]`, starts at 1.
    pub running_var: RunningState<Tensor<1>>,
    /// Training (batch statistics) or evaluation (running statistics).
    pub training: Param<Flag>,
    /// Momentum of the running averages.
    pub momentum: f64,
    /// Epsilon.
    pub eps: f64,
    /// Whether running statistics are kept.
    pub track_running_stats: bool,
}

impl BatchNormConfig {
    /// Validates the configuration and initializes the layer in f32.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero features, eps ≤ 0, momentum outside `[0, 1]`.
    pub fn init(&self, device: &Device) -> Result<BatchNorm> {
        self.init_with_dtype(device, DType::F32)
    }

    /// As [`BatchNormConfig::init`], with parameters of `dtype`.
    ///
    /// # Errors
    /// As [`BatchNormConfig::init`].
    pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<BatchNorm> {
        self.validate()?;
        let c = self.num_features;
        let (weight, bias) = if self.affine {
            (
                Some(Tensor::ones([c], (device, dtype))),
                Some(Tensor::zeros([c], (device, dtype))),
            )
        } else {
            (None, None)
        };
        let running = RunningStats::new(c, device, dtype);
        BatchNorm::from_tensors(self, weight, bias, Some(running))
    }

    fn validate(&self) -> Result<()> {
        const LAYER: &str = "BatchNorm";
        check::non_zero(LAYER, "num_features", self.num_features)?;
        check::positive(LAYER, "eps", self.eps)?;
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(check::invalid(
                LAYER,
                "momentum",
                "in [0, 1]",
                self.momentum,
            ));
        }
        Ok(())
    }
}

impl BatchNorm {
    /// Builds the layer from existing tensors (PyTorch's `weight`, `bias` and, optionally,
    /// `running_mean`/`running_var`; running statistics start at 0 and 1 otherwise).
    ///
    /// # Errors
    /// Configuration errors as [`BatchNormConfig::init`]; [`Error::ParameterShape`] for a
    /// tensor that is not `[num_features]`, or a weight given without a bias; an invalid
    /// `running` argument when neither parameters nor running statistics are given (no tensor
    /// then names the device).
    pub fn from_tensors(
        config: &BatchNormConfig,
        weight: Option<Tensor<1>>,
        bias: Option<Tensor<1>>,
        running: Option<RunningStats>,
    ) -> Result<Self> {
        const LAYER: &str = "BatchNorm";
        config.validate()?;
        let c = config.num_features;
        for (name, tensor) in [("weight", &weight), ("bias", &bias)] {
            if let Some(t) = tensor {
                check::parameter(LAYER, name, &t.dims(), &[c])?;
            }
        }
        if weight.is_some() != config.affine || bias.is_some() != config.affine {
            return Err(check::invalid(
                LAYER,
                "affine",
                "true exactly when both weight and bias are given",
                config.affine,
            ));
        }
        let running = match running {
            Some(stats) => {
                check::parameter(LAYER, "running_mean", &stats.mean.dims(), &[c])?;
                check::parameter(LAYER, "running_var", &stats.var.dims(), &[c])?;
                stats
            }
            None => {
                // The statistics go where the parameters are; without parameters no tensor
                // says which device that is, and the library never picks one itself.
                let Some(like) = weight.as_ref().or(bias.as_ref()) else {
                    return Err(check::invalid(
                        LAYER,
                        "running",
                        "running statistics when affine is false (they give the device)",
                        "none",
                    ));
                };
                RunningStats::new(c, &like.device(), like.dtype())
            }
        };
        Ok(Self {
            weight: weight.map(crate::param::wrap),
            bias: bias.map(crate::param::wrap),
            running_mean: RunningState::new(running.mean),
            running_var: RunningState::new(running.var),
            training: Param::from_bool(true),
            momentum: config.momentum,
            eps: config.eps,
            track_running_stats: config.track_running_stats,
        })
    }

    /// The current running statistics (with every pending update applied).
    pub fn running_stats(&self) -> RunningStats {
        RunningStats {
            mean: self.running_mean.value_sync(),
            var: self.running_var.value_sync(),
        }
    }

    /// Normalizes `x` `[N, C, …]` (rank ≥ 2).
    ///
    /// # Errors
    /// [`Error::InputShape`] for rank < 2, a channel count other than `num_features`, or an
    /// empty input; [`Error::Op`] for a training batch with a single value per channel.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        const LAYER: &str = "BatchNorm";
        let dims = x.dims();
        let c = self.running_mean.value().dims()[0];
        if D < 2 || dims[1] != c || dims.contains(&0) {
            return Err(Error::InputShape {
                layer: LAYER,
                arg: "x",
                expected: format!("[N, {c}, ...] (rank >= 2)"),
                got: dims.to_vec(),
            });
        }
        let training = self.training.is_enabled() || !self.track_running_stats;
        let options = BatchNormOptions::new(training)
            .with_momentum(self.momentum)
            .with_eps(self.eps);
        let (weight, bias) = (
            self.weight.as_ref().map(Param::val),
            self.bias.as_ref().map(Param::val),
        );
        if !self.track_running_stats {
            return cortex_autodiff::fused_batch_norm(x, weight, bias, None, &options)
                .map_err(Error::op(LAYER));
        }
        let device = x.device();
        let mut stats = RunningStats {
            mean: self.running_mean.value_sync().to_device(&device),
            var: self.running_var.value_sync().to_device(&device),
        };
        let out = cortex_autodiff::fused_batch_norm(x, weight, bias, Some(&mut stats), &options)
            .map_err(Error::op(LAYER))?;
        if training {
            self.running_mean.update(stats.mean.detach());
            self.running_var.update(stats.var.detach());
            // Apply the update now: `RunningState::value` (used by `valid()` snapshots and
            // records) would otherwise lag one update behind.
            self.running_mean.value_sync();
            self.running_var.value_sync();
        }
        Ok(out)
    }
}

/// Configuration of [`LayerNorm`].
#[derive(Config, Debug, PartialEq)]
pub struct LayerNormConfig {
    /// The trailing dimensions normalized over (each > 0), e.g. `[features]`.
    pub normalized_shape: Vec<usize>,
    /// Added to the variance before the square root (> 0).
    #[config(default = 1e-5)]
    pub eps: f64,
    /// Learnable elementwise scale (ones) and shift (zeros).
    #[config(default = true)]
    pub elementwise_affine: bool,
}

/// Layer normalization over the trailing `normalized_shape` dimensions of each sample:
/// `y = (x - mean) / √(var + ε) · γ + β` (biased variance), as `torch.nn.LayerNorm`.
///
/// `γ` and `β` are stored flattened, `[∏ normalized_shape]` (PyTorch: `normalized_shape`);
/// reshape PyTorch's tensors when importing them.
#[derive(Module, Debug)]
pub struct LayerNorm {
    /// `γ`, `[∏ normalized_shape]`.
    pub weight: Option<Param<Tensor<1>>>,
    /// `β`, `[∏ normalized_shape]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// Epsilon.
    pub eps: f64,
    #[module(skip)]
    normalized_shape: Vec<usize>,
}

impl LayerNormConfig {
    fn validate(&self) -> Result<usize> {
        if self.normalized_shape.is_empty() {
            return Err(check::invalid(
                "LayerNorm",
                "normalized_shape",
                "at least one dimension",
                "[]",
            ));
        }
        check::non_zero_all("LayerNorm", "normalized_shape", &self.normalized_shape)?;
        check::positive("LayerNorm", "eps", self.eps)?;
        Ok(self.normalized_shape.iter().product())
    }

    /// Validates the configuration and initializes the layer in f32.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty or zero-sized `normalized_shape`, or eps ≤ 0.
    pub fn init(&self, device: &Device) -> Result<LayerNorm> {
        self.init_with_dtype(device, DType::F32)
    }

    /// As [`LayerNormConfig::init`], with parameters of `dtype`.
    ///
    /// # Errors
    /// As [`LayerNormConfig::init`].
    pub fn init_with_dtype(&self, device: &Device, dtype: DType) -> Result<LayerNorm> {
        let n = self.validate()?;
        let (weight, bias) = if self.elementwise_affine {
            (
                Some(Tensor::ones([n], (device, dtype))),
                Some(Tensor::zeros([n], (device, dtype))),
            )
        } else {
            (None, None)
        };
        LayerNorm::from_tensors(self, weight, bias)
    }
}

impl LayerNorm {
    /// Builds the layer from existing (flattened) tensors.
    ///
    /// # Errors
    /// Configuration errors as [`LayerNormConfig::init`]; [`Error::ParameterShape`] for a
    /// tensor that is not `[∏ normalized_shape]`.
    pub fn from_tensors(
        config: &LayerNormConfig,
        weight: Option<Tensor<1>>,
        bias: Option<Tensor<1>>,
    ) -> Result<Self> {
        let n = config.validate()?;
        for (name, tensor) in [("weight", &weight), ("bias", &bias)] {
            if let Some(t) = tensor {
                check::parameter("LayerNorm", name, &t.dims(), &[n])?;
            }
        }
        Ok(Self {
            weight: weight.map(crate::param::wrap),
            bias: bias.map(crate::param::wrap),
            eps: config.eps,
            normalized_shape: config.normalized_shape.clone(),
        })
    }

    /// Normalizes `x` whose trailing dimensions are `normalized_shape`.
    ///
    /// # Errors
    /// [`Error::InputShape`] when the trailing dimensions differ or `x` is empty.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        let dims = x.dims();
        let k = self.normalized_shape.len();
        if D < k || dims[D - k..] != self.normalized_shape[..] || dims.contains(&0) {
            return Err(Error::InputShape {
                layer: "LayerNorm",
                arg: "x",
                expected: format!(
                    "[..., {}]",
                    check::pattern(
                        &self
                            .normalized_shape
                            .iter()
                            .map(|&d| Some(d))
                            .collect::<Vec<_>>()
                    )
                    .trim_matches(['[', ']'])
                ),
                got: dims.to_vec(),
            });
        }
        let n: usize = self.normalized_shape.iter().product();
        let rows = dims.iter().product::<usize>() / n;
        let flat: Tensor<2> = x.reshape([rows, n]);
        let out = cortex_ops::layer_norm(
            flat,
            [n],
            self.weight.as_ref().map(Param::val),
            self.bias.as_ref().map(Param::val),
            self.eps,
        )
        .map_err(Error::op("LayerNorm"))?;
        Ok(out.reshape(dims))
    }
}
