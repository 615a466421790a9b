//! `Dropout`: zeroes each element with probability `p` in training, scaling the rest by
//! `1 / (1 - p)`; the identity in evaluation. Seeded: a given seed gives the same masks.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::Tensor;
use cortex_ops::random::{mix, step_draw, stream};

use crate::check;
use crate::error::{Error, Result};
use crate::param::derive_seed;
use crate::seed::layer_seed;

/// Configuration of [`Dropout`].
#[derive(Config, Debug, PartialEq)]
pub struct DropoutConfig {
    /// Probability of zeroing an element, in `[0, 1)`.
    pub p: f64,
    /// Seed of the masks; `None` (the default) takes the next seed of the model seed
    /// ([`crate::seeded`]).
    pub seed: Option<u64>,
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
            seed: layer_seed(self.seed),
            training: Param::from_bool(true),
            calls: Arc::new(AtomicU64::new(0)),
        })
    }
}

/// Inverted dropout, as `torch.nn.Dropout`: in training (the default; [`Module::train`]) each
/// element is kept with probability `1 - p` and scaled by `1 / (1 - p)`; in evaluation
/// ([`Module::valid`]) the layer is the identity.
///
/// Inside a training step of a run (`cortex_ops::random::in_step`, which the trainer
/// installs) each mask is drawn from the run context — `(run seed, epoch, step, draw)` mixed
/// with this layer's seed — so a resumed run draws the masks of the uninterrupted one.
/// Called by hand outside a step, masks come from `(seed, number of earlier calls)`
/// ([`Dropout::calls`], [`Dropout::set_calls`]); clones share that counter.
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
    /// How many masks have been drawn outside a training step.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Sets how many masks have been drawn outside a training step.
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
        let seed = step_draw(mix(stream::DROPOUT, self.seed))
            .unwrap_or_else(|| derive_seed(self.seed, self.calls.fetch_add(1, Ordering::Relaxed)));
        cortex_ops::dropout(x, self.p, true, seed).map_err(Error::op("Dropout"))
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;
    use cortex_ops::random::{StepKey, in_step};

    use super::*;

    fn mask(layer: &Dropout, key: Option<StepKey>) -> Vec<f32> {
        let x = Tensor::<1>::ones([64], &Device::flex());
        let y = match key {
            Some(key) => in_step(key, || layer.forward(x)),
            None => layer.forward(x),
        };
        y.map(|y| y.into_data().iter::<f32>().collect())
            .unwrap_or_default()
    }

    #[test]
    fn inside_a_step_the_mask_depends_on_the_step_not_on_earlier_calls() {
        let layer = DropoutConfig::new(0.5).with_seed(Some(3)).init().unwrap();
        let key = StepKey::new(1, 2, 3);
        let first = mask(&layer, Some(key));
        // Calls outside the step (or other steps) do not move the step's masks.
        mask(&layer, None);
        mask(&layer, Some(StepKey::new(1, 2, 4)));
        assert_eq!(mask(&layer, Some(key)), first);
        assert_ne!(mask(&layer, Some(StepKey::new(1, 2, 4))), first);
        assert_ne!(mask(&layer, Some(StepKey::new(2, 2, 3))), first);
        // A fresh layer with the same seed draws the same mask in the same step.
        let twin = DropoutConfig::new(0.5).with_seed(Some(3)).init().unwrap();
        assert_eq!(mask(&twin, Some(key)), first);
        // Outside a step the layer's own counter advances.
        assert_ne!(mask(&twin, None), mask(&twin, None));
    }
}
