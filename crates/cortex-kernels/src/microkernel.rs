//! An AVX2 + FMA f32 GEMM for the small products of each recurrent step
//! (`[B/threads, H] × [H, G·H]` and back): register-blocked 6 × 16, no packing. General GEMM
//! libraries pack both operands on every call, which dominates at these sizes; here the
//! right-hand side is row-major and reused from L1 across the row blocks, and the left-hand
//! rows are read in place.

/// A right-hand side `b [k × n]` in the kernel's layout: panels of 16 columns, each `k` rows of
/// 16 contiguous values, so that the kernel reads it sequentially (rows of a row-major `b` a
/// power of two apart would all fall in the same few L1 sets). Built once per sequence: the
/// recurrent weights do not change between steps.
#[derive(Debug)]
pub struct Packed {
    panels: Vec<f32>,
    k: usize,
    n: usize,
}

impl Packed {
    /// Packs row-major `b [k × n]` (rows `ldb` apart); `None` when the kernel does not cover it
    /// (no AVX2/FMA, or `n` not a multiple of 16).
    pub fn new(b: &[f32], k: usize, n: usize, ldb: usize) -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        let covered = n.is_multiple_of(16) && crate::simd::has_avx2_fma();
        #[cfg(not(target_arch = "x86_64"))]
        let covered = false;
        if !covered || (k > 0 && (k - 1) * ldb + n > b.len()) {
            return None;
        }
        let mut panels = Vec::with_capacity(k * n);
        for col in (0..n).step_by(16) {
            for p in 0..k {
                panels.extend_from_slice(&b[p * ldb + col..][..16]);
            }
        }
        Some(Self { panels, k, n })
    }

    /// `c[m×n] (+)= a[m×k] · b`, `a` and `c` row-major with row strides `lda`, `ldc`.
    pub fn product(
        &self,
        m: usize,
        a: &[f32],
        lda: usize,
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        let (k, n) = (self.k, self.n);
        let fits = |len: usize, rows: usize, cols: usize, stride: usize| {
            rows == 0 || cols == 0 || (rows - 1) * stride + cols <= len
        };
        // Internal invariants of the callers; checked here because the kernel reads raw
        // pointers.
        assert!(
            fits(a.len(), m, k, lda) && fits(c.len(), m, n, ldc),
            "fused recurrence: small GEMM out of bounds"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Packed` exists only where AVX2 and FMA are available; every index the kernel
        // touches is below the lengths checked above (rows < m, columns < n, depth < k) or
        // inside the panels (k · n values).
        unsafe {
            x86::gemm(m, n, k, a, lda, &self.panels, c, ldc, accumulate)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (a, c, accumulate);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Rows per register block.
    const MR: usize = 6;

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm(
        m: usize,
        n: usize,
        k: usize,
        a: &[f32],
        lda: usize,
        panels: &[f32],
        c: &mut [f32],
        ldc: usize,
        accumulate: bool,
    ) {
        let (a, c, panels) = (a.as_ptr(), c.as_mut_ptr(), panels.as_ptr());
        // One tile: rows row..row+rows (rows ≤ MR), columns col..col+16.
        let tile = |row: usize, rows: usize, col: usize| {
            // SAFETY: row + rows ≤ m, col + 16 ≤ n, and panel col/16 holds k rows of 16 values
            // (the caller's checks).
            unsafe {
                let (a, b, c) = (
                    a.add(row * lda),
                    panels.add(col * k),
                    c.add(row * ldc + col),
                );
                match rows {
                    6 => block::<6>(k, a, lda, b, c, ldc, accumulate),
                    5 => block::<5>(k, a, lda, b, c, ldc, accumulate),
                    4 => block::<4>(k, a, lda, b, c, ldc, accumulate),
                    3 => block::<3>(k, a, lda, b, c, ldc, accumulate),
                    2 => block::<2>(k, a, lda, b, c, ldc, accumulate),
                    1 => block::<1>(k, a, lda, b, c, ldc, accumulate),
                    _ => {}
                }
            }
        };
        let row_blocks = (0..m).step_by(MR).map(|row| (row, MR.min(m - row)));
        // A panel of B (k · 64 bytes) that fits in L1 next to the rows of A is reused across
        // the row blocks; a deep one would be evicted, so then the rows stay and B streams.
        if k * 16 * 4 <= 16 * 1024 {
            for col in (0..n).step_by(16) {
                for (row, rows) in row_blocks.clone() {
                    tile(row, rows, col);
                }
            }
        } else {
            for (row, rows) in row_blocks {
                for col in (0..n).step_by(16) {
                    tile(row, rows, col);
                }
            }
        }
    }

    /// `R` rows × 16 columns: `2R` accumulators in registers over the whole depth `k`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for p in 0..k {
            // SAFETY: p < k, the 16 columns of row p of b are in bounds (caller).
            let (b0, b1) = unsafe {
                (
                    _mm256_loadu_ps(b.add(p * 16)),
                    _mm256_loadu_ps(b.add(p * 16 + 8)),
                )
            };
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: r < R rows of a, p < k.
                let av = unsafe { _mm256_set1_ps(*a.add(r * lda + p)) };
                acc[0] = _mm256_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm256_fmadd_ps(av, b1, acc[1]);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            // SAFETY: r < R rows of c, 16 columns in bounds (caller).
            unsafe {
                let out = c.add(r * ldc);
                let (mut c0, mut c1) = (acc[0], acc[1]);
                if accumulate {
                    c0 = _mm256_add_ps(c0, _mm256_loadu_ps(out));
                    c1 = _mm256_add_ps(c1, _mm256_loadu_ps(out.add(8)));
                }
                _mm256_storeu_ps(out, c0);
                _mm256_storeu_ps(out.add(8), c1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition_for_every_row_remainder() {
        for (m, n, k) in [
            (1, 16, 1),
            (5, 32, 7),
            (6, 16, 3),
            (13, 48, 20),
            (32, 64, 9),
            (13, 32, 300),
        ] {
            let (lda, ldb, ldc) = (k + 3, n + 5, n + 2);
            let a: Vec<f32> = (0..m * lda).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..k * ldb).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
            let Some(packed) = Packed::new(&b, k, n, ldb) else {
                return; // no AVX2/FMA here: the general GEMM is used instead
            };
            for accumulate in [false, true] {
                let mut c: Vec<f32> = (0..m * ldc).map(|i| (i % 3) as f32).collect();
                let before = c.clone();
                packed.product(m, &a, lda, &mut c, ldc, accumulate);
                for i in 0..m {
                    for j in 0..ldc {
                        let expected = if j < n {
                            let dot: f32 = (0..k).map(|p| a[i * lda + p] * b[p * ldb + j]).sum();
                            dot + if accumulate { before[i * ldc + j] } else { 0.0 }
                        } else {
                            before[i * ldc + j] // padding between rows is untouched
                        };
                        assert!(
                            (c[i * ldc + j] - expected).abs() < 1e-4,
                            "{m}x{n}x{k} [{i},{j}]"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn uncovered_shapes_are_left_to_the_caller() {
        assert!(Packed::new(&[1.0; 4], 1, 4, 4).is_none());
        assert!(
            Packed::new(&[1.0; 16], 2, 16, 16).is_none(),
            "b too short for k rows"
        );
    }
}
