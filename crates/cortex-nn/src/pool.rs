//! Pooling layers (`MaxPool1d/2d`, `AvgPool1d/2d`, `AdaptiveAvgPool2d`) and `Flatten`:
//! parameter-free modules over the functional pools of `cortex-ops`.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use cortex_ops::{Pool1dOptions, Pool2dOptions};

use crate::check;
use crate::error::{Error, Result};

/// Validation shared by the windowed pools.
fn check_window(
    layer: &'static str,
    kernel: &[usize],
    stride: &[usize],
    padding: &[usize],
) -> Result<()> {
    check::non_zero_all(layer, "kernel_size", kernel)?;
    check::non_zero_all(layer, "stride", stride)?;
    if kernel.iter().zip(padding).any(|(&k, &p)| p > k / 2) {
        return Err(check::invalid(
            layer,
            "padding",
            &format!("at most half the kernel size {kernel:?}"),
            format!("{padding:?}"),
        ));
    }
    Ok(())
}

macro_rules! pool_layer {
    (
        $(#[$doc:meta])* $layer:ident, $config:ident, $name:literal, $options:ident,
        $spatial:ty, $rank:literal, $op:path, $to_slice:expr, average = $average:literal
    ) => {
        #[doc = concat!("Configuration of [`", stringify!($layer), "`].")]
        #[derive(Config, Debug, PartialEq)]
        pub struct $config {
            /// Window size (> 0).
            pub kernel_size: $spatial,
            /// Step between windows (> 0); `None`: the kernel size, as PyTorch.
            pub stride: Option<$spatial>,
            /// Padding on both sides, at most half the kernel (`-inf` for max, zeros for
            /// average).
            pub padding: Option<$spatial>,
            /// Average pooling: count padded zeros in the divisor (PyTorch's default, true).
            #[config(default = true)]
            pub count_include_pad: bool,
        }

        impl $config {
            /// Validates the configuration and builds the layer.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`] for a zero kernel or stride, or padding above half
            /// the kernel.
            pub fn init(&self) -> Result<$layer> {
                let mut options = $options::new(self.kernel_size)
                    .with_count_include_pad(self.count_include_pad);
                if let Some(stride) = self.stride {
                    options = options.with_stride(stride);
                }
                if let Some(padding) = self.padding {
                    options = options.with_padding(padding);
                }
                let slice = $to_slice;
                check_window(
                    $name,
                    slice(&options.kernel_size),
                    slice(&options.stride),
                    slice(&options.padding),
                )?;
                if !$average && !self.count_include_pad {
                    return Err(check::invalid($name, "count_include_pad", "true (it applies to average pooling only)", false));
                }
                Ok($layer { options })
            }
        }

        $(#[$doc])*
        #[derive(Module, Debug)]
        pub struct $layer {
            /// Window, stride and padding.
            #[module(skip)]
            pub options: $options,
        }

        impl $layer {
            /// Pools `x` `[N, C, …]` over its spatial dimensions.
            ///
            /// # Errors
            /// [`Error::InputShape`] for an empty input; [`Error::Op`] when the window does
            /// not fit the padded input.
            pub fn forward(&self, x: Tensor<{ $rank + 2 }>) -> Result<Tensor<{ $rank + 2 }>> {
                check::input($name, "x", &x.dims(), &[None; $rank + 2])?;
                $op(x, &self.options).map_err(Error::op($name))
            }
        }
    };
}

fn one(value: &usize) -> &[usize] {
    std::slice::from_ref(value)
}

fn two(value: &[usize; 2]) -> &[usize] {
    value
}

pool_layer!(
    /// 1-D max pooling over `[N, C, L]`, as `torch.nn.MaxPool1d`.
    MaxPool1d, MaxPool1dConfig, "MaxPool1d", Pool1dOptions, usize, 1,
    cortex_autodiff::fused_max_pool1d, one, average = false
);
pool_layer!(
    /// 2-D max pooling over `[N, C, H, W]`, as `torch.nn.MaxPool2d`.
    MaxPool2d, MaxPool2dConfig, "MaxPool2d", Pool2dOptions, [usize; 2], 2,
    cortex_autodiff::fused_max_pool2d, two, average = false
);
pool_layer!(
    /// 1-D average pooling over `[N, C, L]`, as `torch.nn.AvgPool1d`.
    AvgPool1d, AvgPool1dConfig, "AvgPool1d", Pool1dOptions, usize, 1,
    cortex_ops::avg_pool1d, one, average = true
);
pool_layer!(
    /// 2-D average pooling over `[N, C, H, W]`, as `torch.nn.AvgPool2d`.
    AvgPool2d, AvgPool2dConfig, "AvgPool2d", Pool2dOptions, [usize; 2], 2,
    cortex_ops::avg_pool2d, two, average = true
);

/// Configuration of [`AdaptiveAvgPool2d`].
#[derive(Config, Debug, PartialEq)]
pub struct AdaptiveAvgPool2dConfig {
    /// Output `[height, width]` (> 0).
    pub output_size: [usize; 2],
}

impl AdaptiveAvgPool2dConfig {
    /// Validates the configuration and builds the layer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero output size.
    pub fn init(&self) -> Result<AdaptiveAvgPool2d> {
        check::non_zero_all("AdaptiveAvgPool2d", "output_size", &self.output_size)?;
        Ok(AdaptiveAvgPool2d {
            output_size: self.output_size,
        })
    }
}

/// Average pooling to a fixed output size whatever the input size, as
/// `torch.nn.AdaptiveAvgPool2d` (window `i` spans `⌊i·H/out⌋ .. ⌈(i+1)·H/out⌉`).
#[derive(Module, Debug)]
pub struct AdaptiveAvgPool2d {
    /// Output `[height, width]`.
    #[module(skip)]
    pub output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools `[N, C, H, W]` to `[N, C, out_h, out_w]`.
    ///
    /// # Errors
    /// [`Error::InputShape`] for an empty input.
    pub fn forward(&self, x: Tensor<4>) -> Result<Tensor<4>> {
        check::input("AdaptiveAvgPool2d", "x", &x.dims(), &[None; 4])?;
        cortex_ops::adaptive_avg_pool2d(x, self.output_size).map_err(Error::op("AdaptiveAvgPool2d"))
    }
}

/// Flattens every dimension after the batch dimension, as `torch.nn.Flatten()`:
/// `[N, d_1, …]` → `[N, d_1 · …]`.
#[derive(Module, Debug)]
pub struct Flatten;

impl Default for Flatten {
    fn default() -> Self {
        Self
    }
}

impl Flatten {
    /// A flatten layer (it has nothing to configure).
    pub fn new() -> Self {
        Self
    }

    /// `[N, d_1, …, d_{D-1}]` → `[N, d_1 · … · d_{D-1}]`.
    ///
    /// # Errors
    /// [`Error::InputShape`] for a rank below 2 or an empty input.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<2>> {
        let dims = x.dims();
        if D < 2 || dims.contains(&0) {
            return Err(Error::InputShape {
                layer: "Flatten",
                arg: "x",
                expected: "[N, ...] of rank >= 2, not empty".to_string(),
                got: dims.to_vec(),
            });
        }
        let features = dims[1..].iter().product::<usize>();
        Ok(x.reshape([dims[0], features]))
    }
}
