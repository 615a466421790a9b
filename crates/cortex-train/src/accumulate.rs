//! Metrics accumulated on the device: every step adds its batch's figures with tensor
//! operations — no read back to the host — and the totals travel to the host in one transfer
//! when the progress display or the end of the pass asks for them ([`DeviceTotals::flush`]).
//! On a GPU this keeps the training loop free of a device synchronisation per step.
//!
//! Between two flushes the device sums are f32: counts stay exact below 2²⁴ samples per
//! flush, and each flush adds them into the host's f64/u64 [`Metrics`].

use burn::tensor::{Bool, DType, Int, Tensor, TensorData};

use crate::metrics::{ClassificationMetrics, Metrics, RegressionMetrics, default_top_k};
use crate::output::{Output, Prediction};

/// Marks "nothing yet" in the first-bad-step trackers (far above any step number).
const NO_STEP: f64 = 1e30;

/// The device sums since the last flush (one value per pass, so the variants' sizes do not
/// matter).
#[allow(clippy::large_enum_variant)]
enum Sums {
    Classes {
        classes: usize,
        /// `[loss · counted, top-k hits]` summed.
        scalars: Tensor<1>,
        /// `[target, predicted]` counts.
        confusion: Tensor<2>,
    },
    Values {
        /// `[loss · n, Σ(p - t)², Σ|p - t|, Σt, Σt²]`.
        scalars: Tensor<1>,
        /// Values counted (known on the host from the shapes).
        n: u64,
    },
}

/// A pass's metrics, kept on the device between flushes.
pub(crate) struct DeviceTotals {
    /// The configured `k` of the top-k accuracy (`None`: [`default_top_k`] of the classes).
    top_k: Option<usize>,
    sums: Option<Sums>,
    /// `[step of the first non-finite loss (or NO_STEP), that loss]`.
    first_bad: Option<Tensor<1>>,
    /// `[step of the first batch with a target outside the classes (or NO_STEP), the
    /// sample's position in that batch, the target]`.
    first_bad_target: Option<Tensor<1>>,
    /// The host's totals of earlier flushes.
    metrics: Option<Metrics>,
}

/// What a flush can find wrong in the batches since the pass began (the earliest of them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Fault {
    /// A non-finite loss: the (1-based) step and the value.
    NonFinite { step: usize, loss: f64 },
    /// A class target outside `0..classes`: the (1-based) step, the sample's position in
    /// its batch and the target.
    Target {
        step: usize,
        sample: usize,
        value: i64,
        classes: usize,
    },
}

impl Fault {
    /// The error this fault stops a pass with; `epoch` is `None` for an evaluation.
    pub(crate) fn into_error(self, epoch: Option<usize>) -> crate::Error {
        match self {
            Fault::NonFinite { step, loss } => crate::Error::NonFiniteLoss {
                epoch: epoch.unwrap_or(0),
                step,
                loss,
            },
            Fault::Target {
                step,
                sample,
                value,
                classes,
            } => crate::Error::TargetOutOfRange {
                epoch,
                step,
                sample,
                value,
                classes,
            },
        }
    }
}

/// Keeps in `tracker` (created as `[NO_STEP, 0, …]` of `candidate`'s length) the first
/// `candidate` whose `hit` is true, on the device.
fn keep_first(tracker: Option<Tensor<1>>, hit: Tensor<1, Bool>, candidate: Tensor<1>) -> Tensor<1> {
    let [len] = candidate.dims();
    let device = candidate.device();
    let first = tracker.unwrap_or_else(|| {
        let mut init = vec![0.0f32; len];
        init[0] = NO_STEP as f32;
        Tensor::<1>::from_data(TensorData::new(init, [len]), (&device, DType::F32))
    });
    let earlier = first.clone().narrow(0, 0, 1).lower_elem(NO_STEP);
    let new = hit.bool_and(earlier.bool_not()).expand([len]);
    first.mask_where(new, candidate)
}

/// `[B]` class ids as `[B, C]` one-hot rows (all zeros for an id outside `0..C`), built on
/// the device (burn's `one_hot` validates its input on the host).
fn one_hot(ids: Tensor<1>, classes: usize) -> Tensor<2> {
    let [batch] = ids.dims();
    let device = ids.device();
    let range = Tensor::<1, Int>::arange(0..classes as i64, &device)
        .float()
        .cast(DType::F32)
        .reshape([1, classes])
        .expand([batch, classes]);
    let hits: Tensor<2, Bool> = ids
        .reshape([batch, 1])
        .expand([batch, classes])
        .equal(range);
    hits.float().cast(DType::F32)
}

impl DeviceTotals {
    pub(crate) fn new(top_k: Option<usize>) -> Self {
        Self {
            top_k: top_k.map(|k| k.max(1)),
            sums: None,
            first_bad: None,
            first_bad_target: None,
            metrics: None,
        }
    }

    /// Adds a batch's output; `step` (1-based) is recorded if its loss is not finite.
    pub(crate) fn add(&mut self, output: &Output, step: usize) {
        let loss = output.loss.clone().inner().cast(DType::F32).reshape([1]);
        self.track_non_finite(loss.clone(), step);
        match &output.prediction {
            Prediction::Classes { logits, targets } => {
                let logits = logits.clone().inner().cast(DType::F32);
                let [batch, classes] = logits.dims();
                let ids = targets
                    .clone()
                    .inner()
                    .float()
                    .cast(DType::F32)
                    .reshape([batch]);
                let truth = one_hot(ids.clone(), classes);
                let predicted = one_hot(
                    logits
                        .clone()
                        .argmax(1)
                        .float()
                        .cast(DType::F32)
                        .reshape([batch]),
                    classes,
                );
                // Rows with a target outside the classes are all zeros in `truth`: they count
                // nowhere, as in `ClassificationMetrics::update`, and the first is kept for
                // the error the next flush returns.
                let counted = truth.clone().sum_dim(1);
                self.track_targets(ids, counted.clone().reshape([batch]), step);
                let target_score = logits.clone().mul(truth.clone()).sum_dim(1);
                let above = logits
                    .greater(target_score.expand([batch, classes]))
                    .float()
                    .cast(DType::F32)
                    .sum_dim(1);
                let k = self.top_k.unwrap_or_else(|| default_top_k(classes));
                let hits = above
                    .lower_elem(k as f64)
                    .float()
                    .cast(DType::F32)
                    .mul(counted.clone())
                    .sum();
                let counted = counted.sum();
                let scalars = Tensor::cat(vec![loss.mul(counted), hits], 0);
                let confusion = truth.transpose().matmul(predicted);
                self.sums = Some(match self.sums.take() {
                    Some(Sums::Classes {
                        scalars: s,
                        confusion: c,
                        ..
                    }) => Sums::Classes {
                        classes,
                        scalars: s.add(scalars),
                        confusion: c.add(confusion),
                    },
                    _ => Sums::Classes {
                        classes,
                        scalars,
                        confusion,
                    },
                });
            }
            Prediction::Values {
                predictions,
                targets,
            } => {
                let p = predictions.clone().inner().cast(DType::F32);
                let t = targets.clone().inner().cast(DType::F32);
                let n = p.dims().iter().product::<usize>() as u64;
                let error = p.sub(t.clone());
                let scalars = Tensor::cat(
                    vec![
                        loss.mul_scalar(n as f64),
                        error.clone().powi_scalar(2).sum(),
                        error.abs().sum(),
                        t.clone().sum(),
                        t.powi_scalar(2).sum(),
                    ],
                    0,
                );
                self.sums = Some(match self.sums.take() {
                    Some(Sums::Values { scalars: s, n: m }) => Sums::Values {
                        scalars: s.add(scalars),
                        n: m + n,
                    },
                    _ => Sums::Values { scalars, n },
                });
            }
        }
    }

    /// Keeps the first step whose loss is not finite, and that loss, on the device.
    fn track_non_finite(&mut self, loss: Tensor<1>, step: usize) {
        let not_finite = loss.clone().is_finite().bool_not();
        let candidate = Tensor::cat(vec![step_tensor(step, &loss.device()), loss], 0);
        self.first_bad = Some(keep_first(self.first_bad.take(), not_finite, candidate));
    }

    /// Keeps the first batch with a row that counts in no class (`counted` 0: a target
    /// outside the classes), that row and its target, on the device.
    fn track_targets(&mut self, ids: Tensor<1>, counted: Tensor<1>, step: usize) {
        let missing = counted.neg().add_scalar(1.0);
        let hit = missing.clone().sum().greater_elem(0.5);
        let sample = missing.argmax(0);
        let value = ids.gather(0, sample.clone());
        let candidate = Tensor::cat(
            vec![
                step_tensor(step, &value.device()),
                sample.float().cast(DType::F32),
                value,
            ],
            0,
        );
        self.first_bad_target = Some(keep_first(self.first_bad_target.take(), hit, candidate));
    }

    /// Reads the device sums into the host's totals (one transfer) and returns the earliest
    /// fault seen so far, if any.
    pub(crate) fn flush(&mut self) -> Option<Fault> {
        // Every `add` sets `first_bad`; no tracker means no batch since the pass began.
        let first_bad = self.first_bad.clone()?;
        let sums = self.sums.take();
        let mut parts = vec![first_bad];
        let target_tracker = self.first_bad_target.clone();
        if let Some(tracker) = &target_tracker {
            parts.push(tracker.clone());
        }
        match &sums {
            Some(Sums::Classes {
                scalars, confusion, ..
            }) => {
                parts.push(scalars.clone());
                parts.push(confusion.clone().flatten(0, 1));
            }
            Some(Sums::Values { scalars, .. }) => parts.push(scalars.clone()),
            None => {}
        }
        let values: Vec<f64> = Tensor::cat(parts, 0).into_data().iter::<f64>().collect();
        let (bad, rest) = values.split_at(2);
        let (bad_target, rest) = match target_tracker {
            Some(_) => rest.split_at(3),
            None => ([NO_STEP, 0.0, 0.0].as_slice(), rest),
        };
        let mut faults = Vec::new();
        if bad[0] < NO_STEP {
            faults.push(Fault::NonFinite {
                step: bad[0] as usize,
                loss: bad[1],
            });
        }
        match sums {
            Some(Sums::Classes { classes, .. }) => {
                if bad_target[0] < NO_STEP {
                    faults.push(Fault::Target {
                        step: bad_target[0] as usize,
                        sample: bad_target[1] as usize,
                        value: bad_target[2] as i64,
                        classes,
                    });
                }
                let metrics = self.metrics.get_or_insert_with(|| {
                    Metrics::Classification(ClassificationMetrics::with_default_k(
                        classes, self.top_k,
                    ))
                });
                if let Metrics::Classification(m) = metrics {
                    m.add_counts(rest[0], rest[1], &rest[2..]);
                }
            }
            Some(Sums::Values { n, .. }) => {
                let metrics = self
                    .metrics
                    .get_or_insert_with(|| Metrics::Regression(RegressionMetrics::new()));
                if let Metrics::Regression(m) = metrics {
                    m.add_sums(n, rest);
                }
            }
            None => {}
        }
        // The earliest fault; at one step a bad target is the likelier cause of the loss.
        faults.into_iter().min_by_key(|fault| match fault {
            Fault::Target { step, .. } => (*step, 0),
            Fault::NonFinite { step, .. } => (*step, 1),
        })
    }

    /// The metrics of every batch added (flushing what the device still holds); `None` when
    /// no batch was added. The earliest fault, if any, comes with them.
    pub(crate) fn finish(mut self) -> (Option<Metrics>, Option<Fault>) {
        let non_finite = self.flush();
        (self.metrics, non_finite)
    }

    /// The mean loss of the batches flushed so far.
    pub(crate) fn loss(&self) -> Option<f64> {
        self.metrics.as_ref().map(Metrics::loss)
    }
}

/// `[step]` as an f32 tensor on `device`.
fn step_tensor(step: usize, device: &burn::tensor::Device) -> Tensor<1> {
    Tensor::<1>::from_data(
        TensorData::new(vec![step as f32], [1]),
        (device, DType::F32),
    )
}
