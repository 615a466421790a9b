//! RMSprop (centered and with momentum) and Adagrad (learning-rate decay, initial
//! accumulator), step for step as `torch.optim.RMSprop` / `torch.optim.Adagrad`.

use burn::config::Config;
use burn::optim::{Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use crate::error::{Result, non_negative, positive, unit_interval};
use crate::state::{push, push_count, push_opt, take, take_count};

/// Configuration of [`RmsProp`].
#[derive(Config, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate (finite, >= 0).
    #[config(default = 0.01)]
    pub lr: f64,
    /// Decay of the squared-gradient average, in `[0, 1)`.
    #[config(default = 0.99)]
    pub alpha: f64,
    /// Added to the denominator (finite, > 0).
    #[config(default = 1e-8)]
    pub eps: f64,
    /// L2 penalty added to the gradient (finite, >= 0).
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// Momentum of the update (finite, >= 0).
    #[config(default = 0.0)]
    pub momentum: f64,
    /// Normalize by the variance estimate `E[g²] - E[g]²` instead of `E[g²]`.
    #[config(default = false)]
    pub centered: bool,
}

impl RmsPropConfig {
    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a negative or non-finite value, alpha outside
    /// `[0, 1)`, or eps ≤ 0.
    pub fn validate(&self) -> Result<()> {
        const W: &str = "RmsProp";
        non_negative(W, "lr", self.lr)?;
        unit_interval(W, "alpha", self.alpha)?;
        positive(W, "eps", self.eps)?;
        non_negative(W, "weight_decay", self.weight_decay)?;
        non_negative(W, "momentum", self.momentum)
    }

    /// The validated optimizer.
    ///
    /// # Errors
    /// As [`RmsPropConfig::validate`].
    pub fn build(&self) -> Result<RmsProp> {
        self.validate()?;
        Ok(RmsProp {
            config: self.clone(),
        })
    }
}

/// RMSprop: `s ← αs + (1-α)g²`; centered: `ḡ ← αḡ + (1-α)g`, `a = √(s - ḡ²) + ε`, else
/// `a = √s + ε`; momentum: `b ← μb + g/a`, `p ← p - ηb`, else `p ← p - η g/a`.
#[derive(Debug, Clone)]
pub struct RmsProp {
    config: RmsPropConfig,
}

/// Per-parameter state of [`RmsProp`].
#[derive(Debug, Clone)]
pub struct RmsPropState<const D: usize> {
    /// `s`.
    pub square_avg: Tensor<D>,
    /// `ḡ` (centered only).
    pub grad_avg: Option<Tensor<D>>,
    /// `b` (momentum only).
    pub momentum_buffer: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for RmsPropState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push(out, prefix, "square_avg", &self.square_avg);
        push_opt(out, prefix, "grad_avg", &self.grad_avg);
        push_opt(out, prefix, "momentum_buffer", &self.momentum_buffer);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            square_avg: take(src, prefix, "square_avg", device)?,
            grad_avg: take(src, prefix, "grad_avg", device),
            momentum_buffer: take(src, prefix, "momentum_buffer", device),
        })
    }
}

impl Optimizer for RmsProp {
    type State<const D: usize> = RmsPropState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<RmsPropState<D>>,
    ) -> (Tensor<D>, Option<RmsPropState<D>>) {
        let c = &self.config;
        let mut g = grad;
        if c.weight_decay != 0.0 {
            g = g + param.clone().mul_scalar(c.weight_decay);
        }
        let (square_avg, grad_avg, buffer) = match state {
            Some(s) => (s.square_avg, s.grad_avg, s.momentum_buffer),
            None => (g.zeros_like(), None, None),
        };
        let square_avg =
            square_avg.mul_scalar(c.alpha) + (g.clone() * g.clone()).mul_scalar(1.0 - c.alpha);
        let (avg, grad_avg) = if c.centered {
            let previous = grad_avg.unwrap_or_else(|| g.zeros_like());
            let grad_avg = previous.mul_scalar(c.alpha) + g.clone().mul_scalar(1.0 - c.alpha);
            let variance = square_avg.clone() - grad_avg.clone() * grad_avg.clone();
            (variance.sqrt().add_scalar(c.eps), Some(grad_avg))
        } else {
            (square_avg.clone().sqrt().add_scalar(c.eps), None)
        };
        let (param, buffer) = if c.momentum > 0.0 {
            let step = g / avg;
            let buffer = match buffer {
                Some(b) => b.mul_scalar(c.momentum) + step,
                None => step,
            };
            (param - buffer.clone().mul_scalar(lr), Some(buffer))
        } else {
            (param - (g / avg).mul_scalar(lr), None)
        };
        let state = RmsPropState {
            square_avg,
            grad_avg,
            momentum_buffer: buffer,
        };
        (param, Some(state))
    }

    fn to_device<const D: usize>(state: RmsPropState<D>, device: &Device) -> RmsPropState<D> {
        RmsPropState {
            square_avg: state.square_avg.to_device(device),
            grad_avg: state.grad_avg.map(|t| t.to_device(device)),
            momentum_buffer: state.momentum_buffer.map(|t| t.to_device(device)),
        }
    }
}

/// Configuration of [`Adagrad`].
#[derive(Config, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate (finite, >= 0).
    #[config(default = 0.01)]
    pub lr: f64,
    /// Learning-rate decay: step `t` uses `η / (1 + (t-1) · lr_decay)` (finite, >= 0).
    #[config(default = 0.0)]
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (finite, >= 0).
    #[config(default = 0.0)]
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum (finite, >= 0).
    #[config(default = 0.0)]
    pub initial_accumulator_value: f64,
    /// Added to the denominator (finite, > 0).
    #[config(default = 1e-10)]
    pub eps: f64,
}

impl AdagradConfig {
    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a negative or non-finite value, or eps ≤ 0.
    pub fn validate(&self) -> Result<()> {
        const W: &str = "Adagrad";
        non_negative(W, "lr", self.lr)?;
        non_negative(W, "lr_decay", self.lr_decay)?;
        non_negative(W, "weight_decay", self.weight_decay)?;
        non_negative(
            W,
            "initial_accumulator_value",
            self.initial_accumulator_value,
        )?;
        positive(W, "eps", self.eps)
    }

    /// The validated optimizer.
    ///
    /// # Errors
    /// As [`AdagradConfig::validate`].
    pub fn build(&self) -> Result<Adagrad> {
        self.validate()?;
        Ok(Adagrad {
            config: self.clone(),
        })
    }
}

/// Adagrad: `S ← S + g²`, `p ← p - η/(1 + (t-1)·decay) · g / (√S + ε)`.
#[derive(Debug, Clone)]
pub struct Adagrad {
    config: AdagradConfig,
}

/// Per-parameter state of [`Adagrad`].
#[derive(Debug, Clone)]
pub struct AdagradState<const D: usize> {
    /// Steps taken, `t`.
    pub step: u64,
    /// `S`.
    pub sum: Tensor<D>,
}

impl<const D: usize> RecordState for AdagradState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_count(out, prefix, "step", self.step);
        push(out, prefix, "sum", &self.sum);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_count(src, prefix, "step")?,
            sum: take(src, prefix, "sum", device)?,
        })
    }
}

impl Optimizer for Adagrad {
    type State<const D: usize> = AdagradState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdagradState<D>>,
    ) -> (Tensor<D>, Option<AdagradState<D>>) {
        let c = &self.config;
        let mut g = grad;
        if c.weight_decay != 0.0 {
            g = g + param.clone().mul_scalar(c.weight_decay);
        }
        let (step, sum) = match state {
            Some(s) => (s.step + 1, s.sum),
            None => (1, g.full_like(c.initial_accumulator_value)),
        };
        let clr = lr / (1.0 + (step - 1) as f64 * c.lr_decay);
        let sum = sum + g.clone() * g.clone();
        let std = sum.clone().sqrt().add_scalar(c.eps);
        let param = param - (g / std).mul_scalar(clr);
        (param, Some(AdagradState { step, sum }))
    }

    fn to_device<const D: usize>(state: AdagradState<D>, device: &Device) -> AdagradState<D> {
        AdagradState {
            step: state.step,
            sum: state.sum.to_device(device),
        }
    }
}
