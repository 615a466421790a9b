//! Parameter initializers with PyTorch's formulas (`torch.nn.init`), seeded and drawn on the
//! host so that a seed gives the same values on every backend.

use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};

/// Which fan Kaiming initialization preserves the variance of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum FanMode {
    /// Preserve the variance of activations in the forward pass (PyTorch's default).
    #[default]
    FanIn,
    /// Preserve the variance of gradients in the backward pass.
    FanOut,
}

/// The nonlinearity that follows a layer, which sets the recommended gain.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Nonlinearity {
    /// Identity, convolution, sigmoid: gain 1.
    Linear,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU: gain √(2 / (1 + slope²)) (PyTorch's Kaiming default uses slope 0 → √2).
    LeakyRelu {
        /// Slope for negative inputs.
        negative_slope: f64,
    },
    /// SELU: gain 3/4.
    Selu,
    /// Kaiming's default in PyTorch (`a = 0`, `leaky_relu`): gain √2.
    #[default]
    Default,
}

impl Nonlinearity {
    /// The gain of `torch.nn.init.calculate_gain`.
    pub fn gain(self) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu | Nonlinearity::Default => std::f64::consts::SQRT_2,
            Nonlinearity::LeakyRelu { negative_slope } => {
                (2.0 / (1.0 + negative_slope * negative_slope)).sqrt()
            }
            Nonlinearity::Selu => 0.75,
        }
    }
}

/// `(fan_in, fan_out)` of a weight shaped `[out, in, k…]` (PyTorch's layout):
/// `fan_in = in · Πk`, `fan_out = out · Πk`.
///
/// # Errors
/// `RankMismatch` for fewer than 2 dimensions; `EmptyInput` for a zero dimension.
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        return Err(Error::RankMismatch {
            op: "init",
            arg: "shape",
            expected: ">= 2 (fans need [out, in, ...])".to_string(),
            got: shape.len(),
            shape: shape.to_vec(),
        });
    }
    check::non_empty("init", "shape", shape)?;
    let receptive: usize = shape[2..].iter().product();
    Ok((shape[1] * receptive, shape[0] * receptive))
}

/// A rule for a parameter's initial values (`torch.nn.init`'s functions, by name).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Initializer {
    /// All zeros.
    Zeros,
    /// All `value`.
    Constant {
        /// The value.
        value: f64,
    },
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound (> low).
        high: f64,
    },
    /// `N(mean, std²)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (>= 0).
        std: f64,
    },
    /// Glorot: `U(-a, a)`, `a = gain √(6 / (fan_in + fan_out))`.
    XavierUniform {
        /// Gain (1 for linear/sigmoid layers).
        gain: f64,
    },
    /// Glorot: `N(0, σ²)`, `σ = gain √(2 / (fan_in + fan_out))`.
    XavierNormal {
        /// Gain.
        gain: f64,
    },
    /// He: `U(-b, b)`, `b = gain √(3 / fan)`.
    KaimingUniform {
        /// Fan to preserve.
        mode: FanMode,
        /// The following nonlinearity (sets the gain).
        nonlinearity: Nonlinearity,
    },
    /// He: `N(0, σ²)`, `σ = gain / √fan`.
    KaimingNormal {
        /// Fan to preserve.
        mode: FanMode,
        /// The following nonlinearity (sets the gain).
        nonlinearity: Nonlinearity,
    },
    /// A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one (sign-fixed so
    /// the distribution is uniform), scaled by `gain`; higher ranks are flattened to
    /// `[shape[0], rest]`.
    Orthogonal {
        /// Gain.
        gain: f64,
    },
}

impl Initializer {
    /// Draws the values for `shape` (row-major) from a `StdRng` seeded with `seed`.
    ///
    /// # Errors
    /// `InvalidArgument` for non-finite or out-of-domain parameters (`low >= high`,
    /// `std < 0`); `RankMismatch`/`EmptyInput` where fans or a matrix are needed.
    pub fn sample(&self, shape: &[usize], seed: u64) -> Result<Vec<f64>> {
        const OP: &str = "init";
        let count: usize = shape.iter().product();
        let mut rng = StdRng::seed_from_u64(seed);
        let uniform = |rng: &mut StdRng, bound: f64| -> Vec<f64> {
            (0..count)
                .map(|_| (2.0 * rng.random::<f64>() - 1.0) * bound)
                .collect()
        };
        let normal = |rng: &mut StdRng, mean: f64, std: f64| -> Vec<f64> {
            (0..count)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(rng);
                    mean + std * z
                })
                .collect()
        };
        match *self {
            Initializer::Zeros => Ok(vec![0.0; count]),
            Initializer::Constant { value } => {
                check::finite(OP, "value", value)?;
                Ok(vec![value; count])
            }
            Initializer::Uniform { low, high } => {
                check::finite(OP, "low", low)?;
                if !(high.is_finite() && high > low) {
                    return Err(check::invalid(
                        OP,
                        "high",
                        &format!("finite and > low = {low}"),
                        high,
                    ));
                }
                Ok((0..count)
                    .map(|_| low + (high - low) * rng.random::<f64>())
                    .collect())
            }
            Initializer::Normal { mean, std } => {
                check::finite(OP, "mean", mean)?;
                if !(std.is_finite() && std >= 0.0) {
                    return Err(check::invalid(OP, "std", "finite and >= 0", std));
                }
                Ok(normal(&mut rng, mean, std))
            }
            Initializer::XavierUniform { gain } | Initializer::XavierNormal { gain } => {
                check::finite(OP, "gain", gain)?;
                let (fan_in, fan_out) = fans(shape)?;
                let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
                Ok(match self {
                    Initializer::XavierUniform { .. } => uniform(&mut rng, 3f64.sqrt() * std),
                    _ => normal(&mut rng, 0.0, std),
                })
            }
            Initializer::KaimingUniform { mode, nonlinearity }
            | Initializer::KaimingNormal { mode, nonlinearity } => {
                let gain = nonlinearity.gain();
                check::finite(OP, "nonlinearity gain", gain)?;
                let (fan_in, fan_out) = fans(shape)?;
                let fan = match mode {
                    FanMode::FanIn => fan_in,
                    FanMode::FanOut => fan_out,
                };
                let std = gain / (fan as f64).sqrt();
                Ok(match self {
                    Initializer::KaimingUniform { .. } => uniform(&mut rng, 3f64.sqrt() * std),
                    _ => normal(&mut rng, 0.0, std),
                })
            }
            Initializer::Orthogonal { gain } => {
                check::finite(OP, "gain", gain)?;
                fans(shape)?;
                let rows = shape[0];
                let cols = count / rows;
                let gaussian = normal(&mut rng, 0.0, 1.0);
                Ok(orthogonal(&gaussian, rows, cols, gain))
            }
        }
    }

    /// Creates a tensor of `shape` with this rule, on `device` in `dtype`.
    ///
    /// # Errors
    /// As [`Initializer::sample`].
    ///
    /// ```
    /// # use burn::tensor::{DType, Device};
    /// # use cortex_ops::{FanMode, Initializer, Nonlinearity};
    /// let rule = Initializer::KaimingUniform { mode: FanMode::FanIn, nonlinearity: Nonlinearity::Relu };
    /// let w = rule.init([64, 784], &Device::flex(), DType::F32, 42).unwrap();
    /// assert_eq!(w.dims(), [64, 784]);
    /// ```
    pub fn init<const D: usize>(
        &self,
        shape: [usize; D],
        device: &Device,
        dtype: DType,
        seed: u64,
    ) -> Result<Tensor<D>> {
        let values = self.sample(&shape, seed)?;
        Ok(Tensor::from_data(
            TensorData::new(values, shape),
            (device, dtype),
        ))
    }
}

/// Orthogonalizes a row-major `rows × cols` Gaussian matrix: QR (modified Gram–Schmidt on the
/// taller orientation, whose `R` has a positive diagonal, i.e. PyTorch's sign fix), times `gain`.
fn orthogonal(gaussian: &[f64], rows: usize, cols: usize, gain: f64) -> Vec<f64> {
    // Work on the tall orientation: `m × n`, m >= n, stored as n column vectors of length m.
    let transposed = rows < cols;
    let (m, n) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let at = |i: usize, j: usize| {
        if transposed {
            gaussian[j * cols + i]
        } else {
            gaussian[i * cols + j]
        }
    };
    let mut columns: Vec<Vec<f64>> = (0..n).map(|j| (0..m).map(|i| at(i, j)).collect()).collect();
    for j in 0..n {
        for k in 0..j {
            let (done, rest) = columns.split_at_mut(j);
            let dot: f64 = done[k].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
            for (v, q) in rest[0].iter_mut().zip(&done[k]) {
                *v -= dot * q;
            }
        }
        let norm = columns[j].iter().map(|v| v * v).sum::<f64>().sqrt();
        columns[j].iter_mut().for_each(|v| *v /= norm);
    }
    let mut out = vec![0.0; rows * cols];
    for (j, column) in columns.iter().enumerate() {
        for (i, &q) in column.iter().enumerate() {
            let (r, c) = if transposed { (j, i) } else { (i, j) };
            out[r * cols + c] = gain * q;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InvalidValue;
    use cortex_core::Backend;

    fn mean_std(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn fans_follow_pytorch() {
        assert_eq!(fans(&[64, 3, 5, 5]).unwrap(), (75, 1600));
        assert_eq!(fans(&[10, 784]).unwrap(), (784, 10));
        assert!(matches!(fans(&[5]), Err(Error::RankMismatch { .. })));
        assert!((Nonlinearity::Tanh.gain() - 5.0 / 3.0).abs() < 1e-15);
        let leaky = Nonlinearity::LeakyRelu {
            negative_slope: 0.2,
        }
        .gain();
        assert!((leaky - (2.0f64 / 1.04).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn bounds_and_spreads_match_the_formulas() {
        let shape = [256, 512];
        let xavier = Initializer::XavierUniform { gain: 1.0 }
            .sample(&shape, 1)
            .unwrap();
        let bound = (6.0f64 / 768.0).sqrt();
        assert!(xavier.iter().all(|v| v.abs() <= bound));
        let (_, std) = mean_std(&xavier);
        assert!((std / (bound / 3f64.sqrt()) - 1.0).abs() < 0.02, "{std}");

        let kaiming = Initializer::KaimingNormal {
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::Relu,
        };
        let (mean, std) = mean_std(&kaiming.sample(&shape, 2).unwrap());
        let expected = (2.0f64 / 512.0).sqrt();
        assert!(mean.abs() < 0.01 * expected * 10.0);
        assert!((std / expected - 1.0).abs() < 0.02, "{std} vs {expected}");

        let normal = Initializer::Normal {
            mean: 3.0,
            std: 0.5,
        }
        .sample(&[10_000], 3)
        .unwrap();
        let (mean, std) = mean_std(&normal);
        assert!((mean - 3.0).abs() < 0.02 && (std - 0.5).abs() < 0.02);
    }

    #[test]
    fn orthogonal_rows_are_orthonormal() {
        for (rows, cols) in [(4, 9), (9, 4), (5, 5)] {
            let q = Initializer::Orthogonal { gain: 1.0 }
                .sample(&[rows, cols], 7)
                .unwrap();
            // The smaller side is orthonormal: Q Qᵀ = I (rows <= cols) or Qᵀ Q = I.
            let (outer, inner, stride_a, stride_b) = if rows <= cols {
                (rows, cols, cols, 1)
            } else {
                (cols, rows, 1, cols)
            };
            for i in 0..outer {
                for j in 0..outer {
                    let dot: f64 = (0..inner)
                        .map(|k| q[i * stride_a + k * stride_b] * q[j * stride_a + k * stride_b])
                        .sum();
                    let expected = if i == j { 1.0 } else { 0.0 };
                    assert!(
                        (dot - expected).abs() < 1e-12,
                        "{rows}x{cols} [{i},{j}] {dot}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_seed_gives_the_same_tensor_on_every_backend() {
        let rule = Initializer::KaimingUniform {
            mode: FanMode::FanOut,
            nonlinearity: Nonlinearity::Default,
        };
        let host = rule.sample(&[3, 4], 11).unwrap();
        for backend in Backend::ALL {
            let t = rule
                .init([3, 4], &backend.device(), DType::F64, 11)
                .unwrap();
            let got: Vec<f64> = t.to_data().iter::<f64>().collect();
            assert_eq!(got, host);
        }
        assert_ne!(rule.sample(&[3, 4], 12).unwrap(), host);
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(matches!(
            Initializer::Uniform {
                low: 1.0,
                high: 1.0
            }
            .sample(&[2], 0),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "high",
                ..
            }))
        ));
        assert!(matches!(
            Initializer::Normal {
                mean: 0.0,
                std: -1.0
            }
            .sample(&[2], 0),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "std",
                ..
            }))
        ));
        assert!(matches!(
            Initializer::XavierNormal { gain: 1.0 }.sample(&[0, 3], 0),
            Err(Error::EmptyInput { .. })
        ));
    }
}
