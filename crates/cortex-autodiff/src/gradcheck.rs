//! `GradCheck`: autodiff gradients against central finite differences, in f64, with
//! PyTorch's defaults (`torch.autograd.gradcheck`: eps 1e-6, atol 1e-5, rtol 1e-3) — or, on
//! a device without f64 (wgpu), in f32 with wider steps and tolerances ([`GradCheck::f32`]).
//!
//! The checked scalar is `vᵀ f(x)` for a random upstream `v` (a vector–Jacobian product),
//! not `sum(f(x))`, so a wrong gradient cannot hide behind a symmetric upstream. An element
//! passes when `|analytic - numeric| <= atol + rtol · |numeric|`.

use std::fmt;

use burn::tensor::{Device, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use cortex_core::Precision;

use crate::args::{Args, Flatten, Input};
use crate::error::{Error, InvalidValue, Result};

/// Options of a gradient check; `default()` is PyTorch's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradCheck {
    /// Finite-difference step (central differences: `(f(x+eps) - f(x-eps)) / 2eps`).
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numeric value).
    pub rtol: f64,
    /// Seed of the random upstream gradient and of the fast-mode directions.
    pub seed: u64,
    /// Fast mode: compare `vᵀ J u` for a random unit `u` per input (one backward, two
    /// forwards per input) instead of the full Jacobian (two forwards per element).
    pub fast: bool,
    /// Precision of the inputs, the forward passes and the gradients: f64 (the default) where
    /// the device has it, f32 on devices without f64 (see [`GradCheck::f32`]).
    pub precision: Precision,
}

impl Default for GradCheck {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            seed: 0,
            fast: false,
            precision: Precision::F64,
        }
    }
}

/// The worst element of one input's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementReport {
    /// Multi-dimensional index of the element (empty in fast mode: a direction, not an element).
    pub index: Vec<usize>,
    /// The autodiff value.
    pub analytic: f64,
    /// The finite-difference value.
    pub numeric: f64,
    /// `|analytic - numeric|`.
    pub abs_err: f64,
    /// `abs_err / max(|numeric|, atol)`.
    pub rel_err: f64,
}

/// The check of one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    /// The input's name.
    pub name: String,
    /// The input's shape.
    pub shape: Vec<usize>,
    /// The element furthest past (or closest to) its tolerance.
    pub worst: ElementReport,
    /// Largest absolute error over the input.
    pub max_abs_err: f64,
    /// Largest relative error over the input.
    pub max_rel_err: f64,
    /// Every element within tolerance.
    pub passed: bool,
}

/// The result of a gradient check: one report per input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradCheckReport {
    /// Per-input reports, in input order.
    pub inputs: Vec<InputReport>,
    /// Whether fast mode was used.
    pub fast: bool,
}

impl GradCheckReport {
    /// Every input passed.
    pub fn passed(&self) -> bool {
        self.inputs.iter().all(|i| i.passed)
    }

    /// Largest absolute error over all inputs.
    pub fn max_abs_err(&self) -> f64 {
        self.inputs
            .iter()
            .map(|i| i.max_abs_err)
            .fold(0.0, f64::max)
    }

    /// Largest relative error over all inputs.
    pub fn max_rel_err(&self) -> f64 {
        self.inputs
            .iter()
            .map(|i| i.max_rel_err)
            .fold(0.0, f64::max)
    }

    /// The report when it passed, else `Error::Mismatch` describing the failing inputs.
    pub fn into_result(self) -> Result<Self> {
        if self.passed() {
            Ok(self)
        } else {
            Err(Error::Mismatch(Box::new(self)))
        }
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, input) in self.inputs.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let w = &input.worst;
            write!(
                f,
                "{} {:?}: {} (worst at {:?}: analytic {:.6e}, numeric {:.6e}, abs {:.2e}, rel {:.2e})",
                input.name,
                input.shape,
                if input.passed { "ok" } else { "MISMATCH" },
                w.index,
                w.analytic,
                w.numeric,
                w.abs_err,
                w.rel_err
            )?;
        }
        Ok(())
    }
}

/// The value of a one-element tensor of any float dtype, as f64.
fn scalar(tensor: Tensor<1>) -> f64 {
    tensor
        .into_data()
        .convert::<f64>()
        .iter::<f64>()
        .next()
        .unwrap_or(f64::NAN)
}

pub(crate) fn normal_vector(rng: &mut StdRng, len: usize) -> Vec<f64> {
    (0..len).map(|_| StandardNormal.sample(rng)).collect()
}

fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &size) in index.iter_mut().zip(shape).rev() {
        *slot = flat % size.max(1);
        flat /= size.max(1);
    }
    index
}

impl GradCheck {
    /// PyTorch's defaults with fast mode switched on.
    pub fn fast() -> Self {
        Self {
            fast: true,
            ..Self::default()
        }
    }

    /// A check in f32, for devices without f64 (burn's wgpu): step 1e-2, atol and rtol 1e-2.
    ///
    /// Central differences in f32 lose `ε_f32 · |f| / eps` ≈ 1e-5 · |f| / eps to rounding and
    /// gain `eps² · |f'''| / 6` of truncation error; eps = 1e-2 balances the two for inputs of
    /// order one (errors ~1e-3), and the tolerances leave a margin of ten. It catches a wrong
    /// gradient (a missing term, a wrong sign, a transposed weight), not an error of 1e-4.
    pub fn f32() -> Self {
        Self {
            eps: 1e-2,
            atol: 1e-2,
            rtol: 1e-2,
            precision: Precision::F32,
            ..Self::default()
        }
    }

    fn validate(&self, inputs: &[Input]) -> Result<()> {
        let bad = |option, expected: &str, got: f64| {
            Error::InvalidOption(InvalidValue::new("gradcheck", option, expected, got))
        };
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(bad("eps", "finite and > 0", self.eps));
        }
        if !(self.atol.is_finite() && self.atol >= 0.0) {
            return Err(bad("atol", "finite and >= 0", self.atol));
        }
        if !(self.rtol.is_finite() && self.rtol >= 0.0) {
            return Err(bad("rtol", "finite and >= 0", self.rtol));
        }
        if let Some(input) = inputs
            .iter()
            .find(|i| i.values.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::NonFinite {
                what: format!("input `{}`", input.name),
            });
        }
        Ok(())
    }

    /// Checks the gradient of `f` with respect to every input.
    ///
    /// `f` receives the inputs as [`Args`] (`args.get::<D>(i)`) and returns a tensor of any
    /// rank; the analytic gradient comes from burn-autodiff on `device` (made an autodiff
    /// device if it is not one), the numeric one from forward passes without autodiff.
    ///
    /// # Errors
    /// `InvalidOption` for bad tolerances, `NonFinite` for non-finite inputs or outputs, and
    /// whatever `f` returns. A gradient mismatch is *not* an error: read
    /// [`GradCheckReport::passed`] (or call [`GradCheckReport::into_result`]).
    ///
    /// ```
    /// use burn::tensor::Device;
    /// use cortex_autodiff::{GradCheck, Input};
    ///
    /// let x = Input::new("x", &[3], vec![0.3, -1.2, 2.0]).unwrap();
    /// let report = GradCheck::default()
    ///     .check(&Device::flex(), &[x], |args| Ok(cortex_ops::tanh(args.get::<1>(0)?)))
    ///     .unwrap();
    /// assert!(report.passed(), "{report}");
    /// ```
    pub fn check<F, O>(&self, device: &Device, inputs: &[Input], f: F) -> Result<GradCheckReport>
    where
        F: Fn(&Args) -> Result<O>,
        O: Flatten,
    {
        self.validate(inputs)?;
        let autodiff = if device.is_autodiff() {
            device.clone()
        } else {
            device.clone().autodiff()
        };
        let plain = autodiff.clone().without_autodiff();
        let shapes: Vec<Vec<usize>> = inputs.iter().map(|i| i.shape.clone()).collect();

        let dtype = self.precision.dtype();
        let leaves = Args::leaves(inputs, &autodiff, dtype);
        let out = f(&Args::new(leaves.clone(), shapes))?.flatten_output();
        let mut rng = StdRng::seed_from_u64(self.seed);
        let upstream = normal_vector(&mut rng, out.dims()[0]);
        let up = |device: &Device| {
            Tensor::<1>::from_data(
                TensorData::new(upstream.clone(), [upstream.len()]),
                (device, dtype),
            )
        };
        let objective = out.mul(up(&autodiff)).sum();
        let value = scalar(objective.clone());
        if !value.is_finite() {
            return Err(Error::NonFinite {
                what: "vᵀ f(x)".to_string(),
            });
        }
        let grads = objective.backward();
        let analytic: Vec<Vec<f64>> = leaves
            .iter()
            .zip(inputs)
            .map(|(leaf, input)| match leaf.grad(&grads) {
                Some(g) => g.to_data().convert::<f64>().iter::<f64>().collect(),
                None => vec![0.0; input.len()],
            })
            .collect();

        let plain_up = up(&plain);
        let evaluate = |values: &[&[f64]]| -> Result<f64> {
            let args = Args::from_values(inputs, values, &plain, dtype);
            let out = f(&args)?.flatten_output();
            let v = scalar(out.mul(plain_up.clone()).sum());
            if v.is_finite() {
                Ok(v)
            } else {
                Err(Error::NonFinite {
                    what: "vᵀ f(x ± eps)".to_string(),
                })
            }
        };
        let base: Vec<&[f64]> = inputs.iter().map(|i| i.values.as_slice()).collect();

        let mut reports = Vec::with_capacity(inputs.len());
        for (k, input) in inputs.iter().enumerate() {
            let mut pairs: Vec<(Vec<usize>, f64, f64)> = Vec::new();
            if self.fast {
                let mut direction = normal_vector(&mut rng, input.len());
                let norm = direction
                    .iter()
                    .map(|d| d * d)
                    .sum::<f64>()
                    .sqrt()
                    .max(1e-300);
                direction.iter_mut().for_each(|d| *d /= norm);
                let shifted = |sign: f64| -> Vec<f64> {
                    input
                        .values
                        .iter()
                        .zip(&direction)
                        .map(|(x, d)| x + sign * self.eps * d)
                        .collect()
                };
                let (plus, minus) = (shifted(1.0), shifted(-1.0));
                let mut values = base.clone();
                values[k] = &plus;
                let f_plus = evaluate(&values)?;
                values[k] = &minus;
                let f_minus = evaluate(&values)?;
                let numeric = (f_plus - f_minus) / (2.0 * self.eps);
                let analytic_dir: f64 =
                    analytic[k].iter().zip(&direction).map(|(g, d)| g * d).sum();
                pairs.push((Vec::new(), analytic_dir, numeric));
            } else {
                let mut work = input.values.clone();
                for j in 0..input.len() {
                    let original = work[j];
                    work[j] = original + self.eps;
                    let mut values = base.clone();
                    values[k] = &work;
                    let f_plus = evaluate(&values)?;
                    work[j] = original - self.eps;
                    let mut values = base.clone();
                    values[k] = &work;
                    let f_minus = evaluate(&values)?;
                    work[j] = original;
                    let numeric = (f_plus - f_minus) / (2.0 * self.eps);
                    pairs.push((unravel(j, &input.shape), analytic[k][j], numeric));
                }
            }
            reports.push(self.summarize(input, pairs));
        }
        Ok(GradCheckReport {
            inputs: reports,
            fast: self.fast,
        })
    }

    fn summarize(&self, input: &Input, pairs: Vec<(Vec<usize>, f64, f64)>) -> InputReport {
        let mut worst: Option<(f64, ElementReport)> = None;
        let (mut max_abs, mut max_rel, mut passed) = (0.0f64, 0.0f64, true);
        for (index, analytic, numeric) in pairs {
            let abs_err = (analytic - numeric).abs();
            let rel_err = abs_err / numeric.abs().max(self.atol).max(f64::MIN_POSITIVE);
            let allowed = self.atol + self.rtol * numeric.abs();
            // NaN analytic values fail: the comparison below is false for NaN.
            let ok = abs_err <= allowed;
            passed &= ok;
            max_abs = max_abs.max(abs_err);
            max_rel = max_rel.max(rel_err);
            // How far past (or short of) its tolerance the element is; NaN counts as worst.
            let ratio = if abs_err.is_nan() {
                f64::INFINITY
            } else {
                abs_err / allowed.max(f64::MIN_POSITIVE)
            };
            if worst.as_ref().is_none_or(|(r, _)| ratio > *r) {
                worst = Some((
                    ratio,
                    ElementReport {
                        index,
                        analytic,
                        numeric,
                        abs_err,
                        rel_err,
                    },
                ));
            }
        }
        let worst = worst.map(|(_, w)| w).unwrap_or(ElementReport {
            index: Vec::new(),
            analytic: 0.0,
            numeric: 0.0,
            abs_err: 0.0,
            rel_err: 0.0,
        });
        InputReport {
            name: input.name.clone(),
            shape: input.shape.clone(),
            worst,
            max_abs_err: if max_abs.is_nan() {
                f64::INFINITY
            } else {
                max_abs
            },
            max_rel_err: max_rel,
            passed,
        }
    }
}
