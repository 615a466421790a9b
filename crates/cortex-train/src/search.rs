//! A small, seeded hyperparameter search: grid or random trials over named values, each run
//! by the caller (typically a short training), picked by a validation metric, every trial
//! reported.

use std::collections::BTreeMap;
use std::fmt;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::early_stopping::Goal;
use crate::error::{Result, invalid};

/// One trial's values, by name.
pub type Params = BTreeMap<String, f64>;

/// Every combination of the values (the Cartesian product), in order.
///
/// # Errors
/// [`crate::Error::InvalidConfig`] for no parameters or a parameter without values.
pub fn grid(space: &[(&str, Vec<f64>)]) -> Result<Vec<Params>> {
    if space.is_empty() {
        return Err(invalid("grid", "space", "at least one parameter", "none"));
    }
    let mut trials = vec![Params::new()];
    for (name, values) in space {
        if values.is_empty() {
            return Err(invalid(
                "grid",
                "values",
                "at least one value per parameter",
                name,
            ));
        }
        trials = trials
            .into_iter()
            .flat_map(|t| {
                values.iter().map(move |v| {
                    let mut t = t.clone();
                    t.insert(name.to_string(), *v);
                    t
                })
            })
            .collect();
    }
    Ok(trials)
}

/// A range to sample from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// Lower bound.
    pub low: f64,
    /// Upper bound (> low).
    pub high: f64,
    /// Sample uniformly in log space (learning rates, weight decay); needs low > 0.
    pub log: bool,
}

/// `trials` random draws, seeded.
///
/// # Errors
/// [`crate::Error::InvalidConfig`] for an empty range, a log range not above 0, or 0 trials.
pub fn random(space: &[(&str, Range)], trials: usize, seed: u64) -> Result<Vec<Params>> {
    if trials == 0 || space.is_empty() {
        return Err(invalid(
            "random",
            "trials",
            "> 0 over at least one parameter",
            trials,
        ));
    }
    for (name, r) in space {
        if !(r.low < r.high && r.low.is_finite() && r.high.is_finite()) || (r.log && r.low <= 0.0) {
            return Err(invalid(
                "random",
                "range",
                "finite with low < high (and low > 0 in log space)",
                name,
            ));
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    Ok((0..trials)
        .map(|_| {
            space
                .iter()
                .map(|(name, r)| {
                    let u: f64 = rng.random();
                    let v = if r.log {
                        (r.low.ln() + u * (r.high.ln() - r.low.ln())).exp()
                    } else {
                        r.low + u * (r.high - r.low)
                    };
                    (name.to_string(), v)
                })
                .collect()
        })
        .collect())
}

/// One finished trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Its values.
    pub params: Params,
    /// The validation metric it reached (`None`: it failed, see `error`).
    pub metric: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Every trial and the best one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchReport {
    /// All trials, in run order.
    pub trials: Vec<Trial>,
    /// Index of the best trial.
    pub best: usize,
}

impl SearchReport {
    /// The best trial.
    pub fn best(&self) -> &Trial {
        &self.trials[self.best]
    }
}

impl fmt::Display for SearchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, t) in self.trials.iter().enumerate() {
            let params: Vec<String> = t
                .params
                .iter()
                .map(|(n, v)| format!("{n}={v:.4e}"))
                .collect();
            let outcome = match (&t.metric, &t.error) {
                (Some(m), _) => format!("{m:.6}"),
                (None, Some(e)) => format!("failed: {e}"),
                (None, None) => "failed".to_string(),
            };
            writeln!(
                f,
                "{} trial {k}: {} -> {outcome}",
                if k == self.best { "*" } else { " " },
                params.join(" ")
            )?;
        }
        Ok(())
    }
}

/// Runs every trial (a failing trial is recorded, not fatal) and picks the best by `goal`.
///
/// # Errors
/// [`crate::Error::InvalidConfig`] when no trial succeeds.
pub fn search<F>(trials: Vec<Params>, goal: Goal, mut run: F) -> Result<SearchReport>
where
    F: FnMut(&Params) -> Result<f64>,
{
    let mut report = Vec::with_capacity(trials.len());
    let mut best: Option<(usize, f64)> = None;
    for (k, params) in trials.into_iter().enumerate() {
        match run(&params) {
            Ok(metric) if metric.is_finite() => {
                if best.is_none_or(|(_, b)| goal.improves(metric, Some(b), 0.0)) {
                    best = Some((k, metric));
                }
                report.push(Trial {
                    params,
                    metric: Some(metric),
                    error: None,
                });
            }
            Ok(metric) => report.push(Trial {
                params,
                metric: None,
                error: Some(format!("non-finite metric {metric}")),
            }),
            Err(e) => report.push(Trial {
                params,
                metric: None,
                error: Some(e.to_string()),
            }),
        }
    }
    let (best, _) = best.ok_or_else(|| {
        invalid(
            "search",
            "trials",
            "at least one successful trial",
            report.len(),
        )
    })?;
    Ok(SearchReport {
        trials: report,
        best,
    })
}
