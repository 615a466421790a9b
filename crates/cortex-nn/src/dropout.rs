//! `Dropout`: zeroes each element with probability `p` in training, scaling the rest by
//! `1 / (1 - p)`; the identity in evaluation. Seeded: a given seed gives the same masks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::Tensor;

use crate::check;
use crate::error::{Error, Result};
use crate::param::derive_seed;

/// Configuration of [`Dropout`].
#[derive(Config, Debug, PartialEq)]
pub struct DropoutConfig {
    /// Probability of zeroing an element, in `[0, 1)`.
    pub p: f64,
    /// Seed of the masks: call `k` of `forward` uses a mask drawn from `(seed, k)`.
    #[config(default = 0)]
    pub seed: u64,
}

impl DropoutConfig {
    /// Validates the configuration and builds the layer (in training mode).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `p` is outside `[0, 1)`.
    pub fn init(&self) -> Result<Dropout> {
        check::probability("Dropout", "p", self.p)?;
        Ok(Dropout {
            p: self.p,
            seed: self.seed,
            training: Param::from_bool(true),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// Inverted dropout, as `torch.nn.Dropout`: in training (the default; [`Module::train`]) each
/// element is kept with probability `1 - p` and scaled by `1 / (1 - p)`; in evaluation
/// ([`Module::valid`]) the layer is the identity.
///
/// Masks are drawn on the host from `(seed, number of earlier calls)`, so a run is
/// reproducible on every backend; [`Dropout::calls`] and [`Dropout::set_calls`] let a resumed
/// run continue the same sequence. Clones share the call counter.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub p: f64,
    /// Seed of the masks.
    pub seed: u64,
    /// Training (masks) or evaluation (identity).
    pub training: Param<Flag>,
    #[module(skip)]
    calls: Arc<AtomicU64>,
}

impl Dropout {
    /// How many masks have been drawn.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Sets how many masks have been drawn (to resume a run).
    pub fn set_calls(&self, calls: u64) {
        self.calls.store(calls, Ordering::Relaxed);
    }

    /// Applies dropout (training) or returns `x` (evaluation).
    ///
    /// # Errors
    /// None in practice (`p` was validated by the config); the `Result` keeps the layer API
    /// uniform.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>> {
        if !self.training.is_enabled() || self.p == 0.0 {
            return Ok(x);
        }
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        cortex_ops::dropout(x, self.p, true, derive_seed(self.seed, call))
            .map_err(Error::op("Dropout"))
    }
}
