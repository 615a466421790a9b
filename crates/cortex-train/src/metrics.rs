//! Metrics accumulated over an epoch: classification (loss, accuracy, top-k, confusion
//! matrix, per-class precision and recall) and regression (MSE, MAE, RMSE, R²).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A confusion matrix: `counts[target][predicted]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Counts, rows are true classes, columns predicted classes.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Self {
            counts: vec![vec![0; classes]; classes],
        }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    /// Samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Fraction on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes()).map(|c| self.counts[c][c]).sum();
        correct as f64 / self.total().max(1) as f64
    }

    /// Precision of class `c`: correct / predicted as `c` (0 when never predicted); `None` for a
    /// class past the matrix.
    pub fn precision(&self, c: usize) -> Option<f64> {
        let correct = *self.counts.get(c)?.get(c)?;
        let predicted: u64 = self.counts.iter().filter_map(|row| row.get(c)).sum();
        Some(if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        })
    }

    /// Recall of class `c`: correct / truly `c` (0 when absent); `None` for a class past the
    /// matrix.
    pub fn recall(&self, c: usize) -> Option<f64> {
        let row = self.counts.get(c)?;
        let actual: u64 = row.iter().sum();
        Some(if actual == 0 {
            0.0
        } else {
            *row.get(c)? as f64 / actual as f64
        })
    }
}

/// Classification metrics of one pass over a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    /// Sum of per-sample losses.
    loss_sum: f64,
    /// Samples whose target is among the `k` highest scores.
    top_k_hits: u64,
    /// `k` of the top-k accuracy.
    pub k: usize,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
}

impl ClassificationMetrics {
    /// Empty metrics for `classes` classes, with top-`k` accuracy.
    pub fn new(classes: usize, k: usize) -> Self {
        Self {
            loss_sum: 0.0,
            top_k_hits: 0,
            k: k.max(1),
            confusion: ConfusionMatrix::new(classes),
        }
    }

    /// Adds a batch: row-major scores `[B, classes]`, targets, and the batch's mean loss
    /// over the samples it counts. Targets outside the classes are ignored (by the loss and
    /// by every metric).
    pub fn update(&mut self, scores: &[f64], targets: &[usize], mean_loss: f64) {
        let classes = self.confusion.classes();
        let counted = targets.iter().filter(|&&t| t < classes).count();
        self.loss_sum += mean_loss * counted as f64;
        for (row, &target) in scores.chunks(classes).zip(targets) {
            if target >= classes {
                continue;
            }
            let predicted = (0..classes)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            self.confusion.counts[target][predicted] += 1;
            let above = row.iter().filter(|&&s| s > row[target]).count();
            if above < self.k {
                self.top_k_hits += 1;
            }
        }
    }

    /// Adds totals accumulated elsewhere (on a device): the sum of `loss · counted` over
    /// batches, the top-k hits, and the row-major `[target, predicted]` counts.
    pub(crate) fn add_counts(&mut self, loss_sum: f64, top_k_hits: f64, confusion: &[f64]) {
        self.loss_sum += loss_sum;
        self.top_k_hits += top_k_hits.round() as u64;
        let classes = self.confusion.classes();
        for (cell, count) in confusion.iter().enumerate() {
            if let Some(slot) = self
                .confusion
                .counts
                .get_mut(cell / classes.max(1))
                .and_then(|row| row.get_mut(cell % classes.max(1)))
            {
                *slot += count.round() as u64;
            }
        }
    }

    /// Mean loss per sample.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.confusion.total().max(1) as f64
    }

    /// Top-1 accuracy.
    pub fn accuracy(&self) -> f64 {
        self.confusion.accuracy()
    }

    /// Top-k accuracy.
    pub fn top_k_accuracy(&self) -> f64 {
        self.top_k_hits as f64 / self.confusion.total().max(1) as f64
    }

    /// The scalar metrics by name: `loss`, `accuracy`, and `top{k}_accuracy` when it says
    /// something the accuracy does not (`1 < k < classes`: with `k >= classes` every sample
    /// is a top-k hit).
    pub fn summary(&self) -> BTreeMap<String, f64> {
        let mut summary = BTreeMap::from([
            ("loss".to_string(), self.loss()),
            ("accuracy".to_string(), self.accuracy()),
        ]);
        if self.k > 1 && self.k < self.confusion.classes() {
            summary.insert(format!("top{}_accuracy", self.k), self.top_k_accuracy());
        }
        summary
    }
}

/// The `k` of the top-k accuracy when none is configured: 5 among 20 classes or more (the
/// ImageNet convention), 2 among 4 to 19, and 1 (no top-k figure) for fewer classes.
pub fn default_top_k(classes: usize) -> usize {
    match classes {
        20.. => 5,
        4..=19 => 2,
        _ => 1,
    }
}

impl ClassificationMetrics {
    /// Empty metrics for `classes` classes, with top-`k` accuracy for `k` given or
    /// [`default_top_k`].
    pub fn with_default_k(classes: usize, k: Option<usize>) -> Self {
        Self::new(classes, k.unwrap_or_else(|| default_top_k(classes)))
    }
}

/// Regression metrics of one pass over a dataset (one output column).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    n: u64,
    loss_sum: f64,
    squared_error: f64,
    absolute_error: f64,
    target_sum: f64,
    target_squares: f64,
}

impl RegressionMetrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch of predictions and targets (same length) and the batch's mean loss.
    pub fn update(&mut self, predictions: &[f64], targets: &[f64], mean_loss: f64) {
        self.loss_sum += mean_loss * targets.len() as f64;
        for (p, t) in predictions.iter().zip(targets) {
            self.n += 1;
            self.squared_error += (p - t) * (p - t);
            self.absolute_error += (p - t).abs();
            self.target_sum += t;
            self.target_squares += t * t;
        }
    }

    /// Adds totals accumulated elsewhere (on a device) over `n` values:
    /// `[Σ loss · n, Σ(p - t)², Σ|p - t|, Σt, Σt²]`.
    pub(crate) fn add_sums(&mut self, n: u64, sums: &[f64]) {
        if let [loss, squared, absolute, target, squares] = sums {
            self.n += n;
            self.loss_sum += loss;
            self.squared_error += squared;
            self.absolute_error += absolute;
            self.target_sum += target;
            self.target_squares += squares;
        }
    }

    /// Mean loss per sample.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.n.max(1) as f64
    }

    /// Mean squared error.
    pub fn mse(&self) -> f64 {
        self.squared_error / self.n.max(1) as f64
    }

    /// Mean absolute error.
    pub fn mae(&self) -> f64 {
        self.absolute_error / self.n.max(1) as f64
    }

    /// Root mean squared error.
    pub fn rmse(&self) -> f64 {
        self.mse().sqrt()
    }

    /// Coefficient of determination `1 - SSE / SST` (0 when the targets are constant).
    pub fn r2(&self) -> f64 {
        let n = self.n.max(1) as f64;
        let sst = self.target_squares - self.target_sum * self.target_sum / n;
        if sst <= 0.0 {
            0.0
        } else {
            1.0 - self.squared_error / sst
        }
    }

    /// The scalar metrics by name (`loss`, `mse`, `mae`, `rmse`, `r2`).
    pub fn summary(&self) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("loss".to_string(), self.loss()),
            ("mse".to_string(), self.mse()),
            ("mae".to_string(), self.mae()),
            ("rmse".to_string(), self.rmse()),
            ("r2".to_string(), self.r2()),
        ])
    }
}

/// The metrics of one pass, by task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Metrics {
    /// Classification.
    Classification(ClassificationMetrics),
    /// Regression.
    Regression(RegressionMetrics),
}

impl Metrics {
    /// The scalar metrics by name.
    pub fn summary(&self) -> BTreeMap<String, f64> {
        match self {
            Metrics::Classification(m) => m.summary(),
            Metrics::Regression(m) => m.summary(),
        }
    }

    /// Mean loss.
    pub fn loss(&self) -> f64 {
        match self {
            Metrics::Classification(m) => m.loss(),
            Metrics::Regression(m) => m.loss(),
        }
    }
}
