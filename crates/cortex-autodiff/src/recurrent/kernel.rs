//! The fused LSTM and GRU recurrences on plain slices: forward (optionally saving what the
//! backward needs) and the hand-written backward through time. The math is in
//! `docs/math.md` ("Fused recurrences").
//!
//! Layout is batch-major (`[B, T, ·]`), so the rows of one sample over all steps are
//! contiguous: the batch is cut into contiguous chunks that run on rayon's threads, each one a
//! whole sequence with one small GEMM per step (`h_{t-1} · W_hhᵀ`, all gates at once) and one
//! elementwise pass. Weight gradients are one large GEMM over all `B·T` rows at the end.

use rayon::prelude::*;

use super::real::{Mat, Real, matmul};

/// The sizes of one recurrence and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub batch: usize,
    pub steps: usize,
    pub hidden: usize,
    /// Run from the last step to the first (the backward half of a bidirectional layer).
    pub reverse: bool,
}

impl Dims {
    /// The steps in the order they are computed.
    fn order(&self) -> Box<dyn DoubleEndedIterator<Item = usize>> {
        if self.reverse {
            Box::new((0..self.steps).rev())
        } else {
            Box::new(0..self.steps)
        }
    }

    /// The step computed just before `t`, `None` for the first one (which reads the initial
    /// state).
    fn previous(&self, t: usize) -> Option<usize> {
        if self.reverse {
            (t + 1 < self.steps).then_some(t + 1)
        } else {
            t.checked_sub(1)
        }
    }

    /// Rows per thread chunk: the batch split across the rayon pool, ≥ 8 rows a chunk.
    fn chunk_rows(&self) -> usize {
        let chunks = rayon::current_num_threads().min(self.batch / 8).max(1);
        self.batch.div_ceil(chunks).max(1)
    }

    /// The hidden state every step read, `[B, T, H]`: `h0` or the previous step's output
    /// (`hs` holds `hs_slots` steps per batch row).
    fn previous_hidden<T: Real>(&self, hs: &[T], hs_slots: usize, h0: &[T]) -> Vec<T> {
        let h = self.hidden;
        let mut out = vec![T::ZERO; self.batch * self.steps * h];
        for b in 0..self.batch {
            for t in 0..self.steps {
                let src = match self.previous(t) {
                    Some(p) => &hs[(b * hs_slots + p) * h..][..h],
                    None => &h0[b * h..][..h],
                };
                out[(b * self.steps + t) * h..][..h].copy_from_slice(src);
            }
        }
        out
    }
}

/// `dW = Σ_{b,t} dGates[b,t]ᵀ ⊗ h_prev[b,t]`: `[G·H, H]` in one GEMM over `B·T` rows.
fn weight_gradient<T: Real>(dims: &Dims, gates: usize, d_gates: &[T], h_prev: &[T]) -> Vec<T> {
    let (h, rows) = (dims.hidden, dims.batch * dims.steps);
    let mut dw = vec![T::ZERO; gates * h * h];
    matmul(
        &mut dw,
        h,
        [gates * h, h, rows],
        Mat::transposed(d_gates, gates * h),
        Mat::rows(h_prev, h),
        false,
        true,
    );
    dw
}

/// The LSTM's forward results: `out [B, T+1, H]` (the hidden state at every step, then the
/// final cell state) and, when saved, `cache [B, T, 6H]` (i, f, g, o, c, tanh c per step).
pub(crate) struct LstmForward<T> {
    pub out: Vec<T>,
    pub cache: Vec<T>,
}

/// LSTM over `xw [B, T, 4H]` (the input projection with `b_ih`, gate blocks i, f, g, o),
/// `w_hh [4H, H]`, `b_hh [4H]`, `h0`, `c0 [B, H]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_forward<T: Real>(
    dims: Dims,
    xw: &[T],
    w_hh: &[T],
    b_hh: &[T],
    h0: &[T],
    c0: &[T],
    save: bool,
) -> LstmForward<T> {
    let Dims { steps, hidden, .. } = dims;
    let (h, g4, rows) = (hidden, 4 * hidden, dims.chunk_rows());
    let ostride = (steps + 1) * h;
    let mut out = vec![T::ZERO; dims.batch * ostride];
    let mut cache = vec![T::ZERO; if save { dims.batch * steps * 6 * h } else { 0 }];
    let cache_rows = if save { rows * steps * 6 * h } else { 1 };
    let mut cache_chunks: Vec<&mut [T]> = cache.chunks_mut(cache_rows).collect();
    cache_chunks.resize_with(out.len().div_ceil(rows * ostride), Default::default);
    out.par_chunks_mut(rows * ostride)
        .zip(cache_chunks.into_par_iter())
        .zip(xw.par_chunks(rows * steps * g4))
        .zip(h0.par_chunks(rows * h).zip(c0.par_chunks(rows * h)))
        .for_each(|(((out, cache), xw), (h0, c0))| {
            let nb = h0.len() / h;
            let mut gates = vec![T::ZERO; nb * g4];
            let mut scratch = vec![T::ZERO; 6 * h];
            let mut c_state = c0.to_vec();
            for t in dims.order() {
                for b in 0..nb {
                    let x = &xw[(b * steps + t) * g4..][..g4];
                    for ((acc, x), bias) in gates[b * g4..][..g4].iter_mut().zip(x).zip(b_hh) {
                        *acc = *x + *bias;
                    }
                }
                let h_prev = match dims.previous(t) {
                    Some(p) => Mat::rows(&out[p * h..], ostride),
                    None => Mat::rows(h0, h),
                };
                matmul(
                    &mut gates,
                    g4,
                    [nb, g4, h],
                    h_prev,
                    Mat::transposed(w_hh, h),
                    true,
                    false,
                );
                for b in 0..nb {
                    let pre = &gates[b * g4..][..g4];
                    let act = if save {
                        &mut cache[(b * steps + t) * 6 * h..][..6 * h]
                    } else {
                        &mut scratch[..]
                    };
                    // i, f, g, o, then c and tanh(c).
                    T::sigmoid(&pre[..2 * h], &mut act[..2 * h]);
                    T::tanh(&pre[2 * h..3 * h], &mut act[2 * h..3 * h]);
                    T::sigmoid(&pre[3 * h..], &mut act[3 * h..4 * h]);
                    let (gate, cell) = act.split_at_mut(4 * h);
                    let (c_new, tanh_c) = cell.split_at_mut(h);
                    let c = &mut c_state[b * h..][..h];
                    for j in 0..h {
                        c[j] = gate[h + j] * c[j] + gate[j] * gate[2 * h + j];
                    }
                    c_new.copy_from_slice(c);
                    T::tanh(c_new, tanh_c);
                    let h_out = &mut out[b * ostride + t * h..][..h];
                    for j in 0..h {
                        h_out[j] = gate[3 * h + j] * tanh_c[j];
                    }
                }
            }
            for b in 0..nb {
                out[b * ostride + steps * h..][..h].copy_from_slice(&c_state[b * h..][..h]);
            }
        });
    LstmForward { out, cache }
}

/// The LSTM's gradients: `[d_xw [B, T, 4H], d_w_hh [4H, H], d_b_hh [4H], d_h0 [B, H],
/// d_c0 [B, H]]`.
pub(crate) type LstmGrads<T> = [Vec<T>; 5];

/// Backward through time of [`lstm_forward`], from the gradient of its `out`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_backward<T: Real>(
    dims: Dims,
    d_out: &[T],
    out: &[T],
    cache: &[T],
    w_hh: &[T],
    h0: &[T],
    c0: &[T],
) -> LstmGrads<T> {
    let Dims { steps, hidden, .. } = dims;
    let (h, g4, rows) = (hidden, 4 * hidden, dims.chunk_rows());
    let ostride = (steps + 1) * h;
    let mut d_xw = vec![T::ZERO; dims.batch * steps * g4];
    let mut d_h0 = vec![T::ZERO; dims.batch * h];
    let mut d_c0 = vec![T::ZERO; dims.batch * h];
    d_xw.par_chunks_mut(rows * steps * g4)
        .zip(
            d_h0.par_chunks_mut(rows * h)
                .zip(d_c0.par_chunks_mut(rows * h)),
        )
        .zip(d_out.par_chunks(rows * ostride))
        .zip(
            cache
                .par_chunks(rows * steps * 6 * h)
                .zip(c0.par_chunks(rows * h)),
        )
        .for_each(|(((d_xw, (d_h, d_c)), d_out), (cache, c0))| {
            let nb = d_h.len() / h;
            for b in 0..nb {
                d_c[b * h..][..h].copy_from_slice(&d_out[b * ostride + steps * h..][..h]);
            }
            for t in dims.order().rev() {
                for b in 0..nb {
                    let saved = &cache[(b * steps + t) * 6 * h..][..6 * h];
                    let c_prev = match dims.previous(t) {
                        Some(p) => &cache[(b * steps + p) * 6 * h + 4 * h..][..h],
                        None => &c0[b * h..][..h],
                    };
                    let d_gates = &mut d_xw[(b * steps + t) * g4..][..g4];
                    let d_hidden = &d_out[b * ostride + t * h..][..h];
                    for j in 0..h {
                        let [i, f, g, o] = [0, 1, 2, 3].map(|k| saved[k * h + j]);
                        let tc = saved[5 * h + j];
                        let dh = d_hidden[j] + d_h[b * h + j];
                        let dc = d_c[b * h + j] + dh * o * (T::ONE - tc * tc);
                        d_gates[j] = dc * g * i * (T::ONE - i);
                        d_gates[h + j] = dc * c_prev[j] * f * (T::ONE - f);
                        d_gates[2 * h + j] = dc * i * (T::ONE - g * g);
                        d_gates[3 * h + j] = dh * tc * o * (T::ONE - o);
                        d_c[b * h + j] = dc * f;
                    }
                }
                // dh_{t-1} = dGates_t · W_hh
                matmul(
                    d_h,
                    h,
                    [nb, h, g4],
                    Mat::rows(&d_xw[t * g4..], steps * g4),
                    Mat::rows(w_hh, h),
                    false,
                    false,
                );
            }
        });
    let h_prev = dims.previous_hidden(out, steps + 1, h0);
    let d_w = weight_gradient(&dims, 4, &d_xw, &h_prev);
    let d_b = column_sums(&d_xw, g4);
    [d_xw, d_w, d_b, d_h0, d_c0]
}

/// The sums of the `width`-wide rows of `rows`: a bias gradient.
fn column_sums<T: Real>(rows: &[T], width: usize) -> Vec<T> {
    let mut sums = vec![T::ZERO; width];
    for row in rows.chunks(width) {
        for (acc, v) in sums.iter_mut().zip(row) {
            *acc += *v;
        }
    }
    sums
}

/// The GRU's forward results: `out [B, T, H]` and, when saved, `cache [B, T, 4H]`
/// (r, z, n and `(W_hn h + b_hn)` per step).
pub(crate) struct GruForward<T> {
    pub out: Vec<T>,
    pub cache: Vec<T>,
}

/// GRU over `xw [B, T, 3H]` (input projection with `b_ih`, blocks r, z, n), `w_hh [3H, H]`,
/// `b_hh [3H]` and `h0 [B, H]`, PyTorch's equations:
/// `r = σ(x_r + W_hr h + b_hr)`, `z = σ(x_z + W_hz h + b_hz)`,
/// `n = tanh(x_n + r ⊙ (W_hn h + b_hn))`, `h' = (1 - z) ⊙ n + z ⊙ h`.
pub(crate) fn gru_forward<T: Real>(
    dims: Dims,
    xw: &[T],
    w_hh: &[T],
    b_hh: &[T],
    h0: &[T],
    save: bool,
) -> GruForward<T> {
    let Dims { steps, hidden, .. } = dims;
    let (h, g3, rows) = (hidden, 3 * hidden, dims.chunk_rows());
    let mut out = vec![T::ZERO; dims.batch * steps * h];
    let mut cache = vec![T::ZERO; if save { dims.batch * steps * 4 * h } else { 0 }];
    let cache_rows = if save { rows * steps * 4 * h } else { 1 };
    let mut cache_chunks: Vec<&mut [T]> = cache.chunks_mut(cache_rows).collect();
    cache_chunks.resize_with(out.len().div_ceil(rows * steps * h), Default::default);
    out.par_chunks_mut(rows * steps * h)
        .zip(cache_chunks.into_par_iter())
        .zip(xw.par_chunks(rows * steps * g3))
        .zip(h0.par_chunks(rows * h))
        .for_each(|(((out, cache), xw), h0)| {
            let nb = h0.len() / h;
            let mut gh = vec![T::ZERO; nb * g3];
            let mut scratch = vec![T::ZERO; 4 * h];
            for t in dims.order() {
                for b in 0..nb {
                    gh[b * g3..][..g3].copy_from_slice(b_hh);
                }
                let h_prev = match dims.previous(t) {
                    Some(p) => Mat::rows(&out[p * h..], steps * h),
                    None => Mat::rows(h0, h),
                };
                matmul(
                    &mut gh,
                    g3,
                    [nb, g3, h],
                    h_prev,
                    Mat::transposed(w_hh, h),
                    true,
                    false,
                );
                for b in 0..nb {
                    let x = &xw[(b * steps + t) * g3..][..g3];
                    let gh = &mut gh[b * g3..][..g3];
                    let act = if save {
                        &mut cache[(b * steps + t) * 4 * h..][..4 * h]
                    } else {
                        &mut scratch[..]
                    };
                    // r, z, n, then W_hn h + b_hn.
                    for (g, x) in gh[..2 * h].iter_mut().zip(x) {
                        *g += *x;
                    }
                    T::sigmoid(&gh[..2 * h], &mut act[..2 * h]);
                    act[3 * h..].copy_from_slice(&gh[2 * h..]);
                    let (gate, ghn) = act.split_at_mut(3 * h);
                    for j in 0..h {
                        gh[2 * h + j] = x[2 * h + j] + gate[j] * ghn[j];
                    }
                    T::tanh(&gh[2 * h..], &mut gate[2 * h..]);
                    let prev = dims.previous(t).map(|p| (b * steps + p) * h);
                    let at = (b * steps + t) * h;
                    for j in 0..h {
                        let hp = match prev {
                            Some(p) => out[p + j],
                            None => h0[b * h + j],
                        };
                        let n = gate[2 * h + j];
                        out[at + j] = n + gate[h + j] * (hp - n);
                    }
                }
            }
        });
    GruForward { out, cache }
}

/// The GRU's gradients: `[d_xw [B, T, 3H], d_w_hh [3H, H], d_b_hh [3H], d_h0 [B, H]]`.
pub(crate) type GruGrads<T> = [Vec<T>; 4];

/// Backward through time of [`gru_forward`], from the gradient of its `out`.
pub(crate) fn gru_backward<T: Real>(
    dims: Dims,
    d_out: &[T],
    out: &[T],
    cache: &[T],
    w_hh: &[T],
    h0: &[T],
) -> GruGrads<T> {
    let Dims { steps, hidden, .. } = dims;
    let (h, g3, rows) = (hidden, 3 * hidden, dims.chunk_rows());
    let mut d_xw = vec![T::ZERO; dims.batch * steps * g3];
    // The gradient of the hidden projection differs from d_xw in the n block (× r).
    let mut d_gh = vec![T::ZERO; dims.batch * steps * g3];
    let mut d_h0 = vec![T::ZERO; dims.batch * h];
    d_xw.par_chunks_mut(rows * steps * g3)
        .zip(d_gh.par_chunks_mut(rows * steps * g3))
        .zip(d_h0.par_chunks_mut(rows * h))
        .zip(d_out.par_chunks(rows * steps * h))
        .zip(cache.par_chunks(rows * steps * 4 * h))
        .zip(
            out.par_chunks(rows * steps * h)
                .zip(h0.par_chunks(rows * h)),
        )
        .for_each(|(((((d_xw, d_gh), carry), d_out), cache), (out, h0))| {
            let nb = carry.len() / h;
            for t in dims.order().rev() {
                for b in 0..nb {
                    let at = (b * steps + t) * h;
                    let saved = &cache[4 * at..][..4 * h];
                    let prev = dims.previous(t).map(|p| (b * steps + p) * h);
                    let dx = &mut d_xw[3 * at..][..g3];
                    let dg = &mut d_gh[3 * at..][..g3];
                    for j in 0..h {
                        let [r, z, n, ghn] = [0, 1, 2, 3].map(|k| saved[k * h + j]);
                        let hp = match prev {
                            Some(p) => out[p + j],
                            None => h0[b * h + j],
                        };
                        let dh = d_out[at + j] + carry[b * h + j];
                        let dan = dh * (T::ONE - z) * (T::ONE - n * n);
                        let dar = dan * ghn * r * (T::ONE - r);
                        let daz = dh * (hp - n) * z * (T::ONE - z);
                        dx[j] = dar;
                        dx[h + j] = daz;
                        dx[2 * h + j] = dan;
                        dg[j] = dar;
                        dg[h + j] = daz;
                        dg[2 * h + j] = dan * r;
                        carry[b * h + j] = dh * z;
                    }
                }
                // dh_{t-1} = z ⊙ dh + dGH_t · W_hh
                matmul(
                    carry,
                    h,
                    [nb, h, g3],
                    Mat::rows(&d_gh[t * g3..], steps * g3),
                    Mat::rows(w_hh, h),
                    true,
                    false,
                );
            }
        });
    let h_prev = dims.previous_hidden(out, steps, h0);
    let d_w = weight_gradient(&dims, 3, &d_gh, &h_prev);
    let d_b = column_sums(&d_gh, g3);
    [d_xw, d_w, d_b, d_h0]
}
