//! Stochastic gradient descent with momentum, dampening, Nesterov and (coupled) weight decay,
//! step for step as `torch.optim.SGD`.

use burn::config::Config;
use burn::optim::{Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use crate::error::{Result, invalid, non_negative};
use crate::state::{push_opt, take};

/// Configuration of [`Sgd`].
#[derive(Config, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (finite, >= 0).
    #[config(default = 0.01)]
    pub lr: f64,
    /// Momentum factor (finite, >= 0); 0 disables the velocity buffer.
    #[config(default = 0.0)]
    pub momentum: f64,
    /// Dampening of the gradient added to the velocity (finite, >= 0).
    #[config(default = 0.0)]
    pub dampening: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    #[config(default = false)]
    pub nesterov: bool,
    /// L2 penalty added to the gradient, `g + λ p` (finite, >= 0).
    #[config(default = 0.0)]
    pub weight_decay: f64,
}

impl SgdConfig {
    /// Checks every hyper-parameter.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for a negative or non-finite value, or Nesterov without
    /// momentum (or with dampening).
    pub fn validate(&self) -> Result<()> {
        const W: &str = "Sgd";
        non_negative(W, "lr", self.lr)?;
        non_negative(W, "momentum", self.momentum)?;
        non_negative(W, "dampening", self.dampening)?;
        non_negative(W, "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(invalid(
                W,
                "nesterov",
                "used with momentum > 0 and dampening = 0",
                format!(
                    "true with momentum {} and dampening {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }

    /// The validated optimizer (burn's [`Optimizer`]; wrap it in a `ModuleOptimizer`).
    ///
    /// # Errors
    /// As [`SgdConfig::validate`].
    pub fn build(&self) -> Result<Sgd> {
        self.validate()?;
        Ok(Sgd {
            config: self.clone(),
        })
    }
}

/// SGD: `g ← ∇ + λp`; `b ← μb + (1-τ)g` (`b₁ = g`); `d = g + μb` (Nesterov) or `b`;
/// `p ← p - η d`.
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
}

/// Per-parameter state of [`Sgd`]: the velocity buffer.
#[derive(Debug, Clone)]
pub struct SgdState<const D: usize> {
    /// `b`, absent until the first step.
    pub momentum_buffer: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_opt(out, prefix, "momentum_buffer", &self.momentum_buffer);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            momentum_buffer: take(src, prefix, "momentum_buffer", device),
        })
    }
}

impl Optimizer for Sgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<SgdState<D>>,
    ) -> (Tensor<D>, Option<SgdState<D>>) {
        let c = &self.config;
        let mut g = grad;
        if c.weight_decay != 0.0 {
            g = g + param.clone().mul_scalar(c.weight_decay);
        }
        if c.momentum == 0.0 {
            return (param - g.mul_scalar(lr), None);
        }
        let buffer = match state.and_then(|s| s.momentum_buffer) {
            None => g.clone(),
            Some(b) => b.mul_scalar(c.momentum) + g.clone().mul_scalar(1.0 - c.dampening),
        };
        let direction = if c.nesterov {
            g + buffer.clone().mul_scalar(c.momentum)
        } else {
            buffer.clone()
        };
        let state = SgdState {
            momentum_buffer: Some(buffer),
        };
        (param - direction.mul_scalar(lr), Some(state))
    }

    fn to_device<const D: usize>(state: SgdState<D>, device: &Device) -> SgdState<D> {
        SgdState {
            momentum_buffer: state.momentum_buffer.map(|b| b.to_device(device)),
        }
    }
}
