//! An f32 GEMM for the small products of each recurrent step (`[B/threads, H] × [H, G·H]` and
//! back), register-blocked with no packing of the left-hand side: 8 rows × 32 columns with
//! AVX-512, 6 × 16 with AVX2 + FMA (the widest [`crate::simd::level`] allows). General GEMM
//! libraries pack both operands on every call, which dominates at these sizes; here the
//! right-hand side is packed once per sequence and reused from L1 across the row blocks, and
//! the left-hand rows are read in place.

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
    /// (no AVX2/FMA, or `n` not a positive multiple of 16).
    pub fn new(b: &[f32], k: usize, n: usize, ldb: usize) -> Option<Self> {
        Self::strided(b, k, n, [ldb, 1])
    }

    /// Packs `b [k × n]` with element `(p, j)` at `b[p · strides[0] + j · strides[1]]`: the
    /// transpose of a row-major matrix (`[1, its row length]`) is packed straight from it,
    /// with no transposed copy first. `None` as for [`Packed::new`].
    pub fn strided(b: &[f32], k: usize, n: usize, [row, col]: [usize; 2]) -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        let covered = n > 0 && n.is_multiple_of(16) && crate::simd::has_avx2_fma();
        #[cfg(not(target_arch = "x86_64"))]
        let covered = false;
        if !covered || (k > 0 && (k - 1) * row + (n - 1) * col >= b.len()) {
            return None;
        }
        let mut panels = Vec::with_capacity(k * n);
        if col == 1 {
            for first in (0..n).step_by(16) {
                for p in 0..k {
                    panels.extend_from_slice(&b[p * row + first..][..16]);
                }
            }
        } else {
            // A column at a time: for a transpose (`row` = 1) that reads each row of the
            // source in order, and writes within one panel (k · 64 bytes, in L1).
            panels.resize(k * n, 0.0);
            for (first, panel) in (0..n).step_by(16).zip(panels.chunks_mut(16 * k)) {
                for j in 0..16 {
                    for p in 0..k {
                        panel[p * 16 + j] = b[p * row + (first + j) * col];
                    }
                }
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
        let wide = crate::simd::level() >= crate::simd::Instructions::Avx512;
        self.product_on(wide, m, a, lda, c, ldc, accumulate);
    }

    /// [`Packed::product`] on the AVX-512 kernel (`wide`, which the CPU must have) or the
    /// AVX2 one.
    #[allow(clippy::too_many_arguments)]
    fn product_on(
        &self,
        wide: bool,
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
        // SAFETY: `Packed` exists only where AVX2 and FMA are available, and the AVX-512 kernel
        // runs only where the CPU has it (the callers); every index a kernel touches is below
        // the lengths checked above (rows < m, columns < n, depth < k) or inside the panels
        // (k · n values).
        unsafe {
            if wide {
                x86::gemm_avx512(m, n, k, a, lda, &self.panels, c, ldc, accumulate)
            } else {
                x86::gemm(m, n, k, a, lda, &self.panels, c, ldc, accumulate)
            }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (wide, a, c, accumulate);
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
        // A panel of B (k · 64 bytes) fits in L1 next to the rows of A below 16 KiB.
        for_each_tile([m, n], [MR, 16], k * 16 * 4 <= 16 * 1024, tile);
    }

    /// Calls `tile(row, rows, col)` over an `m × n` product in tiles of `mr` rows (fewer in the
    /// last) by `width` columns. While the panels of a tile column fit in L1 beside the rows
    /// of A (`panels_fit`) they are reused across the row blocks (column-outer order); deeper
    /// ones would be evicted, so then the rows stay and B streams (row-outer order).
    #[inline(always)]
    fn for_each_tile(
        [m, n]: [usize; 2],
        [mr, width]: [usize; 2],
        panels_fit: bool,
        mut tile: impl FnMut(usize, usize, usize),
    ) {
        let row_blocks = (0..m).step_by(mr).map(|row| (row, mr.min(m - row)));
        if panels_fit {
            for col in (0..n).step_by(width) {
                for (row, rows) in row_blocks.clone() {
                    tile(row, rows, col);
                }
            }
        } else {
            for (row, rows) in row_blocks {
                for col in (0..n).step_by(width) {
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

    /// Rows per AVX-512 register block: 8 rows × 2 vectors of 16 = 16 accumulators, with the
    /// two right-hand vectors and a broadcast, in 19 of the 32 registers.
    const MR_512: usize = 8;

    /// [`gemm`] with AVX-512: tiles of 32 columns (two panels side by side), a last one of 16
    /// when `n` is an odd number of panels.
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn gemm_avx512(
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
        // One tile: rows row..row+rows (rows ≤ MR_512), columns col..col+16·W.
        let tile = |row: usize, rows: usize, col: usize| {
            // SAFETY: row + rows ≤ m, col + 16 ≤ n (col + 32 ≤ n for a double tile), and
            // panel col/16 holds k rows of 16 values, the next panel right after it.
            unsafe {
                let (a, b, c) = (
                    a.add(row * lda),
                    panels.add(col * k),
                    c.add(row * ldc + col),
                );
                if col + 32 <= n {
                    rows_512::<2>(rows, k, a, lda, b, c, ldc, accumulate)
                } else {
                    rows_512::<1>(rows, k, a, lda, b, c, ldc, accumulate)
                }
            }
        };
        // Two panels of B (k · 128 bytes) fit in L1 beside the rows of A below 24 KiB.
        for_each_tile([m, n], [MR_512, 32], k * 32 * 4 <= 24 * 1024, tile);
    }

    /// [`block_512`] for a run-time row count (1 ..= [`MR_512`]).
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows_512<const W: usize>(
        rows: usize,
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        // SAFETY: forwarded from the caller.
        unsafe {
            match rows {
                8 => block_512::<8, W>(k, a, lda, b, c, ldc, accumulate),
                7 => block_512::<7, W>(k, a, lda, b, c, ldc, accumulate),
                6 => block_512::<6, W>(k, a, lda, b, c, ldc, accumulate),
                5 => block_512::<5, W>(k, a, lda, b, c, ldc, accumulate),
                4 => block_512::<4, W>(k, a, lda, b, c, ldc, accumulate),
                3 => block_512::<3, W>(k, a, lda, b, c, ldc, accumulate),
                2 => block_512::<2, W>(k, a, lda, b, c, ldc, accumulate),
                1 => block_512::<1, W>(k, a, lda, b, c, ldc, accumulate),
                _ => {}
            }
        }
    }

    /// `R` rows × `W` panels of 16 columns: `R·W` accumulators in registers over the whole
    /// depth `k`; panel `w` starts `w · 16k` values after `b`.
    #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block_512<const R: usize, const W: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        c: *mut f32,
        ldc: usize,
        accumulate: bool,
    ) {
        let mut acc = [[_mm512_setzero_ps(); W]; R];
        for p in 0..k {
            let mut bv = [_mm512_setzero_ps(); W];
            for (w, bv) in bv.iter_mut().enumerate() {
                // SAFETY: p < k, panel w's row p holds 16 values (caller).
                *bv = unsafe { _mm512_loadu_ps(b.add(w * 16 * k + p * 16)) };
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                // SAFETY: r < R rows of a, p < k.
                let av = unsafe { _mm512_set1_ps(*a.add(r * lda + p)) };
                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                    *acc = _mm512_fmadd_ps(av, bv, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for (w, &sum) in acc.iter().enumerate() {
                // SAFETY: r < R rows of c, the 16 columns of panel w in bounds (caller).
                unsafe {
                    let out = c.add(r * ldc + w * 16);
                    let sum = if accumulate {
                        _mm512_add_ps(sum, _mm512_loadu_ps(out))
                    } else {
                        sum
                    };
                    _mm512_storeu_ps(out, sum);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both kernels (the AVX-512 one where the CPU has it), every row remainder of both block
    /// heights, an odd number of panels (a last 16-column tile beside 32-column ones), and a
    /// depth past the L1 cut-over.
    #[test]
    fn matches_the_definition_for_every_row_remainder() {
        let mut kernels = vec![false];
        if crate::simd::Instructions::detect() >= crate::simd::Instructions::Avx512 {
            kernels.push(true);
        }
        for (wide, (m, n, k)) in kernels.into_iter().flat_map(|wide| {
            [
                (1, 16, 1),
                (5, 32, 7),
                (6, 16, 3),
                (7, 48, 4),
                (13, 48, 20),
                (32, 64, 9),
                (15, 80, 11),
                (13, 32, 300),
                (9, 48, 250),
            ]
            .map(|shape| (wide, shape))
        }) {
            let (lda, ldb, ldc) = (k + 3, n + 5, n + 2);
            let a: Vec<f32> = (0..m * lda).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..k * ldb).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
            let Some(packed) = Packed::new(&b, k, n, ldb) else {
                return; // no AVX2/FMA here: the general GEMM is used instead
            };
            for accumulate in [false, true] {
                let mut c: Vec<f32> = (0..m * ldc).map(|i| (i % 3) as f32).collect();
                let before = c.clone();
                packed.product_on(wide, m, &a, lda, &mut c, ldc, accumulate);
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
                            "{m}x{n}x{k} [{i},{j}] (AVX-512: {wide})"
                        );
                    }
                }
            }
        }
    }

    /// Packing the transpose of a row-major matrix in place gives the panels of its
    /// transposed copy.
    #[test]
    fn strided_packing_reads_a_transpose_in_place() {
        let (k, n) = (5, 32);
        let w: Vec<f32> = (0..n * k).map(|i| i as f32 * 0.25 - 7.0).collect(); // [n × k]
        let mut w_t = vec![0.0; k * n];
        for (r, row) in w.chunks(k).enumerate() {
            for (c, &v) in row.iter().enumerate() {
                w_t[c * n + r] = v;
            }
        }
        let (Some(strided), Some(copied)) = (
            Packed::strided(&w, k, n, [1, k]),
            Packed::new(&w_t, k, n, n),
        ) else {
            return; // no AVX2/FMA here
        };
        assert_eq!(strided.panels, copied.panels);
        assert!(
            Packed::strided(&w[1..], k, n, [1, k]).is_none(),
            "one value short"
        );
    }

    #[test]
    fn uncovered_shapes_are_left_to_the_caller() {
        assert!(Packed::new(&[1.0; 4], 1, 4, 4).is_none());
        assert!(Packed::new(&[], 2, 0, 0).is_none(), "no columns");
        assert!(
            Packed::new(&[1.0; 16], 2, 16, 16).is_none(),
            "b too short for k rows"
        );
    }
}
