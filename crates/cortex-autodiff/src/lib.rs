//! # cortex-autodiff
//!
//! Gradients and gradient checking on top of burn-autodiff. This crate will hold
//! `value_and_grad`, `gradcheck` (central differences in f64 with PyTorch's tolerances) and
//! the registry of gradient cases that `cargo xtask check-grads` runs; it depends on
//! `cortex-ops` and burn only. Until then it exports nothing.
