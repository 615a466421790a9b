//! Property tests: random shapes and values for each op family; the gradient check must
//! hold, and proptest shrinks any failure to a minimal case.

use cortex_autodiff::{GradCheck, Input};
use cortex_core::Backend;
use cortex_ops::{self as ops, Reduction};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    }
}

/// Values in `[-2, 2]` kept at least 0.05 away from 0 (kinks of relu-like ops).
fn values(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        (0.05f64..2.0, any::<bool>()).prop_map(|(m, neg)| if neg { -m } else { m }),
        len,
    )
}

fn check(
    inputs: Vec<Input>,
    f: impl Fn(&cortex_autodiff::Args) -> cortex_autodiff::Result<burn::tensor::Tensor<1>>,
) -> Result<(), TestCaseError> {
    for backend in Backend::selected_from_env().unwrap() {
        let report = GradCheck::default()
            .check(&backend.autodiff_device(), &inputs, &f)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(report.passed(), "[{backend}] {report}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn activations(rows in 1usize..4, cols in 1usize..5, x in values(12)) {
        let x = x[..rows * cols].to_vec();
        let input = Input::new("x", &[rows, cols], x).unwrap();
        check(vec![input], |args| {
            let x = args.get::<2>(0)?;
            let y = ops::gelu(x.clone()) + ops::elu(x.clone(), 0.7)? + ops::silu(x.clone())
                + ops::softmax(x.clone(), -1)? + ops::log_softmax(x.clone(), 0)?
                + ops::relu(x.clone()) + ops::tanh(x.clone()) + ops::softplus(x, 1.5)?;
            Ok(y.reshape([rows * cols]))
        })?;
    }

    #[test]
    fn linear_layers(batch in 1usize..4, inputs in 1usize..5, outputs in 1usize..4,
                     x in values(16), w in values(16), b in values(4)) {
        let x = Input::new("x", &[batch, inputs], x[..batch * inputs].to_vec()).unwrap();
        let w = Input::new("weight", &[outputs, inputs], w[..outputs * inputs].to_vec()).unwrap();
        let b = Input::new("bias", &[outputs], b[..outputs].to_vec()).unwrap();
        check(vec![x, w, b], |args| {
            let y = ops::linear(args.get::<2>(0)?, args.get::<2>(1)?, Some(args.get::<1>(2)?))?;
            Ok(y.reshape([batch * outputs]))
        })?;
    }

    #[test]
    fn conv2d_configurations(batch in 1usize..3, groups in 1usize..3, per_group in 1usize..3,
                             kernel in 1usize..4, stride in 1usize..3, padding in 0usize..2,
                             dilation in 1usize..3, size in 4usize..7,
                             x in values(2 * 4 * 6 * 6), w in values(4 * 2 * 3 * 3)) {
        let channels = groups * per_group;
        prop_assume!(dilation * (kernel - 1) < size + 2 * padding);
        let x_shape = [batch, channels, size, size];
        let w_shape = [channels, per_group, kernel, kernel];
        let xn: usize = x_shape.iter().product();
        let wn: usize = w_shape.iter().product();
        let x = Input::new("x", &x_shape, x[..xn].to_vec()).unwrap();
        let w = Input::new("weight", &w_shape, w[..wn].to_vec()).unwrap();
        let options = ops::Conv2dOptions::default()
            .with_groups(groups)
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_dilation([dilation, dilation]);
        check(vec![x, w], move |args| {
            let y = ops::conv2d(args.get::<4>(0)?, args.get::<4>(1)?, None, &options)?;
            let n: usize = y.dims().iter().product();
            Ok(y.reshape([n]))
        })?;
    }

    /// The fused convolution (im2col + GEMM, hand-written backward) over rectangular windows:
    /// every stride, padding and dilation per dimension, groups, a bias, batch 1 or 2.
    #[test]
    fn fused_conv2d_configurations(batch in 1usize..3, groups in 1usize..3, per_group in 1usize..3,
                                   out_per_group in 1usize..3, kernel in (1usize..4, 1usize..4),
                                   stride in (1usize..4, 1usize..4), padding in (0usize..3, 0usize..3),
                                   dilation in (1usize..3, 1usize..3), size in (3usize..7, 3usize..7),
                                   x in values(2 * 4 * 6 * 6), w in values(4 * 2 * 3 * 3),
                                   b in values(4)) {
        let (channels, out_channels) = (groups * per_group, groups * out_per_group);
        prop_assume!(dilation.0 * (kernel.0 - 1) < size.0 + 2 * padding.0);
        prop_assume!(dilation.1 * (kernel.1 - 1) < size.1 + 2 * padding.1);
        let x_shape = [batch, channels, size.0, size.1];
        let w_shape = [out_channels, per_group, kernel.0, kernel.1];
        let xn: usize = x_shape.iter().product();
        let wn: usize = w_shape.iter().product();
        let x = Input::new("x", &x_shape, x[..xn].to_vec()).unwrap();
        let w = Input::new("weight", &w_shape, w[..wn].to_vec()).unwrap();
        let b = Input::new("bias", &[out_channels], b[..out_channels].to_vec()).unwrap();
        let options = ops::Conv2dOptions::default()
            .with_groups(groups)
            .with_stride([stride.0, stride.1])
            .with_padding([padding.0, padding.1])
            .with_dilation([dilation.0, dilation.1]);
        check(vec![x, w, b], move |args| {
            let y = cortex_autodiff::fused_conv2d(
                args.get::<4>(0)?, args.get::<4>(1)?, Some(args.get::<1>(2)?), &options)?;
            let n: usize = y.dims().iter().product();
            Ok(y.reshape([n]))
        })?;
    }

    #[test]
    fn pools(batch in 1usize..3, size in 3usize..7, kernel in 1usize..4, stride in 1usize..3,
             x in values(2 * 2 * 6 * 6)) {
        prop_assume!(kernel <= size);
        let shape = [batch, 2, size, size];
        let n: usize = shape.iter().product();
        let x = Input::new("x", &shape, x[..n].to_vec()).unwrap();
        let options = ops::Pool2dOptions::new([kernel, kernel]).with_stride([stride, stride]);
        check(vec![x], move |args| {
            let x = args.get::<4>(0)?;
            let y = ops::avg_pool2d(x.clone(), &options)? + ops::adaptive_avg_pool2d(x, [1, 1])?;
            let n: usize = y.dims().iter().product();
            Ok(y.reshape([n]))
        })?;
    }

    #[test]
    fn regression_losses(len in 1usize..8, input in values(8), target in values(8)) {
        let input = Input::new("input", &[len], input[..len].to_vec()).unwrap();
        let target = Input::new("target", &[len], target[..len].to_vec()).unwrap();
        check(vec![input, target], |args| {
            let (a, b) = (args.get::<1>(0)?, args.get::<1>(1)?);
            Ok(ops::mse_loss(a.clone(), b.clone(), Reduction::Mean)?
                + ops::mse_loss(a, b, Reduction::Sum)?)
        })?;
    }
}
