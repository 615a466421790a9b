//! Convolutions (`conv1d`, `conv2d`): cross-correlation with zero padding, dilation and groups,
//! PyTorch's layout (`weight [C_out, C_in / groups, k…]`).

use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;
use serde::{Deserialize, Serialize};

use crate::check;
use crate::error::{Error, Result};

/// Options of [`conv1d`]; defaults: stride 1, padding 0, dilation 1, groups 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conv1dOptions {
    /// Step between windows (> 0).
    pub stride: usize,
    /// Zeros added on both sides.
    pub padding: usize,
    /// Spacing between kernel taps (> 0).
    pub dilation: usize,
    /// Channel groups; must divide both channel counts.
    pub groups: usize,
}

impl Default for Conv1dOptions {
    fn default() -> Self {
        Self {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

/// Options of [`conv2d`], per spatial dimension `[h, w]`; defaults as [`Conv1dOptions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conv2dOptions {
    /// Step between windows (> 0).
    pub stride: [usize; 2],
    /// Zeros added on both sides.
    pub padding: [usize; 2],
    /// Spacing between kernel taps (> 0).
    pub dilation: [usize; 2],
    /// Channel groups; must divide both channel counts.
    pub groups: usize,
}

impl Default for Conv2dOptions {
    fn default() -> Self {
        Self {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

macro_rules! conv_builders {
    ($name:ident, $ty:ty) => {
        impl $name {
            /// Sets the stride.
            pub fn with_stride(mut self, stride: $ty) -> Self {
                self.stride = stride;
                self
            }
            /// Sets the zero padding (both sides).
            pub fn with_padding(mut self, padding: $ty) -> Self {
                self.padding = padding;
                self
            }
            /// Sets the dilation.
            pub fn with_dilation(mut self, dilation: $ty) -> Self {
                self.dilation = dilation;
                self
            }
            /// Sets the number of groups.
            pub fn with_groups(mut self, groups: usize) -> Self {
                self.groups = groups;
                self
            }
        }
    };
}
conv_builders!(Conv1dOptions, usize);
conv_builders!(Conv2dOptions, [usize; 2]);

/// Output extent of a sliding window: `⌊(n + 2p - d(k-1) - 1) / s⌋ + 1`; `None` when the
/// window does not fit the padded input or `kernel`, `stride` or `dilation` is 0.
///
/// ```
/// assert_eq!(cortex_ops::window_output_size(28, 5, 1, 2, 1), Some(28));
/// assert_eq!(cortex_ops::window_output_size(2, 5, 1, 0, 1), None);
/// ```
pub fn window_output_size(
    input: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Option<usize> {
    if kernel == 0 || stride == 0 || dilation == 0 {
        return None;
    }
    let padded = padding.checked_mul(2)?.checked_add(input)?;
    let span = dilation.checked_mul(kernel - 1)?.checked_add(1)?;
    Some(padded.checked_sub(span)? / stride + 1)
}

/// Checks that a (dilated) kernel fits the padded input in every spatial dimension.
pub(crate) fn kernel_fits(
    op: &'static str,
    spatial: &[usize],
    kernel: &[usize],
    padding: &[usize],
    dilation: &[usize],
) -> Result<()> {
    let extent: Vec<usize> = kernel
        .iter()
        .zip(dilation)
        .map(|(&k, &d)| d * (k - 1) + 1)
        .collect();
    let padded: Vec<usize> = spatial
        .iter()
        .zip(padding)
        .map(|(&n, &p)| n + 2 * p)
        .collect();
    if extent.iter().zip(&padded).any(|(e, p)| e > p) {
        return Err(Error::KernelTooLarge {
            op,
            kernel: extent,
            padded_input: padded,
        });
    }
    Ok(())
}

/// Validates a convolution: ranks/shapes of input, weight and bias; positive stride and
/// dilation; groups dividing both channel counts; a kernel that fits.
#[allow(clippy::too_many_arguments)]
fn check_conv(
    op: &'static str,
    x: &[usize],
    weight: &[usize],
    bias: Option<&Tensor<1>>,
    stride: &[usize],
    padding: &[usize],
    dilation: &[usize],
    groups: usize,
) -> Result<()> {
    check::non_empty(op, "x", x)?;
    check::non_empty(op, "weight", weight)?;
    check::non_zero(op, "stride", stride)?;
    check::non_zero(op, "dilation", dilation)?;
    if groups == 0 {
        return Err(check::invalid(op, "groups", ">= 1", groups));
    }
    let (in_channels, out_channels) = (x[1], weight[0]);
    for (what, channels) in [("in_channels", in_channels), ("out_channels", out_channels)] {
        if channels % groups != 0 {
            return Err(Error::GroupsMismatch {
                op,
                what,
                groups,
                channels,
            });
        }
    }
    if weight[1] * groups != in_channels {
        let mut expected: Vec<Option<usize>> = vec![None; weight.len()];
        expected[1] = Some(in_channels / groups);
        return Err(Error::ShapeMismatch {
            op,
            arg: "weight",
            expected: check::pattern(&expected),
            got: weight.to_vec(),
        });
    }
    if let Some(b) = bias {
        check::same_shape(op, "bias", &[out_channels], &b.dims())?;
    }
    kernel_fits(op, &x[2..], &weight[2..], padding, dilation)
}

/// The checks of [`conv1d`], with its errors: for ops that compute the same convolution
/// another way (the fused convolution of `cortex-autodiff`) and must reject what it rejects.
///
/// # Errors
/// As [`conv1d`].
pub fn check_conv1d(
    x: &Tensor<3>,
    weight: &Tensor<3>,
    bias: Option<&Tensor<1>>,
    options: &Conv1dOptions,
) -> Result<()> {
    const OP: &str = "conv1d";
    check_conv(
        OP,
        &x.dims(),
        &weight.dims(),
        bias,
        &[options.stride],
        &[options.padding],
        &[options.dilation],
        options.groups,
    )?;
    check::same_kind(OP, "weight", x, weight)?;
    check::channel_vector(OP, "bias", bias, weight.dims()[0], x)
}

/// The checks of [`conv2d`], with its errors (see [`check_conv1d`]).
///
/// # Errors
/// As [`conv2d`].
pub fn check_conv2d(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    bias: Option<&Tensor<1>>,
    options: &Conv2dOptions,
) -> Result<()> {
    const OP: &str = "conv2d";
    check_conv(
        OP,
        &x.dims(),
        &weight.dims(),
        bias,
        &options.stride,
        &options.padding,
        &options.dilation,
        options.groups,
    )?;
    check::same_kind(OP, "weight", x, weight)?;
    check::channel_vector(OP, "bias", bias, weight.dims()[0], x)
}

/// 1-D convolution (cross-correlation, kernel not flipped), as `torch.nn.functional.conv1d`.
///
/// # Errors
/// `EmptyInput`, `InvalidArgument` (stride/dilation/groups 0), `GroupsMismatch`,
/// `ShapeMismatch` (weight or bias), `KernelTooLarge`, `DTypeMismatch`, `DeviceMismatch`.
///
/// # Shapes
/// x `[N, C_in, L]`, weight `[C_out, C_in/groups, K]`, bias `[C_out]`;
/// output `[N, C_out, ⌊(L + 2p - d(K-1) - 1)/s⌋ + 1]`.
pub fn conv1d(
    x: Tensor<3>,
    weight: Tensor<3>,
    bias: Option<Tensor<1>>,
    options: &Conv1dOptions,
) -> Result<Tensor<3>> {
    check_conv1d(&x, &weight, bias.as_ref(), options)?;
    let burn_options = ConvOptions::new(
        [options.stride],
        [options.padding],
        [options.dilation],
        options.groups,
    );
    Ok(burn::tensor::module::conv1d(x, weight, bias, burn_options))
}

/// 2-D convolution (cross-correlation, kernel not flipped), as `torch.nn.functional.conv2d`.
///
/// # Errors
/// As [`conv1d`].
///
/// # Shapes
/// x `[N, C_in, H, W]`, weight `[C_out, C_in/groups, kH, kW]`, bias `[C_out]`;
/// output `[N, C_out, H_out, W_out]`, each as in [`conv1d`].
///
/// ```
/// # use burn::tensor::{Device, Tensor};
/// # use cortex_ops::{conv2d, Conv2dOptions};
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 4, 4], &device);
/// let w = Tensor::<4>::ones([2, 1, 3, 3], &device);
/// let y = conv2d(x, w, None, &Conv2dOptions::default().with_padding([1, 1])).unwrap();
/// assert_eq!(y.dims(), [1, 2, 4, 4]);
/// ```
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: &Conv2dOptions,
) -> Result<Tensor<4>> {
    check_conv2d(&x, &weight, bias.as_ref(), options)?;
    let burn_options = ConvOptions::new(
        options.stride,
        options.padding,
        options.dilation,
        options.groups,
    );
    Ok(burn::tensor::module::conv2d(x, weight, bias, burn_options))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InvalidValue;
    use crate::testing::{assert_close, devices, tensor, values};

    #[test]
    fn depthwise_groups_and_dilation() {
        for device in devices() {
            // Two channels, groups = 2: each output channel sees only its own input channel.
            let x = tensor(
                &[1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0],
                [1, 2, 5],
                &device,
            );
            let w = tensor(&[1.0, 1.0, 1.0, -1.0], [2, 1, 2], &device);
            let options = Conv1dOptions::default().with_groups(2).with_dilation(2);
            let y = conv1d(x, w, None, &options).unwrap();
            // dilation 2: taps i and i + 2. Channel 0: 1+3, 2+4, 3+5; channel 1: 10-30, 20-40, 30-50.
            assert_eq!(y.dims(), [1, 2, 3]);
            assert_close(&values(&y), &[4.0, 6.0, 8.0, -20.0, -20.0, -20.0], 1e-12);
        }
    }

    #[test]
    fn conv2d_stride_and_padding_give_pytorch_output_sizes() {
        let device = devices().remove(0);
        let x = tensor(&[0.0; 2 * 3 * 7 * 6], [2, 3, 7, 6], &device);
        let w = tensor(&[0.0; 4 * 3 * 3 * 2], [4, 3, 3, 2], &device);
        let options = Conv2dOptions::default()
            .with_stride([2, 3])
            .with_padding([1, 0]);
        let y = conv2d(x, w, None, &options).unwrap();
        // H: (7 + 2 - 3)/2 + 1 = 4; W: (6 - 2)/3 + 1 = 2
        assert_eq!(y.dims(), [2, 4, 4, 2]);
    }

    #[test]
    fn bad_configurations_are_errors() {
        let device = devices().remove(0);
        let x = tensor(&[0.0; 3 * 4 * 4], [1, 3, 4, 4], &device);
        let w = tensor(&[0.0; 2 * 3 * 3 * 3], [2, 3, 3, 3], &device);
        assert_eq!(
            conv2d(
                x.clone(),
                w.clone(),
                None,
                &Conv2dOptions::default().with_stride([0, 1])
            )
            .unwrap_err(),
            Error::InvalidArgument(InvalidValue {
                owner: "conv2d",
                argument: "stride",
                expected: "non-zero in every dimension".to_string(),
                got: "[0, 1]".to_string()
            })
        );
        assert!(matches!(
            conv2d(
                x.clone(),
                w.clone(),
                None,
                &Conv2dOptions::default().with_dilation([3, 1])
            ),
            Err(Error::KernelTooLarge { op: "conv2d", .. })
        ));
        let big = tensor(&[0.0; 2 * 3 * 5 * 5], [2, 3, 5, 5], &device);
        assert_eq!(
            conv2d(x.clone(), big, None, &Conv2dOptions::default()).unwrap_err(),
            Error::KernelTooLarge {
                op: "conv2d",
                kernel: vec![5, 5],
                padded_input: vec![4, 4],
            }
        );
        assert_eq!(
            conv2d(
                x.clone(),
                w.clone(),
                None,
                &Conv2dOptions::default().with_groups(2)
            )
            .unwrap_err(),
            Error::GroupsMismatch {
                op: "conv2d",
                what: "in_channels",
                groups: 2,
                channels: 3,
            }
        );
        let w_bad = tensor(&[0.0; 2 * 2 * 3 * 3], [2, 2, 3, 3], &device);
        assert!(matches!(
            conv2d(x.clone(), w_bad, None, &Conv2dOptions::default()),
            Err(Error::ShapeMismatch { arg: "weight", .. })
        ));
        let bias = tensor(&[0.0; 3], [3], &device);
        assert!(matches!(
            conv2d(x, w.clone(), Some(bias), &Conv2dOptions::default()),
            Err(Error::ShapeMismatch { arg: "bias", .. })
        ));
        let empty = tensor(&[], [0, 3, 4, 4], &device);
        assert!(matches!(
            conv2d(empty, w, None, &Conv2dOptions::default()),
            Err(Error::EmptyInput { op: "conv2d", .. })
        ));
    }
}
