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
pub use cortex_data as data;
pub use cortex_nn as nn;
pub use cortex_ops as ops;
pub use cortex_ops::{Backend, Precision};
pub use cortex_optim as optim;
pub use cortex_train as train;
