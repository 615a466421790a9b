//! Layer-op cases: linear/matmul/add, convolutions, pools, normalization, lookups.

use burn::tensor::{Int, Tensor, TensorData};
use cortex_ops as ops;

use crate::args::Input;
use crate::registry::{GradCase, sample};

/// What an op of `cortex-ops` (and its fused twin) returns.
type OpResult<const D: usize> = ops::Result<Tensor<D>>;
/// A 1-D convolution in both forms (composed and fused), which share this signature.
type Conv1d = fn(Tensor<3>, Tensor<3>, Option<Tensor<1>>, &ops::Conv1dOptions) -> OpResult<3>;
/// As [`Conv1d`], in 2-D.
type Conv2d = fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, &ops::Conv2dOptions) -> OpResult<4>;

pub(crate) fn linear_cases(cases: &mut Vec<GradCase>) {
    use sample::standard;
    cases.push(GradCase::new(
        "linear/bias",
        "linear",
        vec![
            standard("x", &[3, 4], 40),
            standard("weight", &[5, 4], 41),
            standard("bias", &[5], 42),
        ],
        |args| {
            Ok(ops::linear(
                args.get::<2>(0)?,
                args.get::<2>(1)?,
                Some(args.get::<1>(2)?),
            )?)
        },
    ));
    cases.push(GradCase::new(
        "linear/batch1_nobias",
        "linear",
        vec![standard("x", &[1, 3], 43), standard("weight", &[2, 3], 44)],
        |args| Ok(ops::linear(args.get::<2>(0)?, args.get::<2>(1)?, None)?),
    ));
    cases.push(GradCase::new(
        "linear/rank3",
        "linear",
        vec![
            standard("x", &[2, 3, 4], 45),
            standard("weight", &[3, 4], 46),
            standard("bias", &[3], 47),
        ],
        |args| {
            Ok(ops::linear(
                args.get::<3>(0)?,
                args.get::<2>(1)?,
                Some(args.get::<1>(2)?),
            )?)
        },
    ));
    cases.push(GradCase::new(
        "matmul/2d",
        "matmul",
        vec![standard("a", &[3, 4], 48), standard("b", &[4, 5], 49)],
        |args| Ok(ops::matmul(args.get::<2>(0)?, args.get::<2>(1)?)?),
    ));
    cases.push(GradCase::new(
        "matmul/batched",
        "matmul",
        vec![standard("a", &[2, 3, 4], 50), standard("b", &[2, 4, 2], 51)],
        |args| Ok(ops::matmul(args.get::<3>(0)?, args.get::<3>(1)?)?),
    ));
    cases.push(GradCase::new(
        "matmul/broadcast_batch",
        "matmul",
        vec![standard("a", &[2, 3, 4], 52), standard("b", &[1, 4, 2], 53)],
        |args| Ok(ops::matmul(args.get::<3>(0)?, args.get::<3>(1)?)?),
    ));
    cases.push(GradCase::new(
        "add/broadcast_row",
        "add",
        vec![standard("a", &[3, 4], 54), standard("b", &[1, 4], 55)],
        |args| Ok(ops::add(args.get::<2>(0)?, args.get::<2>(1)?)?),
    ));
    cases.push(GradCase::new(
        "add/broadcast_both",
        "add",
        vec![standard("a", &[2, 1, 4], 56), standard("b", &[1, 3, 1], 57)],
        |args| Ok(ops::add(args.get::<3>(0)?, args.get::<3>(1)?)?),
    ));
}

/// Seeded `x`, `weight` and (optionally) `bias` for a convolution case.
fn conv_inputs(x: &[usize], weight: &[usize], bias: bool, seed: u64) -> Vec<Input> {
    let mut inputs = vec![
        sample::standard("x", x, seed),
        sample::standard("weight", weight, seed + 1),
    ];
    if bias {
        inputs.push(sample::standard("bias", &[weight[0]], seed + 2));
    }
    inputs
}

pub(crate) fn conv_cases(cases: &mut Vec<GradCase>) {
    let conv1d = [
        (
            "s1_p0_bias",
            [2, 3, 7],
            [4, 3, 3],
            true,
            ops::Conv1dOptions::default(),
        ),
        (
            "s2_p1_bias",
            [2, 3, 7],
            [4, 3, 3],
            true,
            ops::Conv1dOptions::default().with_stride(2).with_padding(1),
        ),
        (
            "dilation2_batch1",
            [1, 2, 8],
            [3, 2, 3],
            true,
            ops::Conv1dOptions::default().with_dilation(2),
        ),
        (
            "groups2_nobias",
            [2, 4, 6],
            [4, 2, 2],
            false,
            ops::Conv1dOptions::default().with_groups(2).with_padding(1),
        ),
    ];
    // Each sample runs through the composed op and the fused one (im2col + GEMM with its
    // hand-written backward on the CPU backends), which share a signature.
    let conv1d_ops: [(&'static str, Conv1d); 2] = [
        ("conv1d", ops::conv1d),
        ("fused_conv1d", crate::conv::fused_conv1d),
    ];
    for (i, (variant, x, w, bias, options)) in conv1d.into_iter().enumerate() {
        let inputs = conv_inputs(&x, &w, bias, 60 + 3 * i as u64);
        for (op, conv) in conv1d_ops {
            cases.push(GradCase::new(
                format!("{op}/{variant}"),
                op,
                inputs.clone(),
                move |args| {
                    let b = if bias { Some(args.get::<1>(2)?) } else { None };
                    Ok(conv(args.get::<3>(0)?, args.get::<3>(1)?, b, &options)?)
                },
            ));
        }
    }
    let conv2d = [
        (
            "s1_p0_k3_bias",
            [2, 2, 5, 5],
            [3, 2, 3, 3],
            true,
            ops::Conv2dOptions::default(),
        ),
        (
            "s2_p1_bias",
            [1, 2, 5, 6],
            [2, 2, 3, 3],
            true,
            ops::Conv2dOptions::default()
                .with_stride([2, 2])
                .with_padding([1, 1]),
        ),
        (
            "k3x2_p1_nobias",
            [2, 1, 4, 5],
            [2, 1, 3, 2],
            false,
            ops::Conv2dOptions::default().with_padding([1, 1]),
        ),
        (
            "dilation2x1_stride1x2",
            [1, 2, 6, 5],
            [2, 2, 2, 2],
            true,
            ops::Conv2dOptions::default()
                .with_dilation([2, 1])
                .with_stride([1, 2]),
        ),
        (
            "groups2",
            [1, 4, 4, 4],
            [4, 2, 2, 2],
            true,
            ops::Conv2dOptions::default().with_groups(2),
        ),
        (
            "pointwise_1x1_batch3",
            [3, 3, 2, 3],
            [5, 3, 1, 1],
            true,
            ops::Conv2dOptions::default(),
        ),
    ];
    let conv2d_ops: [(&'static str, Conv2d); 2] = [
        ("conv2d", ops::conv2d),
        ("fused_conv2d", crate::conv::fused_conv2d),
    ];
    for (i, (variant, x, w, bias, options)) in conv2d.into_iter().enumerate() {
        let inputs = conv_inputs(&x, &w, bias, 80 + 3 * i as u64);
        for (op, conv) in conv2d_ops {
            cases.push(GradCase::new(
                format!("{op}/{variant}"),
                op,
                inputs.clone(),
                move |args| {
                    let b = if bias { Some(args.get::<1>(2)?) } else { None };
                    Ok(conv(args.get::<4>(0)?, args.get::<4>(1)?, b, &options)?)
                },
            ));
        }
    }
}

/// A max pooling in both forms (composed and fused) share this signature.
type MaxPool1d = fn(Tensor<3>, &ops::Pool1dOptions) -> OpResult<3>;
/// As [`MaxPool1d`], in 2-D.
type MaxPool2d = fn(Tensor<4>, &ops::Pool2dOptions) -> OpResult<4>;

pub(crate) fn pool_cases(cases: &mut Vec<GradCase>) {
    for (variant, shape, options) in [
        ("k2s2", [2, 2, 6], ops::Pool1dOptions::new(2)),
        (
            "k3s1p1_batch1",
            [1, 3, 5],
            ops::Pool1dOptions::new(3).with_stride(1).with_padding(1),
        ),
    ] {
        let max_pools: [(&'static str, MaxPool1d); 2] = [
            ("max_pool1d", ops::max_pool1d),
            ("fused_max_pool1d", crate::pool::fused_max_pool1d),
        ];
        for (op, pool) in max_pools {
            cases.push(GradCase::new(
                format!("{op}/{variant}"),
                op,
                vec![sample::distinct("x", &shape, 100)],
                move |args| Ok(pool(args.get::<3>(0)?, &options)?),
            ));
        }
        cases.push(GradCase::new(
            format!("avg_pool1d/{variant}"),
            "avg_pool1d",
            vec![sample::standard("x", &shape, 101)],
            move |args| Ok(ops::avg_pool1d(args.get::<3>(0)?, &options)?),
        ));
    }
    for (variant, shape, options) in [
        ("k2s2", [2, 2, 4, 4], ops::Pool2dOptions::new([2, 2])),
        (
            "k3s2p1",
            [1, 2, 5, 5],
            ops::Pool2dOptions::new([3, 3])
                .with_stride([2, 2])
                .with_padding([1, 1]),
        ),
        (
            "k2x3_s1",
            [1, 1, 4, 5],
            ops::Pool2dOptions::new([2, 3]).with_stride([1, 1]),
        ),
        (
            "k3s1p1_exclude_pad",
            [1, 2, 4, 4],
            ops::Pool2dOptions::new([3, 3])
                .with_stride([1, 1])
                .with_padding([1, 1])
                .with_count_include_pad(false),
        ),
    ] {
        let max_pools: [(&'static str, MaxPool2d); 2] = [
            ("max_pool2d", ops::max_pool2d),
            ("fused_max_pool2d", crate::pool::fused_max_pool2d),
        ];
        for (op, pool) in max_pools {
            cases.push(GradCase::new(
                format!("{op}/{variant}"),
                op,
                vec![sample::distinct("x", &shape, 102)],
                move |args| Ok(pool(args.get::<4>(0)?, &options)?),
            ));
        }
        cases.push(GradCase::new(
            format!("avg_pool2d/{variant}"),
            "avg_pool2d",
            vec![sample::standard("x", &shape, 103)],
            move |args| Ok(ops::avg_pool2d(args.get::<4>(0)?, &options)?),
        ));
    }
    for (variant, shape, output) in [
        ("1x1", [2, 3, 4, 5], [1, 1]),
        ("2x3_uneven", [1, 2, 5, 5], [2, 3]),
    ] {
        cases.push(GradCase::new(
            format!("adaptive_avg_pool2d/{variant}"),
            "adaptive_avg_pool2d",
            vec![sample::standard("x", &shape, 104)],
            move |args| Ok(ops::adaptive_avg_pool2d(args.get::<4>(0)?, output)?),
        ));
    }
}

pub(crate) fn norm_cases(cases: &mut Vec<GradCase>) {
    use sample::standard;
    type BatchNorm2 = fn(
        Tensor<2>,
        Option<Tensor<1>>,
        Option<Tensor<1>>,
        Option<&mut ops::RunningStats>,
        &ops::BatchNormOptions,
    ) -> ops::Result<Tensor<2>>;
    type BatchNorm4 = fn(
        Tensor<4>,
        Option<Tensor<1>>,
        Option<Tensor<1>>,
        Option<&mut ops::RunningStats>,
        &ops::BatchNormOptions,
    ) -> ops::Result<Tensor<4>>;
    let norms: [(&'static str, BatchNorm2, BatchNorm4); 2] = [
        ("batch_norm", ops::batch_norm, ops::batch_norm),
        (
            "fused_batch_norm",
            crate::norm::fused_batch_norm,
            crate::norm::fused_batch_norm,
        ),
    ];
    for (op, norm2, norm4) in norms {
        cases.push(GradCase::new(
            format!("{op}/train_1d"),
            op,
            vec![
                standard("x", &[4, 3], 110),
                standard("weight", &[3], 111),
                standard("bias", &[3], 112),
            ],
            move |args| {
                let options = ops::BatchNormOptions::new(true);
                let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
                Ok(norm2(args.get::<2>(0)?, w, b, None, &options)?)
            },
        ));
        cases.push(GradCase::new(
            format!("{op}/train_2d"),
            op,
            vec![
                standard("x", &[2, 3, 3, 3], 113),
                standard("weight", &[3], 114),
                standard("bias", &[3], 115),
            ],
            move |args| {
                let options = ops::BatchNormOptions::new(true);
                let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
                Ok(norm4(args.get::<4>(0)?, w, b, None, &options)?)
            },
        ));
        cases.push(GradCase::new(
            format!("{op}/train_batch1_spatial"),
            op,
            vec![standard("x", &[1, 2, 2, 3], 116)],
            move |args| {
                let options = ops::BatchNormOptions::new(true);
                Ok(norm4(args.get::<4>(0)?, None, None, None, &options)?)
            },
        ));
    }
    // The fused kernel's odd sizes: one channel, a plane of 1 × 7, three channels of 17.
    cases.push(GradCase::new(
        "fused_batch_norm/odd_sizes",
        "fused_batch_norm",
        vec![
            standard("x", &[3, 1, 1, 7], 126),
            standard("weight", &[1], 127),
            standard("bias", &[1], 128),
        ],
        |args| {
            let options = ops::BatchNormOptions::new(true).with_eps(1e-3);
            let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
            Ok(crate::norm::fused_batch_norm(
                args.get::<4>(0)?,
                w,
                b,
                None,
                &options,
            )?)
        },
    ));
    cases.push(GradCase::new(
        "fused_batch_norm/three_channels_of_17",
        "fused_batch_norm",
        vec![
            standard("x", &[2, 3, 17], 129),
            standard("weight", &[3], 130),
        ],
        |args| {
            let options = ops::BatchNormOptions::new(true);
            let w = Some(args.get::<1>(1)?);
            Ok(crate::norm::fused_batch_norm(
                args.get::<3>(0)?,
                w,
                None,
                None,
                &options,
            )?)
        },
    ));
    cases.push(GradCase::new(
        "batch_norm/inference",
        "batch_norm",
        vec![
            standard("x", &[3, 2, 2, 2], 117),
            standard("weight", &[2], 118),
            standard("bias", &[2], 119),
        ],
        |args| {
            let x = args.get::<4>(0)?;
            let (device, dtype) = (x.device(), x.dtype());
            let mut running = ops::RunningStats {
                mean: Tensor::from_data(TensorData::new(vec![0.3, -0.2], [2]), (&device, dtype)),
                var: Tensor::from_data(TensorData::new(vec![0.8, 1.7], [2]), (&device, dtype)),
            };
            let options = ops::BatchNormOptions::new(false);
            let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
            Ok(ops::batch_norm(x, w, b, Some(&mut running), &options)?)
        },
    ));
    cases.push(GradCase::new(
        "layer_norm/last_dim",
        "layer_norm",
        vec![
            standard("x", &[3, 5], 120),
            standard("weight", &[5], 121),
            standard("bias", &[5], 122),
        ],
        |args| {
            let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
            Ok(ops::layer_norm(args.get::<2>(0)?, [5], w, b, 1e-5)?)
        },
    ));
    cases.push(GradCase::new(
        "layer_norm/last_two_dims",
        "layer_norm",
        vec![
            standard("x", &[2, 3, 4], 123),
            standard("weight", &[3, 4], 124),
            standard("bias", &[3, 4], 125),
        ],
        |args| {
            let (w, b) = (Some(args.get::<2>(1)?), Some(args.get::<2>(2)?));
            Ok(ops::layer_norm(args.get::<3>(0)?, [3, 4], w, b, 1e-5)?)
        },
    ));
    cases.push(GradCase::new(
        "layer_norm/no_affine_batch1",
        "layer_norm",
        vec![standard("x", &[1, 6], 126)],
        |args| {
            Ok(ops::layer_norm::<2, 1>(
                args.get::<2>(0)?,
                [6],
                None,
                None,
                1e-5,
            )?)
        },
    ));
}

pub(crate) fn lookup_cases(cases: &mut Vec<GradCase>) {
    cases.push(GradCase::new(
        "embedding/repeated_indices",
        "embedding",
        vec![sample::standard("weight", &[6, 3], 130)],
        |args| {
            let weight = args.get::<2>(0)?;
            let indices = Tensor::<2, Int>::from_data(
                TensorData::new(vec![1i64, 4, 1, 0, 5, 1], [2, 3]),
                &weight.device(),
            );
            let out: Tensor<3> = ops::embedding(weight, indices, None)?;
            Ok(out)
        },
    ));
    // No `padding_idx` case: like PyTorch, the padding row is frozen (its gradient is 0 by
    // design, not the derivative of the forward), so finite differences would rightly
    // disagree. `cortex-ops` tests that row's zero gradient directly.
    cases.push(GradCase::new(
        "dropout/seeded",
        "dropout",
        vec![sample::standard("x", &[4, 5], 132)],
        |args| Ok(ops::dropout(args.get::<2>(0)?, 0.3, true, 17)?),
    ));
    cases.push(GradCase::new(
        "flatten/rank4_to_2",
        "flatten",
        vec![sample::standard("x", &[2, 2, 3, 2], 133)],
        |args| {
            let y: Tensor<2> = ops::flatten(args.get::<4>(0)?, 1, 3)?;
            Ok(ops::tanh(y))
        },
    ));
}
