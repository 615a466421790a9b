//! 2-D max pooling (PyTorch's `max_pool2d`: NCHW, padding that never wins; in a window's
//! row-major order the first of equal maxima, and the last NaN, which propagates) forward with
//! its arg-max, and the backward that sends each output's gradient to that arg-max. Planes
//! (`n, c`) run in parallel on rayon's pool; each is pooled over its rows first, then its
//! window columns, in elementwise passes that compile to vector blends. 2×2 windows at stride
//! 2 without padding, the usual CNN pooling, take a direct path: blocks of 8 windows per row,
//! forward and backward (whose `∂x` is then written once, with no zero fill).

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

    /// 2×2 windows at stride 2 without padding, which take the direct path.
    fn two_by_two(&self) -> bool {
        self.kernel == [2, 2] && self.stride == [2, 2] && self.padding == [0, 0]
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
    /// `cols.len()`) from each output row's stacked columns, with AVX-512 or AVX2 where the
    /// CPU has them (the selects become masked moves or blends; baseline SSE2 has none).
    fn pool_plane<T: Real>(
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

/// Outputs of a 2×2 pooling row computed at once: one vector of f32 lanes.
const BLOCK: usize = 8;

/// [`BLOCK`] outputs of a 2×2, stride-2 pooling from the `2·BLOCK` values of the window rows
/// `top` and `bottom` (`at`: `top[0]`'s index in the plane, `below`: the row length). Each
/// output scans its four values in row-major order; a fixed-size loop the compiler turns into
/// stride-2 vector loads and blends.
#[inline(always)]
fn pool_2x2_block<T: Real>(
    top: &[T; 2 * BLOCK],
    bottom: &[T; 2 * BLOCK],
    at: u32,
    below: u32,
    y: &mut [T; BLOCK],
    argmax: &mut [u32; BLOCK],
) {
    for ox in 0..BLOCK {
        let at = at + 2 * ox as u32;
        let mut best = (top[2 * ox], at);
        // A value takes the window when it is greater, or a NaN (the last NaN wins; a number
        // never replaces a NaN, as `v > NaN` is false).
        for (v, i) in [
            (top[2 * ox + 1], at + 1),
            (bottom[2 * ox], at + below),
            (bottom[2 * ox + 1], at + below + 1),
        ] {
            #[allow(clippy::eq_op)]
            let take = (v > best.0) | (v != v);
            best = if take { (v, i) } else { best };
        }
        (y[ox], argmax[ox]) = best;
    }
}

/// The first output of each [`BLOCK`] of a row of `ow ≥ BLOCK` outputs: every multiple of
/// `BLOCK`, the last one moved back to end at the row's end (overlapping outputs are computed
/// twice, to the same values).
fn block_starts(ow: usize) -> impl Iterator<Item = usize> {
    (0..ow).step_by(BLOCK).map(move |s| s.min(ow - BLOCK))
}

simd_fn! {
    /// [`pool_plane`] for 2×2 windows at stride 2 without padding, the common CNN pooling:
    /// whole blocks of outputs per row (rows shorter than a block go through a padded copy),
    /// with no gather and no scratch.
    fn pool_plane_2x2<T: Real>(
        x: &[T],
        w: usize,
        ow: usize,
        y: &mut [T],
        argmax: &mut [u32],
    ) {
        let below = w as u32;
        let outputs = y.chunks_exact_mut(ow).zip(argmax.chunks_exact_mut(ow));
        for (oy, (y, argmax)) in outputs.enumerate() {
            let top = &x[2 * oy * w..][..2 * ow];
            let bottom = &x[(2 * oy + 1) * w..][..2 * ow];
            let base = (2 * oy * w) as u32;
            if ow < BLOCK {
                let (mut t, mut b) = ([T::ZERO; 2 * BLOCK], [T::ZERO; 2 * BLOCK]);
                t[..2 * ow].copy_from_slice(top);
                b[..2 * ow].copy_from_slice(bottom);
                let (mut max, mut at) = ([T::ZERO; BLOCK], [0u32; BLOCK]);
                pool_2x2_block(&t, &b, base, below, &mut max, &mut at);
                y.copy_from_slice(&max[..ow]);
                argmax.copy_from_slice(&at[..ow]);
                continue;
            }
            for s in block_starts(ow) {
                let window = |row: &[T]| -> [T; 2 * BLOCK] {
                    row[2 * s..][..2 * BLOCK].try_into().expect("2·BLOCK values")
                };
                let max = (&mut y[s..][..BLOCK]).try_into().expect("BLOCK values");
                let at = (&mut argmax[s..][..BLOCK]).try_into().expect("BLOCK values");
                let at0 = base + 2 * s as u32;
                pool_2x2_block(&window(top), &window(bottom), at0, below, max, at);
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
    let direct = s.two_by_two();
    y.par_chunks_mut(per_task * plane_out)
        .zip(argmax.par_chunks_mut(per_task * plane_out))
        .zip(x.par_chunks(per_task * plane_in))
        .for_each(|((y, argmax), x)| {
            let mut scratch = (!direct).then(|| Scratch {
                column_max: vec![T::ZERO; oh * w],
                column_at: vec![0u32; oh * w],
                candidate: vec![T::ZERO; plane_out],
                candidate_at: vec![0u32; plane_out],
            });
            for ((y, argmax), x) in y
                .chunks_mut(plane_out)
                .zip(argmax.chunks_mut(plane_out))
                .zip(x.chunks(plane_in))
            {
                match scratch.as_mut() {
                    None => pool_plane_2x2(x, w, ow, y, argmax),
                    Some(scratch) => pool_plane(x, w, &rows, &cols, y, argmax, scratch),
                }
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
    if s.two_by_two() && !grad.is_empty() {
        return unpool_2x2(s, argmax, grad);
    }
    let mut dx = vec![T::ZERO; planes * plane_in];
    if grad.is_empty() || plane_in == 0 {
        return dx;
    }
    for_each_plane(
        &mut dx,
        argmax,
        grad,
        [plane_in, plane_out],
        |dx, argmax, grad| {
            for (&at, &g) in argmax.iter().zip(grad) {
                dx[at as usize] += g;
            }
        },
    );
    dx
}

/// `f` on every input plane of `dx` (`planes[0]` values) with its outputs' arg-maxes and
/// gradients (`planes[1]` each), small planes batched per rayon task: the loop of both
/// backwards, over `dx` as values or as not yet written memory.
fn for_each_plane<D: Send, T: Real>(
    dx: &mut [D],
    argmax: &[u32],
    grad: &[T],
    [plane_in, plane_out]: [usize; 2],
    f: impl Fn(&mut [D], &[u32], &[T]) + Sync,
) {
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
                f(dx, argmax, grad);
            }
        });
}

/// [`max_pool2d_backward`] for 2×2 windows at stride 2 without padding: every value of `∂x`
/// written once, from the window that holds it (windows do not overlap), with no zero-filled
/// buffer to scatter into first.
fn unpool_2x2<T: Real>(s: MaxPool2dShape, argmax: &[u32], grad: &[T]) -> Vec<T> {
    let [n, c, h, w] = s.input;
    let ow = s.output[1];
    let (plane_in, plane_out) = (h * w, s.output[0] * ow);
    let len = n * c * plane_in;
    let mut dx: Vec<T> = Vec::with_capacity(len);
    let planes = [plane_in, plane_out];
    for_each_plane(
        &mut dx.spare_capacity_mut()[..len],
        argmax,
        grad,
        planes,
        |dx, argmax, grad| unpool_plane_2x2(argmax, grad, w, ow, dx),
    );
    // SAFETY: `unpool_plane_2x2` wrote every value of every plane, and the planes cover the
    // `len` values (`grad` and `argmax` hold one plane of outputs per input plane).
    unsafe { dx.set_len(len) };
    dx
}

/// [`BLOCK`] windows of [`unpool_2x2`]: the two rows of `∂x` under them from their gradients
/// and arg-maxes (`at`: the first window's top-left index in the plane, `below`: the row
/// length), the gradient at the arg-max and zero elsewhere.
#[inline(always)]
fn unpool_2x2_block<T: Real>(
    argmax: &[u32; BLOCK],
    grad: &[T; BLOCK],
    at: u32,
    below: u32,
) -> ([T; 2 * BLOCK], [T; 2 * BLOCK]) {
    let (mut top, mut bottom) = ([T::ZERO; 2 * BLOCK], [T::ZERO; 2 * BLOCK]);
    for ox in 0..BLOCK {
        let (g, k) = (grad[ox], argmax[ox].wrapping_sub(at + 2 * ox as u32));
        let pick = |i: u32| if k == i { g } else { T::ZERO };
        top[2 * ox] = pick(0);
        top[2 * ox + 1] = pick(1);
        bottom[2 * ox] = pick(below);
        bottom[2 * ox + 1] = pick(below + 1);
    }
    (top, bottom)
}

/// `dst[i] ← values[i]` for every value.
#[inline(always)]
fn write_all<T: Copy>(dst: &mut [std::mem::MaybeUninit<T>], values: &[T]) {
    for (d, &v) in dst.iter_mut().zip(values) {
        d.write(v);
    }
}

simd_fn! {
    /// One plane of [`unpool_2x2`]: whole blocks of windows per row (rows shorter than a
    /// block through a padded copy), then zeros in the last row and column that a 2×2 window
    /// of an odd-sized plane never covers.
    fn unpool_plane_2x2<T: Real>(
        argmax: &[u32],
        grad: &[T],
        w: usize,
        ow: usize,
        dx: &mut [std::mem::MaybeUninit<T>],
    ) {
        let oh = grad.len() / ow;
        let below = w as u32;
        let windows = argmax.chunks_exact(ow).zip(grad.chunks_exact(ow));
        for (oy, (argmax, grad)) in windows.enumerate() {
            let (top, bottom) = dx[2 * oy * w..][..2 * w].split_at_mut(w);
            let base = (2 * oy * w) as u32;
            if ow < BLOCK {
                let (mut a, mut g) = ([0u32; BLOCK], [T::ZERO; BLOCK]);
                a[..ow].copy_from_slice(argmax);
                g[..ow].copy_from_slice(grad);
                let (t, b) = unpool_2x2_block(&a, &g, base, below);
                write_all(&mut top[..2 * ow], &t);
                write_all(&mut bottom[..2 * ow], &b);
            } else {
                for s in block_starts(ow) {
                    let a = argmax[s..][..BLOCK].try_into().expect("BLOCK values");
                    let g = grad[s..][..BLOCK].try_into().expect("BLOCK values");
                    let (t, b) = unpool_2x2_block(a, g, base + 2 * s as u32, below);
                    write_all(&mut top[2 * s..][..2 * BLOCK], &t);
                    write_all(&mut bottom[2 * s..][..2 * BLOCK], &b);
                }
            }
            for v in top[2 * ow..].iter_mut().chain(&mut bottom[2 * ow..]) {
                v.write(T::ZERO);
            }
        }
        for v in &mut dx[2 * oh * w..] {
            v.write(T::ZERO);
        }
    }
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

    /// The 2×2, stride-2 path (whole blocks, overlapping last blocks, rows shorter than a
    /// block, odd planes) against a row-major scan of each window, on values with many ties
    /// and NaNs; its backward against the scatter of each gradient to its arg-max.
    #[test]
    fn two_by_two_windows_match_a_row_major_scan() {
        for input in [[2, 3, 5, 7], [1, 2, 6, 34], [1, 1, 4, 16], [3, 2, 9, 30]] {
            let s = MaxPool2dShape::new(input, window([2, 2], [2, 2], [0, 0])).unwrap();
            let [_, _, h, w] = input;
            let [oh, ow] = s.output;
            let n: usize = input.iter().product();
            let x: Vec<f32> = (0..n)
                .map(|i| match (i * 7919) % 23 {
                    0 => f32::NAN,
                    r => (r % 4) as f32,
                })
                .collect();
            let (y, argmax) = max_pool2d_forward(&s, &x);
            let mut expected = Vec::new();
            for plane in x.chunks(h * w) {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let at = |i: usize, j: usize| ((2 * oy + i) * w + 2 * ox + j) as u32;
                        let mut best = (plane[at(0, 0) as usize], at(0, 0));
                        for (i, j) in [(0, 1), (1, 0), (1, 1)] {
                            let v = plane[at(i, j) as usize];
                            if v > best.0 || v.is_nan() {
                                best = (v, at(i, j));
                            }
                        }
                        expected.push(best);
                    }
                }
            }
            for (k, (&(v, at), (&got, &got_at))) in
                expected.iter().zip(y.iter().zip(&argmax)).enumerate()
            {
                assert_eq!(got_at, at, "{input:?} output {k}");
                assert!(
                    got == v || (got.is_nan() && v.is_nan()),
                    "{input:?} output {k}"
                );
            }
            assert_eq!(y.len(), expected.len());
            let grad: Vec<f32> = (0..y.len()).map(|i| 1.0 + (i % 7) as f32).collect();
            let mut scattered = vec![0.0f32; n];
            for (k, (&at, &g)) in argmax.iter().zip(&grad).enumerate() {
                scattered[k / (oh * ow) * h * w + at as usize] += g;
            }
            assert_eq!(
                max_pool2d_backward(&s, &argmax, &grad),
                scattered,
                "{input:?}"
            );
        }
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
