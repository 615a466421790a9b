//! Pooling: max and average over sliding windows (1-D, 2-D) and adaptive average pooling.

use burn::tensor::Tensor;
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::conv::kernel_fits;
use crate::error::Result;

/// Options of the 1-D pools. `new(k)` gives stride `k`, no padding, `count_include_pad` true.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pool1dOptions {
    /// Window length (> 0).
    pub kernel_size: usize,
    /// Step between windows (> 0).
    pub stride: usize,
    /// Padding on both sides, at most `kernel_size / 2` (`-inf` for max, zeros for average).
    pub padding: usize,
    /// Average pooling only: count padded zeros in the divisor (PyTorch's default, true).
    pub count_include_pad: bool,
}

/// Options of the 2-D pools, per dimension `[h, w]`; defaults as [`Pool1dOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pool2dOptions {
    /// Window size (> 0).
    pub kernel_size: [usize; 2],
    /// Step between windows (> 0).
    pub stride: [usize; 2],
    /// Padding on both sides, at most half the kernel.
    pub padding: [usize; 2],
    /// Average pooling only: count padded zeros in the divisor (PyTorch's default, true).
    pub count_include_pad: bool,
}

macro_rules! pool_builders {
    ($name:ident, $ty:ty, $zero:expr) => {
        impl $name {
            /// Window `kernel_size`, stride equal to the kernel, no padding (PyTorch's defaults).
            pub fn new(kernel_size: $ty) -> Self {
                Self {
                    kernel_size,
                    stride: kernel_size,
                    padding: $zero,
                    count_include_pad: true,
                }
            }
            /// Sets the stride.
            pub fn with_stride(mut self, stride: $ty) -> Self {
                self.stride = stride;
                self
            }
            /// Sets the padding.
            pub fn with_padding(mut self, padding: $ty) -> Self {
                self.padding = padding;
                self
            }
            /// Sets whether average pooling counts padded zeros.
            pub fn with_count_include_pad(mut self, count_include_pad: bool) -> Self {
                self.count_include_pad = count_include_pad;
                self
            }
        }
    };
}
pool_builders!(Pool1dOptions, usize, 0);
pool_builders!(Pool2dOptions, [usize; 2], [0, 0]);

/// Validates a pooling window against the input's spatial dimensions.
fn check_pool(
    op: &'static str,
    x: &[usize],
    kernel: &[usize],
    stride: &[usize],
    padding: &[usize],
) -> Result<()> {
    check::non_empty(op, "x", x)?;
    check::non_zero(op, "kernel_size", kernel)?;
    check::non_zero(op, "stride", stride)?;
    if kernel.iter().zip(padding).any(|(&k, &p)| p > k / 2) {
        return Err(check::invalid(
            op,
            "padding",
            &format!("at most half the kernel size {kernel:?}"),
            format!("{padding:?}"),
        ));
    }
    let ones = vec![1; kernel.len()];
    kernel_fits(op, &x[2..], kernel, padding, &ones)
}

/// The checks of the 1-D pools ([`max_pool1d`], [`avg_pool1d`]) with their errors, naming
/// `op`: for ops that pool another way (the fused max pooling of `cortex-autodiff`) and must
/// reject what these reject.
///
/// # Errors
/// As [`max_pool1d`].
pub fn check_pool1d(op: &'static str, x: &Tensor<3>, options: &Pool1dOptions) -> Result<()> {
    let o = options;
    check_pool(op, &x.dims(), &[o.kernel_size], &[o.stride], &[o.padding])
}

/// The checks of the 2-D pools ([`max_pool2d`], [`avg_pool2d`]), as [`check_pool1d`].
///
/// # Errors
/// As [`max_pool2d`].
pub fn check_pool2d(op: &'static str, x: &Tensor<4>, options: &Pool2dOptions) -> Result<()> {
    let o = options;
    check_pool(op, &x.dims(), &o.kernel_size, &o.stride, &o.padding)
}

/// 1-D max pooling: the maximum of each window; the gradient goes to the arg-max.
///
/// # Errors
/// `EmptyInput`, `InvalidArgument` (zero kernel or stride, padding above half the kernel),
/// `KernelTooLarge`.
///
/// # Shapes
/// x `[N, C, L]`; output `[N, C, ⌊(L + 2p - k)/s⌋ + 1]`.
pub fn max_pool1d(x: Tensor<3>, options: &Pool1dOptions) -> Result<Tensor<3>> {
    let o = options;
    check_pool1d("max_pool1d", &x, o)?;
    let burn_options = MaxPoolOptions::new([o.kernel_size])
        .with_stride([o.stride])
        .with_padding([o.padding]);
    Ok(burn::tensor::module::max_pool1d(x, burn_options))
}

/// 2-D max pooling: the maximum of each window; the gradient goes to the arg-max.
///
/// # Errors
/// As [`max_pool1d`].
///
/// # Shapes
/// x `[N, C, H, W]`; output `[N, C, H_out, W_out]`, each as in [`max_pool1d`].
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// # use cortex_ops::{max_pool2d, Pool2dOptions};
/// let x = Tensor::<4>::ones([1, 1, 4, 4], &Device::flex());
/// let y = max_pool2d(x, &Pool2dOptions::new([2, 2])).unwrap();
/// assert_eq!(y.dims(), [1, 1, 2, 2]);
/// ```
pub fn max_pool2d(x: Tensor<4>, options: &Pool2dOptions) -> Result<Tensor<4>> {
    let o = options;
    check_pool2d("max_pool2d", &x, o)?;
    let burn_options = MaxPoolOptions::new(o.kernel_size)
        .with_stride(o.stride)
        .with_padding(o.padding);
    Ok(burn::tensor::module::max_pool2d(x, burn_options))
}

/// 1-D average pooling: the mean of each window.
///
/// # Errors
/// As [`max_pool1d`].
///
/// # Shapes
/// x `[N, C, L]`; output `[N, C, ⌊(L + 2p - k)/s⌋ + 1]`.
pub fn avg_pool1d(x: Tensor<3>, options: &Pool1dOptions) -> Result<Tensor<3>> {
    let o = options;
    check_pool(
        "avg_pool1d",
        &x.dims(),
        &[o.kernel_size],
        &[o.stride],
        &[o.padding],
    )?;
    let burn_options = AvgPoolOptions::new([o.kernel_size])
        .with_stride([o.stride])
        .with_padding([o.padding])
        .with_count_include_pad(o.count_include_pad);
    Ok(burn::tensor::module::avg_pool1d(x, burn_options))
}

/// 2-D average pooling: the mean of each window.
///
/// # Errors
/// As [`max_pool1d`].
///
/// # Shapes
/// x `[N, C, H, W]`; output `[N, C, H_out, W_out]`.
pub fn avg_pool2d(x: Tensor<4>, options: &Pool2dOptions) -> Result<Tensor<4>> {
    let o = options;
    check_pool(
        "avg_pool2d",
        &x.dims(),
        &o.kernel_size,
        &o.stride,
        &o.padding,
    )?;
    let burn_options = AvgPoolOptions::new(o.kernel_size)
        .with_stride(o.stride)
        .with_padding(o.padding)
        .with_count_include_pad(o.count_include_pad);
    Ok(burn::tensor::module::avg_pool2d(x, burn_options))
}

/// Adaptive 2-D average pooling to a fixed `[h_out, w_out]`: output cell `(i, j)` averages
/// rows `⌊i H / h_out⌋ .. ⌈(i+1) H / h_out⌉` (and likewise columns), as in PyTorch.
///
/// # Errors
/// `EmptyInput` for an empty input, `InvalidArgument` for a zero output size.
///
/// # Shapes
/// x `[N, C, H, W]`; output `[N, C, h_out, w_out]`.
pub fn adaptive_avg_pool2d(x: Tensor<4>, output_size: [usize; 2]) -> Result<Tensor<4>> {
    const OP: &str = "adaptive_avg_pool2d";
    check::non_empty(OP, "x", &x.dims())?;
    check::non_zero(OP, "output_size", &output_size)?;
    Ok(burn::tensor::module::adaptive_avg_pool2d(x, output_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, tensor, values};

    #[test]
    fn one_dimensional_pools() {
        for device in devices() {
            let x = tensor(&[1.0, 3.0, 2.0, 5.0, 4.0], [1, 1, 5], &device);
            let options = Pool1dOptions::new(2);
            assert_close(
                &values(&max_pool1d(x.clone(), &options).unwrap()),
                &[3.0, 5.0],
                0.0,
            );
            assert_close(
                &values(&avg_pool1d(x.clone(), &options).unwrap()),
                &[2.0, 3.5],
                1e-12,
            );
            // padding 1 with count_include_pad: windows [0,1], [3,2], [5,4]
            let padded = Pool1dOptions::new(2).with_padding(1);
            assert_close(
                &values(&avg_pool1d(x.clone(), &padded).unwrap()),
                &[0.5, 2.5, 4.5],
                1e-12,
            );
            assert_close(
                &values(&max_pool1d(x, &padded).unwrap()),
                &[1.0, 3.0, 5.0],
                0.0,
            );
        }
    }

    #[test]
    fn adaptive_pool_to_two_by_two() {
        for device in devices() {
            let x: Vec<f64> = (0..16).map(f64::from).collect();
            let x = tensor(&x, [1, 1, 4, 4], &device);
            let y = adaptive_avg_pool2d(x, [2, 2]).unwrap();
            // quadrant means of 0..16 laid out 4x4
            assert_close(&values(&y), &[2.5, 4.5, 10.5, 12.5], 1e-12);
        }
    }

    #[test]
    fn bad_windows_are_errors() {
        let device = devices().remove(0);
        let x = tensor(&[0.0; 9], [1, 1, 3, 3], &device);
        assert!(matches!(
            max_pool2d(x.clone(), &Pool2dOptions::new([2, 2]).with_stride([1, 0])),
            Err(Error::InvalidArgument(InvalidValue {
                owner: "max_pool2d",
                argument: "stride",
                ..
            }))
        ));
        assert!(matches!(
            avg_pool2d(x.clone(), &Pool2dOptions::new([4, 4])),
            Err(Error::KernelTooLarge {
                op: "avg_pool2d",
                ..
            })
        ));
        assert!(matches!(
            max_pool2d(x.clone(), &Pool2dOptions::new([2, 2]).with_padding([2, 0])),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "padding",
                ..
            }))
        ));
        assert!(matches!(
            adaptive_avg_pool2d(x, [0, 1]),
            Err(Error::InvalidArgument(InvalidValue {
                argument: "output_size",
                ..
            }))
        ));
    }
}
