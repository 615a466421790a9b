//! The validation metric a run monitors: it keeps the best model, drives early stopping and
//! plateau schedules. Typed, so a misspelt name cannot reach a run; its direction (lower or
//! higher is better) is the metric's own.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::early_stopping::Goal;
use crate::error::InvalidValue;
use crate::output::Prediction;

/// A validation metric the trainer can monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The mean loss (classification and regression).
    Loss,
    /// The fraction of samples whose top class is the target (classification).
    Accuracy,
    /// The fraction whose target is among the `k` top classes (classification; `k` is the
    /// trainer's `top_k`, reported when `1 < k < classes`).
    TopKAccuracy,
    /// Mean squared error (regression).
    Mse,
    /// Mean absolute error (regression).
    Mae,
    /// Root mean squared error (regression).
    Rmse,
    /// Coefficient of determination R² (regression).
    R2,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 7] = [
        Metric::Loss,
        Metric::Accuracy,
        Metric::TopKAccuracy,
        Metric::Mse,
        Metric::Mae,
        Metric::Rmse,
        Metric::R2,
    ];

    /// The name on command lines and in serde (`top_k_accuracy`, `r2`, …).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::Accuracy => "accuracy",
            Metric::TopKAccuracy => "top_k_accuracy",
            Metric::Mse => "mse",
            Metric::Mae => "mae",
            Metric::Rmse => "rmse",
            Metric::R2 => "r2",
        }
    }

    /// Whether lower or higher values are better.
    pub fn goal(self) -> Goal {
        match self {
            Metric::Loss | Metric::Mse | Metric::Mae | Metric::Rmse => Goal::Minimize,
            Metric::Accuracy | Metric::TopKAccuracy | Metric::R2 => Goal::Maximize,
        }
    }

    /// Whether the metric is measured on predictions like `prediction` (class scores or
    /// values).
    pub fn applies_to(self, prediction: &Prediction) -> bool {
        let classes = matches!(prediction, Prediction::Classes { .. });
        match self {
            Metric::Loss => true,
            Metric::Accuracy | Metric::TopKAccuracy => classes,
            Metric::Mse | Metric::Mae | Metric::Rmse | Metric::R2 => !classes,
        }
    }

    /// The metrics measured on predictions like `prediction`, for messages.
    pub(crate) fn applicable(prediction: &Prediction) -> Vec<&'static str> {
        Metric::ALL
            .into_iter()
            .filter(|m| m.applies_to(prediction))
            .map(Metric::name)
            .collect()
    }

    /// Its key in a metrics summary (`top5_accuracy` for `k = 5`).
    pub(crate) fn key(self, k: usize) -> String {
        match self {
            Metric::TopKAccuracy => format!("top{k}_accuracy"),
            other => other.name().to_string(),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let name = s.trim().to_ascii_lowercase();
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = Metric::ALL.iter().map(|m| m.name()).collect();
                InvalidValue::new("Metric", "name", format!("one of {names:?}"), s)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for metric in Metric::ALL {
            assert_eq!(metric.name().parse::<Metric>(), Ok(metric));
        }
        assert_eq!(" RMSE ".parse::<Metric>(), Ok(Metric::Rmse));
        let error = "acuracy".parse::<Metric>().unwrap_err();
        assert_eq!((error.owner, error.argument), ("Metric", "name"));
        assert!(error.to_string().contains("\"accuracy\""), "{error}");
    }

    #[test]
    fn errors_go_down_and_scores_go_up() {
        assert_eq!(Metric::Loss.goal(), Goal::Minimize);
        assert_eq!(Metric::Rmse.goal(), Goal::Minimize);
        assert_eq!(Metric::Accuracy.goal(), Goal::Maximize);
        assert_eq!(Metric::R2.goal(), Goal::Maximize);
        assert_eq!(Metric::TopKAccuracy.key(5), "top5_accuracy");
    }
}
