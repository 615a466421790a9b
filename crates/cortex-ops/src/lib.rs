//! # cortex-ops
//!
//! Functional, backend-generic tensor operations on burn 0.22's `Tensor<D>`: activations,
//! losses, linear algebra, convolution, pooling, normalization, embedding, dropout, flatten
//! and initializers — each checking its inputs and returning a typed [`Error`] rather than
//! letting a burn assertion panic.
//!
//! Conventions follow PyTorch (weight layouts, reductions, label smoothing, running
//! statistics), verified against PyTorch's own float64 values by the workspace's oracle test.
//! Parameter-free elementwise activations accept any tensor and so return it directly; every
//! other op returns [`Result`].
//!
//! ```
//! use burn::tensor::{Device, Int, Tensor};
//! use cortex_ops::{cross_entropy, linear, relu, CrossEntropyOptions};
//!
//! let device = Device::flex();
//! let x = Tensor::<2>::ones([4, 3], &device);
//! let w = Tensor::<2>::ones([2, 3], &device); // [out, in], as torch.nn.Linear
//! let logits = relu(linear(x, w, None)?);
//! let targets = Tensor::<1, Int>::from_ints([0, 1, 1, 0], &device);
//! let loss = cross_entropy(logits, targets, &CrossEntropyOptions::new())?;
//! assert_eq!(loss.dims(), [1]);
//! # Ok::<(), cortex_ops::Error>(())
//! ```

#![warn(missing_docs)]

mod activation;
mod check;
mod class_targets;
mod classification;
mod conv;
mod dropout;
mod embedding;
mod error;
mod init;
mod linear;
mod loss;
mod norm;
mod pool;
pub mod random;
mod shape;

pub use activation::{
    elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, softplus, tanh,
};
pub use class_targets::{ClassTargets, TargetCheck};
pub use classification::{
    CrossEntropyOptions, binary_cross_entropy_with_logits, check_binary_targets, cross_entropy,
    nll_loss,
};
pub use conv::{
    Conv1dOptions, Conv2dOptions, check_conv1d, check_conv2d, conv1d, conv2d, window_output_size,
};
pub use dropout::dropout;
pub use embedding::embedding;
pub use error::{Cause, Error, InvalidValue, Result};
pub use init::{FanMode, Initializer, Nonlinearity, fans};
pub use linear::{add, check_linear, linear, matmul};
pub use loss::{Reduction, huber_loss, mae_loss, mse_loss};
pub use norm::{BatchNormOptions, RunningStats, batch_norm, check_batch_norm, layer_norm};
pub use pool::{
    Pool1dOptions, Pool2dOptions, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, check_pool1d,
    check_pool2d, max_pool1d, max_pool2d,
};
pub use shape::flatten;

/// burn, re-exported so users name the same `Tensor` and `Device` types.
pub use burn;

#[cfg(test)]
mod testing;
