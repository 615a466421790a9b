//! Integer class targets prepared for a classification loss: which rows count, their weights
//! and the mean's divisor — checked on the host, or kept on the device where reading them
//! back would cost a synchronisation per step.

use burn::tensor::{Bool, DType, Int, Tensor, TensorData};

use crate::check;
use crate::error::InvalidValue;
use crate::error::{Error, Result};
use crate::loss::Reduction;
use cortex_core::is_host_device;

/// How a classification loss checks its integer targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TargetCheck {
    /// Read the targets to the host and fail with `IndexOutOfRange` for a target outside
    /// `[0, C)` (and `InvalidArgument` for bad class weights) before computing anything: the
    /// exact error at the call, for one host read per call (a device synchronisation off the
    /// CPU backends).
    #[default]
    Eager,
    /// Never read the targets (or class weights) for checking: a target outside `[0, C)` that
    /// is not the ignore index counts nowhere — like an ignored one — and the caller reports
    /// it. Cortex's trainer does, from the device-side metrics it reads once in a while
    /// (`cortex_train::Error::TargetOutOfRange`). Class weights are used as given. On the CPU
    /// backends, where a host read costs no synchronisation, the same values are computed on
    /// the host.
    Deferred,
}

/// Per-row weights and the mean's divisor `Σ_i w[t_i]`: host values (uploaded only when a
/// loss asks for them — the fused CPU kernel never does), or device tensors when the targets
/// stay on the device. (One per loss call: the variants' sizes do not matter.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Weights {
    Host {
        sample: Vec<f64>,
        kept: Vec<f64>,
        total: f64,
        dtype: DType,
    },
    Device {
        sample: Tensor<1>,
        kept: Tensor<1>,
        total: Tensor<1>,
    },
}

/// Integer class targets checked against `[N, C]` scores, with what every classification loss
/// needs from them, on the scores' device: a gather index, per-sample weights `w[t_i]` (0 for
/// rows that count nowhere) and the mean's divisor.
#[derive(Debug, Clone)]
pub struct ClassTargets {
    gather: Tensor<1, Int>,
    weights: Weights,
}

impl ClassTargets {
    /// Validates `targets` against `[N, C]` scores (their shape, precision and device),
    /// checking values as `check` says.
    ///
    /// # Errors
    /// `EmptyInput` for no samples or classes; `ShapeMismatch` when `targets` is not `[N]` or
    /// `class_weights` not `[C]`; `DTypeMismatch` for class weights of another precision than
    /// the scores; `DeviceMismatch` for targets or class weights on another device. Eager only:
    /// `IndexOutOfRange` for a target outside `[0, C)` that is not the ignore index;
    /// `InvalidArgument` for a negative or non-finite class weight, or (for a mean) weights
    /// that sum to 0.
    pub fn new(
        op: &'static str,
        scores: &Tensor<2>,
        targets: &Tensor<1, Int>,
        class_weights: Option<&Tensor<1>>,
        ignore_index: Option<i64>,
        reduction: Reduction,
        check: TargetCheck,
    ) -> Result<Self> {
        let dims = scores.dims();
        let [n, classes] = dims;
        let (dtype, device) = (scores.dtype(), scores.device());
        check::non_empty(op, "input", &dims)?;
        check::same_shape(op, "targets", &[n], &targets.dims())?;
        check::same_device(op, "targets", &device, &targets.device())?;
        check::channel_vector(op, "class_weights", class_weights, classes, scores)?;
        match check {
            TargetCheck::Eager => {
                let indices =
                    check::indices_in_range(op, "targets", targets, classes, ignore_index)?;
                let weights = host_class_weights(class_weights, classes);
                if let Some(bad) = weights.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                    return Err(check::invalid(op, "class_weights", "finite and >= 0", bad));
                }
                let checked = Self::from_host(
                    targets,
                    &indices,
                    &weights,
                    |t| Some(t) != ignore_index,
                    dtype,
                );
                if reduction == Reduction::Mean
                    && matches!(checked.weights, Weights::Host { total, .. } if total <= 0.0)
                {
                    return Err(Error::InvalidArgument(InvalidValue::new(
                        op,
                        "targets",
                        "at least one sample with a non-zero class weight that is not ignored",
                        format!("{n} samples whose weights sum to 0"),
                    )));
                }
                Ok(checked)
            }
            TargetCheck::Deferred if is_host_device(&device) => {
                let indices: Vec<i64> = targets.to_data().iter::<i64>().collect();
                let weights = host_class_weights(class_weights, classes);
                Ok(Self::from_host(
                    targets,
                    &indices,
                    &weights,
                    |t| Some(t) != ignore_index && (0..classes as i64).contains(&t),
                    dtype,
                ))
            }
            TargetCheck::Deferred => Ok(Self::on_device(
                targets,
                classes,
                class_weights,
                ignore_index,
                dtype,
            )),
        }
    }

    /// Builds the tensors from targets read to the host; `counts(t)` says whether a row with
    /// target `t` counts.
    fn from_host(
        targets: &Tensor<1, Int>,
        indices: &[i64],
        class_weights: &[f64],
        counts: impl Fn(i64) -> bool,
        dtype: DType,
    ) -> Self {
        let device = targets.device();
        let n = indices.len();
        let kept: Vec<f64> = indices
            .iter()
            .map(|&t| if counts(t) { 1.0 } else { 0.0 })
            .collect();
        let every_row_counts = kept.iter().all(|&k| k == 1.0);
        let gather = if every_row_counts {
            targets.clone()
        } else {
            let index: Vec<i64> = indices
                .iter()
                .map(|&t| if counts(t) { t } else { 0 })
                .collect();
            Tensor::<1, Int>::from_data(TensorData::new(index, [n]), &device)
        };
        let weights: Vec<f64> = indices
            .iter()
            .zip(&kept)
            .map(|(&t, &k)| {
                if k == 1.0 {
                    class_weights[t as usize]
                } else {
                    0.0
                }
            })
            .collect();
        let total = weights.iter().sum();
        Self {
            gather,
            weights: Weights::Host {
                sample: weights,
                kept,
                total,
                dtype,
            },
        }
    }

    /// Builds the tensors with device operations only (no read to the host).
    fn on_device(
        targets: &Tensor<1, Int>,
        classes: usize,
        class_weights: Option<&Tensor<1>>,
        ignore_index: Option<i64>,
        dtype: DType,
    ) -> Self {
        let t = targets.clone();
        let mut counts: Tensor<1, Bool> = t
            .clone()
            .greater_equal_elem(0)
            .bool_and(t.clone().lower_elem(classes as i64));
        if let Some(ignore) = ignore_index {
            counts = counts.bool_and(t.clone().not_equal_elem(ignore));
        }
        let gather = t.mask_fill(counts.clone().bool_not(), 0);
        let kept = counts.float().cast(dtype);
        let sample_weights = match class_weights {
            Some(w) => w
                .clone()
                .detach()
                .gather(0, gather.clone())
                .mul(kept.clone()),
            None => kept.clone(),
        };
        let total = sample_weights.clone().sum();
        Self {
            gather,
            weights: Weights::Device {
                sample: sample_weights,
                kept,
                total,
            },
        }
    }

    /// `[N]`: the target, or 0 for a row that counts nowhere (safe to gather with).
    pub fn gather(&self) -> Tensor<1, Int> {
        self.gather.clone()
    }

    /// `[N]`: `w[t_i]` (1 without class weights); 0 for rows that count nowhere.
    pub fn sample_weights(&self) -> Tensor<1> {
        match &self.weights {
            Weights::Host { sample, dtype, .. } => self.upload(sample, *dtype),
            Weights::Device { sample, .. } => sample.clone(),
        }
    }

    /// `[N]`: 1 for rows that count, 0 for ignored (and, deferred, out-of-range) ones.
    pub fn kept(&self) -> Tensor<1> {
        match &self.weights {
            Weights::Host { kept, dtype, .. } => self.upload(kept, *dtype),
            Weights::Device { kept, .. } => kept.clone(),
        }
    }

    /// Host values as a tensor on the targets' device.
    fn upload(&self, values: &[f64], dtype: DType) -> Tensor<1> {
        let data = TensorData::new(values.to_vec(), [values.len()]);
        Tensor::from_data(data, (&self.gather.device(), dtype))
    }

    /// Whether every row is known (on the host) to count: no ignored and no out-of-range
    /// target. False when the targets stayed on the device.
    pub fn every_row_counts(&self) -> bool {
        match &self.weights {
            Weights::Host { kept, .. } => kept.iter().all(|&k| k == 1.0),
            Weights::Device { .. } => false,
        }
    }

    /// PyTorch's reduction of per-sample class losses `[N]`: the mean divides by
    /// `Σ_i w[t_i]` over the rows that count, not by `N` (NaN or ±inf when that sum is 0 and
    /// the check was deferred).
    pub fn reduce(&self, per_sample: Tensor<1>, reduction: Reduction) -> Tensor<1> {
        match (reduction, &self.weights) {
            (Reduction::None, _) => per_sample,
            (Reduction::Sum, _) => per_sample.sum(),
            // `mul_scalar(1/w)`, not `div_scalar(w)`: burn-autodiff's div_scalar backward
            // rounds the divisor to f32 (a 2e-9 relative error in f64 gradients, caught by the
            // oracle).
            (Reduction::Mean, Weights::Host { total, .. }) => {
                per_sample.sum().mul_scalar(1.0 / total)
            }
            (Reduction::Mean, Weights::Device { total, .. }) => per_sample.sum().div(total.clone()),
        }
    }
}

/// The class weights read to the host (all 1 without weights).
fn host_class_weights(class_weights: Option<&Tensor<1>>, classes: usize) -> Vec<f64> {
    match class_weights {
        Some(w) => w.to_data().iter::<f64>().collect(),
        None => vec![1.0; classes],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::{CrossEntropyOptions, cross_entropy};
    use crate::testing::{assert_close, devices, ints, tensor, values};

    /// The device-only preparation against the host one, on rows that count, are ignored and
    /// are out of range (the CPU backends take the host route, so it is called directly).
    #[test]
    fn the_device_preparation_equals_the_host_one() {
        for device in devices() {
            let targets = ints(&[2, -100, 5, 0, -1, 1], [6], &device);
            let weights = tensor(&[0.5, 2.0, 3.0], [3], &device);
            for class_weights in [None, Some(&weights)] {
                for ignore in [None, Some(-100)] {
                    let on_device =
                        ClassTargets::on_device(&targets, 3, class_weights, ignore, DType::F64);
                    let indices: Vec<i64> = targets.to_data().iter::<i64>().collect();
                    let host = ClassTargets::from_host(
                        &targets,
                        &indices,
                        &host_class_weights(class_weights, 3),
                        |t| Some(t) != ignore && (0..3).contains(&t),
                        DType::F64,
                    );
                    let gathered = |c: &ClassTargets| -> Vec<i64> {
                        c.gather().to_data().iter::<i64>().collect()
                    };
                    assert_eq!(gathered(&on_device), vec![2, 0, 0, 0, 0, 1]);
                    assert_eq!(gathered(&host), gathered(&on_device));
                    assert_close(
                        &values(&on_device.kept()),
                        &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
                        0.0,
                    );
                    assert_close(&values(&host.kept()), &values(&on_device.kept()), 0.0);
                    let expected_weights = match class_weights {
                        Some(_) => vec![3.0, 0.0, 0.0, 0.5, 0.0, 2.0],
                        None => vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0],
                    };
                    assert_close(&values(&on_device.sample_weights()), &expected_weights, 0.0);
                    assert_close(&values(&host.sample_weights()), &expected_weights, 0.0);
                    let losses = tensor(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [6], &device)
                        .mul(on_device.sample_weights());
                    let total: f64 = expected_weights.iter().sum();
                    let mean = (expected_weights[0]
                        + 4.0 * expected_weights[3]
                        + 6.0 * expected_weights[5])
                        / total;
                    for prepared in [&on_device, &host] {
                        let got = prepared.reduce(losses.clone(), Reduction::Mean);
                        assert_close(&values(&got), &[mean], 1e-12);
                    }
                    assert!(!on_device.every_row_counts() && !host.every_row_counts());
                }
            }
        }
    }

    /// Deferred targets: in range, the same loss and gradient as the eager check; out of
    /// range, the row counts nowhere (as if ignored) instead of failing.
    #[test]
    fn a_deferred_check_counts_out_of_range_rows_nowhere() {
        for device in devices() {
            let logits = tensor(
                &[0.3, -1.0, 2.0, 0.5, 0.5, 0.1, -2.0, 1.0, 0.0],
                [3, 3],
                &device,
            )
            .require_grad();
            let deferred = CrossEntropyOptions::new().with_target_check(TargetCheck::Deferred);
            let good = ints(&[2, 0, 1], [3], &device);
            let eager =
                cross_entropy(logits.clone(), good.clone(), &CrossEntropyOptions::new()).unwrap();
            let lazy = cross_entropy(logits.clone(), good, &deferred).unwrap();
            assert_close(&values(&lazy), &values(&eager), 0.0);
            let grad = |loss: Tensor<1>| values(&logits.grad(&loss.backward()).unwrap());
            assert_close(&grad(lazy), &grad(eager), 0.0);

            let bad = ints(&[2, 7, 1], [3], &device);
            assert!(matches!(
                cross_entropy(logits.clone(), bad.clone(), &CrossEntropyOptions::new()),
                Err(Error::IndexOutOfRange {
                    position: 1,
                    value: 7,
                    ..
                })
            ));
            let ignored = ints(&[2, -100, 1], [3], &device);
            let as_ignored = cross_entropy(
                logits.clone(),
                ignored,
                &CrossEntropyOptions::new().with_ignore_index(-100),
            )
            .unwrap();
            let lazy = cross_entropy(logits.clone(), bad, &deferred).unwrap();
            assert_close(&values(&lazy), &values(&as_ignored), 1e-15);
            // Every row out of range: the mean has nothing to divide by.
            let none_left = ints(&[3, 3, -4], [3], &device);
            let loss = cross_entropy(logits, none_left, &deferred).unwrap();
            assert!(values(&loss)[0].is_nan());
        }
    }
}
