//! # cortex-kernels
//!
//! Cortex's hand-written CPU kernels, on plain slices: a speed path for burn's flex and
//! ndarray backends, never a requirement (every op that uses them has a composed fallback in
//! `cortex-autodiff`, which wraps them as burn backend extensions with their backward).
//!
//! - [`lstm`] and [`gru`]: whole-sequence recurrences, forward and backward through time,
//!   the batch split across rayon's pool (the math is in `docs/math.md`, "Fused
//!   recurrences"), sharing [`Dims`] and the weight-gradient GEMM.
//! - [`conv`]: 2-D convolution forward and backward (input, weight, bias gradients) as
//!   im2col + GEMM in NCHW, the batch split across rayon's pool.
//! - [`pool`]: 2-D max pooling forward (with its arg-max) and backward.
//! - [`norm`]: batch normalization in training mode, forward and backward, a statistics pass
//!   per channel and one fused elementwise pass each.
//! - [`linear`]: the linear layer `x Wᵀ + b` and its three gradients, each product split
//!   across rayon's pool.
//! - [`microkernel`]: an AVX-512 / AVX2 + FMA f32 GEMM for the small per-step products.
//! - [`Real`]: the float types the kernels compute in (f32, f64) with their vectorised
//!   activations ([`sigmoid_in_place`] and [`relu_in_place`] for the fused sigmoid and ReLU),
//!   and [`Buffer`], a tensor's storage used in place.
//! - [`peak`]: the CPU's fp32 peak, measured (an FMA throughput probe), for the benchmark's
//!   percentages of peak.
//! - [`simd`]: the one run-time dispatch every loop goes through (AVX-512 or AVX2 + FMA where
//!   the CPU has them, the baseline build elsewhere; `CORTEX_SIMD` caps it).
//!
//! ```
//! use burn::tensor::TensorData;
//! use cortex_kernels::{Buffer, Dims, gru};
//!
//! // One sequence of one step, hidden size 1, zero weights: h' = (1 − z) n + z h with
//! // r = z = σ(0) = ½ and n = tanh(x_n) for the projected input x = [0, 0, 1].
//! let dims = Dims { batch: 1, steps: 1, hidden: 1, reverse: false };
//! let xw = Buffer::<f64>::new(TensorData::new(vec![0.0, 0.0, 1.0], [1, 1, 3]));
//! let run = gru::gru_forward(dims, xw, &[0.0; 3], &[0.0; 3], &[0.0], false);
//! assert!((run.out[0] - 0.5 * 1f64.tanh()).abs() < 1e-12);
//! ```

#![warn(missing_docs)]

pub mod conv;
pub mod gru;
pub mod linear;
pub mod lstm;
pub mod microkernel;
pub mod norm;
pub mod peak;
pub mod pool;
mod real;
mod recurrence;
pub mod simd;
mod team;

pub use real::{Buffer, Real, relu_in_place, sigmoid_in_place};
pub use recurrence::Dims;
