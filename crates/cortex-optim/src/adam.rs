//! Adam (with AMSGrad) and AdamW (decoupled weight decay), step for step as
//! `torch.optim.Adam` / `torch.optim.AdamW`.

use burn::config::Config;
use burn::optim::{Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};

use crate::error::{Result, non_negative, positive, unit_interval};
use crate::state::{push, push_count, push_opt, take, take_count};

macro_rules! adam_config {
    ($(#[$doc:meta])* $config:ident, $name:literal, weight_decay = $wd:literal) => {
        $(#[$doc])*
        #[derive(Config, Debug, PartialEq)]
        pub struct $config {
            /// Learning rate (finite, >= 0).
            #[config(default = 0.001)]
            pub lr: f64,
            /// Decay rates of the first and second moment, each in `[0, 1)`.
            #[config(default = "[0.9, 0.999]")]
            pub betas: [f64; 2],
            /// Added to the denominator (finite, > 0).
            #[config(default = 1e-8)]
            pub eps: f64,
            /// Weight decay (finite, >= 0).
            #[config(default = $wd)]
            pub weight_decay: f64,
            /// Use the maximum of past second moments (AMSGrad).
            #[config(default = false)]
            pub amsgrad: bool,
        }

        impl $config {
            /// Checks every hyper-parameter.
            ///
            /// # Errors
            /// [`crate::Error::InvalidConfig`] for a negative or non-finite lr or weight
            /// decay, betas outside `[0, 1)`, or eps ≤ 0.
            pub fn validate(&self) -> Result<()> {
                non_negative($name, "lr", self.lr)?;
                unit_interval($name, "betas[0]", self.betas[0])?;
                unit_interval($name, "betas[1]", self.betas[1])?;
                positive($name, "eps", self.eps)?;
                non_negative($name, "weight_decay", self.weight_decay)
            }
        }
    };
}

adam_config!(
    /// Configuration of Adam: the weight decay is an L2 penalty added to the gradient.
    AdamConfig, "Adam", weight_decay = 0.0
);
adam_config!(
    /// Configuration of AdamW: the weight decay shrinks the parameters directly,
    /// `p ← p (1 - η λ)`, before the Adam step.
    AdamWConfig, "AdamW", weight_decay = 0.01
);

impl AdamConfig {
    /// The validated optimizer.
    ///
    /// # Errors
    /// As [`AdamConfig::validate`].
    pub fn build(&self) -> Result<Adam> {
        self.validate()?;
        Ok(Adam::new(
            self.betas,
            self.eps,
            self.weight_decay,
            false,
            self.amsgrad,
        ))
    }
}

impl AdamWConfig {
    /// The validated optimizer.
    ///
    /// # Errors
    /// As [`AdamWConfig::validate`].
    pub fn build(&self) -> Result<Adam> {
        self.validate()?;
        Ok(Adam::new(
            self.betas,
            self.eps,
            self.weight_decay,
            true,
            self.amsgrad,
        ))
    }
}

/// Adam/AdamW: `m ← β₁m + (1-β₁)g`, `v ← β₂v + (1-β₂)g²`,
/// `p ← p - η/(1-β₁ᵗ) · m / (√v̂/√(1-β₂ᵗ) + ε)` with `v̂ = v` or `max(v̂, v)` (AMSGrad).
#[derive(Debug, Clone)]
pub struct Adam {
    betas: [f64; 2],
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    amsgrad: bool,
}

impl Adam {
    fn new(betas: [f64; 2], eps: f64, weight_decay: f64, decoupled: bool, amsgrad: bool) -> Self {
        Self {
            betas,
            eps,
            weight_decay,
            decoupled,
            amsgrad,
        }
    }
}

/// Per-parameter state of [`Adam`].
#[derive(Debug, Clone)]
pub struct AdamState<const D: usize> {
    /// Steps taken, `t`.
    pub step: u64,
    /// First moment `m`.
    pub exp_avg: Tensor<D>,
    /// Second moment `v`.
    pub exp_avg_sq: Tensor<D>,
    /// Largest second moment so far (AMSGrad only).
    pub max_exp_avg_sq: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for AdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_count(out, prefix, "step", self.step);
        push(out, prefix, "exp_avg", &self.exp_avg);
        push(out, prefix, "exp_avg_sq", &self.exp_avg_sq);
        push_opt(out, prefix, "max_exp_avg_sq", &self.max_exp_avg_sq);
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_count(src, prefix, "step")?,
            exp_avg: take(src, prefix, "exp_avg", device)?,
            exp_avg_sq: take(src, prefix, "exp_avg_sq", device)?,
            max_exp_avg_sq: take(src, prefix, "max_exp_avg_sq", device),
        })
    }
}

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: f64,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let [b1, b2] = self.betas;
        let mut param = param;
        let mut g = grad;
        if self.weight_decay != 0.0 {
            if self.decoupled {
                param = param.mul_scalar(1.0 - lr * self.weight_decay);
            } else {
                g = g + param.clone().mul_scalar(self.weight_decay);
            }
        }
        let (step, m, v, v_max) = match state {
            Some(s) => (s.step, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq),
            None => (0, g.zeros_like(), g.zeros_like(), None),
        };
        let step = step + 1;
        let m = m.mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
        let v = v.mul_scalar(b2) + (g.clone() * g).mul_scalar(1.0 - b2);
        let bias1 = 1.0 - b1.powi(step.min(i32::MAX as u64) as i32);
        let bias2_sqrt = (1.0 - b2.powi(step.min(i32::MAX as u64) as i32)).sqrt();
        let (second, v_max) = if self.amsgrad {
            let max = match v_max {
                Some(previous) => previous.max_pair(v.clone()),
                None => v.clone(),
            };
            (max.clone(), Some(max))
        } else {
            (v.clone(), None)
        };
        let denom = second.sqrt().div_scalar(bias2_sqrt).add_scalar(self.eps);
        let param = param - (m.clone() / denom).mul_scalar(lr / bias1);
        let state = AdamState {
            step,
            exp_avg: m,
            exp_avg_sq: v,
            max_exp_avg_sq: v_max,
        };
        (param, Some(state))
    }

    fn to_device<const D: usize>(state: AdamState<D>, device: &Device) -> AdamState<D> {
        AdamState {
            step: state.step,
            exp_avg: state.exp_avg.to_device(device),
            exp_avg_sq: state.exp_avg_sq.to_device(device),
            max_exp_avg_sq: state.max_exp_avg_sq.map(|t| t.to_device(device)),
        }
    }
}
