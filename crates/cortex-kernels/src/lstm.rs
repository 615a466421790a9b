//! The fused LSTM: forward over all steps, saving the gate activations, and the backward
//! through time turning them into the gradients of the gates' pre-activations.
//!
//! The input comes projected (`xw = x W_ihᵀ + b_ih`, computed by the caller: its buffer
//! becomes the tape, then `∂xw`) or raw ([`LstmInput::Raw`]): then each step's product is
//! `[x_t | h_{t-1}] · [W_ih | W_hh]ᵀ`, one GEMM of depth `I + H`, and the backward's weight
//! gradient is one GEMM for both weights. A layer's input projection is then neither a GEMM of
//! its own (of depth `I`, 28 in the bench, where a general GEMM is slow) nor a tensor of its
//! own, and `∂b_ih = ∂b_hh` is summed once.

use rayon::prelude::*;

use crate::real::{Buffer, Mat, Real, StepRhs, matmul_uninit, spare};
use crate::recurrence::{Dims, chunks_or_empty, column_sums};
use crate::simd::simd_fn;

/// What the LSTM reads at each step.
#[derive(Debug)]
pub enum LstmInput<'a, T> {
    /// `xw [B, T, 4H]`: the input projection `x W_ihᵀ + b_ih`, gate blocks i, f, g, o; its
    /// buffer becomes the activation tape.
    Projected(Buffer<T>),
    /// `x [B, T, inputs]` and `w_ih [4H, inputs]` (inputs > 0): the projection is part of
    /// every step's product.
    Raw {
        /// The input, `[B, T, inputs]`.
        x: &'a [T],
        /// The input weights, `[4H, inputs]`.
        w_ih: &'a [T],
        /// Features of one step's input.
        inputs: usize,
    },
}

/// The LSTM's forward results.
#[derive(Debug, Clone)]
pub struct LstmForward<T> {
    /// `[B, T+1, H]`: the hidden state of every step, then the final cell state.
    pub out: Vec<T>,
    /// Tape (empty unless saved): the activations `i, f, g, o` of every step `[B, T, 4H]`
    /// (in the projected input's buffer, when it came projected).
    pub acts: Buffer<T>,
    /// Tape: the cell state of every step `[B, T, H]`.
    pub cells: Vec<T>,
    /// Tape: what each step multiplied by the weights, `[B, T, inputs + H]`: its input (raw
    /// input only) and the hidden state it read (`h0` or the previous step's).
    pub z: Vec<T>,
    /// Features of one step's raw input (0 when it came projected).
    pub inputs: usize,
}

/// LSTM over `input` (see [`LstmInput`]), `w_hh [4H, H]`, `bias [4H]` (`b_hh`, or
/// `b_ih + b_hh` for a raw input), `h0`, `c0 [B, H]`; saves the tape of
/// [`lstm_backward`] with `save`.
pub fn lstm_forward<T: Real>(
    dims: Dims,
    input: LstmInput<'_, T>,
    w_hh: &[T],
    bias: &[T],
    h0: &[T],
    c0: &[T],
    save: bool,
) -> LstmForward<T> {
    let Dims {
        batch,
        steps,
        hidden: h,
        ..
    } = dims;
    let (g4, rows) = (4 * h, dims.chunk_rows());
    let ostride = (steps + 1) * h;
    let chunks = batch.div_ceil(rows);
    // Internal invariants of the callers (`cortex-autodiff` checks the shapes first); checked
    // here because the outputs below are not zero-filled: a short input would leave values
    // unwritten.
    let input_fits = match &input {
        LstmInput::Projected(xw) => xw.as_slice().len() == batch * steps * g4,
        LstmInput::Raw { x, w_ih, inputs } => {
            *inputs > 0 && x.len() == batch * steps * inputs && w_ih.len() == g4 * inputs
        }
    };
    assert!(
        input_fits
            && w_hh.len() == g4 * h
            && bias.len() == g4
            && h0.len() == batch * h
            && c0.len() == batch * h,
        "fused LSTM: inputs do not match {dims:?}"
    );
    let (mut projected, x, w_cat, inputs) = match input {
        LstmInput::Projected(xw) => (Some(xw), &[][..], None, 0),
        LstmInput::Raw { x, w_ih, inputs } => {
            let w_cat = side_by_side(w_ih, inputs, w_hh, h);
            (None, x, Some(w_cat), inputs)
        }
    };
    let depth = inputs + h;
    // [W_ih | W_hh]ᵀ (or W_hhᵀ), packed once straight from the weights for every step.
    let rhs = StepRhs::new(
        Mat::transposed(w_cat.as_deref().unwrap_or(w_hh), depth),
        depth,
        g4,
    );
    let tape_len = if save { batch * steps * h } else { 0 };
    let lens = [
        batch * steps * g4,
        batch * ostride,
        tape_len,
        if save { batch * steps * depth } else { 0 },
    ];
    // The pre-activations of a raw input, the outputs and the tape are written straight into
    // fresh allocations, not zero-filled first (a `memset` of a few MiB per training step, on
    // the thread that then waits for the workers: 3% of the LSTM's profile): `forward_chunk`
    // writes every value of them before reading it (each step's product writes its rows of
    // the pre-activations without reading them; every step's hidden state and the final cell
    // state; each step's cell state and `[x_t | h_{t-1}]` row).
    let [mut fresh_acts, mut out, mut cells, mut z] = lens.map(Vec::<T>::with_capacity);
    let acts_values: &mut [T] = match &mut projected {
        Some(xw) => xw.as_mut_slice(),
        // SAFETY: written before read (above); `set_len` only after the writes.
        None => unsafe { spare(&mut fresh_acts, lens[0]) },
    };
    // SAFETY: as above.
    let (out_values, cells_values, z_values) = unsafe {
        (
            spare(&mut out, lens[1]),
            spare(&mut cells, lens[2]),
            spare(&mut z, lens[3]),
        )
    };
    let cells_chunks = chunks_or_empty(cells_values, rows * steps * h, chunks);
    let z_chunks = chunks_or_empty(z_values, rows * steps * depth, chunks);
    let x_chunks: Vec<&[T]> = if inputs == 0 {
        vec![&[]; chunks]
    } else {
        x.chunks(rows * steps * inputs).collect()
    };
    let step = Step {
        dims,
        inputs,
        rhs: &rhs,
        bias,
        save,
    };
    out_values
        .par_chunks_mut(rows * ostride)
        .zip(acts_values.par_chunks_mut(rows * steps * g4))
        .zip(cells_chunks.into_par_iter().zip(z_chunks))
        .zip(h0.par_chunks(rows * h).zip(c0.par_chunks(rows * h)))
        .zip(x_chunks)
        .for_each(|((((out, acts), (cells, z)), (h0, c0)), x)| {
            forward_chunk(&step, x, h0, c0, acts, cells, z, out)
        });
    // SAFETY: every value of the four buffers was written by the chunks above.
    unsafe {
        out.set_len(lens[1]);
        cells.set_len(lens[2]);
        z.set_len(lens[3]);
    }
    let acts = match (save, projected) {
        (false, _) => Buffer::empty(),
        (true, Some(xw)) => xw,
        (true, None) => {
            // SAFETY: as above.
            unsafe { fresh_acts.set_len(lens[0]) };
            Buffer::new(burn::tensor::TensorData::new(
                fresh_acts,
                [batch, steps, g4],
            ))
        }
    };
    LstmForward {
        out,
        acts,
        cells,
        z,
        inputs,
    }
}

/// `[a | b]` `[rows × (a_cols + b_cols)]`: the row-major `a` and `b` side by side.
fn side_by_side<T: Real>(a: &[T], a_cols: usize, b: &[T], b_cols: usize) -> Vec<T> {
    let mut both = Vec::with_capacity(a.len() + b.len());
    for (a, b) in a.chunks(a_cols).zip(b.chunks(b_cols)) {
        both.extend_from_slice(a);
        both.extend_from_slice(b);
    }
    both
}

/// What every chunk of [`lstm_forward`] shares.
struct Step<'a, T> {
    dims: Dims,
    inputs: usize,
    rhs: &'a StepRhs<'a, T>,
    bias: &'a [T],
    save: bool,
}

simd_fn! {
    /// One chunk of rows over all steps (see [`lstm_forward`]).
    fn forward_chunk<T: Real>(
        step: &Step<'_, T>,
        x: &[T],
        h0: &[T],
        c0: &[T],
        acts: &mut [T],
        cells: &mut [T],
        z: &mut [T],
        out: &mut [T],
    ) {
        let Dims { steps, hidden: h, .. } = step.dims;
        let (inputs, bias) = (step.inputs, step.bias);
        let (g4, ostride, nb, depth) = (4 * h, (steps + 1) * h, h0.len() / h, inputs + h);
        let mut tanh_c = vec![T::ZERO; h];
        let mut c_state = c0.to_vec();
        // Without a tape, each step's `[x_t | h_{t-1}]` rows are built in a scratch block.
        let mut scratch = vec![T::ZERO; if step.save { 0 } else { nb * depth }];
        for t in step.dims.order() {
            let (lhs, first, stride): (&mut [T], usize, usize) = if step.save {
                (&mut *z, t * depth, steps * depth)
            } else {
                (&mut scratch, 0, depth)
            };
            for b in 0..nb {
                let row = &mut lhs[first + b * stride..][..depth];
                row[..inputs].copy_from_slice(&x[(b * steps + t) * inputs..][..inputs]);
                row[inputs..].copy_from_slice(match step.dims.previous(t) {
                    Some(p) => &out[b * ostride + p * h..][..h],
                    None => &h0[b * h..][..h],
                });
            }
            // The step's pre-activations (but the bias): [x_t | h_{t-1}] [W_ih | W_hh]ᵀ, or
            // h_{t-1} W_hhᵀ added to the projected input, in place.
            let lhs = Mat::rows(&lhs[first..], stride);
            // A projected input (no raw features) is added to; raw pre-activations are written.
            step.rhs.product(&mut acts[t * g4..], steps * g4, nb, lhs, inputs == 0);
            for b in 0..nb {
                let act = &mut acts[(b * steps + t) * g4..][..g4];
                T::sigmoid_shifted(&mut act[..2 * h], &bias[..2 * h]);
                T::tanh_shifted(&mut act[2 * h..3 * h], &bias[2 * h..3 * h]);
                T::sigmoid_shifted(&mut act[3 * h..], &bias[3 * h..]);
                let (i, rest) = act.split_at(h);
                let (f, rest) = rest.split_at(h);
                let (g, o) = rest.split_at(h);
                let c = &mut c_state[b * h..][..h];
                cell_update(i, f, g, c);
                if step.save {
                    cells[(b * steps + t) * h..][..h].copy_from_slice(c);
                }
                T::tanh(c, &mut tanh_c);
                gated(o, &tanh_c, &mut out[b * ostride + t * h..][..h]);
            }
        }
        for b in 0..nb {
            out[b * ostride + steps * h..][..h].copy_from_slice(&c_state[b * h..][..h]);
        }
    }
}

/// `c ← f ⊙ c + i ⊙ g`. A function of its own so that its slices are known not to overlap
/// (inlined into the vectorised caller, the loop vectorises).
#[inline(always)]
fn cell_update<T: Real>(i: &[T], f: &[T], g: &[T], c: &mut [T]) {
    for (((c, &i), &f), &g) in c.iter_mut().zip(i).zip(f).zip(g) {
        *c = f * *c + i * g;
    }
}

/// `out = o ⊙ tanh_c`.
#[inline(always)]
fn gated<T: Real>(o: &[T], tanh_c: &[T], out: &mut [T]) {
    for ((out, &o), &tc) in out.iter_mut().zip(o).zip(tanh_c) {
        *out = o * tc;
    }
}

/// The LSTM's gradients.
#[derive(Debug)]
pub struct LstmGrads<T> {
    /// `∂xw [B, T, 4H]` for a projected input (in the activations' buffer); `∂x [B, T, I]`
    /// for a raw one when asked for, else `None`.
    pub d_input: Option<Buffer<T>>,
    /// `∂W_ih [4H, I]` (raw input; empty when projected).
    pub d_w_ih: Vec<T>,
    /// `∂W_hh [4H, H]`.
    pub d_w_hh: Vec<T>,
    /// `∂b [4H]`: the gradient of `b_hh` and of `b_ih` alike.
    pub d_b: Vec<T>,
    /// `∂h0 [B, H]`.
    pub d_h0: Vec<T>,
    /// `∂c0 [B, H]`.
    pub d_c0: Vec<T>,
}

/// Backward through time of [`lstm_forward`] from the gradient of its `out`; `tape` is its
/// result, `w_ih` the raw input's weights (empty when projected); `input_grad` asks for `∂x`
/// of a raw input.
pub fn lstm_backward<T: Real>(
    dims: Dims,
    d_out: &[T],
    tape: LstmForward<T>,
    [w_ih, w_hh]: [&[T]; 2],
    c0: &[T],
    input_grad: bool,
) -> LstmGrads<T> {
    let Dims {
        batch,
        steps,
        hidden: h,
        ..
    } = dims;
    let (g4, rows) = (4 * h, dims.chunk_rows());
    let ostride = (steps + 1) * h;
    // Internal invariants of the callers, as in the forward.
    assert!(
        d_out.len() == batch * ostride
            && w_hh.len() == g4 * h
            && w_ih.len() == g4 * tape.inputs
            && c0.len() == batch * h
            && tape.acts.as_slice().len() == batch * steps * g4
            && tape.z.len() == batch * steps * (tape.inputs + h),
        "fused LSTM backward: inputs do not match {dims:?}"
    );
    let rhs = StepRhs::new(Mat::rows(w_hh, h), g4, h);
    let LstmForward {
        acts: mut d_gates_buffer,
        cells,
        z,
        inputs,
        ..
    } = tape;
    let mut d_h0 = vec![T::ZERO; batch * h];
    let mut d_c0 = vec![T::ZERO; batch * h];
    let d_gates = d_gates_buffer.as_mut_slice();
    let d_b = d_gates
        .par_chunks_mut(rows * steps * g4)
        .zip(
            d_h0.par_chunks_mut(rows * h)
                .zip(d_c0.par_chunks_mut(rows * h)),
        )
        .zip(d_out.par_chunks(rows * ostride))
        .zip(
            cells
                .par_chunks(rows * steps * h)
                .zip(c0.par_chunks(rows * h)),
        )
        .map(|(((d_gates, (d_h, d_c)), d_out), (cells, c0))| {
            backward_chunk(dims, &rhs, c0, d_out, cells, d_gates, d_h, d_c);
            // This chunk's share of ∂b, summed on its own thread.
            let mut d_b = vec![T::ZERO; g4];
            column_sums(&mut d_b, d_gates, g4, 0);
            d_b
        })
        .reduce_with(|mut d_b, other| {
            d_b.iter_mut().zip(&other).for_each(|(a, &b)| *a += b);
            d_b
        })
        .unwrap_or_else(|| vec![T::ZERO; g4]);
    let depth = inputs + h;
    // [∂W_ih | ∂W_hh] = Σ ∂gatesᵀ [x_t | h_{t-1}]: one GEMM for both, written straight into
    // a fresh allocation (a product that does not accumulate writes every value).
    let mut d_w = Vec::with_capacity(g4 * depth);
    let d_gates_t = Mat::transposed(&*d_gates, g4);
    let count = batch * steps;
    let z_rows = Mat::rows(&z, depth);
    let d_w_values = &mut d_w.spare_capacity_mut()[..g4 * depth];
    matmul_uninit(
        d_w_values,
        depth,
        [g4, depth, count],
        d_gates_t,
        z_rows,
        true,
    );
    // SAFETY: `matmul_uninit` wrote all `g4 · depth` values.
    unsafe { d_w.set_len(g4 * depth) };
    let (d_input, d_w_ih, d_w_hh) = if inputs == 0 {
        (Some(d_gates_buffer), Vec::new(), d_w)
    } else {
        let (mut d_w_ih, mut d_w_hh) =
            (Vec::with_capacity(g4 * inputs), Vec::with_capacity(g4 * h));
        for row in d_w.chunks(depth) {
            d_w_ih.extend_from_slice(&row[..inputs]);
            d_w_hh.extend_from_slice(&row[inputs..]);
        }
        let d_x = input_grad.then(|| {
            // ∂x = ∂gates W_ih, [B·T, 4H] × [4H, I], written straight into a fresh allocation.
            let len = batch * steps * inputs;
            let mut d_x = Vec::with_capacity(len);
            let (lhs, rhs) = (Mat::rows(&*d_gates, g4), Mat::rows(w_ih, inputs));
            let d_x_values = &mut d_x.spare_capacity_mut()[..len];
            matmul_uninit(d_x_values, inputs, [count, inputs, g4], lhs, rhs, true);
            // SAFETY: `matmul_uninit` wrote all `len` values.
            unsafe { d_x.set_len(len) };
            Buffer::new(burn::tensor::TensorData::new(d_x, [batch, steps, inputs]))
        });
        (d_x, d_w_ih, d_w_hh)
    };
    LstmGrads {
        d_input,
        d_w_ih,
        d_w_hh,
        d_b,
        d_h0,
        d_c0,
    }
}

simd_fn! {
    /// One chunk of rows over all steps, backwards: `acts` (the activations) becomes the
    /// gates' gradient; `d_h`, `d_c` (zeros on entry) carry the state gradients and end as
    /// `d_h0`, `d_c0`.
    fn backward_chunk<T: Real>(
        dims: Dims,
        rhs: &StepRhs<'_, T>,
        c0: &[T],
        d_out: &[T],
        cells: &[T],
        acts: &mut [T],
        d_h: &mut [T],
        d_c: &mut [T],
    ) {
        let Dims { steps, hidden: h, .. } = dims;
        let (g4, ostride, nb) = (4 * h, (steps + 1) * h, d_h.len() / h);
        let mut tc = vec![T::ZERO; h];
        for b in 0..nb {
            d_c[b * h..][..h].copy_from_slice(&d_out[b * ostride + steps * h..][..h]);
        }
        for t in dims.order().rev() {
            for b in 0..nb {
                T::tanh(&cells[(b * steps + t) * h..][..h], &mut tc);
                let c_prev = match dims.previous(t) {
                    Some(p) => &cells[(b * steps + p) * h..][..h],
                    None => &c0[b * h..][..h],
                };
                let act = &mut acts[(b * steps + t) * g4..][..g4];
                let (i, rest) = act.split_at_mut(h);
                let (f, rest) = rest.split_at_mut(h);
                let (g, o) = rest.split_at_mut(h);
                let d_hidden = &d_out[b * ostride + t * h..][..h];
                let carry_h = &d_h[b * h..][..h];
                let carry_c = &mut d_c[b * h..][..h];
                gate_gradients(i, f, g, o, [&tc, c_prev, d_hidden, carry_h], carry_c);
            }
            // dh_{t-1} = dGates_t · W_hh
            rhs.product(d_h, h, nb, Mat::rows(&acts[t * g4..], steps * g4), false);
        }
    }
}

/// One row of one step backwards: the activations `i, f, g, o` become the gradients of their
/// pre-activations, `carry_c` (∂c_t on entry) becomes ∂c_{t-1}. A function of its own so that
/// its slices are known not to overlap: inlined into the vectorised caller, the loop
/// vectorises (as one body over shared slices it stayed scalar).
/// The read-only rows are `[tanh c_t, c_{t-1}, ∂h_t from above, ∂h_t carried]`.
#[inline(always)]
fn gate_gradients<T: Real>(
    i: &mut [T],
    f: &mut [T],
    g: &mut [T],
    o: &mut [T],
    [tc, c_prev, d_hidden, carry_h]: [&[T]; 4],
    carry_c: &mut [T],
) {
    let h = carry_c.len();
    let (i, f, g, o) = (&mut i[..h], &mut f[..h], &mut g[..h], &mut o[..h]);
    let (tc, c_prev, d_hidden, carry_h) = (&tc[..h], &c_prev[..h], &d_hidden[..h], &carry_h[..h]);
    for j in 0..h {
        let (ij, fj, gj, oj) = (i[j], f[j], g[j], o[j]);
        let dh = d_hidden[j] + carry_h[j];
        let dc = carry_c[j] + dh * oj * (T::ONE - tc[j] * tc[j]);
        i[j] = dc * gj * ij * (T::ONE - ij);
        f[j] = dc * c_prev[j] * fj * (T::ONE - fj);
        g[j] = dc * ij * (T::ONE - gj * gj);
        o[j] = dh * tc[j] * oj * (T::ONE - oj);
        carry_c[j] = dc * fj;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn values(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    /// A raw input through `[x_t | h_{t-1}] [W_ih | W_hh]ᵀ` gives the outputs and gradients of
    /// the same LSTM over the projected input `x W_ihᵀ + b_ih` (every gradient: `∂x` from
    /// `∂xw W_ih`, `∂W_ih` from `∂xwᵀ x`, `∂b_ih = ∂b_hh`), both directions, an odd batch: in
    /// f64 (the general GEMM) and in f32 with 4H a multiple of 16 (the packed microkernel).
    #[test]
    fn raw_input_matches_the_projected_one() {
        raw_matches_projected::<f64>(3, 1e-12);
        raw_matches_projected::<f32>(8, 2e-5);
    }

    fn raw_matches_projected<T: Real>(hidden: usize, tolerance: f64) {
        let (batch, steps, inputs) = (5, 4, 3);
        let g4 = 4 * hidden;
        let values = |n, seed| -> Vec<T> { values(n, seed).into_iter().map(T::from_f64).collect() };
        for reverse in [false, true] {
            let dims = Dims {
                batch,
                steps,
                hidden,
                reverse,
            };
            let x = values(batch * steps * inputs, 1);
            let (w_ih, w_hh) = (values(g4 * inputs, 2), values(g4 * hidden, 3));
            let (b_ih, b_hh) = (values(g4, 4), values(g4, 5));
            let (h0, c0) = (values(batch * hidden, 6), values(batch * hidden, 7));
            let d_out = values(batch * (steps + 1) * hidden, 8);
            let mut xw = vec![T::ZERO; batch * steps * g4];
            for (r, row) in xw.chunks_mut(g4).enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = b_ih[j];
                    for k in 0..inputs {
                        *v += x[r * inputs + k] * w_ih[j * inputs + k];
                    }
                }
            }
            let xw = Buffer::new(TensorData::new(xw, [batch, steps, g4]));
            let bias: Vec<T> = b_ih.iter().zip(&b_hh).map(|(&a, &b)| a + b).collect();
            let raw_input = LstmInput::Raw {
                x: &x,
                w_ih: &w_ih,
                inputs,
            };
            let raw = lstm_forward(dims, raw_input, &w_hh, &bias, &h0, &c0, true);
            let projected =
                lstm_forward(dims, LstmInput::Projected(xw), &w_hh, &b_hh, &h0, &c0, true);
            let close = |a: &[T], b: &[T], what: &str| {
                assert_eq!(a.len(), b.len(), "{what}");
                for (i, (a, b)) in a.iter().zip(b).enumerate() {
                    let (a, b) = (a.as_f64(), b.as_f64());
                    assert!(
                        (a - b).abs() < tolerance,
                        "{what}[{i}]: {a} vs {b} ({reverse})"
                    );
                }
            };
            close(&raw.out, &projected.out, "out");
            let (raw_grads, projected_grads) = (
                lstm_backward(dims, &d_out, raw, [&w_ih, &w_hh], &c0, true),
                lstm_backward(dims, &d_out, projected, [&[], &w_hh], &c0, false),
            );
            let d_xw = projected_grads.d_input.expect("∂xw");
            let d_xw = d_xw.as_slice();
            let (mut d_x, mut d_w_ih) = (vec![T::ZERO; x.len()], vec![T::ZERO; w_ih.len()]);
            for (r, row) in d_xw.chunks(g4).enumerate() {
                for (j, &d) in row.iter().enumerate() {
                    for k in 0..inputs {
                        d_x[r * inputs + k] += d * w_ih[j * inputs + k];
                        d_w_ih[j * inputs + k] += d * x[r * inputs + k];
                    }
                }
            }
            close(raw_grads.d_input.expect("∂x").as_slice(), &d_x, "∂x");
            close(&raw_grads.d_w_ih, &d_w_ih, "∂W_ih");
            close(&raw_grads.d_w_hh, &projected_grads.d_w_hh, "∂W_hh");
            close(&raw_grads.d_b, &projected_grads.d_b, "∂b");
            close(&raw_grads.d_h0, &projected_grads.d_h0, "∂h0");
            close(&raw_grads.d_c0, &projected_grads.d_c0, "∂c0");
            assert!(projected_grads.d_w_ih.is_empty());
        }
    }
}
