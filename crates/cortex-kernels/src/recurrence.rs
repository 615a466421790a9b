//! What the fused LSTM ([`crate::lstm`]) and GRU ([`crate::gru`]) kernels share: sizes and
//! step order, the split of the batch across threads, the weight and bias gradients. The math is in `docs/math.md` ("Fused recurrences").
//!
//! Layout is batch-major (`[B, T, ·]`), so the rows of one sample over all steps are
//! contiguous: the batch is cut into contiguous chunks that run on rayon's threads, each one a
//! whole sequence with one small GEMM per step (`h_{t-1} · W_hhᵀ`, all gates at once) and one
//! elementwise pass. The projected input's buffer is reused in place: the forward overwrites
//! it with the gate activations (the tape), the backward with the gates' gradients (the
//! gradient of the projected input), so a training step allocates little beyond its outputs.

use crate::real::{Mat, Real, matmul};

/// The sizes of one recurrence and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// Sequences in the batch.
    pub batch: usize,
    /// Time steps.
    pub steps: usize,
    /// Features of the hidden state.
    pub hidden: usize,
    /// Run from the last step to the first (the backward half of a bidirectional layer).
    pub reverse: bool,
}

impl Dims {
    /// The steps in the order they are computed.
    pub fn order(&self) -> Box<dyn DoubleEndedIterator<Item = usize>> {
        if self.reverse {
            Box::new((0..self.steps).rev())
        } else {
            Box::new(0..self.steps)
        }
    }

    /// The step computed just before `t`, `None` for the first one (which reads the initial
    /// state).
    pub fn previous(&self, t: usize) -> Option<usize> {
        if self.reverse {
            (t + 1 < self.steps).then_some(t + 1)
        } else {
            t.checked_sub(1)
        }
    }

    /// Rows per thread chunk: the batch split across the rayon pool, ≥ 8 rows a chunk.
    pub fn chunk_rows(&self) -> usize {
        let chunks = rayon::current_num_threads().min(self.batch / 8).max(1);
        self.batch.div_ceil(chunks).max(1)
    }
}

/// `dst [m, n] = Σ_{b,t} d_gates[b,t]ᵀ ⊗ rows[b,t]`: `d_gates` `[m × B·T]` given as a
/// strided (transposed) view, `rows` `[B·T, n]` (the hidden state each step read, or that
/// state after the step's input); one parallel GEMM.
pub fn weight_gradient<T: Real>(
    dims: &Dims,
    dst: &mut [T],
    [m, n]: [usize; 2],
    d_gates: Mat<'_, T>,
    rows: &[T],
) {
    let count = dims.batch * dims.steps;
    matmul(
        dst,
        n,
        [m, n, count],
        d_gates,
        Mat::rows(rows, n),
        false,
        true,
    );
}

/// `sums[c] += Σ_r rows[r·width + offset + c]` for `c < sums.len()`: a bias gradient.
pub fn column_sums<T: Real>(sums: &mut [T], rows: &[T], width: usize, offset: usize) {
    for row in rows.chunks(width) {
        for (acc, v) in sums.iter_mut().zip(&row[offset..]) {
            *acc += *v;
        }
    }
}

/// `buffer` in `count` chunks of `size` values, or `count` empty slices when it is empty (a
/// buffer that is only filled when the tape is saved).
pub fn chunks_or_empty<T>(buffer: &mut [T], size: usize, count: usize) -> Vec<&mut [T]> {
    let mut chunks: Vec<&mut [T]> = if buffer.is_empty() {
        Vec::new()
    } else {
        buffer.chunks_mut(size).collect()
    };
    chunks.resize_with(count, Default::default);
    chunks
}
