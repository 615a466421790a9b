//! Hostile inputs: every public fallible op of `cortex-ops`, called with random ranks, shapes
//! (zero-sized dimensions included), NaN/±inf/huge values, out-of-range indices and
//! hyper-parameters (zero strides, negative probabilities, NaN epsilons …), on both CPU
//! backends, returns a typed error or a result of the documented shape — never a panic.

use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use cortex_core::Backend;
use cortex_ops::*;
use proptest::prelude::*;

/// Inputs per property.
const CASES: u32 = 1000;

/// Everything one call draws from.
#[derive(Debug, Clone)]
struct Draw {
    /// Dimensions (0 included); the first `rank` are used for the main input.
    dims: Vec<usize>,
    /// A second shape, for the other operand.
    other: Vec<usize>,
    /// Values, cycled to fill a tensor.
    values: Vec<f64>,
    /// Integer values (targets, indices), cycled.
    ints: Vec<i64>,
    /// Hyper-parameters: small integers (kernel, stride, padding, dilation, groups, dim…).
    small: Vec<usize>,
    /// Real hyper-parameters (p, eps, momentum, smoothing, slope …).
    reals: Vec<f64>,
    /// Whether the second operand is f32 while the first is f64 (a precision mismatch).
    mixed_precision: bool,
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -3.0f64..3.0,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(1e300),
        1 => Just(0.0),
    ]
}

fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -0.5f64..1.5,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.0),
        1 => Just(1.0),
        1 => Just(-1e9),
    ]
}

fn draw() -> impl Strategy<Value = Draw> {
    (
        prop::collection::vec(0usize..5, 5),
        prop::collection::vec(0usize..5, 5),
        prop::collection::vec(value(), 1..24),
        prop::collection::vec(-3i64..7, 1..12),
        prop::collection::vec(0usize..4, 8),
        prop::collection::vec(real(), 4),
        any::<bool>(),
    )
        .prop_map(
            |(dims, other, values, ints, small, reals, mixed_precision)| Draw {
                dims,
                other,
                values,
                ints,
                small,
                reals,
                mixed_precision,
            },
        )
}

/// A float tensor of `shape` filled by cycling `values`, in f64 (or f32).
fn float<const D: usize>(
    shape: [usize; D],
    values: &[f64],
    f32: bool,
    device: &Device,
) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = values.iter().copied().cycle().take(n).collect();
    let dtype = if f32 { DType::F32 } else { DType::F64 };
    let t: Tensor<D> = Tensor::from_data(TensorData::new(data, shape), (device, DType::F64));
    t.cast(dtype)
}

fn int<const D: usize>(shape: [usize; D], values: &[i64], device: &Device) -> Tensor<D, Int> {
    let n: usize = shape.iter().product();
    let data: Vec<i64> = values.iter().copied().cycle().take(n).collect();
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn first<const D: usize, T: Copy>(items: &[T]) -> [T; D] {
    std::array::from_fn(|i| items[i])
}

/// `Ok` must have `expected` dims where given; an error must be one of the typed variants.
fn verdict<const D: usize>(
    op: &str,
    result: Result<Tensor<D>>,
    expected: Option<[usize; D]>,
) -> std::result::Result<(), TestCaseError> {
    match result {
        Ok(t) => {
            if let Some(dims) = expected {
                prop_assert_eq!(t.dims(), dims, "{}", op);
            }
            // The values can be read (the computation really ran).
            let _ = t.into_data();
        }
        Err(e) => {
            // Every variant is typed; its message must say something.
            prop_assert!(!e.to_string().is_empty(), "{}", op);
        }
    }
    Ok(())
}

/// Calls op number `op` with `d` on `device`.
fn call(op: usize, d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let v = &d.values;
    let [s0, s1, s2, s3, s4, s5, s6, s7] = first::<8, _>(&d.small);
    let [r0, r1, r2, _] = first::<4, _>(&d.reals);
    let mixed = d.mixed_precision;
    let rank = 1 + s0;
    // Rank-generic ops, at rank 1..=4.
    macro_rules! at_rank {
        ($body:ident) => {
            match rank {
                1 => $body::<1>(d, device),
                2 => $body::<2>(d, device),
                3 => $body::<3>(d, device),
                _ => $body::<4>(d, device),
            }
        };
    }
    match op {
        0 => at_rank!(elementwise),
        1 => at_rank!(binary),
        2 => {
            let x = float::<2>(first(&d.dims), v, false, device);
            let w = float::<2>(first(&d.other), v, mixed, device);
            let bias = (s1 > 0).then(|| float::<1>([d.other[0] + s2 % 2], v, false, device));
            verdict("linear", linear(x, w, bias), Some([d.dims[0], d.other[0]]))
        }
        3 => {
            let a = float::<3>(first(&d.dims), v, false, device);
            let b = float::<3>([d.other[0], d.other[1], d.other[2]], v, mixed, device);
            verdict("matmul", matmul(a, b), None)
        }
        4 => {
            let x = float::<3>(first(&d.dims), v, false, device);
            let w = float::<3>(first(&d.other), v, mixed, device);
            let bias = (s1 == 1).then(|| float::<1>([d.other[0]], v, false, device));
            let options = Conv1dOptions {
                stride: s2,
                padding: s3,
                dilation: s4,
                groups: s5,
            };
            verdict("conv1d", conv1d(x, w, bias, &options), None)
        }
        5 => {
            let x = float::<4>(first(&d.dims), v, false, device);
            let w = float::<4>(first(&d.other), v, mixed, device);
            let bias = (s1 == 1).then(|| float::<1>([d.other[0]], v, false, device));
            let options = Conv2dOptions {
                stride: [s2, s6],
                padding: [s3, s7 % 2],
                dilation: [s4, 1],
                groups: s5,
            };
            verdict("conv2d", conv2d(x, w, bias, &options), None)
        }
        6 => {
            let x = float::<3>(first(&d.dims), v, false, device);
            let options = Pool1dOptions {
                kernel_size: s1,
                stride: s2,
                padding: s3,
                count_include_pad: s4.is_multiple_of(2),
            };
            verdict("max_pool1d", max_pool1d(x.clone(), &options), None)?;
            verdict("avg_pool1d", avg_pool1d(x, &options), None)
        }
        7 => {
            let x = float::<4>(first(&d.dims), v, false, device);
            let options = Pool2dOptions {
                kernel_size: [s1, s5],
                stride: [s2, s6],
                padding: [s3, s7],
                count_include_pad: s4.is_multiple_of(2),
            };
            verdict("max_pool2d", max_pool2d(x.clone(), &options), None)?;
            verdict("avg_pool2d", avg_pool2d(x.clone(), &options), None)?;
            verdict(
                "adaptive_avg_pool2d",
                adaptive_avg_pool2d(x, [s1, s2]),
                None,
            )
        }
        8 => {
            let x = float::<2>(first(&d.dims), v, false, device);
            let targets = int::<1>([d.other[0]], &d.ints, device);
            let mut options = CrossEntropyOptions::new().with_label_smoothing(r0);
            if s1 == 1 {
                options = options.with_ignore_index(-1);
            }
            if s2 == 1 {
                options = options.with_class_weights(float::<1>([d.other[1]], v, mixed, device));
            }
            if s3 == 1 {
                options = options.with_target_check(TargetCheck::Deferred);
            }
            options = options.with_reduction(match s4 {
                0 => Reduction::Mean,
                1 => Reduction::Sum,
                _ => Reduction::None,
            });
            verdict(
                "cross_entropy",
                cross_entropy(x.clone(), targets.clone(), &options),
                None,
            )?;
            verdict(
                "nll_loss",
                nll_loss(x, targets, options.reduction, None, options.ignore_index),
                None,
            )
        }
        9 => {
            let weight = float::<2>(first(&d.dims), v, false, device);
            let indices = int::<2>(first(&d.other), &d.ints, device);
            let padding = (s1 > 0).then_some(s2);
            let out: Result<Tensor<3>> = embedding(weight, indices, padding);
            verdict("embedding", out, None)
        }
        10 => {
            let x = float::<3>(first(&d.dims), v, false, device);
            let channels = d.dims[1];
            let gamma = (s1 == 1).then(|| float::<1>([channels + s2 % 2], v, mixed, device));
            let mut stats = RunningStats::new(channels + s3 % 2, device, DType::F64);
            let options = BatchNormOptions {
                training: s4.is_multiple_of(2),
                momentum: r0,
                eps: r1,
            };
            let running = (s5 > 0).then_some(&mut stats);
            verdict(
                "batch_norm",
                batch_norm(x, gamma, None, running, &options),
                None,
            )
        }
        11 => {
            let x = float::<3>(first(&d.dims), v, false, device);
            let shape = [d.other[0], d.other[1]];
            let weight = (s1 == 1).then(|| float::<2>(shape, v, mixed, device));
            verdict("layer_norm", layer_norm(x, shape, weight, None, r2), None)
        }
        12 => {
            let x = float::<3>(first(&d.dims), v, false, device);
            let out: Result<Tensor<2>> = flatten(x, s1, s2);
            verdict("flatten", out, None)
        }
        13 => {
            let logits = float::<2>(first(&d.dims), v, false, device);
            let targets = float::<2>(first(&d.other), v, mixed, device);
            verdict(
                "binary_cross_entropy_with_logits",
                binary_cross_entropy_with_logits(logits, targets, Reduction::Mean),
                None,
            )
        }
        14 => {
            let shape: Vec<usize> = d.dims[..rank].to_vec();
            let init = match s1 {
                0 => Initializer::Constant { value: r0 },
                1 => Initializer::Uniform { low: r0, high: r1 },
                2 => Initializer::Normal { mean: r0, std: r1 },
                _ => Initializer::XavierUniform { gain: r2 },
            };
            match init.sample(&shape, 7) {
                Ok(values) => {
                    prop_assert_eq!(values.len(), shape.iter().product::<usize>());
                }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
            let _ = fans(&shape);
            let _ = window_output_size(d.dims[0], s1, s2, s3, s4);
            Ok(())
        }
        _ => unreachable!("op index out of the table"),
    }
}

/// Activations, softmax, dropout and the regression losses at rank `D`.
fn elementwise<const D: usize>(
    d: &Draw,
    device: &Device,
) -> std::result::Result<(), TestCaseError> {
    let shape: [usize; D] = first(&d.dims);
    let x = || float::<D>(shape, &d.values, false, device);
    let [r0, r1, _, _] = first::<4, _>(&d.reals);
    let dim = d.small[1] as isize - 2;
    for (name, out) in [
        ("sigmoid", Ok(sigmoid(x()))),
        ("tanh", Ok(tanh(x()))),
        ("relu", Ok(relu(x()))),
        ("gelu", Ok(gelu(x()))),
        ("silu", Ok(silu(x()))),
        ("leaky_relu", leaky_relu(x(), r0)),
        ("elu", elu(x(), r1)),
        ("softplus", softplus(x(), r0)),
        ("softmax", softmax(x(), dim)),
        ("log_softmax", log_softmax(x(), dim)),
        ("dropout", dropout(x(), r0, d.small[2].is_multiple_of(2), 3)),
    ] {
        let expected = out.is_ok().then_some(shape);
        verdict(name, out, expected)?;
    }
    Ok(())
}

/// Two-operand ops at rank `D`: broadcasting add and the regression losses.
fn binary<const D: usize>(d: &Draw, device: &Device) -> std::result::Result<(), TestCaseError> {
    let a = || float::<D>(first(&d.dims), &d.values, false, device);
    let b = || float::<D>(first(&d.other), &d.values, d.mixed_precision, device);
    verdict("add", add(a(), b()), None)?;
    let reduction = match d.small[1] {
        0 => Reduction::Mean,
        1 => Reduction::Sum,
        _ => Reduction::None,
    };
    verdict("mse_loss", mse_loss(a(), b(), reduction), None)?;
    verdict("mae_loss", mae_loss(a(), b(), reduction), None)?;
    verdict(
        "huber_loss",
        huber_loss(a(), b(), d.reals[0], reduction),
        None,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Any op, any input drawn above, on each CPU backend (plain and autodiff devices): a
    /// typed error or a result, never a panic.
    #[test]
    fn every_op_returns_a_typed_error_or_a_result(op in 0usize..15, d in draw(), autodiff in any::<bool>()) {
        for backend in Backend::ALL {
            let device = if autodiff { backend.autodiff_device() } else { backend.device() };
            call(op, &d, &device)?;
        }
    }
}
