//! # Cortex
//!
//! A deep-learning toolkit in layered crates on burn's backends. This facade re-exports each
//! crate under a short name:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`core`] | `cortex-core` | shared error pieces, CPU backends by name, crash-safe writes |
//! | [`kernels`] | `cortex-kernels` | hand-written CPU kernels on slices, the measured fp32 peak |
//! | [`ops`] | `cortex-ops` | shape-checked functional tensor ops returning `Result` |
//! | [`autodiff`] | `cortex-autodiff` | gradients and gradient checking |
//! | [`nn`] | `cortex-nn` | layers as burn modules |
//! | [`optim`] | `cortex-optim` | optimizers, schedules, clipping |
//! | [`data`] | `cortex-data` | datasets, preprocessing, batching |
//! | [`train`] | `cortex-train` | the training loop |
//!
//! Devices: every API takes the burn [`Device`](burn::tensor::Device) it is given. burn's flex
//! (default) and ndarray CPU backends are always compiled in; the `wgpu`, `vulkan` and `cuda`
//! features forward to burn's GPU backends. Programs name a device with
//! [`device::device_from_name`] (`flex`, `ndarray`, `wgpu`, `cuda:1`, …). Hand-written CPU
//! kernels run on flex and ndarray; on every other device the same ops run as burn's composed
//! tensor ops.
//!
//! A complete run — data, preprocessing fitted on the training split, model, training with
//! validation, test:
//!
//! ```
//! use cortex::prelude::*;
//!
//! let iris = bundled::iris()?;
//! let parts = split(iris.len(), &SplitConfig::new(0.6, 0.2, 0.2).stratified(), iris.class_ids())?;
//! let mut train = iris.select(&parts.train)?;
//! let mut valid = iris.select(&parts.validation)?;
//! let mut test = iris.select(&parts.test)?;
//! let scale = Standardizer::fit(&train)?;
//! for part in [&mut train, &mut valid, &mut test] {
//!     scale.transform(part)?;
//! }
//! let config = TrainerConfig::new(AdamConfig::new().with_lr(0.02))
//!     .with_epochs(20)
//!     .with_batch_size(16)
//!     .with_quiet(true);
//! let trainer = Trainer::new(config, &Device::flex())?;
//! let model = MlpConfig::new(4, vec![16], 3).init(&trainer.device())?;
//! let forward = |m: &cortex::nn::Mlp, b: TabularBatch| {
//!     let (x, y) = b.into_classes()?;
//!     Output::classification(m.forward(x)?, y)
//! };
//! let fitted = trainer.fit(model, &train, &valid, forward)?;
//! let accuracy = trainer.evaluate(&fitted.model, &test, forward)?.summary()["accuracy"];
//! assert!(accuracy > 0.8, "{accuracy}");
//! # Ok::<(), cortex::train::Error>(())
//! ```
//!
//! The functional ops stand on their own too:
//!
//! ```
//! use cortex::ops;
//! use cortex::burn::tensor::Tensor;
//!
//! let device = cortex::device::device_from_name("flex").unwrap();
//! let x = Tensor::<2>::from_floats([[-1.0, 2.0]], &device);
//! let y = ops::softmax(ops::relu(x), -1)?;
//! assert_eq!(y.dims(), [1, 2]);
//! # Ok::<(), ops::Error>(())
//! ```

pub use burn;
pub use cortex_autodiff as autodiff;

pub mod device;

/// The README's code samples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The names a training program needs, in one `use cortex::prelude::*;`.
pub mod prelude {
    pub use crate::Precision;
    pub use crate::burn::module::Module;
    pub use crate::burn::tensor::{DType, Device, Int, Tensor};
    pub use crate::data::{
        BatchSampler, BatchSamplerConfig, CsvOptions, Dataset, ImageBatch, ImageDataset, Pipeline,
        SequenceBatch, SplitConfig, Standardizer, TabularBatch, TabularDataset, ToBatch, bundled,
        read_csv, split, windows,
    };
    pub use crate::device::{NamedDevice, device_from_name};
    pub use crate::nn::{
        Activation, BatchNormConfig, Conv2dConfig, DropoutConfig, Flatten, GruConfig,
        LayerNormConfig, LinearConfig, LstmConfig, MaxPool2dConfig, MlpConfig, Padding,
    };
    pub use crate::optim::{
        AdamConfig, AdamWConfig, GradClipping, LrSchedule, OptimizerConfig, SgdConfig,
    };
    pub use crate::train::{Goal, Metric, Metrics, Output, Trainer, TrainerConfig};
}
pub use cortex_core as core;
pub use cortex_core::{Backend, Precision};
pub use cortex_data as data;
pub use cortex_kernels as kernels;
pub use cortex_nn as nn;
pub use cortex_ops as ops;
pub use cortex_optim as optim;
pub use cortex_train as train;
