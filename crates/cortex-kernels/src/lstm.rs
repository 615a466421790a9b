//! The fused LSTM: forward over all steps, saving the gate activations in place of the
//! projected input, and the backward through time turning them into the gradient of that
//! input.

use rayon::prelude::*;

use crate::real::{Buffer, Mat, Real, StepRhs};
use crate::recurrence::{Dims, chunks_or_empty, column_sums, weight_gradient};
use crate::simd::simd_fn;

/// The LSTM's forward results.
#[derive(Debug, Clone)]
pub struct LstmForward<T> {
    /// `[B, T+1, H]`: the hidden state of every step, then the final cell state.
    pub out: Vec<T>,
    /// Tape (empty unless saved): the activations `i, f, g, o` of every step `[B, T, 4H]`
    /// (in the projected input's buffer).
    pub acts: Buffer<T>,
    /// Tape: the cell state of every step `[B, T, H]`.
    pub cells: Vec<T>,
    /// Tape: the hidden state each step read `[B, T, H]` (`h0` or the previous step's).
    pub h_prev: Vec<T>,
}

/// LSTM over `xw [B, T, 4H]` (the input projection with `b_ih`, gate blocks i, f, g, o; its
/// buffer becomes the activation tape), `w_hh [4H, H]`, `b_hh [4H]`, `h0`, `c0 [B, H]`.
pub fn lstm_forward<T: Real>(
    dims: Dims,
    xw: Buffer<T>,
    w_hh: &[T],
    b_hh: &[T],
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
    // W_hhᵀ, packed once straight from W_hh for every step's product.
    let rhs = StepRhs::new(Mat::transposed(w_hh, h), h, g4);
    let mut acts = xw;
    let acts_values = acts.as_mut_slice();
    let mut out = vec![T::ZERO; batch * ostride];
    let tape_len = if save { batch * steps * h } else { 0 };
    let (mut cells, mut h_prev) = (vec![T::ZERO; tape_len], vec![T::ZERO; tape_len]);
    let cells_chunks = chunks_or_empty(&mut cells, rows * steps * h, chunks);
    let h_prev_chunks = chunks_or_empty(&mut h_prev, rows * steps * h, chunks);
    out.par_chunks_mut(rows * ostride)
        .zip(acts_values.par_chunks_mut(rows * steps * g4))
        .zip(cells_chunks.into_par_iter().zip(h_prev_chunks))
        .zip(h0.par_chunks(rows * h).zip(c0.par_chunks(rows * h)))
        .for_each(|(((out, acts), (cells, h_prev)), (h0, c0))| {
            forward_chunk(dims, &rhs, b_hh, h0, c0, acts, cells, h_prev, out, save)
        });
    if !save {
        acts = Buffer::empty();
    }
    LstmForward {
        out,
        acts,
        cells,
        h_prev,
    }
}

simd_fn! {
    /// One chunk of rows over all steps (see [`lstm_forward`]).
    fn forward_chunk<T: Real>(
        dims: Dims,
        rhs: &StepRhs<'_, T>,
        b_hh: &[T],
        h0: &[T],
        c0: &[T],
        acts: &mut [T],
        cells: &mut [T],
        h_prev: &mut [T],
        out: &mut [T],
        save: bool,
    ) {
        let Dims { steps, hidden: h, .. } = dims;
        let (g4, ostride, nb) = (4 * h, (steps + 1) * h, h0.len() / h);
        let mut tanh_c = vec![T::ZERO; h];
        let mut c_state = c0.to_vec();
        for t in dims.order() {
            let lhs = match dims.previous(t) {
                Some(p) => Mat::rows(&out[p * h..], ostride),
                None => Mat::rows(h0, h),
            };
            if save {
                for b in 0..nb {
                    let row = &lhs.data[b * lhs.row_stride..][..h];
                    h_prev[(b * steps + t) * h..][..h].copy_from_slice(row);
                }
            }
            // The step's pre-activations, in place of its projected input: xw_t + h_{t-1} W_hhᵀ
            // (b_hh is added by the activations below).
            rhs.product(&mut acts[t * g4..], steps * g4, nb, lhs, true);
            for b in 0..nb {
                let act = &mut acts[(b * steps + t) * g4..][..g4];
                T::sigmoid_shifted(&mut act[..2 * h], &b_hh[..2 * h]);
                T::tanh_shifted(&mut act[2 * h..3 * h], &b_hh[2 * h..3 * h]);
                T::sigmoid_shifted(&mut act[3 * h..], &b_hh[3 * h..]);
                let (i, rest) = act.split_at(h);
                let (f, rest) = rest.split_at(h);
                let (g, o) = rest.split_at(h);
                let c = &mut c_state[b * h..][..h];
                cell_update(i, f, g, c);
                if save {
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

/// The LSTM's gradients: `d_xw [B, T, 4H]` and `[d_w_hh [4H, H], d_b_hh [4H], d_h0 [B, H],
/// d_c0 [B, H]]`.
pub type LstmGrads<T> = (Buffer<T>, [Vec<T>; 4]);

/// Backward through time of [`lstm_forward`] from the gradient of its `out`; `tape` is its
/// result (the activations' buffer becomes `d_xw`).
pub fn lstm_backward<T: Real>(
    dims: Dims,
    d_out: &[T],
    tape: LstmForward<T>,
    w_hh: &[T],
    c0: &[T],
) -> LstmGrads<T> {
    let Dims {
        batch,
        steps,
        hidden: h,
        ..
    } = dims;
    let (g4, rows) = (4 * h, dims.chunk_rows());
    let ostride = (steps + 1) * h;
    let rhs = StepRhs::new(Mat::rows(w_hh, h), g4, h);
    let LstmForward {
        acts: mut d_xw_buffer,
        cells,
        h_prev,
        ..
    } = tape;
    let mut d_h0 = vec![T::ZERO; batch * h];
    let mut d_c0 = vec![T::ZERO; batch * h];
    let d_xw = d_xw_buffer.as_mut_slice();
    d_xw.par_chunks_mut(rows * steps * g4)
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
        .for_each(|(((d_xw, (d_h, d_c)), d_out), (cells, c0))| {
            backward_chunk(dims, &rhs, c0, d_out, cells, d_xw, d_h, d_c)
        });
    let mut d_w = vec![T::ZERO; g4 * h];
    weight_gradient(&dims, &mut d_w, g4, Mat::transposed(d_xw, g4), &h_prev);
    let mut d_b = vec![T::ZERO; g4];
    column_sums(&mut d_b, d_xw, g4, 0);
    (d_xw_buffer, [d_w, d_b, d_h0, d_c0])
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
