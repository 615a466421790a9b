//! Early stopping on a validation metric: stop after `patience` epochs without an
//! improvement of more than `min_delta`.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid};

/// Whether lower or higher values of the monitored metric are better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Lower is better (a loss, an error).
    Minimize,
    /// Higher is better (an accuracy, R²).
    Maximize,
}

impl Goal {
    /// Whether `value` beats `best` by more than `min_delta`.
    pub fn improves(self, value: f64, best: Option<f64>, min_delta: f64) -> bool {
        match (self, best) {
            (_, None) => value.is_finite(),
            (Goal::Minimize, Some(b)) => value < b - min_delta,
            (Goal::Maximize, Some(b)) => value > b + min_delta,
        }
    }
}

/// Early-stopping rule and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement tolerated (> 0).
    pub patience: usize,
    /// Smallest change that counts as an improvement (>= 0).
    pub min_delta: f64,
    /// Direction of improvement.
    pub goal: Goal,
    best: Option<f64>,
    bad_epochs: usize,
}

/// What one epoch's metric meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// A new best value.
    pub improved: bool,
    /// Patience is exhausted: stop training.
    pub stop: bool,
}

impl EarlyStopping {
    /// A rule stopping after `patience` epochs without an improvement above `min_delta`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for patience 0 or a negative or non-finite delta.
    pub fn new(patience: usize, min_delta: f64, goal: Goal) -> Result<Self> {
        if patience == 0 {
            return Err(invalid("EarlyStopping", "patience", "> 0", 0));
        }
        if !(min_delta.is_finite() && min_delta >= 0.0) {
            return Err(invalid(
                "EarlyStopping",
                "min_delta",
                "finite and >= 0",
                min_delta,
            ));
        }
        Ok(Self {
            patience,
            min_delta,
            goal,
            best: None,
            bad_epochs: 0,
        })
    }

    /// The best value seen.
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// Records one epoch's metric.
    pub fn update(&mut self, value: f64) -> Verdict {
        let improved = self.goal.improves(value, self.best, self.min_delta);
        if improved {
            self.best = Some(value);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        Verdict {
            improved,
            stop: self.bad_epochs >= self.patience,
        }
    }
}
