//! `ReduceLrOnPlateau`: lowers the learning rate when a validation metric stops improving,
//! with PyTorch's semantics (patience, relative/absolute threshold, cooldown, minimal rate).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, invalid, non_negative, positive};

const WHAT: &str = "ReduceLrOnPlateau";

/// Whether the metric should go down (a loss) or up (an accuracy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

/// How `threshold` defines a significant improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// Better than `best · (1 ∓ threshold)`.
    Rel,
    /// Better than `best ∓ threshold`.
    Abs,
}

/// Configuration of [`ReduceLrOnPlateau`]; defaults are PyTorch's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauConfig {
    /// Starting learning rate (finite, >= 0).
    pub lr: f64,
    /// Direction of improvement.
    pub mode: PlateauMode,
    /// Multiplier of the rate on a plateau, in `(0, 1)`.
    pub factor: f64,
    /// Epochs without improvement tolerated before reducing.
    pub patience: usize,
    /// Minimal significant improvement (finite, >= 0).
    pub threshold: f64,
    /// Relative or absolute threshold.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again.
    pub cooldown: usize,
    /// Lower bound of the rate (finite, >= 0).
    pub min_lr: f64,
    /// Reductions smaller than this are skipped (finite, >= 0).
    pub eps: f64,
}

impl PlateauConfig {
    /// PyTorch's defaults (`mode` min, factor 0.1, patience 10, threshold 1e-4 relative,
    /// cooldown 0, min_lr 0, eps 1e-8) starting from `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }

    /// Validates the configuration and builds the scheduler.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a factor outside `(0, 1)` or a negative or non-finite
    /// value.
    pub fn init(&self) -> Result<ReduceLrOnPlateau> {
        non_negative(WHAT, "lr", self.lr)?;
        positive(WHAT, "factor", self.factor)?;
        if self.factor >= 1.0 {
            return Err(invalid(WHAT, "factor", "in (0, 1)", self.factor));
        }
        non_negative(WHAT, "threshold", self.threshold)?;
        non_negative(WHAT, "min_lr", self.min_lr)?;
        non_negative(WHAT, "eps", self.eps)?;
        let best = match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Ok(ReduceLrOnPlateau {
            config: self.clone(),
            lr: self.lr,
            best,
            bad_epochs: 0,
            cooldown_left: 0,
        })
    }
}

/// The scheduler: call [`step`](ReduceLrOnPlateau::step) once per epoch with the validation
/// metric; it returns the rate for the next epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    config: PlateauConfig,
    lr: f64,
    best: f64,
    bad_epochs: usize,
    cooldown_left: usize,
}

impl ReduceLrOnPlateau {
    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// The best metric seen.
    pub fn best(&self) -> f64 {
        self.best
    }

    fn is_better(&self, metric: f64) -> bool {
        let (t, best) = (self.config.threshold, self.best);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - t),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - t,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (1.0 + t),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + t,
        }
    }

    /// Records one epoch's metric and returns the learning rate to use next.
    ///
    /// # Errors
    /// [`Error::NonFiniteMetric`] for NaN or infinite metrics (state unchanged).
    pub fn step(&mut self, metric: f64) -> Result<f64> {
        if !metric.is_finite() {
            return Err(Error::NonFiniteMetric {
                what: WHAT,
                got: metric,
            });
        }
        if self.is_better(metric) {
            self.best = metric;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.config.patience {
            let reduced = (self.lr * self.config.factor).max(self.config.min_lr);
            if self.lr - reduced > self.config.eps {
                self.lr = reduced;
            }
            self.cooldown_left = self.config.cooldown;
            self.bad_epochs = 0;
        }
        Ok(self.lr)
    }
}
