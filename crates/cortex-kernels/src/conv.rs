//! 2-D convolution (PyTorch's `conv2d`: cross-correlation, NCHW, weight `[O, C/groups, kH, kW]`)
//! forward and backward on slices, as im2col + GEMM in the tensors' own layout.
//!
//! For one sample and one group, with `cols [C_g·kH·kW, H_out·W_out]` the input's receptive
//! fields (im2col, zeros where a window overhangs the padding):
//!
//! - `y_g = W_g · cols` (`[O_g, C_g·kH·kW] · [C_g·kH·kW, H_out·W_out]`), plus the bias;
//! - `∂W_g += ∂y_g · colsᵀ`, summed over the batch;
//! - `∂cols = W_gᵀ · ∂y_g`, scattered back onto the input's pixels (col2im) for `∂x`;
//! - `∂b = Σ_{n, pixels} ∂y`.
//!
//! The output comes out in NCHW directly (no layout copies around the GEMM), a 1×1 stride-1
//! unpadded convolution reads the input as its own column matrix, and the batch is cut into
//! one contiguous chunk per rayon thread, each with one column buffer reused across its
//! samples (and, for the weight gradient, its own partial sum). 'Same' stride-1 shapes copy
//! each tap as one block (`TapBlock`); images with few output pixels put several samples'
//! columns side by side in one product (`samples_per_product`).

use rayon::prelude::*;

use std::mem::MaybeUninit;

use crate::real::{Mat, Real, matmul, matmul_uninit};

/// Stride, zero padding and dilation per spatial dimension `[h, w]`, and channel groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dWindow {
    /// Step between windows (> 0).
    pub stride: [usize; 2],
    /// Zeros added on both sides.
    pub padding: [usize; 2],
    /// Spacing between kernel taps (> 0).
    pub dilation: [usize; 2],
    /// Channel groups (dividing both channel counts).
    pub groups: usize,
}

/// The sizes of one convolution: input `[N, C, H, W]`, weight `[O, C/groups, kH, kW]`, its
/// window; built by [`Conv2dShape::new`], which checks that they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Conv2dShape {
    input: [usize; 4],
    weight: [usize; 4],
    window: Conv2dWindow,
    output: [usize; 2],
}

impl Conv2dShape {
    /// The shape of a convolution of `input [N, C, H, W]` by `weight [O, C/groups, kH, kW]`;
    /// `None` when they do not agree (groups not dividing the channels, a zero stride or
    /// dilation, a window larger than the padded input).
    pub fn new(input: [usize; 4], weight: [usize; 4], window: Conv2dWindow) -> Option<Self> {
        let [_, channels, _, _] = input;
        let [out_channels, group_in, _, _] = weight;
        let groups = window.groups;
        if groups == 0
            || !channels.is_multiple_of(groups)
            || !out_channels.is_multiple_of(groups)
            || group_in * groups != channels
        {
            return None;
        }
        let extent = |d: usize| {
            let (n, k) = (input[2 + d], weight[2 + d]);
            let (s, p, dil) = (window.stride[d], window.padding[d], window.dilation[d]);
            if k == 0 || s == 0 || dil == 0 {
                return None;
            }
            let padded = n.checked_add(p.checked_mul(2)?)?;
            let span = dil.checked_mul(k - 1)?.checked_add(1)?;
            Some(padded.checked_sub(span)? / s + 1)
        };
        let output = [extent(0)?, extent(1)?];
        Some(Self {
            input,
            weight,
            window,
            output,
        })
    }

    /// The input's shape, `[N, C, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        self.input
    }

    /// The weight's shape, `[O, C/groups, kH, kW]`.
    pub fn weight_shape(&self) -> [usize; 4] {
        self.weight
    }

    /// The output's shape, `[N, O, H_out, W_out]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [
            self.input[0],
            self.weight[0],
            self.output[0],
            self.output[1],
        ]
    }

    /// Values of one input sample, `C · H · W`.
    fn sample_in(&self) -> usize {
        self.input[1] * self.input[2] * self.input[3]
    }

    /// Values of one output sample, `O · H_out · W_out`.
    fn sample_out(&self) -> usize {
        self.weight[0] * self.pixels()
    }

    /// Output pixels of one channel, `H_out · W_out`.
    fn pixels(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// Input channels per group.
    fn group_in(&self) -> usize {
        self.weight[1]
    }

    /// Output channels per group.
    fn group_out(&self) -> usize {
        self.weight[0] / self.window.groups
    }

    /// Rows of one group's column matrix (and columns of its weight), `C_g · kH · kW`.
    fn taps(&self) -> usize {
        self.weight[1] * self.weight[2] * self.weight[3]
    }

    /// A 1×1 convolution with stride 1 and no padding: the input is its own column matrix.
    fn pointwise(&self) -> bool {
        self.weight[2..] == [1, 1] && self.window.stride == [1, 1] && self.window.padding == [0, 0]
    }

    /// Strides 1 and output rows as wide as the input's ('same' padding): see [`TapBlock`].
    fn same_width(&self) -> bool {
        self.window.stride == [1, 1] && self.output[1] == self.input[3]
    }

    /// Samples whose column matrices sit side by side in one product, for images of few output
    /// pixels (a text's characters, a late feature map): enough for 256 columns (a narrower
    /// GEMM spends most of its time packing), at most a thread's chunk.
    fn samples_per_product(&self, chunk: usize) -> usize {
        (256 / self.pixels().max(1)).clamp(1, chunk.max(1))
    }

    /// One thread's buffers for the products of a chunk of `chunk` samples (see [`Scratch`]).
    fn scratch<T: Real>(&self, chunk: usize) -> Scratch<T> {
        let together = self.samples_per_product(chunk);
        let direct = together == 1 && self.pointwise();
        let width = padded_width(together * self.pixels());
        let cols = if direct { 0 } else { self.taps() * width };
        let gathered = if together > 1 || width != self.pixels() {
            self.group_out() * width
        } else {
            0
        };
        Scratch {
            together,
            direct,
            cols: vec![T::ZERO; cols],
            gathered: vec![T::ZERO; gathered],
        }
    }

    /// Samples per thread chunk, and whether a chunk's GEMMs may use the pool themselves
    /// (when the batch is too small to occupy every thread).
    fn chunking(&self) -> (usize, bool) {
        let threads = rayon::current_num_threads().max(1);
        let batch = self.input[0].max(1);
        (batch.div_ceil(threads), batch < threads)
    }

    fn check_lengths(&self, x: usize, weight: usize, grad_or_out: usize) {
        // Internal invariants of the callers, which build every slice from the same shapes;
        // checked because the GEMM reads raw pointers.
        assert!(
            x == self.input.iter().product::<usize>()
                && weight == self.weight.iter().product::<usize>()
                && grad_or_out == self.output_shape().iter().product::<usize>(),
            "conv2d kernel: buffer lengths do not match the shape {self:?}"
        );
    }
}

/// The columns `[lo, hi)` of an output row whose input column `ox · stride + offset` lies
/// inside `[0, width)`.
fn valid_columns(out: usize, width: usize, stride: usize, offset: isize) -> (usize, usize) {
    let lo = if offset >= 0 {
        0
    } else {
        offset.unsigned_abs().div_ceil(stride).min(out)
    };
    let room = width as isize - offset;
    let hi = if room <= 0 {
        0
    } else {
        (room as usize).div_ceil(stride).min(out)
    };
    (lo, hi.max(lo))
}

/// Visits every (column-matrix row, output row) pair of one group of one sample: `f(dst row
/// of P_w values, Some((input row, offset, lo, hi)))` for a row inside the image, `None` for
/// one in the vertical padding. The sample's columns are `at..at + P` of rows `ld` apart
/// (several samples sit side by side in one column matrix).
fn for_each_window_row<T>(
    s: &Conv2dShape,
    (cols, ld, at): (&mut [T], usize, usize),
    mut f: impl FnMut(&mut [T], usize, Option<(usize, isize, usize, usize)>),
) {
    let [h, w] = [s.input[2], s.input[3]];
    let [kh, kw] = [s.weight[2], s.weight[3]];
    let [oh, ow] = s.output;
    let Conv2dWindow {
        stride: [sh, sw],
        padding: [ph, pw],
        dilation: [dh, dw],
        ..
    } = s.window;
    let pixels = s.pixels();
    for c in 0..s.group_in() {
        for i in 0..kh {
            for j in 0..kw {
                let row = &mut cols[((c * kh + i) * kw + j) * ld + at..][..pixels];
                let offset = (j * dw) as isize - pw as isize;
                let (lo, hi) = valid_columns(ow, w, sw, offset);
                for (oy, dst) in row.chunks_exact_mut(ow).enumerate().take(oh) {
                    let iy = (oy * sh + i * dh) as isize - ph as isize;
                    let inside = (0..h as isize).contains(&iy);
                    let source = inside.then(|| (c * h * w + iy as usize * w, offset, lo, hi));
                    f(dst, sw, source);
                }
            }
        }
    }
}

/// Where one tap's row of the column matrix reads the image, for a convolution whose rows
/// are as wide as the image's and whose strides are 1 ('same' padding, the common case):
/// there, the row's value at `k` is the image's value at `k + shift` for the output rows
/// `rows` and columns `lo..hi`, padding elsewhere. So the whole tap is one contiguous copy
/// ([`TapBlock::span`]), whose entries in the padding columns are then overwritten, instead
/// of one short copy per output row.
struct TapBlock {
    rows: std::ops::Range<usize>,
    lo: usize,
    hi: usize,
    shift: isize,
}

impl TapBlock {
    /// The contiguous range of the tap's row that covers every in-image value; `None` when the
    /// tap sees only padding.
    fn span(&self, w: usize) -> Option<std::ops::Range<usize>> {
        (!self.rows.is_empty() && self.hi > self.lo)
            .then(|| self.rows.start * w + self.lo..(self.rows.end - 1) * w + self.hi)
    }

    /// The padding columns inside [`TapBlock::span`]: between the in-image columns of one
    /// output row and the next.
    fn gaps(&self, w: usize) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let rows = self.rows.start..self.rows.end.saturating_sub(1);
        rows.map(move |oy| oy * w + self.hi..(oy + 1) * w + self.lo)
    }
}

/// Visits every tap `(c, i, j)` of one group with its row of the column matrix and its
/// [`TapBlock`]; only for [`Conv2dShape::same_width`] shapes.
fn for_each_tap_block<T>(
    s: &Conv2dShape,
    (cols, ld, at): (&mut [T], usize, usize),
    mut f: impl FnMut(&mut [T], TapBlock),
) {
    let [h, w] = [s.input[2], s.input[3]];
    let [kh, kw] = [s.weight[2], s.weight[3]];
    let oh = s.output[0];
    let Conv2dWindow {
        padding: [ph, pw],
        dilation: [dh, dw],
        ..
    } = s.window;
    let pixels = s.pixels();
    for c in 0..s.group_in() {
        for i in 0..kh {
            let di = (i * dh) as isize - ph as isize;
            let first = (-di).clamp(0, oh as isize) as usize;
            let end = (h as isize - di).clamp(first as isize, oh as isize) as usize;
            for j in 0..kw {
                let offset = (j * dw) as isize - pw as isize;
                let (lo, hi) = valid_columns(w, w, 1, offset);
                let row = &mut cols[((c * kh + i) * kw + j) * ld + at..][..pixels];
                let shift = (c * h * w) as isize + di * w as isize + offset;
                f(
                    row,
                    TapBlock {
                        rows: first..end,
                        lo,
                        hi,
                        shift,
                    },
                );
            }
        }
    }
}

/// A thread's buffers for the products of one chunk of samples, forward and backward alike.
struct Scratch<T> {
    /// Samples side by side in one product ([`Conv2dShape::samples_per_product`]).
    together: usize,
    /// A 1×1 stride-1 convolution one sample at a time: the input is the column matrix.
    direct: bool,
    /// The column matrix `[taps, together · P]` (empty when `direct`).
    cols: Vec<T>,
    /// The output (or its gradient) of `together` samples side by side, `[O_g, together · P]`
    /// (empty for one sample at a time).
    gathered: Vec<T>,
}

/// Zeroes one gap of a tap block: 1–2 values for a 5×5 'same' kernel, thousands of gaps per
/// sample, so the short ones are written in place (a `fill` compiles to a call to `memset`,
/// which cost 6% of the bench CNN's training step for these few bytes).
#[inline(always)]
fn clear_gap<T: Real>(gap: &mut [T]) {
    match gap {
        [] => {}
        [a] => *a = T::ZERO,
        [a, b] => (*a, *b) = (T::ZERO, T::ZERO),
        [a, b, c] => (*a, *b, *c) = (T::ZERO, T::ZERO, T::ZERO),
        [a, b, c, d] => (*a, *b, *c, *d) = (T::ZERO, T::ZERO, T::ZERO, T::ZERO),
        longer => longer.fill(T::ZERO),
    }
}

/// The columns of a forward product of `columns` output pixels, rounded up to a multiple of 16:
/// `gemm` reads a column matrix whose column count is a multiple of its 16-lane vectors in
/// place, and copies any other into a packed buffer first (the whole im2col matrix, per sample:
/// 5% of the CNN's training step for its 14 × 14 = 196 pixels). The padding columns hold
/// zeros or an earlier block's values; their products are never copied out.
fn padded_width(columns: usize) -> usize {
    columns.next_multiple_of(16)
}

/// `cols ← im2col(x)` for one group of one sample (`x` its `C_g · H · W` values), into columns
/// `at..at + P` of the column matrix `cols` (rows `ld` apart).
fn im2col<T: Real>(s: &Conv2dShape, x: &[T], cols: (&mut [T], usize, usize)) {
    if s.same_width() {
        let w = s.input[3];
        for_each_tap_block(s, cols, |row, block| match block.span(w) {
            None => row.fill(T::ZERO),
            Some(span) => {
                row[..span.start].fill(T::ZERO);
                row[span.end..].fill(T::ZERO);
                let from = (span.start as isize + block.shift) as usize;
                let len = span.len();
                row[span].copy_from_slice(&x[from..from + len]);
                for gap in block.gaps(w) {
                    clear_gap(&mut row[gap]);
                }
            }
        });
        return;
    }
    for_each_window_row(s, cols, |dst, sw, source| match source {
        None => dst.fill(T::ZERO),
        Some((start, offset, lo, hi)) => {
            let src = &x[start..];
            dst[..lo].fill(T::ZERO);
            dst[hi..].fill(T::ZERO);
            if sw == 1 {
                let from = (lo as isize + offset) as usize;
                dst[lo..hi].copy_from_slice(&src[from..from + hi - lo]);
            } else {
                for (ox, v) in dst.iter_mut().enumerate().take(hi).skip(lo) {
                    *v = src[(ox as isize * sw as isize + offset) as usize];
                }
            }
        }
    });
}

/// `dx += col2im(cols)` for one group of one sample: each column value added back onto the
/// input pixel it was read from (windows overlap, so pixels sum several); the sample's columns
/// as in [`im2col`].
fn col2im<T: Real>(s: &Conv2dShape, cols: (&mut [T], usize, usize), dx: &mut [T]) {
    if s.same_width() {
        let w = s.input[3];
        for_each_tap_block(s, cols, |row, block| {
            if let Some(span) = block.span(w) {
                // The padding columns' entries read no pixel: cleared, the span adds at once.
                for gap in block.gaps(w) {
                    clear_gap(&mut row[gap]);
                }
                let from = (span.start as isize + block.shift) as usize;
                let len = span.len();
                for (d, &v) in dx[from..from + len].iter_mut().zip(&row[span]) {
                    *d += v;
                }
            }
        });
        return;
    }
    for_each_window_row(s, cols, |src, sw, source| {
        if let Some((start, offset, lo, hi)) = source {
            let dst = &mut dx[start..];
            if sw == 1 {
                let from = (lo as isize + offset) as usize;
                for (d, &v) in dst[from..from + hi - lo].iter_mut().zip(&src[lo..hi]) {
                    *d += v;
                }
            } else {
                for (ox, &v) in src.iter().enumerate().take(hi).skip(lo) {
                    dst[(ox as isize * sw as isize + offset) as usize] += v;
                }
            }
        }
    });
}

/// `y = conv2d(x, weight) + bias`: `x [N, C, H, W]`, `weight [O, C/groups, kH, kW]`, `bias [O]`;
/// returns `[N, O, H_out, W_out]` ([`Conv2dShape::output_shape`]).
///
/// # Panics
/// When a slice's length does not match `shape` (an internal invariant of the callers).
pub fn conv2d_forward<T: Real>(
    shape: &Conv2dShape,
    x: &[T],
    weight: &[T],
    bias: Option<&[T]>,
) -> Vec<T> {
    let s = *shape;
    let len: usize = s.output_shape().iter().product();
    s.check_lengths(x.len(), weight.len(), len);
    assert!(bias.is_none_or(|b| b.len() == s.weight[0]));
    if s.sample_in() == 0 || len == 0 {
        let mut out = vec![T::ZERO; len];
        // No input values (a zero-sized channel count or image): every output is its bias.
        if let Some(bias) = bias {
            for sample in out.chunks_mut(s.sample_out().max(1)) {
                for (channel, &b) in sample.chunks_mut(s.pixels().max(1)).zip(bias) {
                    channel.fill(b);
                }
            }
        }
        return out;
    }
    let (chunk, parallel_gemm) = s.chunking();
    let (pixels, taps, group_in, group_out) = (s.pixels(), s.taps(), s.group_in(), s.group_out());
    let (plane, sample_in, sample_out) = (s.input[2] * s.input[3], s.sample_in(), s.sample_out());
    // Every value is written once (by a product or a copy) before the bias is added: no
    // zero-fill of the output first.
    let mut out: Vec<T> = Vec::with_capacity(len);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(chunk * sample_out)
        .zip(x.par_chunks(chunk * sample_in))
        .for_each(|(out, x)| {
            let Scratch {
                together,
                direct,
                mut cols,
                gathered: mut product,
            } = s.scratch(chunk);
            let blocks = out
                .chunks_mut(together * sample_out)
                .zip(x.chunks(together * sample_in));
            for (out, x) in blocks {
                // `m` samples side by side: y_g [O_g, m·P] = W_g · cols [taps, m·P], the
                // columns padded to a multiple of 16 (see `padded_width`).
                let m = x.len() / sample_in;
                let ld = if direct {
                    pixels
                } else {
                    padded_width(m * pixels)
                };
                for g in 0..s.window.groups {
                    let x_g =
                        |j: usize| &x[j * sample_in + g * group_in * plane..][..group_in * plane];
                    let matrix: &[T] = if direct {
                        x_g(0)
                    } else {
                        for j in 0..m {
                            im2col(&s, x_g(j), (&mut cols, ld, j * pixels));
                        }
                        &cols
                    };
                    let weight_g = Mat::rows(&weight[g * group_out * taps..], taps);
                    let size = [group_out, ld, taps];
                    if ld == pixels {
                        let y_g = &mut out[g * group_out * pixels..];
                        matmul_uninit(
                            y_g,
                            pixels,
                            size,
                            weight_g,
                            Mat::rows(matrix, ld),
                            parallel_gemm,
                        );
                        continue;
                    }
                    matmul(
                        &mut product,
                        ld,
                        size,
                        weight_g,
                        Mat::rows(matrix, ld),
                        false,
                        parallel_gemm,
                    );
                    for (j, out) in out.chunks_mut(sample_out).enumerate() {
                        for o in 0..group_out {
                            let row = &product[o * ld + j * pixels..][..pixels];
                            for (d, &v) in out[(g * group_out + o) * pixels..].iter_mut().zip(row) {
                                d.write(v);
                            }
                        }
                    }
                }
                // SAFETY: every group of every sample of the block was written above (the
                // groups' `group_out` channels of `pixels` values cover a sample).
                let out = unsafe { &mut *(out as *mut [MaybeUninit<T>] as *mut [T]) };
                if let Some(bias) = bias {
                    for out in out.chunks_mut(sample_out) {
                        for (channel, &b) in out.chunks_mut(pixels).zip(bias) {
                            channel.iter_mut().for_each(|v| *v += b);
                        }
                    }
                }
            }
        });
    // SAFETY: the blocks cover the `len` values and each was written in full (above).
    unsafe { out.set_len(len) };
    out
}

/// The gradients [`conv2d_backward`] computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dGradients<T> {
    /// `∂x`, `[N, C, H, W]`, when the weight was given.
    pub x: Option<Vec<T>>,
    /// `∂W`, `[O, C/groups, kH, kW]`, when the input was given.
    pub weight: Option<Vec<T>>,
    /// `∂b`, `[O]`, when asked for.
    pub bias: Option<Vec<T>>,
}

/// The gradients of [`conv2d_forward`] for the output gradient `grad [N, O, H_out, W_out]`:
/// `∂x` needs the weight, `∂W` the input; pass only what the gradients that are wanted need.
///
/// # Panics
/// When a slice's length does not match `shape` (an internal invariant of the callers).
pub fn conv2d_backward<T: Real>(
    shape: &Conv2dShape,
    x: Option<&[T]>,
    weight: Option<&[T]>,
    grad: &[T],
    bias: bool,
) -> Conv2dGradients<T> {
    let s = *shape;
    let (x_len, w_len) = (
        s.input.iter().product::<usize>(),
        s.weight.iter().product::<usize>(),
    );
    s.check_lengths(
        x.map_or(x_len, <[T]>::len),
        weight.map_or(w_len, <[T]>::len),
        grad.len(),
    );
    let (pixels, taps, group_in, group_out) = (s.pixels(), s.taps(), s.group_in(), s.group_out());
    let plane = s.input[2] * s.input[3];
    let mut dx = weight.map(|_| vec![T::ZERO; x_len]);
    if grad.is_empty() || s.sample_in() == 0 || (dx.is_none() && x.is_none() && !bias) {
        return Conv2dGradients {
            x: dx,
            weight: x.map(|_| vec![T::ZERO; w_len]),
            bias: bias.then(|| bias_gradient(&s, grad)),
        };
    }
    let (chunk, parallel_gemm) = s.chunking();
    let chunks = s.input[0].div_ceil(chunk);
    let dx_chunks: Vec<Option<&mut [T]>> = match &mut dx {
        Some(dx) => dx.chunks_mut(chunk * s.sample_in()).map(Some).collect(),
        None => (0..chunks).map(|_| None).collect(),
    };
    let partials: Vec<Partials<T>> = dx_chunks
        .into_par_iter()
        .enumerate()
        .map(|(c, mut dx)| {
            let samples = (c * chunk)..((c + 1) * chunk).min(s.input[0]);
            let (sample_in, sample_out) = (s.sample_in(), s.sample_out());
            let db = bias.then(|| {
                bias_gradient(
                    &s,
                    &grad[samples.start * s.sample_out()..samples.end * s.sample_out()],
                )
            });
            // ∂Wᵀ per group, `[taps × O_g]`: each product `cols · ∂yᵀ` then leaves the column
            // matrix where gemm reads it in place (it copies a left-hand side whose rows are
            // not contiguous: the whole im2col matrix per sample, as `∂y · colsᵀ` did, 10% of
            // the CNN's step), and packs only the small `∂y`; transposed once at the end.
            let mut dw_t = x.map(|_| vec![T::ZERO; w_len]);
            let Scratch {
                together,
                direct,
                mut cols,
                mut gathered,
            } = s.scratch(chunk);
            for first in samples.clone().step_by(together) {
                // `m` samples side by side, as in the forward.
                let m = together.min(samples.end - first);
                let ld = m * pixels;
                for g in 0..s.window.groups {
                    let dy_g = |n: usize| {
                        &grad[n * sample_out + g * group_out * pixels..][..group_out * pixels]
                    };
                    let dy_block: &[T] = if m == 1 {
                        dy_g(first)
                    } else {
                        for j in 0..m {
                            let dy = dy_g(first + j);
                            for o in 0..group_out {
                                gathered[o * ld + j * pixels..][..pixels]
                                    .copy_from_slice(&dy[o * pixels..][..pixels]);
                            }
                        }
                        &gathered
                    };
                    if let (Some(dw_t), Some(x)) = (&mut dw_t, x) {
                        let x_g = |n: usize| {
                            &x[n * sample_in + g * group_in * plane..][..group_in * plane]
                        };
                        let matrix: &[T] = if direct {
                            x_g(first)
                        } else {
                            for j in 0..m {
                                im2col(&s, x_g(first + j), (&mut cols, ld, j * pixels));
                            }
                            &cols
                        };
                        matmul(
                            &mut dw_t[g * group_out * taps..],
                            group_out,
                            [taps, group_out, ld],
                            Mat::rows(matrix, ld),
                            Mat::transposed(dy_block, ld),
                            true,
                            parallel_gemm,
                        );
                    }
                    if let (Some(dx), Some(weight)) = (&mut dx, weight) {
                        let w_g = Mat::transposed(&weight[g * group_out * taps..], taps);
                        let size = [taps, ld, group_out];
                        let dx_g = |j: usize| {
                            (first - samples.start + j) * sample_in + g * group_in * plane
                        };
                        if direct {
                            let dx_g = &mut dx[dx_g(0)..][..group_in * plane];
                            matmul(
                                dx_g,
                                pixels,
                                size,
                                w_g,
                                Mat::rows(dy_block, ld),
                                false,
                                parallel_gemm,
                            );
                        } else {
                            matmul(
                                &mut cols,
                                ld,
                                size,
                                w_g,
                                Mat::rows(dy_block, ld),
                                false,
                                parallel_gemm,
                            );
                            for j in 0..m {
                                let dx_g = &mut dx[dx_g(j)..][..group_in * plane];
                                col2im(&s, (&mut cols, ld, j * pixels), dx_g);
                            }
                        }
                    }
                }
            }
            let dw = dw_t.map(|dw_t| {
                let mut dw = vec![T::ZERO; w_len];
                for (dw, dw_t) in dw
                    .chunks_mut(group_out * taps)
                    .zip(dw_t.chunks(group_out * taps))
                {
                    for (tap, row) in dw_t.chunks(group_out).enumerate() {
                        for (o, &v) in row.iter().enumerate() {
                            dw[o * taps + tap] = v;
                        }
                    }
                }
                dw
            });
            (dw, db)
        })
        .collect();
    let (weight_parts, bias_parts): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
    Conv2dGradients {
        x: dx,
        weight: sum_partials(weight_parts),
        bias: sum_partials(bias_parts),
    }
}

/// One thread chunk's partial `∂W` and `∂b` (each when asked for).
type Partials<T> = (Option<Vec<T>>, Option<Vec<T>>);

/// The sum of the threads' partial gradients (`None` when the gradient was not asked for).
fn sum_partials<T: Real>(parts: Vec<Option<Vec<T>>>) -> Option<Vec<T>> {
    let mut parts = parts.into_iter().flatten();
    let mut total = parts.next()?;
    for part in parts {
        total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
    }
    Some(total)
}

/// `∂b[o] = Σ_{n, pixels} ∂y[n, o, ·]` over the samples of `grad`.
fn bias_gradient<T: Real>(s: &Conv2dShape, grad: &[T]) -> Vec<T> {
    let mut db = vec![T::ZERO; s.weight[0]];
    for sample in grad.chunks(s.sample_out().max(1)) {
        for (d, channel) in db.iter_mut().zip(sample.chunks(s.pixels().max(1))) {
            *d += sum(channel);
        }
    }
    db
}

/// `Σ values`, in eight interleaved partial sums (which the compiler keeps in one vector
/// register: a single running sum is a serial chain of dependent additions).
fn sum<T: Real>(values: &[T]) -> T {
    let mut lanes = [T::ZERO; 8];
    let mut blocks = values.chunks_exact(8);
    for block in &mut blocks {
        for (lane, &v) in lanes.iter_mut().zip(block) {
            *lane += v;
        }
    }
    let tail = blocks.remainder().iter().fold(T::ZERO, |acc, &v| acc + v);
    lanes.iter().fold(tail, |acc, &v| acc + v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition: `y[n,o,oy,ox] = b[o] + Σ_{c∈group(o), i, j} x[n,c,iy,ix] w[o,c,i,j]`.
    fn reference(s: &Conv2dShape, x: &[f64], w: &[f64], b: Option<&[f64]>) -> Vec<f64> {
        let [n, c, h, wd] = s.input;
        let [o, cg, kh, kw] = s.weight;
        let [oh, ow] = s.output;
        let win = s.window;
        let og = o / win.groups;
        let mut y = vec![0.0; n * o * oh * ow];
        for n_ in 0..n {
            for o_ in 0..o {
                let g = o_ / og;
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = b.map_or(0.0, |b| b[o_]);
                        for ci in 0..cg {
                            let c_ = g * cg + ci;
                            for i in 0..kh {
                                for j in 0..kw {
                                    let iy = (oy * win.stride[0] + i * win.dilation[0]) as isize
                                        - win.padding[0] as isize;
                                    let ix = (ox * win.stride[1] + j * win.dilation[1]) as isize
                                        - win.padding[1] as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let xv =
                                        x[((n_ * c + c_) * h + iy as usize) * wd + ix as usize];
                                    acc += xv * w[((o_ * cg + ci) * kh + i) * kw + j];
                                }
                            }
                        }
                        y[((n_ * o + o_) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y
    }

    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len)
            .map(|i| (((i * 7919 + seed * 104_729) % 1000) as f64) / 500.0 - 1.0)
            .collect()
    }

    fn shapes() -> Vec<Conv2dShape> {
        let window = |stride, padding, dilation, groups| Conv2dWindow {
            stride,
            padding,
            dilation,
            groups,
        };
        [
            (
                [2, 3, 7, 6],
                [4, 3, 3, 3],
                window([1, 1], [1, 1], [1, 1], 1),
            ),
            (
                [3, 2, 9, 8],
                [4, 2, 3, 2],
                window([2, 3], [2, 1], [1, 1], 1),
            ),
            (
                [1, 4, 7, 9],
                [6, 2, 2, 3],
                window([1, 2], [0, 3], [2, 2], 2),
            ),
            (
                [2, 4, 5, 5],
                [4, 4, 1, 1],
                window([1, 1], [0, 0], [1, 1], 1),
            ),
            (
                [5, 6, 3, 4],
                [9, 2, 1, 1],
                window([1, 1], [0, 0], [1, 1], 3),
            ),
            (
                [1, 1, 4, 4],
                [1, 1, 4, 4],
                window([3, 3], [3, 3], [1, 1], 1),
            ),
            (
                [3, 1, 2, 11],
                [2, 1, 1, 5],
                window([1, 4], [0, 2], [1, 3], 1),
            ),
            // 'Same' shapes (the contiguous-tap path): dilated, grouped, a kernel taller
            // than the image, one wider than the padding.
            (
                [2, 2, 9, 7],
                [3, 2, 3, 3],
                window([1, 1], [2, 2], [2, 2], 1),
            ),
            (
                [1, 4, 6, 5],
                [4, 2, 5, 5],
                window([1, 1], [2, 2], [1, 1], 2),
            ),
            (
                [2, 3, 2, 8],
                [2, 3, 5, 3],
                window([1, 1], [2, 1], [1, 1], 1),
            ),
        ]
        .into_iter()
        .map(|(x, w, win)| Conv2dShape::new(x, w, win).expect("valid test shape"))
        .collect()
    }

    #[test]
    fn forward_matches_the_definition() {
        for s in shapes() {
            let x = values(s.input.iter().product(), 1);
            let w = values(s.weight.iter().product(), 2);
            let b = values(s.weight[0], 3);
            for bias in [None, Some(&b[..])] {
                let got = conv2d_forward(&s, &x, &w, bias);
                let expected = reference(&s, &x, &w, bias);
                assert_eq!(got.len(), expected.len());
                for (g, e) in got.iter().zip(&expected) {
                    assert!((g - e).abs() < 1e-12, "{s:?}: {g} vs {e}");
                }
            }
        }
    }

    /// The backward is the adjoint of the forward: `⟨∂y, J·(dx, dW, db)⟩` equals
    /// `⟨∂x, dx⟩ + ⟨∂W, dW⟩ + ⟨∂b, db⟩` for any directions, the forward being bilinear.
    #[test]
    fn backward_is_the_adjoint_of_the_forward() {
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
        for s in shapes() {
            let (nx, nw, no) = (
                s.input.iter().product(),
                s.weight.iter().product(),
                s.output_shape().iter().product(),
            );
            let (x, w, dy) = (values(nx, 4), values(nw, 5), values(no, 6));
            let (vx, vw, vb) = (values(nx, 7), values(nw, 8), values(s.weight[0], 9));
            let grads = conv2d_backward(&s, Some(&x), Some(&w), &dy, true);
            let (gx, gw, gb) = (grads.x.unwrap(), grads.weight.unwrap(), grads.bias.unwrap());
            // d/dx: conv(vx, w); d/dw: conv(x, vw); d/db: vb broadcast.
            let jx = reference(&s, &vx, &w, None);
            let jw = reference(&s, &x, &vw, None);
            let jb = reference(&s, &vec![0.0; nx], &vec![0.0; nw], Some(&vb));
            for (got, expected) in [
                (dot(&gx, &vx), dot(&dy, &jx)),
                (dot(&gw, &vw), dot(&dy, &jw)),
                (dot(&gb, &vb), dot(&dy, &jb)),
            ] {
                assert!(
                    (got - expected).abs() < 1e-9 * (1.0 + expected.abs()),
                    "{s:?}: {got} vs {expected}"
                );
            }
            // Only what is asked for is computed.
            let only_x = conv2d_backward(&s, None, Some(&w), &dy, false);
            assert_eq!(
                (only_x.x.as_deref(), only_x.weight, only_x.bias),
                (Some(&gx[..]), None, None)
            );
            let only_w = conv2d_backward(&s, Some(&x), None, &dy, false);
            assert_eq!((only_w.x, only_w.weight.as_deref()), (None, Some(&gw[..])));
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let s = shapes()[1];
        let x = values(s.input.iter().product(), 1);
        let w = values(s.weight.iter().product(), 2);
        let to32 = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<_>>();
        let got = conv2d_forward(&s, &to32(&x), &to32(&w), None);
        let expected = reference(&s, &x, &w, None);
        for (g, e) in got.iter().zip(&expected) {
            assert!((f64::from(*g) - e).abs() < 1e-5, "{g} vs {e}");
        }
    }

    #[test]
    fn shapes_that_do_not_agree_are_none() {
        let window = Conv2dWindow {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 2,
        };
        assert!(Conv2dShape::new([1, 3, 4, 4], [2, 1, 2, 2], window).is_none());
        assert!(Conv2dShape::new([1, 4, 4, 4], [3, 2, 2, 2], window).is_none());
        let one = Conv2dWindow {
            groups: 1,
            ..window
        };
        assert!(Conv2dShape::new([1, 1, 2, 2], [1, 1, 3, 3], one).is_none());
        let zero = Conv2dWindow {
            stride: [0, 1],
            ..one
        };
        assert!(Conv2dShape::new([1, 1, 4, 4], [1, 1, 3, 3], zero).is_none());
        assert_eq!(
            Conv2dShape::new(
                [2, 1, 28, 28],
                [16, 1, 5, 5],
                Conv2dWindow {
                    padding: [2, 2],
                    ..one
                }
            )
            .map(|s| s.output_shape()),
            Some([2, 16, 28, 28])
        );
    }
}
