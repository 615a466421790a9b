//! `OptimizerConfig` (any optimizer, serializable) and `Optim`: a burn `ModuleOptimizer` with
//! a validated learning rate, optional clipping, and crash-safe state files.

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Bytes;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{AdamConfig, AdamWConfig};
use crate::clip::GradClipping;
use crate::error::{Cause, Error, Result, non_negative};
use crate::rmsprop::{AdagradConfig, RmsPropConfig};
use crate::sgd::SgdConfig;

/// Any optimizer of this crate, by configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// [`crate::Sgd`].
    Sgd(SgdConfig),
    /// [`crate::Adam`] with coupled weight decay.
    Adam(AdamConfig),
    /// [`crate::Adam`] with decoupled weight decay.
    AdamW(AdamWConfig),
    /// [`crate::RmsProp`].
    RmsProp(RmsPropConfig),
    /// [`crate::Adagrad`].
    Adagrad(AdagradConfig),
}

macro_rules! optimizer_from {
    ($($config:ident => $variant:ident),*) => {$(
        impl From<$config> for OptimizerConfig {
            fn from(config: $config) -> Self {
                OptimizerConfig::$variant(config)
            }
        }
    )*};
}
optimizer_from!(
    SgdConfig => Sgd,
    AdamConfig => Adam,
    AdamWConfig => AdamW,
    RmsPropConfig => RmsProp,
    AdagradConfig => Adagrad
);

impl OptimizerConfig {
    /// The configured learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::AdamW(c) => c.lr,
            OptimizerConfig::RmsProp(c) => c.lr,
            OptimizerConfig::Adagrad(c) => c.lr,
        }
    }

    /// The burn optimizer, validated, wrapped for whole modules.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for any hyper-parameter out of its domain.
    pub fn module_optimizer(&self) -> Result<ModuleOptimizer> {
        Ok(match self {
            OptimizerConfig::Sgd(c) => ModuleOptimizer::from(c.build()?),
            OptimizerConfig::Adam(c) => ModuleOptimizer::from(c.build()?),
            OptimizerConfig::AdamW(c) => ModuleOptimizer::from(c.build()?),
            OptimizerConfig::RmsProp(c) => ModuleOptimizer::from(c.build()?),
            OptimizerConfig::Adagrad(c) => ModuleOptimizer::from(c.build()?),
        })
    }

    /// Validates the configuration and builds the optimizer.
    ///
    /// # Errors
    /// As [`OptimizerConfig::module_optimizer`].
    pub fn init(&self) -> Result<Optim> {
        Ok(Optim {
            inner: self.module_optimizer()?,
            config: self.clone(),
            lr: self.lr(),
            clipping: None,
        })
    }
}

/// An optimizer ready to step a module: the learning rate (set by a schedule between steps),
/// optional gradient clipping, and state that saves and loads.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use burn::module::{Module, Param};
/// use burn::optim::GradientsParams;
/// use cortex_optim::{OptimizerConfig, SgdConfig};
///
/// #[derive(Module, Debug)]
/// struct Scale { w: Param<Tensor<1>> }
///
/// let device = Device::flex().autodiff();
/// let mut model = Scale { w: Param::from_tensor(Tensor::from_floats([2.0], &device)) };
/// let mut optim = OptimizerConfig::Sgd(SgdConfig::new().with_lr(0.5)).init()?;
/// let loss = (model.w.val() * model.w.val()).sum(); // d/dw w² = 2w = 4
/// let grads = GradientsParams::from_grads(loss.backward(), &model);
/// model = optim.step(model, grads)?;
/// assert_eq!(model.w.val().into_scalar::<f32>(), 0.0); // 2 - 0.5 · 4
/// # Ok::<(), cortex_optim::Error>(())
/// ```
#[derive(Clone)]
pub struct Optim {
    inner: ModuleOptimizer,
    config: OptimizerConfig,
    lr: f64,
    clipping: Option<GradClipping>,
}

impl std::fmt::Debug for Optim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optim")
            .field("config", &self.config)
            .field("lr", &self.lr)
            .field("clipping", &self.clipping)
            .finish_non_exhaustive()
    }
}

impl Optim {
    /// Clips the gradients before every step.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a bound that is not finite and positive.
    pub fn with_clipping(mut self, clipping: GradClipping) -> Result<Self> {
        clipping.validate()?;
        self.clipping = Some(clipping);
        Ok(self)
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// The learning rate of the next step.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    /// Sets the learning rate of the next steps (a schedule calls this).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative or non-finite rate.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        non_negative("Optim", "lr", lr)?;
        self.lr = lr;
        Ok(())
    }

    /// Clips (if configured) and applies one step to every parameter of `module` that has a
    /// gradient.
    ///
    /// # Errors
    /// [`Error::NotAutodiff`] for a module on a plain device; [`Error::NonFiniteGradient`]
    /// under norm clipping when a gradient holds NaN or inf.
    pub fn step<M: Module>(&mut self, module: M, grads: GradientsParams) -> Result<M> {
        if !on_autodiff_device(&module) {
            return Err(Error::NotAutodiff);
        }
        let grads = match &self.clipping {
            // On the CPU backends the norm is read on the host (no cost there) so a NaN/inf
            // gradient is a typed error at once; elsewhere it stays on the device.
            Some(clipping) if on_host_device(&module) => clipping.clip(&module, grads)?.0,
            Some(clipping) => clipping.clip_on_device(&module, grads)?,
            None => grads,
        };
        Ok(self.inner.step(self.lr, module, grads))
    }

    /// Saves the per-parameter state (moments, step counts) to `path`, atomically. With the
    /// model saved beside it, loading both resumes the exact trajectory. The learning rate
    /// is not saved: it belongs to the schedule.
    ///
    /// # Errors
    /// [`Error::Save`]; an earlier file at `path` stays intact.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |source: Cause| Error::Save {
            path: path.to_path_buf(),
            source,
        };
        let bytes = self.inner.into_bytes().map_err(|e| fail(Cause::new(e)))?;
        cortex_core::write_atomically(path, &bytes).map_err(|e| fail(Cause::new(e)))
    }

    /// Loads state saved by [`Optim::save`] from an optimizer of the same configuration.
    ///
    /// # Errors
    /// [`Error::Load`] for a missing or corrupt file.
    pub fn load(mut self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let fail = |source: Cause| Error::Load {
            path: path.to_path_buf(),
            source,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(Cause::new(e)))?;
        let inner = self.inner;
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.from_bytes(Bytes::from_bytes_vec(bytes))
        }))
        .map_err(|_| fail(Cause::message("the file is corrupt")))?
        .map_err(|e| fail(Cause::new(e)))?;
        self.inner = loaded;
        Ok(self)
    }
}

/// Whether every float parameter of `module` lives on an autodiff device (burn's
/// `ModuleOptimizer` panics otherwise): create modules on `device.autodiff()` to train them.
pub fn on_autodiff_device<M: Module>(module: &M) -> bool {
    every_parameter(module, Device::is_autodiff)
}

/// Whether every parameter of `module` lives on a CPU backend (flex, ndarray), where reading
/// a value back to the host costs no device synchronisation.
fn on_host_device<M: Module>(module: &M) -> bool {
    every_parameter(module, cortex_core::is_host_device)
}

/// Whether `holds` is true of the device of every float parameter of `module`.
fn every_parameter<M: Module>(module: &M, holds: impl Fn(&Device) -> bool) -> bool {
    struct Check<F> {
        holds: F,
        all: bool,
    }
    impl<F: Fn(&Device) -> bool> ModuleVisitor for Check<F> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.all &= (self.holds)(&param.val().device());
        }
    }
    let mut check = Check { holds, all: true };
    module.visit(&mut check);
    check.all
}
