//! Batch normalization in training mode over `x [N, C, S]` (every dimension after the channel
//! flattened into `S`), forward and backward, each a statistics pass per channel and one
//! fused elementwise pass:
//!
//! forward: `μ_c = mean(x)`, `σ²_c = mean((x − μ_c)²)` (biased), then
//! `y = x · a_c + b_c` with `a_c = γ_c / √(σ²_c + ε)`, `b_c = β_c − μ_c a_c`;
//!
//! backward, with `M = N·S`, `r_c = 1/√(σ²_c + ε)` and `x̂ = (x − μ_c) r_c`:
//! `∂β_c = Σ ∂y`, `∂γ_c = Σ ∂y x̂`, and
//! `∂x = γ_c r_c (∂y − ∂β_c / M − x̂ ∂γ_c / M)`, again one `∂x = p_c ∂y + q_c x + s_c`
//! per element (the derivation is in `docs/math.md`, "Batch normalization").
//!
//! Sums run in f64 lanes (sixteen independent partial sums, so that they vectorise): a
//! channel of a million f32 values keeps its mean and variance to f32 precision. Channels are
//! split across rayon's pool for the statistics, planes for the elementwise passes.

use rayon::prelude::*;

use crate::real::Real;
use crate::simd::simd_fn;

/// The sizes of a batch normalization: `x [batch, channels, spatial]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchNormShape {
    /// `N`.
    pub batch: usize,
    /// `C`.
    pub channels: usize,
    /// `S`: the product of every dimension after the channel one (1 for `[N, C]`).
    pub spatial: usize,
}

impl BatchNormShape {
    /// Values of `x`.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.spatial
    }

    /// Whether `x` is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values each channel's statistics are taken over, `N·S`.
    pub fn per_channel(&self) -> usize {
        self.batch * self.spatial
    }

    fn check(&self, what: &str, len: usize, expected: usize) {
        // Internal invariant: the callers size every slice from checked tensor shapes.
        assert_eq!(
            len, expected,
            "batch norm kernel: {what} has the wrong length"
        );
    }
}

/// What the forward returns: `y` (x's shape) and the per-channel batch mean and biased
/// variance (for the backward and the running statistics).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNormForward<T> {
    /// The normalized, scaled and shifted values.
    pub y: Vec<T>,
    /// `μ_c`, `[C]`.
    pub mean: Vec<T>,
    /// `σ²_c` (biased), `[C]`.
    pub var: Vec<T>,
}

/// The gradients of [`batch_norm_forward`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchNormGrads<T> {
    /// `∂x`, x's shape.
    pub x: Vec<T>,
    /// `∂γ`, `[C]`.
    pub gamma: Vec<T>,
    /// `∂β`, `[C]`.
    pub beta: Vec<T>,
}

/// Planes (of `S` values) per parallel task: at least a few thousand values each.
fn planes_per_task(spatial: usize) -> usize {
    (8192 / spatial.max(1)).max(1)
}

/// The `N` planes (of `S` values) of one channel of `x`.
fn channel_planes<'a, T>(
    shape: &BatchNormShape,
    x: &'a [T],
    channel: usize,
) -> impl Iterator<Item = &'a [T]> {
    let (c, s) = (shape.channels, shape.spatial);
    (0..shape.batch).map(move |n| &x[(n * c + channel) * s..][..s])
}

/// Lanes of partial sums: wide enough for two AVX-512 vectors of f64.
const LANES: usize = 16;

simd_fn! {
    /// Adds `Σ values[i]` into `acc`'s lanes (lane `i mod LANES`, in f64).
    fn add_values<T: Real>(values: &[T], acc: &mut [f64; LANES]) {
        let mut chunks = values.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (a, v) in acc.iter_mut().zip(chunk) {
                *a += v.as_f64();
            }
        }
        for (a, v) in acc.iter_mut().zip(chunks.remainder()) {
            *a += v.as_f64();
        }
    }
}

simd_fn! {
    /// Adds `Σ (values[i] − mean)²` into `acc`'s lanes (in f64).
    fn add_squares<T: Real>(values: &[T], mean: f64, acc: &mut [f64; LANES]) {
        let mut chunks = values.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (a, v) in acc.iter_mut().zip(chunk) {
                let d = v.as_f64() - mean;
                *a += d * d;
            }
        }
        for (a, v) in acc.iter_mut().zip(chunks.remainder()) {
            let d = v.as_f64() - mean;
            *a += d * d;
        }
    }
}

simd_fn! {
    /// Adds `Σ ∂y` into `dy_sum` and `Σ ∂y (x − μ)` into `dyx_sum` (lanes, in f64).
    fn add_grad_lanes<T: Real>(
        dy: &[T],
        x: &[T],
        mean: f64,
        dy_sum: &mut [f64; LANES],
        dyx_sum: &mut [f64; LANES],
    ) {
        let mut dys = dy.chunks_exact(LANES);
        let mut xs = x.chunks_exact(LANES);
        for (dy, x) in (&mut dys).zip(&mut xs) {
            for i in 0..LANES {
                let g = dy[i].as_f64();
                dy_sum[i] += g;
                dyx_sum[i] += g * (x[i].as_f64() - mean);
            }
        }
        for (i, (dy, x)) in dys.remainder().iter().zip(xs.remainder()).enumerate() {
            let g = dy.as_f64();
            dy_sum[i] += g;
            dyx_sum[i] += g * (x.as_f64() - mean);
        }
    }
}

simd_fn! {
    /// `out[i] = a · x[i] + b`.
    fn affine<T: Real>(x: &[T], a: T, b: T, out: &mut [T]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = a * x + b;
        }
    }
}

simd_fn! {
    /// `out[i] = p · dy[i] + q · x[i] + s`.
    fn affine2<T: Real>(dy: &[T], x: &[T], p: T, q: T, s: T, out: &mut [T]) {
        for ((o, &dy), &x) in out.iter_mut().zip(dy).zip(x) {
            *o = p * dy + q * x + s;
        }
    }
}

/// The mean and biased variance of one channel, from two passes over its planes.
fn channel_stats<T: Real>(shape: &BatchNormShape, x: &[T], channel: usize) -> (f64, f64) {
    let m = shape.per_channel() as f64;
    let mut sum = [0.0; LANES];
    for plane in channel_planes(shape, x, channel) {
        add_values(plane, &mut sum);
    }
    let mean = sum.iter().sum::<f64>() / m;
    let mut squares = [0.0; LANES];
    for plane in channel_planes(shape, x, channel) {
        add_squares(plane, mean, &mut squares);
    }
    (mean, squares.iter().sum::<f64>() / m)
}

/// Writes `f(plane index, plane)` into every plane of `out` in parallel; the plane index
/// `p = n·C + c` gives the channel `p mod C`.
fn for_each_plane<T: Real>(
    shape: &BatchNormShape,
    out: &mut [T],
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let s = shape.spatial.max(1);
    let per_task = planes_per_task(s);
    out.par_chunks_mut(s * per_task)
        .enumerate()
        .for_each(|(task, planes)| {
            for (i, plane) in planes.chunks_mut(s).enumerate() {
                f(task * per_task + i, plane);
            }
        });
}

/// Batch normalization of `x [N, C, S]` in training mode: the batch statistics and `y`.
/// `gamma`/`beta` `[C]` default to ones/zeros.
///
/// # Panics
/// When a slice's length does not match `shape` (the callers check tensor shapes first).
pub fn batch_norm_forward<T: Real>(
    shape: &BatchNormShape,
    x: &[T],
    gamma: Option<&[T]>,
    beta: Option<&[T]>,
    eps: f64,
) -> BatchNormForward<T> {
    let c = shape.channels;
    shape.check("x", x.len(), shape.len());
    if let Some(gamma) = gamma {
        shape.check("gamma", gamma.len(), c);
    }
    if let Some(beta) = beta {
        shape.check("beta", beta.len(), c);
    }
    let stats: Vec<(f64, f64)> = (0..c)
        .into_par_iter()
        .map(|channel| channel_stats(shape, x, channel))
        .collect();
    // y = x · a_c + b_c.
    let coefficients: Vec<(T, T)> = stats
        .iter()
        .enumerate()
        .map(|(channel, &(mean, var))| {
            let g = gamma.map_or(1.0, |g| g[channel].as_f64());
            let b = beta.map_or(0.0, |b| b[channel].as_f64());
            let a = g / (var + eps).sqrt();
            (T::from_f64(a), T::from_f64(b - mean * a))
        })
        .collect();
    let mut y = vec![T::ZERO; x.len()];
    for_each_plane(shape, &mut y, |p, out| {
        let (a, b) = coefficients[p % c];
        let s = out.len();
        affine(&x[p * s..][..s], a, b, out);
    });
    BatchNormForward {
        y,
        mean: stats.iter().map(|&(m, _)| T::from_f64(m)).collect(),
        var: stats.iter().map(|&(_, v)| T::from_f64(v)).collect(),
    }
}

/// The gradients of [`batch_norm_forward`] from `∂y`, given its input `x`, `gamma` and the
/// statistics it returned.
///
/// # Panics
/// When a slice's length does not match `shape`.
pub fn batch_norm_backward<T: Real>(
    shape: &BatchNormShape,
    x: &[T],
    gamma: Option<&[T]>,
    mean: &[T],
    var: &[T],
    eps: f64,
    dy: &[T],
) -> BatchNormGrads<T> {
    let c = shape.channels;
    shape.check("x", x.len(), shape.len());
    shape.check("dy", dy.len(), shape.len());
    shape.check("mean", mean.len(), c);
    shape.check("var", var.len(), c);
    if let Some(gamma) = gamma {
        shape.check("gamma", gamma.len(), c);
    }
    let m = shape.per_channel() as f64;
    // Per channel: (Σ ∂y, Σ ∂y (x − μ)).
    let sums: Vec<(f64, f64)> = (0..c)
        .into_par_iter()
        .map(|channel| {
            let mu = mean[channel].as_f64();
            let (mut dy_sum, mut dyx_sum) = ([0.0; LANES], [0.0; LANES]);
            for (dy, x) in channel_planes(shape, dy, channel).zip(channel_planes(shape, x, channel))
            {
                add_grad_lanes(dy, x, mu, &mut dy_sum, &mut dyx_sum);
            }
            (dy_sum.iter().sum(), dyx_sum.iter().sum())
        })
        .collect();
    let mut beta_grad = Vec::with_capacity(c);
    let mut gamma_grad = Vec::with_capacity(c);
    // ∂x = p ∂y + q x + s with p = γ r, q = −γ r² ∂γ / M, s = −p ∂β / M − q μ.
    let coefficients: Vec<(T, T, T)> = sums
        .iter()
        .enumerate()
        .map(|(channel, &(dy_sum, dyx_sum))| {
            let r = 1.0 / (var[channel].as_f64() + eps).sqrt();
            let g = gamma.map_or(1.0, |g| g[channel].as_f64());
            let d_gamma = dyx_sum * r;
            beta_grad.push(T::from_f64(dy_sum));
            gamma_grad.push(T::from_f64(d_gamma));
            let p = g * r;
            let q = -g * r * r * d_gamma / m;
            let s = -p * dy_sum / m - q * mean[channel].as_f64();
            (T::from_f64(p), T::from_f64(q), T::from_f64(s))
        })
        .collect();
    let mut dx = vec![T::ZERO; x.len()];
    for_each_plane(shape, &mut dx, |plane, out| {
        let (p, q, s) = coefficients[plane % c];
        let len = out.len();
        let at = plane * len;
        affine2(&dy[at..][..len], &x[at..][..len], p, q, s, out);
    });
    BatchNormGrads {
        x: dx,
        gamma: gamma_grad,
        beta: beta_grad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in f64, one value at a time.
    fn reference(
        shape: &BatchNormShape,
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        eps: f64,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (n, c, s) = (shape.batch, shape.channels, shape.spatial);
        let at = |i: usize, ch: usize, j: usize| (i * c + ch) * s + j;
        let m = (n * s) as f64;
        let mut y = vec![0.0; x.len()];
        let (mut means, mut vars) = (vec![0.0; c], vec![0.0; c]);
        for ch in 0..c {
            let values: Vec<f64> = (0..n)
                .flat_map(|i| (0..s).map(move |j| (i, j)))
                .map(|(i, j)| x[at(i, ch, j)])
                .collect();
            let mean = values.iter().sum::<f64>() / m;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / m;
            for i in 0..n {
                for j in 0..s {
                    let k = at(i, ch, j);
                    y[k] = (x[k] - mean) / (var + eps).sqrt() * gamma[ch] + beta[ch];
                }
            }
            (means[ch], vars[ch]) = (mean, var);
        }
        (y, means, vars)
    }

    fn sample(len: usize, seed: u64) -> Vec<f64> {
        // A small LCG: deterministic, spread over [-2, 3).
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 * 5.0 - 2.0
            })
            .collect()
    }

    const SHAPES: [BatchNormShape; 4] = [
        BatchNormShape {
            batch: 4,
            channels: 3,
            spatial: 1,
        },
        BatchNormShape {
            batch: 2,
            channels: 5,
            spatial: 37,
        },
        BatchNormShape {
            batch: 1,
            channels: 2,
            spatial: 6,
        },
        BatchNormShape {
            batch: 3,
            channels: 4,
            spatial: 3000,
        },
    ];

    #[test]
    fn forward_matches_the_definition() {
        for shape in SHAPES {
            let x = sample(shape.len(), 1);
            let gamma = sample(shape.channels, 2);
            let beta = sample(shape.channels, 3);
            let (y, mean, var) = reference(&shape, &x, &gamma, &beta, 1e-5);
            let run = batch_norm_forward(&shape, &x, Some(&gamma), Some(&beta), 1e-5);
            for (got, want) in [(&run.y, &y), (&run.mean, &mean), (&run.var, &var)] {
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() < 1e-12, "{shape:?}: {g} vs {w}");
                }
            }
            // f32: the same within f32 precision; no γ/β means ones/zeros.
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let run = batch_norm_forward(&shape, &x32, None, None, 1e-5);
            let ones = vec![1.0; shape.channels];
            let zeros = vec![0.0; shape.channels];
            let (y, ..) = reference(&shape, &x, &ones, &zeros, 1e-5);
            for (g, w) in run.y.iter().zip(&y) {
                assert!((*g as f64 - w).abs() < 2e-5, "{shape:?}: {g} vs {w}");
            }
        }
    }

    /// Every gradient against central differences of `L = Σ w · y` in f64.
    #[test]
    fn backward_matches_finite_differences() {
        for shape in SHAPES.into_iter().filter(|s| s.len() < 1000) {
            let (c, eps) = (shape.channels, 1e-3);
            let x = sample(shape.len(), 4);
            let gamma = sample(c, 5);
            let beta = sample(c, 6);
            let w = sample(shape.len(), 7);
            let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| -> f64 {
                let (y, ..) = reference(&shape, x, gamma, beta, eps);
                y.iter().zip(&w).map(|(y, w)| y * w).sum()
            };
            let run = batch_norm_forward(&shape, &x, Some(&gamma), Some(&beta), eps);
            let grads = batch_norm_backward(&shape, &x, Some(&gamma), &run.mean, &run.var, eps, &w);
            let h = 1e-6;
            let numeric = |values: &[f64], i: usize, f: &dyn Fn(&[f64]) -> f64| {
                let (mut up, mut down) = (values.to_vec(), values.to_vec());
                up[i] += h;
                down[i] -= h;
                (f(&up) - f(&down)) / (2.0 * h)
            };
            for i in 0..x.len() {
                let want = numeric(&x, i, &|x| loss(x, &gamma, &beta));
                assert!((grads.x[i] - want).abs() < 1e-6, "{shape:?} ∂x[{i}]");
            }
            for i in 0..c {
                let want = numeric(&gamma, i, &|g| loss(&x, g, &beta));
                assert!((grads.gamma[i] - want).abs() < 1e-6, "{shape:?} ∂γ[{i}]");
                let want = numeric(&beta, i, &|b| loss(&x, &gamma, b));
                assert!((grads.beta[i] - want).abs() < 1e-6, "{shape:?} ∂β[{i}]");
            }
        }
    }

    /// A large offset does not cost the variance its precision (two passes, f64 sums).
    #[test]
    fn variance_survives_a_large_mean() {
        let shape = BatchNormShape {
            batch: 64,
            channels: 1,
            spatial: 1024,
        };
        let x: Vec<f32> = (0..shape.len())
            .map(|i| 1000.0 + if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let run = batch_norm_forward(&shape, &x, None, None, 0.0);
        assert_eq!(run.mean, vec![1000.0]);
        assert!((run.var[0] - 0.25).abs() < 1e-6, "{}", run.var[0]);
    }
}
