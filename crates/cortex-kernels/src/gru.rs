//! The fused GRU: forward over all steps, saving the gate activations in place of the
//! projected input, and the backward through time turning them into the gradient of that
//! input.

use rayon::prelude::*;

use crate::real::{Buffer, Mat, Real, StepRhs};
use crate::recurrence::{Dims, chunks_or_empty, column_sums, weight_gradient};
use crate::simd::simd_fn;

/// The GRU's forward results.
#[derive(Debug, Clone)]
pub struct GruForward<T> {
    /// The hidden state of every step, `[B, T, H]`.
    pub out: Vec<T>,
    /// Tape (empty unless saved): `r, z, n` of every step `[B, T, 3H]` (in the projected
    /// input's buffer).
    pub acts: Buffer<T>,
    /// Tape: `q = W_hn h + b_hn` of every step `[B, T, H]`.
    pub q: Vec<T>,
    /// Tape: the hidden state each step read `[B, T, H]`.
    pub h_prev: Vec<T>,
}

/// GRU over `xw [B, T, 3H]` (input projection with `b_ih`, blocks r, z, n; its buffer becomes
/// the activation tape), `w_hh [3H, H]`, `b_hh [3H]` and `h0 [B, H]`, PyTorch's equations:
/// `r = σ(x_r + W_hr h + b_hr)`, `z = σ(x_z + W_hz h + b_hz)`,
/// `n = tanh(x_n + r ⊙ (W_hn h + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
pub fn gru_forward<T: Real>(
    dims: Dims,
    xw: Buffer<T>,
    w_hh: &[T],
    b_hh: &[T],
    h0: &[T],
    save: bool,
) -> GruForward<T> {
    let Dims {
        batch,
        steps,
        hidden: h,
        ..
    } = dims;
    let (g3, rows) = (3 * h, dims.chunk_rows());
    let chunks = batch.div_ceil(rows);
    // W_hhᵀ, packed once straight from W_hh for every step's product.
    let rhs = StepRhs::new(Mat::transposed(w_hh, h), h, g3);
    let mut acts = xw;
    let acts_values = acts.as_mut_slice();
    let mut out = vec![T::ZERO; batch * steps * h];
    let tape_len = if save { batch * steps * h } else { 0 };
    let (mut q, mut h_prev) = (vec![T::ZERO; tape_len], vec![T::ZERO; tape_len]);
    let q_chunks = chunks_or_empty(&mut q, rows * steps * h, chunks);
    let h_prev_chunks = chunks_or_empty(&mut h_prev, rows * steps * h, chunks);
    out.par_chunks_mut(rows * steps * h)
        .zip(acts_values.par_chunks_mut(rows * steps * g3))
        .zip(q_chunks.into_par_iter().zip(h_prev_chunks))
        .zip(h0.par_chunks(rows * h))
        .for_each(|(((out, acts), (q, h_prev)), h0)| {
            forward_chunk(dims, &rhs, b_hh, h0, acts, q, h_prev, out, save)
        });
    if !save {
        acts = Buffer::empty();
    }
    GruForward {
        out,
        acts,
        q,
        h_prev,
    }
}

simd_fn! {
    /// One chunk of rows over all steps (see [`gru_forward`]).
    fn forward_chunk<T: Real>(
        dims: Dims,
        rhs: &StepRhs<'_, T>,
        b_hh: &[T],
        h0: &[T],
        acts: &mut [T],
        q: &mut [T],
        h_prev: &mut [T],
        out: &mut [T],
        save: bool,
    ) {
        let Dims { steps, hidden: h, .. } = dims;
        let (g3, nb) = (3 * h, h0.len() / h);
        let mut gh = vec![T::ZERO; nb * g3];
        let mut hp = vec![T::ZERO; h];
        for t in dims.order() {
            for b in 0..nb {
                gh[b * g3..][..g3].copy_from_slice(b_hh);
            }
            let lhs = match dims.previous(t) {
                Some(p) => Mat::rows(&out[p * h..], steps * h),
                None => Mat::rows(h0, h),
            };
            if save {
                for b in 0..nb {
                    let row = &lhs.data[b * lhs.row_stride..][..h];
                    h_prev[(b * steps + t) * h..][..h].copy_from_slice(row);
                }
            }
            rhs.product(&mut gh, g3, nb, lhs, true);
            for b in 0..nb {
                let at = (b * steps + t) * h;
                hp.copy_from_slice(match dims.previous(t) {
                    Some(p) => &out[(b * steps + p) * h..][..h],
                    None => &h0[b * h..][..h],
                });
                let act = &mut acts[3 * at..][..g3];
                let gh = &mut gh[b * g3..][..g3];
                for (g, x) in gh[..2 * h].iter_mut().zip(&act[..2 * h]) {
                    *g += *x;
                }
                T::sigmoid(&gh[..2 * h], &mut act[..2 * h]);
                if save {
                    q[at..][..h].copy_from_slice(&gh[2 * h..]);
                }
                let (rz, x_n) = act.split_at_mut(2 * h);
                let pre_n = &mut gh[2 * h..];
                for j in 0..h {
                    pre_n[j] = x_n[j] + rz[j] * pre_n[j];
                }
                T::tanh(pre_n, x_n);
                let z = &rz[h..];
                let h_out = &mut out[at..][..h];
                for j in 0..h {
                    h_out[j] = x_n[j] + z[j] * (hp[j] - x_n[j]);
                }
            }
        }
    }
}

/// The GRU's gradients: `d_xw [B, T, 3H]` and `[d_w_hh [3H, H], d_b_hh [3H], d_h0 [B, H]]`.
pub type GruGrads<T> = (Buffer<T>, [Vec<T>; 3]);

/// Backward through time of [`gru_forward`] from the gradient of its `out`; `tape` is its
/// result (the activations' buffer becomes `d_xw`).
pub fn gru_backward<T: Real>(
    dims: Dims,
    d_out: &[T],
    tape: GruForward<T>,
    w_hh: &[T],
) -> GruGrads<T> {
    let Dims {
        batch,
        steps,
        hidden: h,
        ..
    } = dims;
    let (g3, rows) = (3 * h, dims.chunk_rows());
    // The hidden projection's gradient is [da_r, da_z] (= d_xw's) and dq = da_n ⊙ r: the two
    // parts multiply the first 2H and the last H rows of W_hh.
    let rhs_rz = StepRhs::new(Mat::rows(&w_hh[..2 * h * h], h), 2 * h, h);
    let rhs_n = StepRhs::new(Mat::rows(&w_hh[2 * h * h..], h), h, h);
    let GruForward {
        acts: mut d_xw_buffer,
        q: mut d_q,
        h_prev,
        ..
    } = tape;
    let mut d_h0 = vec![T::ZERO; batch * h];
    let d_xw = d_xw_buffer.as_mut_slice();
    d_xw.par_chunks_mut(rows * steps * g3)
        .zip(d_q.par_chunks_mut(rows * steps * h))
        .zip(d_h0.par_chunks_mut(rows * h))
        .zip(
            d_out
                .par_chunks(rows * steps * h)
                .zip(h_prev.par_chunks(rows * steps * h)),
        )
        .for_each(|(((d_xw, d_q), carry), (d_out, h_prev))| {
            backward_chunk(dims, &rhs_rz, &rhs_n, d_out, h_prev, d_xw, d_q, carry)
        });
    let mut d_w = vec![T::ZERO; g3 * h];
    let (d_w_rz, d_w_n) = d_w.split_at_mut(2 * h * h);
    let d_rz = Mat {
        data: d_xw,
        row_stride: 1,
        col_stride: g3,
    };
    weight_gradient(&dims, d_w_rz, [2 * h, h], d_rz, &h_prev);
    weight_gradient(&dims, d_w_n, [h, h], Mat::transposed(&d_q, h), &h_prev);
    let mut d_b = vec![T::ZERO; g3];
    column_sums(&mut d_b[..2 * h], d_xw, g3, 0);
    column_sums(&mut d_b[2 * h..], &d_q, h, 0);
    (d_xw_buffer, [d_w, d_b, d_h0])
}

simd_fn! {
    /// One chunk of rows over all steps, backwards: `acts` (r, z, n) becomes
    /// `[da_r, da_z, da_n]`, `q` becomes `dq = da_n ⊙ r`; `carry` (zeros on entry) carries
    /// the hidden state's gradient and ends as `d_h0`.
    fn backward_chunk<T: Real>(
        dims: Dims,
        rhs_rz: &StepRhs<'_, T>,
        rhs_n: &StepRhs<'_, T>,
        d_out: &[T],
        h_prev: &[T],
        acts: &mut [T],
        q: &mut [T],
        carry: &mut [T],
    ) {
        let Dims { steps, hidden: h, .. } = dims;
        let (g3, nb) = (3 * h, carry.len() / h);
        for t in dims.order().rev() {
            for b in 0..nb {
                let at = (b * steps + t) * h;
                let act = &mut acts[3 * at..][..g3];
                let (r, rest) = act.split_at_mut(h);
                let (z, n) = rest.split_at_mut(h);
                let q = &mut q[at..][..h];
                let hp = &h_prev[at..][..h];
                let d_hidden = &d_out[at..][..h];
                let carry = &mut carry[b * h..][..h];
                for j in 0..h {
                    let (rj, zj, nj, qj) = (r[j], z[j], n[j], q[j]);
                    let dh = d_hidden[j] + carry[j];
                    let dan = dh * (T::ONE - zj) * (T::ONE - nj * nj);
                    r[j] = dan * qj * rj * (T::ONE - rj);
                    z[j] = dh * (hp[j] - nj) * zj * (T::ONE - zj);
                    n[j] = dan;
                    q[j] = dan * rj;
                    carry[j] = dh * zj;
                }
            }
            // dh_{t-1} = z ⊙ dh + [da_r, da_z]_t · W_h(r,z) + dq_t · W_hn
            rhs_rz.product(carry, h, nb, Mat::rows(&acts[t * g3..], steps * g3), true);
            rhs_n.product(carry, h, nb, Mat::rows(&q[t * h..], steps * h), true);
        }
    }
}
