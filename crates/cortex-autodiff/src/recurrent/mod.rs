//! Fused LSTM and GRU sequences with a hand-written backward through time.
//!
//! Composed from tensor ops, an LSTM over `T` steps records ~20 autodiff nodes per step (a
//! slice of the projected input, a matmul, four gate slices and activations, the cell update)
//! and its backward writes a zero-filled full-size gradient for every slice. The fused
//! sequence is one node: its forward runs each step as one GEMM `h_{t-1} · W_hhᵀ` for all
//! gates plus one elementwise pass, saving the gate activations; its backward runs the
//! recurrence backwards the same way and gets `∂W_hh` from one GEMM over every step. The
//! batch is split across the rayon pool (each thread a whole sequence of its rows).
//!
//! The kernels themselves are `cortex-kernels`' (plain slices); this module makes them burn
//! backend extensions with a tape and a backward. They run on burn's flex and ndarray backends, with or without autodiff
//! ([`fused_recurrence_supported`]); on every other device `fused_lstm` and `fused_gru`
//! compute the same recurrence from burn's composed tensor ops (`composed.rs`). f64 tensors
//! are computed in f64, every other float dtype in f32.

mod composed;
mod ops;

use burn::backend::Dispatch;
use burn::tensor::{DType, Device, Tensor};

use cortex_ops::InvalidValue;
use cortex_ops::Result;
pub use ops::FusedRecurrentOps;

/// Whether [`fused_lstm`] and [`fused_gru`] run on `device`: burn's flex or ndarray CPU
/// backend, with or without autodiff.
pub fn fused_recurrence_supported(device: &Device) -> bool {
    crate::cpu_kernels_supported(device)
}

/// All hidden states and the final state of an LSTM sequence.
#[derive(Debug, Clone)]
pub struct LstmSequence {
    /// The hidden state after every step, `[B, T, H]` (indexed by time, also when reversed).
    pub output: Tensor<3>,
    /// The hidden state after the last step computed, `[B, H]`.
    pub h: Tensor<2>,
    /// The cell state after the last step computed, `[B, H]`.
    pub c: Tensor<2>,
}

/// All hidden states and the final state of a GRU sequence.
#[derive(Debug, Clone)]
pub struct GruSequence {
    /// The hidden state after every step, `[B, T, H]` (indexed by time, also when reversed).
    pub output: Tensor<3>,
    /// The hidden state after the last step computed, `[B, H]`.
    pub h: Tensor<2>,
}

/// Checks the shared shapes, dtypes and device of a fused sequence; returns `(B, T, H)`.
fn check(
    op: &'static str,
    gates: usize,
    xw: &Tensor<3>,
    w_hh: &Tensor<2>,
    states: &[(&'static str, &Tensor<2>)],
) -> Result<(usize, usize, usize)> {
    let [batch, steps, width] = xw.dims();
    let [rows, hidden] = w_hh.dims();
    let shape_error = |arg, expected: String, got: Vec<usize>| cortex_ops::Error::ShapeMismatch {
        op,
        arg,
        expected,
        got,
    };
    if hidden == 0 || rows != gates * hidden {
        return Err(shape_error(
            "w_hh",
            format!("[{gates}·H, H] with H > 0"),
            vec![rows, hidden],
        ));
    }
    if batch == 0 || steps == 0 || width != rows {
        return Err(shape_error(
            "xw",
            format!("[B > 0, T > 0, {rows}]"),
            xw.dims().to_vec(),
        ));
    }
    for (name, state) in states {
        if state.dims() != [batch, hidden] {
            return Err(shape_error(
                name,
                format!("[{batch}, {hidden}]"),
                state.dims().to_vec(),
            ));
        }
    }
    let dtype = xw.dtype();
    let others = [("w_hh", w_hh.dtype())]
        .into_iter()
        .chain(states.iter().map(|(name, s)| (*name, s.dtype())));
    for (arg, got) in others {
        if got != dtype {
            return Err(cortex_ops::Error::DTypeMismatch {
                op,
                arg,
                expected: format!("{dtype:?}"),
                got: format!("{got:?}"),
            });
        }
    }
    if !matches!(
        dtype,
        DType::F64 | DType::F32 | DType::F16 | DType::BF16 | DType::Flex32
    ) {
        let got = format!("{dtype:?}");
        let invalid = InvalidValue::new(op, "xw", "a float tensor", got);
        return Err(cortex_ops::Error::InvalidArgument(invalid));
    }
    let device = xw.device();
    let others = std::iter::once(("w_hh", w_hh.device()))
        .chain(states.iter().map(|(n, s)| (*n, s.device())));
    for (arg, got) in others {
        if got != device || got.is_autodiff() != device.is_autodiff() {
            return Err(cortex_ops::Error::DeviceMismatch {
                op,
                arg,
                expected: format!("{device:?}"),
                got: format!("{got:?}"),
            });
        }
    }
    Ok((batch, steps, hidden))
}

/// The hidden state after the last step computed: step `T-1`, or step 0 when `reverse`.
fn last(output: &Tensor<3>, reverse: bool) -> Tensor<2> {
    let [batch, steps, hidden] = output.dims();
    let t = if reverse { 0 } else { steps - 1 };
    output.clone().narrow(1, t, 1).reshape([batch, hidden])
}

/// An LSTM layer's recurrence over the projected input, fused into one autodiff node.
///
/// `xw [B, T, 4H]` is `x W_ihᵀ + b_ih` (gate blocks i, f, g, o, PyTorch's order); each step
/// computes `[i, f, g, o] = xw_t + h W_hhᵀ + b_hh`, `c' = σ(f) c + σ(i) tanh(g)`,
/// `h' = σ(o) tanh(c')`. With `reverse` the steps run from `T-1` down to 0. `b_hh` may be
/// `None` (no hidden bias).
///
/// # Errors
/// `ShapeMismatch` unless `w_hh` is `[4H, H]`, `xw` `[B, T, 4H]` (B, T, H > 0), `b_hh` `[4H]`
/// and `h0`, `c0` `[B, H]`; `DTypeMismatch` for mixed dtypes; `InvalidArgument` for tensors
/// on different devices.
///
/// On a device without the CPU kernels ([`fused_recurrence_supported`] false: wgpu, cuda, …)
/// the same recurrence runs as burn's composed tensor ops.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_autodiff::fused_lstm;
///
/// let device = Device::flex();
/// let (b, t, h) = (2, 5, 3);
/// let xw = Tensor::<3>::ones([b, t, 4 * h], &device);
/// let w_hh = Tensor::<2>::zeros([4 * h, h], &device);
/// let zeros = Tensor::<2>::zeros([b, h], &device);
/// let seq = fused_lstm(xw, w_hh, None, zeros.clone(), zeros, false)?;
/// assert_eq!(seq.output.dims(), [b, t, h]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
pub fn fused_lstm(
    xw: Tensor<3>,
    w_hh: Tensor<2>,
    b_hh: Option<Tensor<1>>,
    h0: Tensor<2>,
    c0: Tensor<2>,
    reverse: bool,
) -> Result<LstmSequence> {
    let (batch, steps, hidden) = check("fused_lstm", 4, &xw, &w_hh, &[("h0", &h0), ("c0", &c0)])?;
    let b_hh = hidden_bias("fused_lstm", b_hh, &xw, 4 * hidden)?;
    if !fused_recurrence_supported(&xw.device()) {
        return Ok(composed::lstm(xw, w_hh, b_hh, h0, c0, reverse));
    }
    let out = Tensor::<3>::from_dispatch(<Dispatch as FusedRecurrentOps>::lstm_sequence(
        xw.into_dispatch(),
        w_hh.into_dispatch(),
        b_hh.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
        reverse,
    ));
    let output = out.clone().narrow(1, 0, steps);
    let c = out.narrow(1, steps, 1).reshape([batch, hidden]);
    Ok(LstmSequence {
        h: last(&output, reverse),
        output,
        c,
    })
}

/// The hidden bias, checked (`[rows]`, the dtype and device of `xw`), or zeros.
fn hidden_bias(
    op: &'static str,
    b_hh: Option<Tensor<1>>,
    xw: &Tensor<3>,
    rows: usize,
) -> Result<Tensor<1>> {
    let b_hh = match b_hh {
        Some(b) if b.dims() != [rows] => {
            return Err(cortex_ops::Error::ShapeMismatch {
                op,
                arg: "b_hh",
                expected: format!("[{rows}]"),
                got: b.dims().to_vec(),
            });
        }
        Some(b) => b,
        None => return Ok(Tensor::zeros([rows], (&xw.device(), xw.dtype()))),
    };
    if b_hh.dtype() != xw.dtype() {
        return Err(cortex_ops::Error::DTypeMismatch {
            op,
            arg: "b_hh",
            expected: format!("{:?}", xw.dtype()),
            got: format!("{:?}", b_hh.dtype()),
        });
    }
    let (device, got) = (xw.device(), b_hh.device());
    if got != device || got.is_autodiff() != device.is_autodiff() {
        return Err(cortex_ops::Error::DeviceMismatch {
            op,
            arg: "b_hh",
            expected: format!("{device:?}"),
            got: format!("{got:?}"),
        });
    }
    Ok(b_hh)
}

/// A GRU layer's recurrence over the projected input, fused into one autodiff node.
///
/// `xw [B, T, 3H]` is `x W_ihᵀ + b_ih` (blocks r, z, n); each step computes
/// `r = σ(xw_r + W_hr h + b_hr)`, `z = σ(xw_z + W_hz h + b_hz)`,
/// `n = tanh(xw_n + r ⊙ (W_hn h + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h` (PyTorch's GRU).
/// `b_hh` may be `None` (no hidden bias).
///
/// # Errors
/// As [`fused_lstm`], with `w_hh [3H, H]`, `xw [B, T, 3H]`, `b_hh [3H]`, `h0 [B, H]`.
pub fn fused_gru(
    xw: Tensor<3>,
    w_hh: Tensor<2>,
    b_hh: Option<Tensor<1>>,
    h0: Tensor<2>,
    reverse: bool,
) -> Result<GruSequence> {
    let (_, _, hidden) = check("fused_gru", 3, &xw, &w_hh, &[("h0", &h0)])?;
    let b_hh = hidden_bias("fused_gru", b_hh, &xw, 3 * hidden)?;
    if !fused_recurrence_supported(&xw.device()) {
        return Ok(composed::gru(xw, w_hh, b_hh, h0, reverse));
    }
    let output = Tensor::<3>::from_dispatch(<Dispatch as FusedRecurrentOps>::gru_sequence(
        xw.into_dispatch(),
        w_hh.into_dispatch(),
        b_hh.into_dispatch(),
        h0.into_dispatch(),
        reverse,
    ));
    Ok(GruSequence {
        h: last(&output, reverse),
        output,
    })
}
