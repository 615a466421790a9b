//! The fused LSTM and GRU recurrences on plain slices: forward (optionally saving what the
//! backward needs) and the hand-written backward through time. The math is in
//! `docs/math.md` ("Fused recurrences").
//!
//! Layout is batch-major (`[B, T, ·]`), so the rows of one sample over all steps are
//! contiguous: the batch is cut into contiguous chunks that run on rayon's threads, each one a
//! whole sequence with one small GEMM per step (`h_{t-1} · W_hhᵀ`, all gates at once) and one
//! elementwise pass. Weight gradients are one large GEMM over all `B·T` rows at the end.

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::real::has_avx2_fma;
use super::real::{Mat, Real, StepRhs, matmul, transpose};

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
    // Wᵀ row-major once, instead of a strided read in each step's GEMM.
    let w_t = transpose(w_hh, g4, h);
    let rhs = StepRhs::new(&w_t, h, g4);
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
            let chunk = LstmChunk {
                dims,
                rhs: &rhs,
                b_hh,
                h0,
                c0,
            };
            chunk.forward(xw, out, cache, save)
        });
    LstmForward { out, cache }
}

/// The rows of one thread chunk and what all chunks share.
struct LstmChunk<'a, T> {
    dims: Dims,
    /// `W_hhᵀ` `[H, 4H]` (forward) or `W_hh` `[4H, H]` (backward).
    rhs: &'a StepRhs<'a, T>,
    b_hh: &'a [T],
    h0: &'a [T],
    c0: &'a [T],
}

impl<T: Real> LstmChunk<'_, T> {
    fn forward(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
            return unsafe { self.forward_avx2(xw, out, cache, save) };
        }
        self.forward_body(xw, out, cache, save)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn forward_avx2(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        self.forward_body(xw, out, cache, save)
    }

    #[inline(always)]
    fn forward_body(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        let Dims {
            steps, hidden: h, ..
        } = self.dims;
        let (g4, ostride, nb) = (4 * h, (steps + 1) * h, self.h0.len() / h);
        let mut gates = vec![T::ZERO; nb * g4];
        let mut scratch = vec![T::ZERO; 6 * h];
        let mut c_state = self.c0.to_vec();
        for t in self.dims.order() {
            for b in 0..nb {
                let x = &xw[(b * steps + t) * g4..][..g4];
                for ((acc, x), bias) in gates[b * g4..][..g4].iter_mut().zip(x).zip(self.b_hh) {
                    *acc = *x + *bias;
                }
            }
            let h_prev = match self.dims.previous(t) {
                Some(p) => Mat::rows(&out[p * h..], ostride),
                None => Mat::rows(self.h0, h),
            };
            self.rhs.product(&mut gates, g4, nb, h_prev, true);
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
                let (i, rest) = act.split_at_mut(h);
                let (f, rest) = rest.split_at_mut(h);
                let (g, rest) = rest.split_at_mut(h);
                let (o, rest) = rest.split_at_mut(h);
                let (c_new, tanh_c) = rest.split_at_mut(h);
                let c = &mut c_state[b * h..][..h];
                for j in 0..h {
                    c[j] = f[j] * c[j] + i[j] * g[j];
                }
                c_new.copy_from_slice(c);
                T::tanh(c_new, tanh_c);
                let h_out = &mut out[b * ostride + t * h..][..h];
                for j in 0..h {
                    h_out[j] = o[j] * tanh_c[j];
                }
            }
        }
        for b in 0..nb {
            out[b * ostride + steps * h..][..h].copy_from_slice(&c_state[b * h..][..h]);
        }
    }

    /// `d_h`, `d_c`: this chunk's `d_h0`, `d_c0` (zeros on entry), used as the carries.
    fn backward(&self, d_out: &[T], cache: &[T], d_xw: &mut [T], d_h: &mut [T], d_c: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features `backward_avx2` is compiled for.
            return unsafe { self.backward_avx2(d_out, cache, d_xw, d_h, d_c) };
        }
        self.backward_body(d_out, cache, d_xw, d_h, d_c)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn backward_avx2(
        &self,
        d_out: &[T],
        cache: &[T],
        d_xw: &mut [T],
        d_h: &mut [T],
        d_c: &mut [T],
    ) {
        self.backward_body(d_out, cache, d_xw, d_h, d_c)
    }

    #[inline(always)]
    fn backward_body(
        &self,
        d_out: &[T],
        cache: &[T],
        d_xw: &mut [T],
        d_h: &mut [T],
        d_c: &mut [T],
    ) {
        let Dims {
            steps, hidden: h, ..
        } = self.dims;
        let (g4, ostride, nb) = (4 * h, (steps + 1) * h, d_h.len() / h);
        for b in 0..nb {
            d_c[b * h..][..h].copy_from_slice(&d_out[b * ostride + steps * h..][..h]);
        }
        for t in self.dims.order().rev() {
            for b in 0..nb {
                let saved = &cache[(b * steps + t) * 6 * h..][..6 * h];
                let (i, rest) = saved.split_at(h);
                let (f, rest) = rest.split_at(h);
                let (g, rest) = rest.split_at(h);
                let (o, rest) = rest.split_at(h);
                let tc = &rest[h..2 * h];
                let c_prev = match self.dims.previous(t) {
                    Some(p) => &cache[(b * steps + p) * 6 * h + 4 * h..][..h],
                    None => &self.c0[b * h..][..h],
                };
                let d_gates = &mut d_xw[(b * steps + t) * g4..][..g4];
                let (di, rest) = d_gates.split_at_mut(h);
                let (df, rest) = rest.split_at_mut(h);
                let (dg, d_o) = rest.split_at_mut(h);
                let d_hidden = &d_out[b * ostride + t * h..][..h];
                let carry_h = &d_h[b * h..][..h];
                let carry_c = &mut d_c[b * h..][..h];
                for j in 0..h {
                    let dh = d_hidden[j] + carry_h[j];
                    let dc = carry_c[j] + dh * o[j] * (T::ONE - tc[j] * tc[j]);
                    di[j] = dc * g[j] * i[j] * (T::ONE - i[j]);
                    df[j] = dc * c_prev[j] * f[j] * (T::ONE - f[j]);
                    dg[j] = dc * i[j] * (T::ONE - g[j] * g[j]);
                    d_o[j] = dh * tc[j] * o[j] * (T::ONE - o[j]);
                    carry_c[j] = dc * f[j];
                }
            }
            // dh_{t-1} = dGates_t · W_hh
            let d_gates = Mat::rows(&d_xw[t * g4..], steps * g4);
            self.rhs.product(d_h, h, nb, d_gates, false);
        }
    }
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
    let rhs = StepRhs::new(w_hh, g4, h);
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
            let chunk = LstmChunk {
                dims,
                rhs: &rhs,
                b_hh: &[],
                h0: &[],
                c0,
            };
            chunk.backward(d_out, cache, d_xw, d_h, d_c)
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
    let w_t = transpose(w_hh, g3, h);
    let rhs = StepRhs::new(&w_t, h, g3);
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
            let chunk = GruChunk {
                dims,
                rhs: &rhs,
                b_hh,
                h0,
            };
            chunk.forward(xw, out, cache, save)
        });
    GruForward { out, cache }
}

/// The rows of one thread chunk and what all chunks share.
struct GruChunk<'a, T> {
    dims: Dims,
    /// `W_hhᵀ` `[H, 3H]` (forward) or `W_hh` `[3H, H]` (backward).
    rhs: &'a StepRhs<'a, T>,
    b_hh: &'a [T],
    h0: &'a [T],
}

impl<T: Real> GruChunk<'_, T> {
    fn forward(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features `forward_avx2` is compiled for.
            return unsafe { self.forward_avx2(xw, out, cache, save) };
        }
        self.forward_body(xw, out, cache, save)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn forward_avx2(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        self.forward_body(xw, out, cache, save)
    }

    #[inline(always)]
    fn forward_body(&self, xw: &[T], out: &mut [T], cache: &mut [T], save: bool) {
        let Dims {
            steps, hidden: h, ..
        } = self.dims;
        let (g3, nb) = (3 * h, self.h0.len() / h);
        let mut gh = vec![T::ZERO; nb * g3];
        let mut scratch = vec![T::ZERO; 4 * h];
        let mut hp = vec![T::ZERO; h];
        for t in self.dims.order() {
            for b in 0..nb {
                gh[b * g3..][..g3].copy_from_slice(self.b_hh);
            }
            let h_prev = match self.dims.previous(t) {
                Some(p) => Mat::rows(&out[p * h..], steps * h),
                None => Mat::rows(self.h0, h),
            };
            self.rhs.product(&mut gh, g3, nb, h_prev, true);
            for b in 0..nb {
                let x = &xw[(b * steps + t) * g3..][..g3];
                let gh = &mut gh[b * g3..][..g3];
                let act = if save {
                    &mut cache[(b * steps + t) * 4 * h..][..4 * h]
                } else {
                    &mut scratch[..]
                };
                // r, z, n, then q = W_hn h + b_hn.
                for (g, x) in gh[..2 * h].iter_mut().zip(x) {
                    *g += *x;
                }
                T::sigmoid(&gh[..2 * h], &mut act[..2 * h]);
                act[3 * h..].copy_from_slice(&gh[2 * h..]);
                let (r, rest) = act.split_at_mut(h);
                let (z, rest) = rest.split_at_mut(h);
                let (n, q) = rest.split_at_mut(h);
                let pre_n = &mut gh[2 * h..];
                let x_n = &x[2 * h..];
                for j in 0..h {
                    pre_n[j] = x_n[j] + r[j] * q[j];
                }
                T::tanh(pre_n, n);
                hp.copy_from_slice(match self.dims.previous(t) {
                    Some(p) => &out[(b * steps + p) * h..][..h],
                    None => &self.h0[b * h..][..h],
                });
                let h_out = &mut out[(b * steps + t) * h..][..h];
                for j in 0..h {
                    h_out[j] = n[j] + z[j] * (hp[j] - n[j]);
                }
            }
        }
    }

    /// `carry`: this chunk's `d_h0` (zeros on entry), the gradient reaching `h_{t-1}`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        d_out: &[T],
        out: &[T],
        cache: &[T],
        d_xw: &mut [T],
        d_gh: &mut [T],
        carry: &mut [T],
    ) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features `backward_avx2` is compiled for.
            return unsafe { self.backward_avx2(d_out, out, cache, d_xw, d_gh, carry) };
        }
        self.backward_body(d_out, out, cache, d_xw, d_gh, carry)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    fn backward_avx2(
        &self,
        d_out: &[T],
        out: &[T],
        cache: &[T],
        d_xw: &mut [T],
        d_gh: &mut [T],
        carry: &mut [T],
    ) {
        self.backward_body(d_out, out, cache, d_xw, d_gh, carry)
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn backward_body(
        &self,
        d_out: &[T],
        out: &[T],
        cache: &[T],
        d_xw: &mut [T],
        d_gh: &mut [T],
        carry: &mut [T],
    ) {
        let Dims {
            steps, hidden: h, ..
        } = self.dims;
        let (g3, nb) = (3 * h, carry.len() / h);
        for t in self.dims.order().rev() {
            for b in 0..nb {
                let at = (b * steps + t) * h;
                let saved = &cache[4 * at..][..4 * h];
                let (r, rest) = saved.split_at(h);
                let (z, rest) = rest.split_at(h);
                let (n, q) = rest.split_at(h);
                let h_prev = match self.dims.previous(t) {
                    Some(p) => &out[(b * steps + p) * h..][..h],
                    None => &self.h0[b * h..][..h],
                };
                let (dxr, rest) = d_xw[3 * at..][..g3].split_at_mut(h);
                let (dxz, dxn) = rest.split_at_mut(h);
                let (dgr, rest) = d_gh[3 * at..][..g3].split_at_mut(h);
                let (dgz, dgn) = rest.split_at_mut(h);
                let d_hidden = &d_out[at..][..h];
                let carry = &mut carry[b * h..][..h];
                for j in 0..h {
                    let dh = d_hidden[j] + carry[j];
                    let dan = dh * (T::ONE - z[j]) * (T::ONE - n[j] * n[j]);
                    let dar = dan * q[j] * r[j] * (T::ONE - r[j]);
                    let daz = dh * (h_prev[j] - n[j]) * z[j] * (T::ONE - z[j]);
                    dxr[j] = dar;
                    dxz[j] = daz;
                    dxn[j] = dan;
                    dgr[j] = dar;
                    dgz[j] = daz;
                    dgn[j] = dan * r[j];
                    carry[j] = dh * z[j];
                }
            }
            // dh_{t-1} = z ⊙ dh + dGH_t · W_hh
            let d_gates = Mat::rows(&d_gh[t * g3..], steps * g3);
            self.rhs.product(carry, h, nb, d_gates, true);
        }
    }
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
    let rhs = StepRhs::new(w_hh, g3, h);
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
            let chunk = GruChunk {
                dims,
                rhs: &rhs,
                b_hh: &[],
                h0,
            };
            chunk.backward(d_out, out, cache, d_xw, d_gh, carry)
        });
    let h_prev = dims.previous_hidden(out, steps, h0);
    let d_w = weight_gradient(&dims, 3, &d_gh, &h_prev);
    let d_b = column_sums(&d_gh, g3);
    [d_xw, d_w, d_b, d_h0]
}
