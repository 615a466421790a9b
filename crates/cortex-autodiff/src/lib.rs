//! # cortex-autodiff
//!
//! Gradients you can trust, on top of burn-autodiff:
//!
//! - [`value_and_grad`]: a function's value and gradient in one call;
//! - [`GradCheck`]: autodiff gradients against central finite differences in f64, with
//!   PyTorch's tolerances (eps 1e-6, atol 1e-5, rtol 1e-3), on a random upstream gradient,
//!   reporting the worst element of each input; a fast mode compares `vᵀ J u`;
//!   [`GradCheck::check_module`] also checks every parameter of a burn `Module`;
//! - the registry of [`GradCase`]s: every differentiable op of `cortex-ops` declares its
//!   sample inputs once ([`op_cases`]); tests, property tests and `cargo xtask check-grads`
//!   run them;
//! - fused losses with hand-written backward passes ([`fused_cross_entropy`],
//!   [`fused_binary_cross_entropy_with_logits`]), stable at |logit| = 1000; the fused f32
//!   sigmoid ([`fused_sigmoid`], vectorised on the CPU backends) and ReLU ([`fused_relu`], in
//!   place, in parts across threads); the fused linear layer
//!   ([`fused_linear`]: `∂W` from its own GEMM, contiguous in PyTorch's `[out, in]` layout);
//!   the fused convolutions ([`fused_conv2d`], [`fused_conv1d`]: im2col + GEMM in NCHW with a
//!   hand-written backward); the fused max pooling ([`fused_max_pool2d`], [`fused_max_pool1d`]:
//!   the arg-max kept for the backward); the fused batch normalization ([`fused_batch_norm`]:
//!   a statistics pass per channel and one fused elementwise pass, each way).
//!
//! ```
//! use burn::tensor::Device;
//! use cortex_autodiff::{GradCheck, op_cases};
//!
//! let case = op_cases().into_iter().find(|c| c.name == "gelu/batch1").unwrap();
//! let report = case.check(&GradCheck::default(), &Device::flex())?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), cortex_autodiff::Error>(())
//! ```

#![warn(missing_docs)]

// The fused activation implements ndarray too (see `fused`).
#[allow(deprecated)]
mod activation;
mod args;
mod cases;
// The fused convolution implements ndarray too (see `fused`).
#[allow(deprecated)]
mod conv;
mod error;
// burn marks ndarray deprecated; Cortex keeps it a first-class backend, so the fused ops
// implement it too.
#[allow(deprecated)]
mod fused;
mod gradcheck;
// The kernels' host reads implement ndarray too (see `fused`).
#[allow(deprecated)]
mod kernels;
// The fused linear implements ndarray too (see `fused`).
#[allow(deprecated)]
mod linear;
mod module_check;
// The fused batch normalization implements ndarray too (see `fused`).
#[allow(deprecated)]
mod norm;
// The fused max pooling implements ndarray too (see `fused`).
#[allow(deprecated)]
mod pool;
// The fused recurrences implement ndarray too (see `fused`).
#[allow(deprecated)]
mod recurrent;
mod registry;
mod value_and_grad;

pub use activation::{FusedActivationOps, fused_relu, fused_sigmoid};
pub use args::{Args, Flatten, Input};
pub use cases::op_cases;
pub use conv::{FusedConvOps, fused_conv1d, fused_conv2d};
pub use error::{Cause, Error, InvalidValue, Result};
pub use fused::{FusedLossOps, fused_binary_cross_entropy_with_logits, fused_cross_entropy};
pub use gradcheck::{ElementReport, GradCheck, GradCheckReport, InputReport};
pub use kernels::cpu_kernels_supported;
pub use linear::{FusedLinearOps, fused_linear};
pub use norm::{FusedNormOps, fused_batch_norm};
pub use pool::{FusedPoolOps, fused_max_pool1d, fused_max_pool2d};
pub use recurrent::{
    FusedRecurrentOps, GruSequence, LstmSequence, fused_gru, fused_lstm, fused_lstm_layer,
    fused_recurrence_supported,
};
pub use registry::{CaseEvaluation, CaseFn, GradCase, sample};
pub use value_and_grad::value_and_grad;
