//! Learning-rate schedules as closed forms of the step (or epoch) count, as PyTorch's
//! `lr_scheduler` classes compute them: constant, step, multi-step, exponential, cosine
//! annealing (optionally with warm restarts), and a linear warm-up composed with any other.

use serde::{Deserialize, Serialize};

use crate::error::{Result, invalid, non_negative, positive};

/// A learning-rate schedule; [`LrSchedule::lr`] gives the rate at step `t` (0-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LrSchedule {
    /// `η`.
    Constant {
        /// The rate.
        lr: f64,
    },
    /// `η γ^⌊t / step_size⌋` (`StepLR`).
    Step {
        /// Initial rate.
        lr: f64,
        /// Steps between decays (> 0).
        step_size: usize,
        /// Decay factor (finite, > 0).
        gamma: f64,
    },
    /// `η γ^(number of milestones ≤ t)` (`MultiStepLR`).
    MultiStep {
        /// Initial rate.
        lr: f64,
        /// Steps at which the rate decays, increasing.
        milestones: Vec<usize>,
        /// Decay factor (finite, > 0).
        gamma: f64,
    },
    /// `η γ^t` (`ExponentialLR`).
    Exponential {
        /// Initial rate.
        lr: f64,
        /// Decay factor (finite, > 0).
        gamma: f64,
    },
    /// `η_min + (η - η_min)(1 + cos(π t_cur / T))/2` (`CosineAnnealingLR`); with
    /// `restart_mult` set, the period restarts and is multiplied by it after each restart
    /// (`CosineAnnealingWarmRestarts` with `T_0 = t_max`, `T_mult = restart_mult`).
    CosineAnnealing {
        /// Initial (maximal) rate.
        lr: f64,
        /// Period `T` (> 0).
        t_max: usize,
        /// Minimal rate (finite, >= 0, <= lr).
        eta_min: f64,
        /// Warm restarts: growth of the period after each restart (>= 1).
        restart_mult: Option<usize>,
    },
    /// Linear warm-up over `steps` steps from `start_factor · η₀` to `η₀ = then.lr(0)`, then
    /// `then` from its own step 0 (`LinearLR` followed by another schedule in `SequentialLR`).
    Warmup {
        /// Warm-up length (> 0).
        steps: usize,
        /// Fraction of the rate at step 0, in `(0, 1]`.
        start_factor: f64,
        /// The schedule after the warm-up.
        then: Box<LrSchedule>,
    },
}

impl LrSchedule {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a negative or non-finite rate, zero periods,
    /// non-positive factors, decreasing milestones, `eta_min > lr`.
    pub fn validate(&self) -> Result<()> {
        match self {
            LrSchedule::Constant { lr } => non_negative("ConstantLr", "lr", *lr),
            LrSchedule::Step {
                lr,
                step_size,
                gamma,
            } => {
                non_negative("StepLr", "lr", *lr)?;
                if *step_size == 0 {
                    return Err(invalid("StepLr", "step_size", "> 0", 0));
                }
                positive("StepLr", "gamma", *gamma)
            }
            LrSchedule::MultiStep {
                lr,
                milestones,
                gamma,
            } => {
                non_negative("MultiStepLr", "lr", *lr)?;
                if milestones.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(invalid(
                        "MultiStepLr",
                        "milestones",
                        "strictly increasing",
                        format!("{milestones:?}"),
                    ));
                }
                positive("MultiStepLr", "gamma", *gamma)
            }
            LrSchedule::Exponential { lr, gamma } => {
                non_negative("ExponentialLr", "lr", *lr)?;
                positive("ExponentialLr", "gamma", *gamma)
            }
            LrSchedule::CosineAnnealing {
                lr,
                t_max,
                eta_min,
                restart_mult,
            } => {
                non_negative("CosineAnnealingLr", "lr", *lr)?;
                non_negative("CosineAnnealingLr", "eta_min", *eta_min)?;
                if eta_min > lr {
                    return Err(invalid(
                        "CosineAnnealingLr",
                        "eta_min",
                        &format!("<= lr = {lr}"),
                        eta_min,
                    ));
                }
                if *t_max == 0 {
                    return Err(invalid("CosineAnnealingLr", "t_max", "> 0", 0));
                }
                if *restart_mult == Some(0) {
                    return Err(invalid("CosineAnnealingLr", "restart_mult", ">= 1", 0));
                }
                Ok(())
            }
            LrSchedule::Warmup {
                steps,
                start_factor,
                then,
            } => {
                if *steps == 0 {
                    return Err(invalid("Warmup", "steps", "> 0", 0));
                }
                if !(*start_factor > 0.0 && *start_factor <= 1.0) {
                    return Err(invalid("Warmup", "start_factor", "in (0, 1]", start_factor));
                }
                then.validate()
            }
        }
    }

    /// The learning rate at step `t` (0-based). Meaningful for a schedule that
    /// [`validate`](LrSchedule::validate)s.
    pub fn lr(&self, t: usize) -> f64 {
        match self {
            LrSchedule::Constant { lr } => *lr,
            LrSchedule::Step {
                lr,
                step_size,
                gamma,
            } => lr * gamma.powi(exponent(t / step_size.max(&1))),
            LrSchedule::MultiStep {
                lr,
                milestones,
                gamma,
            } => lr * gamma.powi(exponent(milestones.iter().filter(|&&m| m <= t).count())),
            LrSchedule::Exponential { lr, gamma } => lr * gamma.powi(exponent(t)),
            LrSchedule::CosineAnnealing {
                lr,
                t_max,
                eta_min,
                restart_mult,
            } => {
                let (t_cur, period) = match restart_mult {
                    None => (t as f64, *t_max as f64),
                    Some(mult) => restart_position(t, (*t_max).max(1), (*mult).max(1)),
                };
                eta_min
                    + (lr - eta_min) * (1.0 + (std::f64::consts::PI * t_cur / period).cos()) / 2.0
            }
            LrSchedule::Warmup {
                steps,
                start_factor,
                then,
            } => {
                if t < *steps {
                    let factor = start_factor + (1.0 - start_factor) * t as f64 / *steps as f64;
                    then.lr(0) * factor
                } else {
                    then.lr(t - steps)
                }
            }
        }
    }
}

fn exponent(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Position in the current period of SGDR: `(t_cur, T_i)`.
fn restart_position(t: usize, t0: usize, mult: usize) -> (f64, f64) {
    if mult == 1 {
        return ((t % t0) as f64, t0 as f64);
    }
    let (mut start, mut period) = (0usize, t0);
    while t >= start + period {
        start += period;
        period = period.saturating_mul(mult);
    }
    ((t - start) as f64, period as f64)
}
