//! The gradient cases of every differentiable op in `cortex-ops`.
//!
//! Non-differentiable points are avoided by construction (see `docs/gradcheck.md`): inputs of
//! ops with a kink at 0 (relu, leaky relu, elu, abs in mae/huber) come from
//! [`sample::away_from_zero`], max-pool inputs from [`sample::distinct`] (no ties), and the
//! Huber differences stay away from `|d| = delta`.

use burn::tensor::{Int, Tensor, TensorData};
use cortex_ops::{self as ops, Reduction};

use crate::args::Input;
use crate::registry::{GradCase, sample};

/// Applies `$body` (using `$x`) to rank-2 inputs of shape `[1, 5]` (batch 1) and `[3, 7]`
/// (odd sizes), and to a rank-3 input `[2, 3, 4]`.
macro_rules! elementwise {
    ($cases:ident, $op:literal, $sampler:path, |$x:ident| $body:expr) => {
        for (variant, shape, seed) in [("batch1", [1usize, 5], 1u64), ("odd", [3, 7], 2)] {
            $cases.push(GradCase::new(
                format!("{}/{variant}", $op),
                $op,
                vec![$sampler("x", &shape, seed)],
                |args| {
                    let $x: Tensor<2> = args.get::<2>(0)?;
                    Ok($body)
                },
            ));
        }
        $cases.push(GradCase::new(
            format!("{}/rank3", $op),
            $op,
            vec![$sampler("x", &[2, 3, 4], 3)],
            |args| {
                let $x: Tensor<3> = args.get::<3>(0)?;
                Ok($body)
            },
        ));
    };
}

/// Every registered case: the ops of `cortex-ops` and the fused losses of this crate.
pub fn op_cases() -> Vec<GradCase> {
    let mut cases = Vec::new();
    activation_cases(&mut cases);
    loss_cases(&mut cases);
    classification_cases(&mut cases);
    linear_cases(&mut cases);
    conv_cases(&mut cases);
    pool_cases(&mut cases);
    norm_cases(&mut cases);
    lookup_cases(&mut cases);
    cases.extend(fused_cases());
    cases
}

fn activation_cases(cases: &mut Vec<GradCase>) {
    use sample::{away_from_zero, standard};
    elementwise!(cases, "sigmoid", standard, |x| ops::sigmoid(x));
    elementwise!(cases, "tanh", standard, |x| ops::tanh(x));
    elementwise!(cases, "relu", away_from_zero, |x| ops::relu(x));
    elementwise!(cases, "leaky_relu", away_from_zero, |x| ops::leaky_relu(
        x, 0.1
    )?);
    elementwise!(cases, "elu", away_from_zero, |x| ops::elu(x, 1.3)?);
    elementwise!(cases, "gelu", standard, |x| ops::gelu(x));
    elementwise!(cases, "silu", standard, |x| ops::silu(x));
    elementwise!(cases, "softplus", standard, |x| ops::softplus(x, 2.0)?);
    elementwise!(cases, "softmax", standard, |x| ops::softmax(x, -1)?);
    elementwise!(cases, "log_softmax", standard, |x| ops::log_softmax(x, -1)?);
    cases.push(GradCase::new(
        "softmax/dim0",
        "softmax",
        vec![standard("x", &[4, 3], 4)],
        |args| Ok(ops::softmax(args.get::<2>(0)?, 0)?),
    ));
    cases.push(GradCase::new(
        "log_softmax/dim1_of_3",
        "log_softmax",
        vec![standard("x", &[2, 4, 3], 5)],
        |args| Ok(ops::log_softmax(args.get::<3>(0)?, 1)?),
    ));
}

/// `input = target + offset` with `|offset|` kept in `[lo, hi)` and away from `avoid`.
fn shifted_pair(shape: &[usize], seed: u64, avoid: Option<f64>) -> (Input, Input) {
    let target = sample::standard("target", shape, seed);
    let offset = sample::away_from_zero("offset", shape, seed + 100);
    let values = target
        .values
        .iter()
        .zip(&offset.values)
        .map(|(t, o)| {
            let mut o = 2.0 * o;
            if let Some(a) = avoid
                && (o.abs() - a).abs() < 0.05
            {
                o *= 1.2;
            }
            t + o
        })
        .collect();
    let input = Input {
        name: "input".to_string(),
        shape: shape.to_vec(),
        values,
    };
    (input, target)
}

fn loss_cases(cases: &mut Vec<GradCase>) {
    for (variant, reduction) in [
        ("mean", Reduction::Mean),
        ("sum", Reduction::Sum),
        ("none", Reduction::None),
    ] {
        cases.push(GradCase::new(
            format!("mse_loss/{variant}"),
            "mse_loss",
            vec![
                sample::standard("input", &[4, 5], 10),
                sample::standard("target", &[4, 5], 11),
            ],
            move |args| {
                Ok(ops::mse_loss(
                    args.get::<2>(0)?,
                    args.get::<2>(1)?,
                    reduction,
                )?)
            },
        ));
        let (input, target) = shifted_pair(&[3, 4], 12, None);
        cases.push(GradCase::new(
            format!("mae_loss/{variant}"),
            "mae_loss",
            vec![input, target],
            move |args| {
                Ok(ops::mae_loss(
                    args.get::<2>(0)?,
                    args.get::<2>(1)?,
                    reduction,
                )?)
            },
        ));
        let (input, target) = shifted_pair(&[3, 4], 13, Some(1.0));
        cases.push(GradCase::new(
            format!("huber_loss/{variant}"),
            "huber_loss",
            vec![input, target],
            move |args| {
                Ok(ops::huber_loss(
                    args.get::<2>(0)?,
                    args.get::<2>(1)?,
                    1.0,
                    reduction,
                )?)
            },
        ));
    }
    cases.push(GradCase::new(
        "mse_loss/batch1",
        "mse_loss",
        vec![
            sample::standard("input", &[1, 3], 14),
            sample::standard("target", &[1, 3], 15),
        ],
        |args| {
            Ok(ops::mse_loss(
                args.get::<2>(0)?,
                args.get::<2>(1)?,
                Reduction::Mean,
            )?)
        },
    ));
}

fn int_tensor(values: &[i64], like: &Tensor<2>) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), [values.len()]),
        &like.device(),
    )
}

fn float_like<const D: usize>(values: &[f64], shape: [usize; D], like: &Tensor<2>) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        (&like.device(), like.dtype()),
    )
}

/// One cross-entropy variant: logits shape, targets and options.
struct CrossEntropyCase {
    variant: &'static str,
    shape: [usize; 2],
    targets: Vec<i64>,
    smoothing: f64,
    weights: Option<Vec<f64>>,
    ignore: Option<i64>,
    reduction: Reduction,
}

impl CrossEntropyCase {
    fn plain(variant: &'static str, shape: [usize; 2], targets: Vec<i64>, smoothing: f64) -> Self {
        Self {
            variant,
            shape,
            targets,
            smoothing,
            weights: None,
            ignore: None,
            reduction: Reduction::Mean,
        }
    }
}

fn classification_cases(cases: &mut Vec<GradCase>) {
    let variants = [
        CrossEntropyCase::plain("plain", [5, 4], vec![0, 3, 1, 1, 2], 0.0),
        CrossEntropyCase::plain("batch1", [1, 3], vec![2], 0.0),
        CrossEntropyCase::plain("smoothing", [4, 5], vec![4, 0, 2, 2], 0.1),
        CrossEntropyCase {
            weights: Some(vec![0.5, 2.0, 1.5]),
            ignore: Some(-100),
            ..CrossEntropyCase::plain("weights_ignore", [5, 3], vec![0, -100, 2, 1, 2], 0.0)
        },
        CrossEntropyCase {
            weights: Some(vec![1.0, 3.0, 0.5]),
            ignore: Some(7),
            ..CrossEntropyCase::plain("all_options", [4, 3], vec![1, 2, 7, 0], 0.2)
        },
        CrossEntropyCase {
            reduction: Reduction::Sum,
            ..CrossEntropyCase::plain("sum", [3, 4], vec![3, 2, 0], 0.05)
        },
    ];
    for (i, case) in variants.into_iter().enumerate() {
        let CrossEntropyCase {
            variant,
            shape,
            targets,
            smoothing,
            weights,
            ignore,
            reduction,
        } = case;
        cases.push(GradCase::new(
            format!("cross_entropy/{variant}"),
            "cross_entropy",
            vec![sample::uniform("logits", &shape, 20 + i as u64, -3.0, 3.0)],
            move |args| {
                let logits = args.get::<2>(0)?;
                let mut options = ops::CrossEntropyOptions::new()
                    .with_reduction(reduction)
                    .with_label_smoothing(smoothing);
                if let Some(w) = &weights {
                    options = options.with_class_weights(float_like(w, [w.len()], &logits));
                }
                if let Some(index) = ignore {
                    options = options.with_ignore_index(index);
                }
                let targets = int_tensor(&targets, &logits);
                Ok(ops::cross_entropy(logits, targets, &options)?)
            },
        ));
    }
    cases.push(GradCase::new(
        "cross_entropy/none",
        "cross_entropy",
        vec![sample::uniform("logits", &[3, 4], 27, -3.0, 3.0)],
        |args| {
            let logits = args.get::<2>(0)?;
            let targets = int_tensor(&[1, 0, 3], &logits);
            let options = ops::CrossEntropyOptions::new().with_reduction(Reduction::None);
            Ok(ops::cross_entropy(logits, targets, &options)?)
        },
    ));
    cases.push(GradCase::new(
        "nll_loss/weights",
        "nll_loss",
        vec![sample::uniform("log_probs", &[4, 3], 28, -3.0, 0.0)],
        |args| {
            let log_probs = args.get::<2>(0)?;
            let targets = int_tensor(&[2, 0, 1, 2], &log_probs);
            let weights = float_like(&[1.0, 0.5, 2.0], [3], &log_probs);
            Ok(ops::nll_loss(
                log_probs,
                targets,
                Reduction::Mean,
                Some(&weights),
                None,
            )?)
        },
    ));
    for (variant, shape, seed, reduction) in [
        ("mean", [3, 4], 29u64, Reduction::Mean),
        ("sum_batch1", [1, 5], 30, Reduction::Sum),
        ("none", [2, 3], 31, Reduction::None),
    ] {
        let targets = sample::uniform("targets", &shape, seed + 50, 0.0, 1.0).values;
        let mut logits = sample::uniform("logits", &shape, seed, -8.0, 8.0);
        logits.values[0] = 0.0; // the branch point of the stable form
        cases.push(GradCase::new(
            format!("binary_cross_entropy_with_logits/{variant}"),
            "binary_cross_entropy_with_logits",
            vec![logits],
            move |args| {
                let logits = args.get::<2>(0)?;
                let targets = float_like(&targets, shape, &logits);
                Ok(ops::binary_cross_entropy_with_logits(
                    logits, targets, reduction,
                )?)
            },
        ));
    }
}

fn linear_cases(cases: &mut Vec<GradCase>) {
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

fn conv_cases(cases: &mut Vec<GradCase>) {
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
    for (i, (variant, x, w, bias, options)) in conv1d.into_iter().enumerate() {
        let inputs = conv_inputs(&x, &w, bias, 60 + 3 * i as u64);
        cases.push(GradCase::new(
            format!("conv1d/{variant}"),
            "conv1d",
            inputs,
            move |args| {
                let b = if bias { Some(args.get::<1>(2)?) } else { None };
                Ok(ops::conv1d(
                    args.get::<3>(0)?,
                    args.get::<3>(1)?,
                    b,
                    &options,
                )?)
            },
        ));
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
    ];
    for (i, (variant, x, w, bias, options)) in conv2d.into_iter().enumerate() {
        let inputs = conv_inputs(&x, &w, bias, 80 + 3 * i as u64);
        cases.push(GradCase::new(
            format!("conv2d/{variant}"),
            "conv2d",
            inputs,
            move |args| {
                let b = if bias { Some(args.get::<1>(2)?) } else { None };
                Ok(ops::conv2d(
                    args.get::<4>(0)?,
                    args.get::<4>(1)?,
                    b,
                    &options,
                )?)
            },
        ));
    }
}

fn pool_cases(cases: &mut Vec<GradCase>) {
    for (variant, shape, options) in [
        ("k2s2", [2, 2, 6], ops::Pool1dOptions::new(2)),
        (
            "k3s1p1_batch1",
            [1, 3, 5],
            ops::Pool1dOptions::new(3).with_stride(1).with_padding(1),
        ),
    ] {
        cases.push(GradCase::new(
            format!("max_pool1d/{variant}"),
            "max_pool1d",
            vec![sample::distinct("x", &shape, 100)],
            move |args| Ok(ops::max_pool1d(args.get::<3>(0)?, &options)?),
        ));
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
        cases.push(GradCase::new(
            format!("max_pool2d/{variant}"),
            "max_pool2d",
            vec![sample::distinct("x", &shape, 102)],
            move |args| Ok(ops::max_pool2d(args.get::<4>(0)?, &options)?),
        ));
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

fn norm_cases(cases: &mut Vec<GradCase>) {
    use sample::standard;
    cases.push(GradCase::new(
        "batch_norm/train_1d",
        "batch_norm",
        vec![
            standard("x", &[4, 3], 110),
            standard("weight", &[3], 111),
            standard("bias", &[3], 112),
        ],
        |args| {
            let options = ops::BatchNormOptions::new(true);
            let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
            Ok(ops::batch_norm(args.get::<2>(0)?, w, b, None, &options)?)
        },
    ));
    cases.push(GradCase::new(
        "batch_norm/train_2d",
        "batch_norm",
        vec![
            standard("x", &[2, 3, 3, 3], 113),
            standard("weight", &[3], 114),
            standard("bias", &[3], 115),
        ],
        |args| {
            let options = ops::BatchNormOptions::new(true);
            let (w, b) = (Some(args.get::<1>(1)?), Some(args.get::<1>(2)?));
            Ok(ops::batch_norm(args.get::<4>(0)?, w, b, None, &options)?)
        },
    ));
    cases.push(GradCase::new(
        "batch_norm/train_batch1_spatial",
        "batch_norm",
        vec![standard("x", &[1, 2, 2, 3], 116)],
        |args| {
            let options = ops::BatchNormOptions::new(true);
            Ok(ops::batch_norm(
                args.get::<4>(0)?,
                None,
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

fn lookup_cases(cases: &mut Vec<GradCase>) {
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

/// Cases of the fused losses (custom backward passes), mirroring their composed twins.
pub fn fused_cases() -> Vec<GradCase> {
    let mut cases = Vec::new();
    let options = [
        ("plain", 0.0, None, None, Reduction::Mean),
        ("smoothing_sum", 0.1, None, None, Reduction::Sum),
        (
            "weights_ignore",
            0.2,
            Some(vec![0.5, 2.0, 1.5]),
            Some(-100i64),
            Reduction::Mean,
        ),
    ];
    for (i, (variant, smoothing, weights, ignore, reduction)) in options.into_iter().enumerate() {
        cases.push(GradCase::new(
            format!("fused_cross_entropy/{variant}"),
            "fused_cross_entropy",
            vec![sample::uniform(
                "logits",
                &[5, 3],
                140 + i as u64,
                -4.0,
                4.0,
            )],
            move |args| {
                let logits = args.get::<2>(0)?;
                let mut options = ops::CrossEntropyOptions::new()
                    .with_reduction(reduction)
                    .with_label_smoothing(smoothing);
                if let Some(w) = &weights {
                    options = options.with_class_weights(float_like(w, [w.len()], &logits));
                }
                if let Some(index) = ignore {
                    options = options.with_ignore_index(index);
                }
                let targets = int_tensor(&[2, -100, 0, 1, 2], &logits);
                let targets = if ignore.is_some() {
                    targets
                } else {
                    int_tensor(&[2, 1, 0, 1, 2], &logits)
                };
                crate::fused::fused_cross_entropy(logits, targets, &options)
            },
        ));
    }
    for (variant, shape, reduction) in [
        ("mean", [3, 4], Reduction::Mean),
        ("none_batch1", [1, 5], Reduction::None),
    ] {
        let targets = sample::uniform("targets", &shape, 150, 0.0, 1.0).values;
        let mut logits = sample::uniform("logits", &shape, 151, -8.0, 8.0);
        logits.values[0] = 0.0;
        cases.push(GradCase::new(
            format!("fused_binary_cross_entropy_with_logits/{variant}"),
            "fused_binary_cross_entropy_with_logits",
            vec![logits],
            move |args| {
                let logits = args.get::<2>(0)?;
                let targets = float_like(&targets, shape, &logits);
                crate::fused::fused_binary_cross_entropy_with_logits(logits, targets, reduction)
            },
        ));
    }
    cases
}
