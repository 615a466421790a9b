//! The recurrences as burn's composed tensor ops: the path of [`super::fused_lstm`] and
//! [`super::fused_gru`] on every device without the CPU kernels (wgpu, cuda, …). Same math,
//! one autodiff node per tensor op; burn-autodiff differentiates it.

use burn::tensor::Tensor;
use cortex_ops::{sigmoid, tanh};

use super::{GruSequence, LstmSequence};

/// The step order: `0..T`, or `T-1` down to 0 when `reverse`.
fn order(steps: usize, reverse: bool) -> Vec<usize> {
    if reverse {
        (0..steps).rev().collect()
    } else {
        (0..steps).collect()
    }
}

/// Step `t` of the projected input, `[B, width]`.
fn step_input(xw: &Tensor<3>, t: usize) -> Tensor<2> {
    let [batch, _, width] = xw.dims();
    xw.clone().narrow(1, t, 1).reshape([batch, width])
}

/// `[i, f, g, o] = xw_t + h W_hhᵀ + b_hh`, `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')`.
pub(super) fn lstm(
    xw: Tensor<3>,
    w_hh: Tensor<2>,
    b_hh: Tensor<1>,
    h0: Tensor<2>,
    c0: Tensor<2>,
    reverse: bool,
) -> LstmSequence {
    let [_, steps, width] = xw.dims();
    let hidden = width / 4;
    let w_t = w_hh.transpose();
    let bias = b_hh.reshape([1, width]);
    let (mut h, mut c) = (h0, c0);
    let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
    for t in order(steps, reverse) {
        let gates = step_input(&xw, t) + h.matmul(w_t.clone()) + bias.clone();
        let block = |k: usize| gates.clone().narrow(1, k * hidden, hidden);
        let (i, f, g, o) = (
            sigmoid(block(0)),
            sigmoid(block(1)),
            tanh(block(2)),
            sigmoid(block(3)),
        );
        c = f * c + i * g;
        h = o * tanh(c.clone());
        outputs[t] = Some(h.clone());
    }
    LstmSequence {
        output: Tensor::stack(outputs.into_iter().flatten().collect(), 1),
        h,
        c,
    }
}

/// `r = σ(xw_r + h W_hrᵀ + b_hr)`, `z = σ(xw_z + h W_hzᵀ + b_hz)`,
/// `n = tanh(xw_n + r ⊙ (h W_hnᵀ + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
pub(super) fn gru(
    xw: Tensor<3>,
    w_hh: Tensor<2>,
    b_hh: Tensor<1>,
    h0: Tensor<2>,
    reverse: bool,
) -> GruSequence {
    let [_, steps, width] = xw.dims();
    let hidden = width / 3;
    let w_t = w_hh.transpose();
    let bias = b_hh.reshape([1, width]);
    let mut h = h0;
    let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
    for t in order(steps, reverse) {
        let x = step_input(&xw, t);
        let hw = h.clone().matmul(w_t.clone()) + bias.clone();
        let block = |m: &Tensor<2>, k: usize| m.clone().narrow(1, k * hidden, hidden);
        let r = sigmoid(block(&x, 0) + block(&hw, 0));
        let z = sigmoid(block(&x, 1) + block(&hw, 1));
        let n = tanh(block(&x, 2) + r * block(&hw, 2));
        h = z.clone().neg().add_scalar(1.0) * n + z * h;
        outputs[t] = Some(h.clone());
    }
    GruSequence {
        output: Tensor::stack(outputs.into_iter().flatten().collect(), 1),
        h,
    }
}
