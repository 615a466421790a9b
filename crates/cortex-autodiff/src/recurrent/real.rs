//! The scalar types the fused recurrent kernels run in (`f32`, `f64`), their activations, and
//! a bounds-checked wrapper around the `gemm` crate (the GEMM burn's flex backend uses).

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub};

use burn::tensor::Element;

/// A float the kernels compute in.
pub(crate) trait Real:
    Element
    + Copy
    + Default
    + Debug
    + Send
    + Sync
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + 'static
{
    const ZERO: Self;
    const ONE: Self;

    /// `1 / (1 + e^-x)`.
    fn sigmoid(self) -> Self;

    /// The hyperbolic tangent.
    fn tanh(self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn sigmoid(self) -> Self {
        // exp(-x) overflows to +inf for x < -88: 1 / inf = 0, the right limit.
        1.0 / (1.0 + (-self).exp())
    }

    #[inline(always)]
    fn tanh(self) -> Self {
        // 1 - 2 / (e^2x + 1): one `expf` (libm's `tanhf` is several times slower), saturating
        // to ±1 for large |x|; absolute error ~1 ulp of 1 near 0, enough below f64.
        1.0 - 2.0 / ((2.0 * self).exp() + 1.0)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    #[inline(always)]
    fn sigmoid(self) -> Self {
        // The two-branch form keeps full relative precision for very negative x (the oracle
        // compares f64 to 1e-9).
        if self >= 0.0 {
            1.0 / (1.0 + (-self).exp())
        } else {
            let e = self.exp();
            e / (1.0 + e)
        }
    }

    #[inline(always)]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
}

/// A strided, read-only matrix: element `(r, c)` at `data[r * row_stride + c * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A row-major matrix with rows `row_stride` apart.
    pub fn rows(data: &'a [T], row_stride: usize) -> Self {
        Self {
            data,
            row_stride,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix whose rows are `row_stride` apart.
    pub fn transposed(data: &'a [T], row_stride: usize) -> Self {
        Self {
            data,
            row_stride: 1,
            col_stride: row_stride,
        }
    }

    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// `dst[m×n] = lhs[m×k] · rhs[k×n]`, or `dst += …` with `accumulate`; `dst` is row-major with
/// rows `dst_stride` apart. `parallel` lets `gemm` use the rayon pool (for large products only:
/// the per-step products of the recurrences are too small to split).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul<T: Real>(
    dst: &mut [T],
    dst_stride: usize,
    [m, n, k]: [usize; 3],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    accumulate: bool,
    parallel: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    // Internal invariants (the callers size every buffer from checked shapes): a violation is
    // a bug in this module, and must never reach `gemm`'s raw pointers.
    assert!(
        (m - 1) * dst_stride + n <= dst.len() && lhs.fits(m, k) && rhs.fits(k, n),
        "fused recurrence: matrix product out of bounds"
    );
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_stride).take(m) {
                row[..n].fill(T::ZERO);
            }
        }
        return;
    }
    let parallelism = if parallel && m * n * k >= 1 << 18 {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertion above keeps every index `gemm` touches inside the three slices
    // (dst is exclusively borrowed; lhs and rhs cannot alias it), and `T` is f32 or f64, the
    // types `gemm` dispatches on.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_matches_the_definition_with_strides_and_accumulation() {
        // lhs 2×3 row-major, rhs given as the transpose of a 2×3 (so 3×2).
        let lhs = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let rhs_t = [1.0f64, 0.0, -1.0, 2.0, 1.0, 0.5];
        let mut dst = vec![10.0f64; 4];
        matmul(
            &mut dst,
            2,
            [2, 2, 3],
            Mat::rows(&lhs, 3),
            Mat::transposed(&rhs_t, 3),
            true,
            false,
        );
        // row0·col0 = 1 - 3 = -2; row0·col1 = 2 + 2 + 1.5 = 5.5; row1: 4 - 6 = -2; 8 + 5 + 3 = 16.
        assert_eq!(dst, vec![8.0, 15.5, 8.0, 26.0]);
        matmul(
            &mut dst,
            2,
            [2, 2, 0],
            Mat::rows(&lhs, 3),
            Mat::rows(&rhs_t, 2),
            false,
            false,
        );
        assert_eq!(dst, vec![0.0; 4]);
    }

    #[test]
    fn activations_saturate_without_nan() {
        for x in [-1e4f32, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4] {
            let (s, t) = (x.sigmoid(), Real::tanh(x));
            assert!((0.0..=1.0).contains(&s) && (-1.0..=1.0).contains(&t), "{x}");
            assert!((t - x.tanh()).abs() < 1e-6, "{x}: {t}");
            assert!((s - 1.0 / (1.0 + (-x as f64).exp()) as f32).abs() < 1e-6);
        }
        assert_eq!((-1000.0f64).sigmoid(), (-1000.0f64).exp());
        assert!(((-30.0f64).sigmoid() / (-30.0f64).exp() - 1.0).abs() < 1e-12);
    }
}
