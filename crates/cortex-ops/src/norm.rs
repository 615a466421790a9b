//! Normalization: `batch_norm` (training and inference, with running statistics) and
//! `layer_norm` over any number of trailing dimensions.

use burn::tensor::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};

/// Options of [`batch_norm`]; `new(training)` uses PyTorch's momentum 0.1 and eps 1e-5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchNormOptions {
    /// Normalize with batch statistics (and update running ones) instead of running ones.
    pub training: bool,
    /// Weight of the new batch statistic in the running average, in `[0, 1]`.
    pub momentum: f64,
    /// Added to the variance before the square root (> 0).
    pub eps: f64,
}

impl BatchNormOptions {
    /// Training or inference mode with PyTorch's momentum (0.1) and eps (1e-5).
    pub fn new(training: bool) -> Self {
        Self {
            training,
            momentum: 0.1,
            eps: 1e-5,
        }
    }

    /// Sets the momentum.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets eps.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
}

/// Per-channel running mean and (unbiased) variance kept by batch normalization.
#[derive(Debug, Clone)]
pub struct RunningStats {
    /// Running mean `[C]`, starts at 0.
    pub mean: Tensor<1>,
    /// Running variance `[C]`, starts at 1.
    pub var: Tensor<1>,
}

impl RunningStats {
    /// PyTorch's initial statistics: mean 0, variance 1.
    pub fn new(channels: usize, device: &Device, dtype: DType) -> Self {
        Self {
            mean: Tensor::zeros([channels], (device, dtype)),
            var: Tensor::ones([channels], (device, dtype)),
        }
    }

    /// Folds one training batch's statistics in, as PyTorch does: `r ← (1 − m) r + m s`, with
    /// the batch variance (`biased_var`, over `per_channel` values) made **unbiased**.
    ///
    /// # Errors
    /// `ShapeMismatch`/`DTypeMismatch`/`DeviceMismatch` when `batch_mean` or `biased_var`
    /// differ from the running statistics; `InvalidArgument` for fewer than 2 values per
    /// channel (no unbiased variance) or a momentum outside `[0, 1]`.
    pub fn update(
        &mut self,
        batch_mean: Tensor<1>,
        biased_var: Tensor<1>,
        per_channel: usize,
        momentum: f64,
    ) -> Result<()> {
        const OP: &str = "RunningStats::update";
        let channels = self.mean.dims()[0];
        check::channel_vector(OP, "var", Some(&self.var), channels, &self.mean)?;
        check::channel_vector(OP, "batch_mean", Some(&batch_mean), channels, &self.mean)?;
        check::channel_vector(OP, "biased_var", Some(&biased_var), channels, &self.mean)?;
        if per_channel < 2 {
            return Err(check::invalid(OP, "per_channel", "at least 2", per_channel));
        }
        if !(0.0..=1.0).contains(&momentum) {
            return Err(check::invalid(OP, "momentum", "in [0, 1]", momentum));
        }
        let unbiased = per_channel as f64 / (per_channel as f64 - 1.0);
        self.mean = self
            .mean
            .clone()
            .detach()
            .mul_scalar(1.0 - momentum)
            .add(batch_mean.detach().mul_scalar(momentum));
        self.var = self
            .var
            .clone()
            .detach()
            .mul_scalar(1.0 - momentum)
            .add(biased_var.detach().mul_scalar(momentum * unbiased));
        Ok(())
    }
}

/// The checks of [`batch_norm`], for implementations of it elsewhere (the fused kernel of
/// `cortex-autodiff`), so that every one rejects the same inputs with the same error.
///
/// # Errors
/// As [`batch_norm`].
pub fn check_batch_norm<const D: usize>(
    x: &Tensor<D>,
    weight: Option<&Tensor<1>>,
    bias: Option<&Tensor<1>>,
    running: Option<&RunningStats>,
    options: &BatchNormOptions,
) -> Result<()> {
    const OP: &str = "batch_norm";
    let dims = x.dims();
    if D < 2 {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "x",
            expected: ">= 2 ([N, C, ...])".to_string(),
            got: D,
            shape: dims.to_vec(),
        });
    }
    check::non_empty(OP, "x", &dims)?;
    check::positive(OP, "eps", options.eps)?;
    if !(0.0..=1.0).contains(&options.momentum) {
        return Err(check::invalid(
            OP,
            "momentum",
            "in [0, 1]",
            options.momentum,
        ));
    }
    let channels = dims[1];
    check::channel_vector(OP, "weight", weight, channels, x)?;
    check::channel_vector(OP, "bias", bias, channels, x)?;
    if let Some(stats) = running {
        check::channel_vector(OP, "running.mean", Some(&stats.mean), channels, x)?;
        check::channel_vector(OP, "running.var", Some(&stats.var), channels, x)?;
    }
    if !options.training {
        if running.is_none() {
            return Err(check::invalid(
                OP,
                "running",
                "running statistics in inference mode",
                "None",
            ));
        }
    } else if dims.iter().product::<usize>() / channels < 2 {
        return Err(check::invalid(
            OP,
            "x",
            "more than one value per channel in training mode",
            format!("shape {dims:?}"),
        ));
    }
    Ok(())
}

/// Batch normalization over every dimension but the channel dimension 1:
/// `y = (x - μ) / √(σ² + ε) · γ + β`.
///
/// Training: `μ`, `σ²` are the batch mean and **biased** variance; `running` (if given) is
/// updated as `r ← (1-m) r + m s` with the **unbiased** variance, as PyTorch does
/// ([`RunningStats::update`]). Inference: `μ`, `σ²` are the running statistics, which are
/// then required.
///
/// # Errors
/// `RankMismatch` for rank < 2; `EmptyInput`; `ShapeMismatch` for weight, bias or running
/// statistics not `[C]`; `DTypeMismatch`/`DeviceMismatch` when they differ from `x` in
/// precision or device; `InvalidArgument` for eps ≤ 0, momentum outside `[0, 1]`, a training
/// batch with one value per channel, or inference without running statistics.
///
/// # Shapes
/// x `[N, C, …]`, weight/bias/running `[C]`; output: x's shape.
pub fn batch_norm<const D: usize>(
    x: Tensor<D>,
    weight: Option<Tensor<1>>,
    bias: Option<Tensor<1>>,
    running: Option<&mut RunningStats>,
    options: &BatchNormOptions,
) -> Result<Tensor<D>> {
    check_batch_norm(
        &x,
        weight.as_ref(),
        bias.as_ref(),
        running.as_deref(),
        options,
    )?;
    let dims = x.dims();
    let (channels, dtype, device) = (dims[1], x.dtype(), x.device());
    let gamma = weight.unwrap_or_else(|| Tensor::ones([channels], (&device, dtype)));
    let beta = bias.unwrap_or_else(|| Tensor::zeros([channels], (&device, dtype)));
    if !options.training {
        // `check_batch_norm` rejected inference without running statistics.
        let Some(stats) = running else {
            return Err(check::invalid(
                "batch_norm",
                "running",
                "running statistics in inference mode",
                "None",
            ));
        };
        let (mean, var) = (stats.mean.clone(), stats.var.clone());
        return Ok(burn::tensor::module::batch_norm(
            x,
            gamma,
            beta,
            mean,
            var,
            options.eps,
        ));
    }
    let per_channel = dims.iter().product::<usize>() / channels;
    let out = burn::tensor::module::batch_norm_train(x, gamma, beta, options.eps);
    if let Some(stats) = running {
        stats.update(out.mean, out.variance, per_channel, options.momentum)?;
    }
    Ok(out.output)
}

/// Layer normalization over the trailing `N` dimensions `normalized_shape`:
/// `y = (x - μ) / √(σ² + ε) · γ + β` with `μ`, `σ²` the mean and biased variance of those
/// dimensions for each leading index.
///
/// # Errors
/// `RankMismatch` when `N` is 0 or exceeds the input's rank; `ShapeMismatch` when the trailing
/// dimensions or `weight`/`bias` differ from `normalized_shape`; `DTypeMismatch`/
/// `DeviceMismatch` when they differ from `x` in precision or device; `EmptyInput`;
/// `InvalidArgument` for eps ≤ 0.
///
/// # Shapes
/// x `[…, *normalized_shape]`, weight/bias `normalized_shape`; output: x's shape.
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// let x = Tensor::<2>::from_floats([[1.0, 3.0]], &Device::flex());
/// let y = cortex_ops::layer_norm(x, [2], None, None, 0.0001).unwrap();
/// let values = y.into_data().to_vec::<f32>().unwrap();
/// assert!((values[0] + 1.0).abs() < 1e-3 && (values[1] - 1.0).abs() < 1e-3);
/// ```
pub fn layer_norm<const D: usize, const N: usize>(
    x: Tensor<D>,
    normalized_shape: [usize; N],
    weight: Option<Tensor<N>>,
    bias: Option<Tensor<N>>,
    eps: f64,
) -> Result<Tensor<D>> {
    const OP: &str = "layer_norm";
    let dims = x.dims();
    if N == 0 || N > D {
        return Err(Error::RankMismatch {
            op: OP,
            arg: "x",
            expected: format!(">= {N} (the length of normalized_shape, itself >= 1)"),
            got: D,
            shape: dims.to_vec(),
        });
    }
    check::non_empty(OP, "x", &dims)?;
    check::positive(OP, "eps", eps)?;
    if dims[D - N..] != normalized_shape {
        let mut expected: Vec<Option<usize>> = vec![None; D];
        for (slot, &size) in expected[D - N..].iter_mut().zip(&normalized_shape) {
            *slot = Some(size);
        }
        return Err(Error::ShapeMismatch {
            op: OP,
            arg: "x",
            expected: check::pattern(&expected),
            got: dims.to_vec(),
        });
    }
    for (arg, param) in [("weight", &weight), ("bias", &bias)] {
        if let Some(p) = param {
            check::same_shape(OP, arg, &normalized_shape, &p.dims())?;
            check::same_kind(OP, arg, &x, p)?;
        }
    }

    let reduced: Vec<usize> = (D - N..D).collect();
    let mean = x.clone().mean_dims(&reduced);
    let centered = x.sub(mean);
    let var = centered.clone().square().mean_dims(&reduced);
    let mut y = centered.div(var.add_scalar(eps).sqrt());
    let mut broadcast = [1usize; D];
    broadcast[D - N..].copy_from_slice(&normalized_shape);
    if let Some(w) = weight {
        y = y.mul(w.reshape(broadcast));
    }
    if let Some(b) = bias {
        y = y.add(b.reshape(broadcast));
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, tensor, values};

    #[test]
    fn running_update_rejects_what_it_cannot_fold_in() {
        for device in devices() {
            let pair = || tensor(&[1.0, 3.0], [2], &device);
            let mut stats = RunningStats::new(2, &device, pair().dtype());
            assert!(matches!(
                stats.update(pair(), pair(), 1, 0.1),
                Err(Error::InvalidArgument(InvalidValue {
                    argument: "per_channel",
                    ..
                }))
            ));
            assert!(matches!(
                stats.update(tensor(&[1.0, 2.0, 3.0], [3], &device), pair(), 4, 0.1),
                Err(Error::ShapeMismatch { .. })
            ));
            stats.update(pair(), pair(), 4, 0.5).unwrap();
            // mean: 0.5·0 + 0.5·[1, 3]; var: 0.5·1 + 0.5·(4/3)·[1, 3].
            assert_close(&values(&stats.mean), &[0.5, 1.5], 1e-6);
            assert_close(&values(&stats.var), &[0.5 + 2.0 / 3.0, 0.5 + 2.0], 1e-6);
        }
    }

    #[test]
    fn inference_uses_running_statistics() {
        for device in devices() {
            let x = tensor(&[1.0, 5.0, 3.0, 9.0], [2, 2], &device);
            let mut stats = RunningStats {
                mean: tensor(&[2.0, 5.0], [2], &device),
                var: tensor(&[4.0, 16.0], [2], &device),
            };
            let options = BatchNormOptions::new(false).with_eps(1e-12);
            let y = batch_norm(x, None, None, Some(&mut stats), &options).unwrap();
            assert_close(&values(&y), &[-0.5, 0.0, 0.5, 1.0], 1e-9);
            // inference leaves the statistics alone
            assert_close(&values(&stats.mean), &[2.0, 5.0], 0.0);
        }
    }

    #[test]
    fn training_updates_running_statistics_with_the_unbiased_variance() {
        for device in devices() {
            // channel 0 values [1, 3]: mean 2, biased var 1, unbiased var 2.
            let x = tensor(&[1.0, 3.0], [2, 1], &device);
            let mut stats = RunningStats::new(1, &device, DType::F64);
            let options = BatchNormOptions::new(true)
                .with_momentum(0.5)
                .with_eps(1e-12);
            let y = batch_norm(x, None, None, Some(&mut stats), &options).unwrap();
            assert_close(&values(&y), &[-1.0, 1.0], 1e-9);
            assert_close(&values(&stats.mean), &[1.0], 1e-12);
            assert_close(&values(&stats.var), &[1.5], 1e-12);
        }
    }

    #[test]
    fn layer_norm_over_two_trailing_dimensions() {
        for device in devices() {
            let x = tensor(
                &[1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0],
                [2, 2, 2],
                &device,
            );
            let w = tensor(&[1.0, 2.0, 1.0, 1.0], [2, 2], &device);
            let y = layer_norm(x, [2, 2], Some(w), None, 1e-12).unwrap();
            // first block: mean 2.5, var 1.25
            let s = 1.25f64.sqrt();
            let expected = [
                -1.5 / s,
                2.0 * -0.5 / s,
                0.5 / s,
                1.5 / s,
                0.0,
                0.0,
                0.0,
                0.0,
            ];
            assert_close(&values(&y), &expected, 1e-9);
        }
    }

    #[test]
    fn bad_normalization_inputs_are_errors() {
        let device = devices().remove(0);
        let x1 = tensor(&[1.0, 2.0], [2], &device);
        assert!(matches!(
            batch_norm(x1, None, None, None, &BatchNormOptions::new(true)),
            Err(Error::RankMismatch {
                op: "batch_norm",
                got: 1,
                ..
            })
        ));
        let x = tensor(&[1.0, 2.0, 3.0], [1, 3], &device);
        assert!(matches!(
            batch_norm(x.clone(), None, None, None, &BatchNormOptions::new(true)),
            Err(Error::InvalidArgument(InvalidValue { argument: "x", .. }))
        ));
        assert!(matches!(
            batch_norm(x.clone(), None, None, None, &BatchNormOptions::new(false)),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "running",
                ..
            }))
        ));
        let w = tensor(&[1.0, 1.0], [2], &device);
        assert!(matches!(
            batch_norm(x.clone(), Some(w), None, None, &BatchNormOptions::new(true)),
            Err(Error::ShapeMismatch { arg: "weight", .. })
        ));
        assert!(matches!(
            layer_norm(x.clone(), [4], None, None, 1e-5),
            Err(Error::ShapeMismatch {
                op: "layer_norm",
                ..
            })
        ));
        assert!(matches!(
            layer_norm(x, [1, 1, 3], None, None, 1e-5),
            Err(Error::RankMismatch {
                op: "layer_norm",
                ..
            })
        ));
    }
}
