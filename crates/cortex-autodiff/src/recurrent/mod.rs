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

impl LstmSequence {
    /// The kernel's `[B, T+1, H]` output (every hidden state, then the final cell state) as
    /// the sequence and its final state.
    fn split(out: Tensor<3>, [batch, steps, hidden]: [usize; 3], reverse: bool) -> Self {
        let output = out.clone().narrow(1, 0, steps);
        let c = out.narrow(1, steps, 1).reshape([batch, hidden]);
        Self {
            h: last(&output, reverse),
            output,
            c,
        }
    }
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
/// `xw` is the projected input `[B, T, gates·H]`, or with `w_ih` the raw input `[B, T, I]`
/// of a layer whose `w_ih` is `[gates·H, I]` (I > 0).
fn check(
    op: &'static str,
    gates: usize,
    xw: &Tensor<3>,
    w_ih: Option<&Tensor<2>>,
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
    let (x_arg, expected_width) = match w_ih {
        None => ("xw", format!("{rows}")),
        Some(_) => ("x", "I > 0".to_string()),
    };
    let width_fits = match w_ih {
        None => width == rows,
        Some(_) => width > 0,
    };
    if batch == 0 || steps == 0 || !width_fits {
        return Err(shape_error(
            x_arg,
            format!("[B > 0, T > 0, {expected_width}]"),
            xw.dims().to_vec(),
        ));
    }
    if let Some(w_ih) = w_ih
        && w_ih.dims() != [rows, width]
    {
        return Err(shape_error(
            "w_ih",
            format!("[{rows}, {width}] (w_hh's rows, x's features)"),
            w_ih.dims().to_vec(),
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
    // Every other tensor: the dtype and device of the input.
    let others: Vec<(&'static str, &Tensor<2>)> = w_ih
        .map(|w| ("w_ih", w))
        .into_iter()
        .chain([("w_hh", w_hh)])
        .chain(states.iter().copied())
        .collect();
    let dtype = xw.dtype();
    for (arg, got) in others.iter().map(|(name, t)| (*name, t.dtype())) {
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
        let invalid = InvalidValue::new(op, x_arg, "a float tensor", got);
        return Err(cortex_ops::Error::InvalidArgument(invalid));
    }
    let device = xw.device();
    for (arg, got) in others.iter().map(|(name, t)| (*name, t.device())) {
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
    let states = [("h0", &h0), ("c0", &c0)];
    let (batch, steps, hidden) = check("fused_lstm", 4, &xw, None, &w_hh, &states)?;
    let b_hh = bias("fused_lstm", "b_hh", b_hh, &xw, 4 * hidden)?;
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
    Ok(LstmSequence::split(out, [batch, steps, hidden], reverse))
}

/// A whole LSTM layer fused into one autodiff node: [`fused_lstm`] with the input projection
/// inside.
///
/// `x [B, T, I]`, `w_ih [4H, I]`: each step computes
/// `[i, f, g, o] = x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh` and the cell as [`fused_lstm`] does. On
/// the CPU kernels the two products are one, `[x_t | h] · [W_ih | W_hh]ᵀ`, and the backward's
/// weight gradients one GEMM for both: no projected input `[B, T, 4H]` is built, and `∂x` is
/// computed only when `x` needs it. `b_ih` and `b_hh` may be `None`.
///
/// # Errors
/// As [`fused_lstm`], with `x [B, T, I]` (B, T, I > 0), `w_ih [4H, I]` and `b_ih [4H]`.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use cortex_autodiff::fused_lstm_layer;
///
/// let device = Device::flex();
/// let (b, t, i, h) = (2, 5, 4, 3);
/// let x = Tensor::<3>::ones([b, t, i], &device);
/// let w_ih = Tensor::<2>::zeros([4 * h, i], &device);
/// let w_hh = Tensor::<2>::zeros([4 * h, h], &device);
/// let zeros = Tensor::<2>::zeros([b, h], &device);
/// let seq = fused_lstm_layer(x, w_ih, None, w_hh, None, zeros.clone(), zeros, false)?;
/// // Zero weights: every gate is σ(0) = ½ or tanh(0) = 0, so the states stay 0.
/// assert_eq!(seq.h.into_data().try_to_vec::<f32>().unwrap(), vec![0.0; b * h]);
/// # Ok::<(), cortex_ops::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn fused_lstm_layer(
    x: Tensor<3>,
    w_ih: Tensor<2>,
    b_ih: Option<Tensor<1>>,
    w_hh: Tensor<2>,
    b_hh: Option<Tensor<1>>,
    h0: Tensor<2>,
    c0: Tensor<2>,
    reverse: bool,
) -> Result<LstmSequence> {
    const OP: &str = "fused_lstm_layer";
    let states = [("h0", &h0), ("c0", &c0)];
    let (batch, steps, hidden) = check(OP, 4, &x, Some(&w_ih), &w_hh, &states)?;
    let b_ih = bias(OP, "b_ih", b_ih, &x, 4 * hidden)?;
    let b_hh = bias(OP, "b_hh", b_hh, &x, 4 * hidden)?;
    if !fused_recurrence_supported(&x.device()) {
        let xw = crate::linear::fused_linear(x, w_ih, Some(b_ih))?;
        return Ok(composed::lstm(xw, w_hh, b_hh, h0, c0, reverse));
    }
    let out = Tensor::<3>::from_dispatch(<Dispatch as FusedRecurrentOps>::lstm_layer(
        x.into_dispatch(),
        w_ih.into_dispatch(),
        b_ih.into_dispatch(),
        w_hh.into_dispatch(),
        b_hh.into_dispatch(),
        h0.into_dispatch(),
        c0.into_dispatch(),
        reverse,
    ));
    Ok(LstmSequence::split(out, [batch, steps, hidden], reverse))
}

/// A bias, checked (`[rows]`, the dtype and device of `xw`), or zeros.
fn bias(
    op: &'static str,
    arg: &'static str,
    b_hh: Option<Tensor<1>>,
    xw: &Tensor<3>,
    rows: usize,
) -> Result<Tensor<1>> {
    let b_hh = match b_hh {
        Some(b) if b.dims() != [rows] => {
            return Err(cortex_ops::Error::ShapeMismatch {
                op,
                arg,
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
            arg,
            expected: format!("{:?}", xw.dtype()),
            got: format!("{:?}", b_hh.dtype()),
        });
    }
    let (device, got) = (xw.device(), b_hh.device());
    if got != device || got.is_autodiff() != device.is_autodiff() {
        return Err(cortex_ops::Error::DeviceMismatch {
            op,
            arg,
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
    let (_, _, hidden) = check("fused_gru", 3, &xw, None, &w_hh, &[("h0", &h0)])?;
    let b_hh = bias("fused_gru", "b_hh", b_hh, &xw, 3 * hidden)?;
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
