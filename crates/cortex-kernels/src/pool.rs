//! 2-D max pooling (PyTorch's `max_pool2d`: NCHW, padding that never wins; in a window's
//! row-major order the first of equal maxima, and the last NaN, which propagates) forward with
//! its arg-max, and the backward that sends each output's gradient to that arg-max. Planes
//! (`n, c`) run in parallel on rayon's pool; each is pooled over its rows first, then its
//! window columns, in elementwise passes that compile to vector blends.

use rayon::prelude::*;

use crate::Real;
use crate::simd::simd_fn;

/// A pooling window: its size, stride and zero padding per spatial dimension `[h, w]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool2dWindow {
    /// Window size (> 0).
    pub kernel: [usize; 2],
    /// Step between windows (> 0).
    pub stride: [usize; 2],
    /// Padding on both sides (at most half the window).
    pub padding: [usize; 2],
}

/// The sizes of one max pooling: input `[N, C, H, W]`, window, stride and padding per spatial
/// dimension `[h, w]`; built by [`MaxPool2dShape::new`], which checks that they agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxPool2dShape {
    input: [usize; 4],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    output: [usize; 2],
}

impl MaxPool2dShape {
    /// The pooling of `input [N, C, H, W]`; `None` for a zero kernel or stride, padding above
    /// half the kernel (a window could then hold padding only), or a window larger than the
    /// padded input.
    pub fn new(input: [usize; 4], window: Pool2dWindow) -> Option<Self> {
        let Pool2dWindow {
            kernel,
            stride,
            padding,
        } = window;
        let extent = |d: usize| {
            let (n, k, s, p) = (input[2 + d], kernel[d], stride[d], padding[d]);
            if k == 0 || s == 0 || p > k / 2 {
                return None;
            }
            Some(n.checked_add(p.checked_mul(2)?)?.checked_sub(k)? / s + 1)
        };
        let output = [extent(0)?, extent(1)?];
        Some(Self {
            input,
            kernel,
            stride,
            padding,
            output,
        })
    }

    /// The input's shape, `[N, C, H, W]`.
    pub fn input_shape(&self) -> [usize; 4] {
        self.input
    }

    /// The output's shape, `[N, C, H_out, W_out]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.input[0], self.input[1], self.output[0], self.output[1]]
    }

    /// The input rows or columns `[lo, hi)` of the window at output position `o` along `d`.
    fn window(&self, d: usize, o: usize) -> (usize, usize) {
        let start = (o * self.stride[d]) as isize - self.padding[d] as isize;
        let end = start + self.kernel[d] as isize;
        let size = self.input[2 + d] as isize;
        (start.max(0) as usize, end.min(size) as usize)
    }
}

/// Planes per rayon task: small planes are batched so that a task is not a few dozen values.
fn planes_per_task(plane: usize) -> usize {
    (4096 / plane.max(1)).max(1)
}

/// `max` and `at` ← the maximum over `rows` of each column of the plane `x` (rows `w`
/// apart) and its index in the plane: an elementwise pass the compiler vectorises. Within a
/// column the earliest row wins a tie and the last NaN wins, as in a row-major scan.
#[inline(always)]
fn stack_rows<T: Real>(
    x: &[T],
    w: usize,
    rows: std::ops::Range<usize>,
    max: &mut [T],
    at: &mut [u32],
) {
    let first = rows.start;
    max.copy_from_slice(&x[first * w..][..w]);
    let base = (first * w) as u32;
    for (c, at) in at.iter_mut().enumerate() {
        *at = base + c as u32;
    }
    for r in rows.skip(1) {
        let row = &x[r * w..][..w];
        let base = (r * w) as u32;
        for (c, ((m, a), &v)) in max.iter_mut().zip(at.iter_mut()).zip(row).enumerate() {
            // `v != v`: a NaN, which always takes the window (the last NaN wins). Selects, not
            // branches: on real data which row wins is a coin toss for the branch predictor.
            #[allow(clippy::eq_op)]
            let take = (v > *m) | (v != v);
            *m = if take { v } else { *m };
            *a = if take { base + c as u32 } else { *a };
        }
    }
}

/// Whether the candidate `(v, i)` replaces `(best, at)` in a window scanned in row-major
/// order (index order): a greater value; an equal one met earlier; a NaN over a number, and
/// the later of two NaNs (the scan's last NaN), as PyTorch's kernel picks.
#[allow(clippy::eq_op)]
#[inline(always)]
fn takes<T: Real>(v: T, i: u32, best: T, at: u32) -> bool {
    // Without short-circuits, so that it compiles to flag arithmetic rather than branches.
    let (v_nan, best_nan) = (v != v, best != best);
    (v_nan & (!best_nan | (i > at)))
        | (!v_nan & !best_nan & ((v > best) | ((v == best) & (i < at))))
}

/// Per-thread buffers of [`pool_plane`]: every output row's stacked columns (maximum over
/// the window's rows, and where it sits) and one window column's candidates for every
/// output of the plane.
struct Scratch<T> {
    column_max: Vec<T>,
    column_at: Vec<u32>,
    candidate: Vec<T>,
    candidate_at: Vec<u32>,
}

simd_fn! {
    /// The windows of one plane `x` (rows `w` apart): `y` and `argmax` (`rows.len()` ×
    /// `cols.len()`) from each output row's stacked columns, with AVX2 where the CPU has it
    /// (the selects become blends; baseline SSE2 has none).
    fn pool_plane / pool_plane_avx2<T: Real>(
        x: &[T],
        w: usize,
        rows: &[(usize, usize)],
        cols: &[(usize, usize)],
        y: &mut [T],
        argmax: &mut [u32],
        scratch: &mut Scratch<T>,
    ) {
        let ow = cols.len();
        let widest = cols.iter().map(|&(c0, c1)| c1 - c0).max().unwrap_or(0);
        let Scratch {
            column_max,
            column_at,
            candidate,
            candidate_at,
        } = scratch;
        for (oy, &(r0, r1)) in rows.iter().enumerate() {
            let (max, at) = (&mut column_max[oy * w..][..w], &mut column_at[oy * w..][..w]);
            stack_rows(x, w, r0..r1, max, at);
        }
        // Window column j of every output of the plane at once: gathered first, then compared
        // in one elementwise pass over the plane, which vectorises (gathering and selecting
        // in one loop compiled to a branch per output, mispredicted half the time). A window
        // narrower than j (at the padding) re-reads its first column, which never takes (same
        // index).
        for j in 0..widest {
            let gathered = candidate.chunks_exact_mut(ow).zip(candidate_at.chunks_exact_mut(ow));
            for (oy, (v, i)) in gathered.enumerate() {
                let (max, at) = (&column_max[oy * w..][..w], &column_at[oy * w..][..w]);
                for ((v, i), &(c0, c1)) in v.iter_mut().zip(i.iter_mut()).zip(cols) {
                    let c = if c0 + j < c1 { c0 + j } else { c0 };
                    (*v, *i) = (max[c], at[c]);
                }
            }
            if j == 0 {
                y.copy_from_slice(candidate);
                argmax.copy_from_slice(candidate_at);
                continue;
            }
            for (((y, argmax), &v), &i) in y
                .iter_mut()
                .zip(argmax.iter_mut())
                .zip(candidate.iter())
                .zip(candidate_at.iter())
            {
                let take = takes(v, i, *y, *argmax);
                *y = if take { v } else { *y };
                *argmax = if take { i } else { *argmax };
            }
        }
    }
}

/// `(y, argmax)`: the maximum of every window of `x [N, C, H, W]` and its index inside its
/// `H · W` plane, both `[N, C, H_out, W_out]`. A window holding a NaN gives NaN, at its last NaN (as PyTorch).
///
/// # Panics
/// When `x` does not hold `shape`'s input (an internal invariant of the callers), or a plane
/// has 2³² values or more.
pub fn max_pool2d_forward<T: Real>(shape: &MaxPool2dShape, x: &[T]) -> (Vec<T>, Vec<u32>) {
    let s = *shape;
    let [_, _, h, w] = s.input;
    let [oh, ow] = s.output;
    let (plane_in, plane_out) = (h * w, oh * ow);
    assert!(
        x.len() == s.input.iter().product::<usize>() && u32::try_from(plane_in).is_ok(),
        "max_pool2d kernel: input does not match {s:?}"
    );
    let planes = s.input[0] * s.input[1];
    let mut y = vec![T::ZERO; planes * plane_out];
    let mut argmax = vec![0u32; planes * plane_out];
    if y.is_empty() || plane_in == 0 {
        return (y, argmax);
    }
    let rows: Vec<_> = (0..oh).map(|o| s.window(0, o)).collect();
    let cols: Vec<_> = (0..ow).map(|o| s.window(1, o)).collect();
    let per_task = planes_per_task(plane_in);
    y.par_chunks_mut(per_task * plane_out)
        .zip(argmax.par_chunks_mut(per_task * plane_out))
        .zip(x.par_chunks(per_task * plane_in))
        .for_each(|((y, argmax), x)| {
            let mut scratch = Scratch {
                column_max: vec![T::ZERO; oh * w],
                column_at: vec![0u32; oh * w],
                candidate: vec![T::ZERO; plane_out],
                candidate_at: vec![0u32; plane_out],
            };
            for ((y, argmax), x) in y
                .chunks_mut(plane_out)
                .zip(argmax.chunks_mut(plane_out))
                .zip(x.chunks(plane_in))
            {
                pool_plane(x, w, &rows, &cols, y, argmax, &mut scratch);
            }
        });
    (y, argmax)
}

/// `∂x [N, C, H, W]` of [`max_pool2d_forward`] for `grad [N, C, H_out, W_out]`: each output's
/// gradient added to its window's arg-max (overlapping windows may share one).
///
/// # Panics
/// When the slices do not match `shape` (an internal invariant of the callers).
pub fn max_pool2d_backward<T: Real>(shape: &MaxPool2dShape, argmax: &[u32], grad: &[T]) -> Vec<T> {
    let s = *shape;
    let [_, _, h, w] = s.input;
    let (plane_in, plane_out) = (h * w, s.output[0] * s.output[1]);
    let planes = s.input[0] * s.input[1];
    assert!(
        grad.len() == planes * plane_out && argmax.len() == grad.len(),
        "max_pool2d kernel: gradient does not match {s:?}"
    );
    let mut dx = vec![T::ZERO; planes * plane_in];
    if grad.is_empty() || plane_in == 0 {
        return dx;
    }
    let per_task = planes_per_task(plane_in);
    dx.par_chunks_mut(per_task * plane_in)
        .zip(argmax.par_chunks(per_task * plane_out))
        .zip(grad.par_chunks(per_task * plane_out))
        .for_each(|((dx, argmax), grad)| {
            for ((dx, argmax), grad) in dx
                .chunks_mut(plane_in)
                .zip(argmax.chunks(plane_out))
                .zip(grad.chunks(plane_out))
            {
                for (&at, &g) in argmax.iter().zip(grad) {
                    dx[at as usize] += g;
                }
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every window's maximum over its in-image values.
    fn reference(s: &MaxPool2dShape, x: &[f64]) -> Vec<f64> {
        let [n, c, h, w] = s.input;
        let [oh, ow] = s.output;
        let mut y = Vec::new();
        for plane in 0..n * c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best = f64::NEG_INFINITY;
                    for i in 0..s.kernel[0] {
                        for j in 0..s.kernel[1] {
                            let iy = (oy * s.stride[0] + i) as isize - s.padding[0] as isize;
                            let ix = (ox * s.stride[1] + j) as isize - s.padding[1] as isize;
                            if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                best = best.max(x[plane * h * w + iy as usize * w + ix as usize]);
                            }
                        }
                    }
                    y.push(best);
                }
            }
        }
        y
    }

    fn shapes() -> Vec<MaxPool2dShape> {
        [
            ([2, 3, 8, 8], [2, 2], [2, 2], [0, 0]),
            ([1, 2, 7, 9], [3, 2], [2, 3], [1, 1]),
            ([3, 1, 5, 6], [3, 3], [1, 1], [1, 0]),
            ([70, 3, 4, 4], [4, 4], [1, 1], [2, 2]),
        ]
        .into_iter()
        .map(|(x, kernel, stride, padding)| {
            let window = Pool2dWindow {
                kernel,
                stride,
                padding,
            };
            MaxPool2dShape::new(x, window).expect("valid test shape")
        })
        .collect()
    }

    #[test]
    fn forward_is_the_window_maximum_and_backward_routes_to_it() {
        for s in shapes() {
            let n = s.input.iter().product();
            // Distinct values (no ties), in a scrambled order.
            let x: Vec<f64> = (0..n).map(|i| ((i * 7919) % 10007) as f64 * 0.01).collect();
            let (y, argmax) = max_pool2d_forward(&s, &x);
            assert_eq!(y, reference(&s, &x), "{s:?}");
            let [_, _, h, w] = s.input;
            let plane_out = s.output[0] * s.output[1];
            for (k, (&v, &at)) in y.iter().zip(&argmax).enumerate() {
                assert_eq!(
                    x[k / plane_out * h * w + at as usize],
                    v,
                    "{s:?} output {k}"
                );
            }
            // ∂x = Σ over outputs of the gradient at their arg-max: check ⟨∂x, x⟩ = ⟨g, y⟩
            // (each output reads x at its arg-max) and that ∂x is zero off the arg-maxes.
            let grad: Vec<f64> = (0..y.len()).map(|i| 1.0 + (i % 5) as f64).collect();
            let dx = max_pool2d_backward(&s, &argmax, &grad);
            let lhs: f64 = dx.iter().zip(&x).map(|(d, x)| d * x).sum();
            let rhs: f64 = grad.iter().zip(&y).map(|(g, y)| g * y).sum();
            assert!(
                (lhs - rhs).abs() < 1e-9 * rhs.abs(),
                "{s:?}: {lhs} vs {rhs}"
            );
            let hits = dx.iter().filter(|d| **d != 0.0).count();
            assert!(hits <= y.len() && hits > 0);
        }
    }

    fn window(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Pool2dWindow {
        Pool2dWindow {
            kernel,
            stride,
            padding,
        }
    }

    #[test]
    fn ties_take_the_first_maximum_and_nan_propagates() {
        let s = MaxPool2dShape::new([1, 1, 2, 4], window([2, 2], [2, 2], [0, 0])).unwrap();
        let x = [1.0f32, 3.0, f32::NAN, 0.0, 3.0, 3.0, 5.0, f32::NAN];
        let (y, argmax) = max_pool2d_forward(&s, &x);
        assert_eq!((y[0], argmax[0]), (3.0, 1));
        assert!(y[1].is_nan());
        assert_eq!(argmax[1], 7, "the last NaN of the window");
        let dx = max_pool2d_backward(&s, &argmax, &[1.0f32, 2.0]);
        assert_eq!(dx, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
    }

    /// Ties across rows and columns go to the first in row-major order, NaNs to the last one,
    /// whatever row or column they sit in.
    #[test]
    fn ties_and_nans_follow_the_row_major_scan() {
        let s = MaxPool2dShape::new([1, 1, 2, 8], window([2, 2], [2, 2], [0, 0])).unwrap();
        let nan = f64::NAN;
        let x = [
            1.0, 5.0, 0.0, 0.0, nan, 1.0, 2.0, nan, //
            5.0, 1.0, 0.0, 0.0, 1.0, nan, nan, 9.0,
        ];
        let (y, argmax) = max_pool2d_forward(&s, &x);
        assert_eq!((y[0], argmax[0]), (5.0, 1), "(0, 1) comes before (1, 0)");
        assert_eq!((y[1], argmax[1]), (0.0, 2));
        assert!(y[2].is_nan() && y[3].is_nan());
        assert_eq!((argmax[2], argmax[3]), (13, 14));
    }

    #[test]
    fn shapes_that_do_not_agree_are_none() {
        let none = |x, k, s, p| MaxPool2dShape::new(x, window(k, s, p)).is_none();
        assert!(none([1, 1, 4, 4], [0, 2], [1, 1], [0, 0]));
        assert!(none([1, 1, 4, 4], [2, 2], [1, 0], [0, 0]));
        assert!(none([1, 1, 4, 4], [2, 2], [1, 1], [2, 0]));
        assert!(none([1, 1, 2, 4], [3, 3], [1, 1], [0, 0]));
        let s = MaxPool2dShape::new([2, 3, 28, 28], window([2, 2], [2, 2], [0, 0])).unwrap();
        assert_eq!(s.output_shape(), [2, 3, 14, 14]);
    }
}
