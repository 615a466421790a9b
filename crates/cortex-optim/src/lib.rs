//! # cortex-optim
//!
//! Optimizers that match PyTorch step for step — [`Sgd`] (momentum, dampening, Nesterov,
//! weight decay), [`Adam`] (Adam and AdamW, AMSGrad), [`RmsProp`] (centered, momentum),
//! [`Adagrad`] (lr decay, initial accumulator) — implemented on burn 0.22's
//! [`burn::optim::Optimizer`] trait, so they also run inside burn's `ModuleOptimizer`.
//! Configurations are serde and validated ([`Error::InvalidConfig`] for a negative lr,
//! betas outside `[0, 1)`, eps ≤ 0, Nesterov without momentum, ...).
//!
//! Around them: [`LrSchedule`] (step, multi-step, exponential, cosine with warm restarts,
//! linear warm-up composed with any of them), [`ReduceLrOnPlateau`], [`GradClipping`] by global
//! norm or by value, and [`Optim`], which steps a module and saves/loads its state so a run
//! resumes bit-identically.

#![warn(missing_docs)]

mod adam;
mod clip;
mod error;
mod optim;
mod plateau;
mod rmsprop;
mod schedule;
mod sgd;
mod state;

pub use adam::{Adam, AdamConfig, AdamState, AdamWConfig};
pub use clip::{GradClipping, global_norm};
pub use error::{Cause, Error, InvalidValue, Result};
pub use optim::{Optim, OptimizerConfig, on_autodiff_device};
pub use plateau::{PlateauConfig, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use rmsprop::{Adagrad, AdagradConfig, AdagradState, RmsProp, RmsPropConfig, RmsPropState};
pub use schedule::LrSchedule;
pub use sgd::{Sgd, SgdConfig, SgdState};
