//! # Cortex
//!
//! A deep-learning toolkit in layered crates on burn's backends. This facade re-exports each
//! crate under a short name:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`ops`] | `cortex-ops` | shape-checked functional tensor ops returning `Result` |
//! | [`autodiff`] | `cortex-autodiff` | gradients and gradient checking |
//! | [`nn`] | `cortex-nn` | layers as burn modules |
//! | [`optim`] | `cortex-optim` | optimizers, schedules, clipping |
//! | [`data`] | `cortex-data` | datasets, preprocessing, batching |
//! | [`train`] | `cortex-train` | the training loop |
//!
//! Backends: burn's flex (default) and ndarray CPU backends are compiled in; pick one at run
//! time with [`Backend`] (or `CORTEX_BACKEND=flex|ndarray`).
//!
//! ```
//! use cortex::{Backend, ops};
//! use cortex::burn::tensor::Tensor;
//!
//! let device = Backend::default().device();
//! let x = Tensor::<2>::from_floats([[-1.0, 2.0]], &device);
//! let y = ops::softmax(ops::relu(x), -1)?;
//! assert_eq!(y.dims(), [1, 2]);
//! # Ok::<(), ops::Error>(())
//! ```

pub use burn;
pub use cortex_autodiff as autodiff;

/// The names a training program needs, in one `use cortex::prelude::*;`.
pub mod prelude {
    pub use crate::burn::module::Module;
    pub use crate::burn::tensor::{DType, Device, Int, Tensor};
    pub use crate::data::{
        Batcher, BatcherConfig, CsvOptions, Dataset, ImageBatch, ImageDataset, Pipeline,
        SequenceBatch, SplitConfig, Standardizer, TabularBatch, TabularDataset, ToBatch, bundled,
        read_csv, split, windows,
    };
    pub use crate::nn::{
        Activation, BatchNormConfig, Conv2dConfig, DropoutConfig, Flatten, GruConfig,
        LayerNormConfig, LinearConfig, LstmConfig, MaxPool2dConfig, MlpConfig, Padding,
    };
    pub use crate::optim::{
        AdamConfig, AdamWConfig, GradClipping, LrSchedule, OptimizerConfig, SgdConfig,
    };
    pub use crate::train::{Goal, Metrics, Output, Trainer, TrainerConfig};
    pub use crate::{Backend, Precision};
}
pub use cortex_data as data;
pub use cortex_nn as nn;
pub use cortex_ops as ops;
pub use cortex_ops::{Backend, Precision};
pub use cortex_optim as optim;
pub use cortex_train as train;
