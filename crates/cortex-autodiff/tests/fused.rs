//! The fused losses, the fused sigmoid, the fused linear and the fused convolutions agree with
//! their composed twins; the losses stay finite at |x| = 1000.

use burn::tensor::{DType, Int, Tensor, TensorData};
use cortex_autodiff::{
    GradCheck, fused_binary_cross_entropy_with_logits, fused_conv1d, fused_conv2d,
    fused_cross_entropy, fused_linear, fused_max_pool1d, fused_max_pool2d, fused_sigmoid, op_cases,
};
use cortex_core::Backend;
use cortex_ops::{
    Conv1dOptions, Conv2dOptions, CrossEntropyOptions, Pool1dOptions, Pool2dOptions, Reduction,
    binary_cross_entropy_with_logits, cross_entropy,
};

/// `values` as a tensor of `shape` and `dtype` on `device`.
fn tensor<const D: usize>(
    values: &[f64],
    shape: [usize; D],
    device: &burn::tensor::Device,
    dtype: DType,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), (device, dtype))
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data().iter::<f64>().collect()
}

#[test]
fn fused_cross_entropy_is_stable_and_matches_the_composed_op() {
    let logits = vec![
        1000.0, -1000.0, 0.0, -1000.0, 1000.0, 999.0, 0.5, -0.25, 2.0,
    ];
    for backend in Backend::selected_from_env().unwrap() {
        for dtype in [DType::F32, DType::F64] {
            let device = backend.autodiff_device();
            let make = || {
                Tensor::<2>::from_data(TensorData::new(logits.clone(), [3, 3]), (&device, dtype))
                    .require_grad()
            };
            let targets =
                Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 2, 0], [3]), &device);
            let options = CrossEntropyOptions::new().with_label_smoothing(0.1);
            let (a, b) = (make(), make());
            let fused = fused_cross_entropy(a.clone(), targets.clone(), &options).unwrap();
            let composed = cross_entropy(b.clone(), targets, &options).unwrap();
            let (fv, cv) = (values(&fused), values(&composed));
            assert!(fv[0].is_finite(), "{fv:?}");
            assert!(
                (fv[0] - cv[0]).abs() <= 1e-4 * cv[0].abs().max(1.0),
                "{fv:?} vs {cv:?}"
            );
            let ga = values(&a.grad(&fused.backward()).unwrap());
            let gb = values(&b.grad(&composed.backward()).unwrap());
            for (x, y) in ga.iter().zip(&gb) {
                assert!(x.is_finite() && (x - y).abs() < 1e-5, "{ga:?} vs {gb:?}");
            }
        }
    }
}

#[test]
fn fused_bce_is_stable_and_matches_the_composed_op() {
    let logits = vec![1000.0, -1000.0, 0.0, 3.0, -1000.0, 1000.0];
    let targets = vec![0.0, 0.0, 1.0, 0.3, 1.0, 1.0];
    for backend in Backend::selected_from_env().unwrap() {
        for dtype in [DType::F32, DType::F64] {
            let device = backend.autodiff_device();
            let x =
                Tensor::<2>::from_data(TensorData::new(logits.clone(), [2, 3]), (&device, dtype))
                    .require_grad();
            let t =
                Tensor::<2>::from_data(TensorData::new(targets.clone(), [2, 3]), (&device, dtype));
            let fused =
                fused_binary_cross_entropy_with_logits(x.clone(), t.clone(), Reduction::None)
                    .unwrap();
            let composed = binary_cross_entropy_with_logits(x.clone(), t, Reduction::None).unwrap();
            let (fv, cv) = (values(&fused), values(&composed));
            for (f, c) in fv.iter().zip(&cv) {
                assert!((f - c).abs() <= 1e-5 * c.abs().max(1.0), "{fv:?} vs {cv:?}");
            }
            // σ(x) - t: [1, 0, -0.5, σ(3) - 0.3, -1, 0]
            let grad = values(&x.grad(&fused.sum().backward()).unwrap());
            let sigma3 = 1.0 / (1.0 + (-3.0f64).exp());
            let expected = [1.0, 0.0, -0.5, sigma3 - 0.3, -1.0, 0.0];
            for (g, e) in grad.iter().zip(expected) {
                assert!((g - e).abs() < 1e-6, "{grad:?}");
            }
        }
    }
}

#[test]
fn weighted_and_ignored_targets_match_the_composed_op() {
    let logits: Vec<f64> = (0..15).map(|i| ((i * 7) % 11) as f64 * 0.3 - 1.5).collect();
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        let make = || {
            Tensor::<2>::from_data(
                TensorData::new(logits.clone(), [5, 3]),
                (&device, DType::F64),
            )
            .require_grad()
        };
        let targets =
            Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, -1, 0, 1, 2], [5]), &device);
        let weights = Tensor::<1>::from_data(
            TensorData::new(vec![0.5, 2.0, 1.5], [3]),
            (&device, DType::F64),
        );
        let options = CrossEntropyOptions::new()
            .with_label_smoothing(0.2)
            .with_class_weights(weights)
            .with_ignore_index(-1);
        let (a, b) = (make(), make());
        let fused = fused_cross_entropy(a.clone(), targets.clone(), &options).unwrap();
        let composed = cross_entropy(b.clone(), targets, &options).unwrap();
        assert!((values(&fused)[0] - values(&composed)[0]).abs() < 1e-12);
        let ga = values(&a.grad(&fused.backward()).unwrap());
        let gb = values(&b.grad(&composed.backward()).unwrap());
        for (x, y) in ga.iter().zip(&gb) {
            assert!((x - y).abs() < 1e-12, "{ga:?} vs {gb:?}");
        }
    }
}

/// In f32 on the CPU backends the fused sigmoid runs the vectorised kernel: the same values
/// and gradients as burn's libm sigmoid (`cortex_ops::sigmoid`) to f32 precision, finite and
/// in [0, 1] at ±1000.
#[test]
fn fused_sigmoid_matches_the_composed_op_in_value_and_gradient() {
    let mut xs: Vec<f32> = vec![-1000.0, -88.5, -30.0, -1e-3, 0.0, 1e-3, 17.0, 88.5, 1000.0];
    xs.extend((0..41).map(|i| (i as f32 - 20.0) * 0.45));
    let n = xs.len();
    let upstream: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        let make = || {
            Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), (&device, DType::F32))
                .require_grad()
        };
        let weights = Tensor::<1>::from_data(TensorData::new(upstream.clone(), [n]), &device);
        let (a, b) = (make(), make());
        let fused = fused_sigmoid(a.clone());
        let composed = cortex_ops::sigmoid(b.clone());
        let (fv, cv) = (values(&fused), values(&composed));
        for ((f, c), x) in fv.iter().zip(&cv).zip(&xs) {
            assert!((0.0..=1.0).contains(f), "σ({x}) = {f}");
            assert!((f - c).abs() <= 1e-6 * c + 1e-30, "σ({x}): {f} vs {c}");
        }
        let ga = values(
            &a.grad(&fused.mul(weights.clone()).sum().backward())
                .unwrap(),
        );
        let gb = values(&b.grad(&composed.mul(weights).sum().backward()).unwrap());
        for ((f, c), x) in ga.iter().zip(&gb).zip(&xs) {
            assert!(
                f.is_finite() && (f - c).abs() <= 1e-6 * c.abs() + 1e-30,
                "σ'({x}): {f} vs {c}"
            );
        }
    }
}

/// The registered fused-sigmoid cases, checked in f32 (the kernel's precision) against finite
/// differences on both CPU backends.
#[test]
fn fused_sigmoid_cases_pass_the_f32_check() {
    let cases: Vec<_> = op_cases()
        .into_iter()
        .filter(|c| c.op == "fused_sigmoid")
        .collect();
    assert_eq!(cases.len(), 2);
    for backend in Backend::selected_from_env().unwrap() {
        for case in &cases {
            let report = case.check(&GradCheck::f32(), &backend.device()).unwrap();
            assert!(report.passed(), "{}: {report}", case.name);
        }
    }
}

/// The fused linear gives the composed linear's value and every gradient (x, weight, bias) on
/// both CPU backends in f32 and f64, for a rank-3 input, with and without a bias; an input of
/// the wrong width is the composed op's error.
#[test]
fn fused_linear_matches_the_composed_op() {
    let (xs, ws, bs) = (
        (0..24).map(|i| (i as f64 * 0.37).sin()).collect::<Vec<_>>(),
        (0..20).map(|i| (i as f64 * 0.61).cos()).collect::<Vec<_>>(),
        vec![0.5, -0.25, 1.0, 0.0, -2.0],
    );
    let upstream: Vec<f64> = (0..30).map(|i| 1.0 + (i % 4) as f64 * 0.5).collect();
    for backend in Backend::selected_from_env().unwrap() {
        for dtype in [DType::F32, DType::F64] {
            let device = backend.autodiff_device();
            let tolerance = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
            for with_bias in [true, false] {
                let make = || {
                    let x = tensor(&xs, [2, 3, 4], &device, dtype).require_grad();
                    let w = tensor(&ws, [5, 4], &device, dtype).require_grad();
                    let b = tensor(&bs, [5], &device, dtype).require_grad();
                    (x, w, b)
                };
                let up = tensor(&upstream, [2, 3, 5], &device, dtype);
                let (xa, wa, ba) = make();
                let (xb, wb, bb) = make();
                let fused =
                    fused_linear(xa.clone(), wa.clone(), with_bias.then(|| ba.clone())).unwrap();
                let composed =
                    cortex_ops::linear(xb.clone(), wb.clone(), with_bias.then(|| bb.clone()))
                        .unwrap();
                assert_eq!(fused.dims(), [2, 3, 5]);
                let close = |a: Vec<f64>, b: Vec<f64>, what: &str| {
                    assert_eq!(a.len(), b.len(), "{what}");
                    for (x, y) in a.iter().zip(&b) {
                        assert!(
                            (x - y).abs() <= tolerance * y.abs().max(1.0),
                            "{what}: {a:?} vs {b:?}"
                        );
                    }
                };
                close(values(&fused), values(&composed), "value");
                let ga = fused.mul(up.clone()).sum().backward();
                let gb = composed.mul(up).sum().backward();
                close(
                    values(&xa.grad(&ga).unwrap()),
                    values(&xb.grad(&gb).unwrap()),
                    "∂x",
                );
                close(
                    values(&wa.grad(&ga).unwrap()),
                    values(&wb.grad(&gb).unwrap()),
                    "∂W",
                );
                if with_bias {
                    close(
                        values(&ba.grad(&ga).unwrap()),
                        values(&bb.grad(&gb).unwrap()),
                        "∂b",
                    );
                } else {
                    assert!(ba.grad(&ga).is_none());
                }
            }
            // The same errors as the composed op.
            let x = tensor(&xs[..6], [2, 3], &device, dtype);
            let w = tensor(&ws, [5, 4], &device, dtype);
            let fused = fused_linear(x.clone(), w.clone(), None).unwrap_err();
            let composed = cortex_ops::linear(x, w, None).unwrap_err();
            assert_eq!(fused.to_string(), composed.to_string());
            assert!(
                matches!(fused, cortex_ops::Error::ShapeMismatch { .. }),
                "{fused}"
            );
        }
    }
}

/// Inference on the plain device; and on the autodiff device, an input from the plain device
/// (mixed as burn allows) through a tracked weight, whose gradient arrives.
#[test]
fn fused_linear_runs_without_gradients_and_mixed_with_plain_inputs() {
    for backend in Backend::selected_from_env().unwrap() {
        let (plain, autodiff) = (backend.device(), backend.autodiff_device());
        let x = Tensor::<2>::from_floats([[1.0, 2.0]], &plain);
        let w = [[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]];
        let b = Tensor::<1>::from_floats([0.5, 0.0, -1.0], &plain);
        let y = fused_linear(x.clone(), Tensor::from_floats(w, &plain), Some(b)).unwrap();
        assert_eq!(values(&y), vec![3.5, 2.0, 1.0]);
        let tracked = Tensor::<2>::from_floats(w, &autodiff).require_grad();
        let y = fused_linear(x, tracked.clone(), None).unwrap();
        assert_eq!(values(&y), vec![3.0, 2.0, 2.0]);
        let grads = y.sum().backward();
        let dw = values(&tracked.grad(&grads).unwrap());
        assert_eq!(dw, vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    }
}

/// `n` deterministic values in [-1, 1).
fn wave(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|i| (i as f64 * 0.731 + seed).sin()).collect()
}

/// `a` and `b` equal within `tolerance` (relative above 1).
fn assert_close(a: &[f64], b: &[f64], tolerance: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tolerance * y.abs().max(1.0),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

/// The fused conv2d against `cortex_ops::conv2d` (burn's convolution) in value and in every
/// gradient, on both CPU backends in f32 and f64: the bench's LeNet layer, a strided, padded,
/// dilated grouped one, a pointwise one; with only `x` or only the weight tracked too.
#[test]
fn fused_conv2d_matches_the_composed_op() {
    let configs = [
        (
            [3, 1, 12, 11],
            [4, 1, 5, 5],
            Conv2dOptions::default().with_padding([2, 2]),
        ),
        (
            [2, 4, 9, 10],
            [6, 2, 3, 2],
            Conv2dOptions::default()
                .with_stride([2, 3])
                .with_padding([1, 2])
                .with_dilation([2, 1])
                .with_groups(2),
        ),
        ([5, 3, 4, 3], [7, 3, 1, 1], Conv2dOptions::default()),
    ];
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        for dtype in [DType::F32, DType::F64] {
            let tolerance = if dtype == DType::F32 { 2e-5 } else { 1e-12 };
            for (x_shape, w_shape, options) in configs {
                let (nx, nw) = (x_shape.iter().product(), w_shape.iter().product());
                let (xs, ws, bs) = (wave(nx, 0.1), wave(nw, 0.7), wave(w_shape[0], 1.3));
                for tracked in [[true, true], [true, false], [false, true]] {
                    let make = || {
                        let mut x = tensor(&xs, x_shape, &device, dtype);
                        let mut w = tensor(&ws, w_shape, &device, dtype);
                        if tracked[0] {
                            x = x.require_grad();
                        }
                        if tracked[1] {
                            w = w.require_grad();
                        }
                        let b = tensor(&bs, [w_shape[0]], &device, dtype).require_grad();
                        (x, w, b)
                    };
                    let ((xa, wa, ba), (xb, wb, bb)) = (make(), make());
                    let fused =
                        fused_conv2d(xa.clone(), wa.clone(), Some(ba.clone()), &options).unwrap();
                    let composed =
                        cortex_ops::conv2d(xb.clone(), wb.clone(), Some(bb.clone()), &options)
                            .unwrap();
                    assert_eq!(fused.dims(), composed.dims());
                    let what = format!("{x_shape:?} {w_shape:?} {dtype:?} {tracked:?}");
                    assert_close(&values(&fused), &values(&composed), tolerance, &what);
                    let up = wave(composed.dims().iter().product(), 2.9);
                    let up = tensor(&up, composed.dims(), &device, dtype);
                    let ga = fused.mul(up.clone()).sum().backward();
                    let gb = composed.mul(up).sum().backward();
                    let grad = |t: &Tensor<4>, g| t.grad(g).map(|g| values(&g));
                    assert_eq!(grad(&xa, &ga).is_some(), tracked[0], "{what}");
                    assert_eq!(grad(&wa, &ga).is_some(), tracked[1], "{what}");
                    for (a, b, name) in [
                        (grad(&xa, &ga), grad(&xb, &gb), "∂x"),
                        (grad(&wa, &ga), grad(&wb, &gb), "∂W"),
                        (
                            ba.grad(&ga).map(|g| values(&g)),
                            bb.grad(&gb).map(|g| values(&g)),
                            "∂b",
                        ),
                    ] {
                        if let (Some(a), Some(b)) = (a, b) {
                            assert_close(&a, &b, tolerance, &format!("{name} {what}"));
                        }
                    }
                }
            }
        }
    }
}

/// The fused conv1d (a conv2d of height 1) against `cortex_ops::conv1d`, value and gradients;
/// inference on the plain device; every bad configuration is the composed op's error.
#[test]
fn fused_conv1d_matches_and_rejects_what_the_composed_op_rejects() {
    let options = Conv1dOptions::default()
        .with_stride(2)
        .with_padding(1)
        .with_dilation(2)
        .with_groups(2);
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        let x = tensor(&wave(2 * 4 * 13, 0.2), [2, 4, 13], &device, DType::F64).require_grad();
        let w = tensor(&wave(6 * 2 * 3, 0.9), [6, 2, 3], &device, DType::F64).require_grad();
        let fused = fused_conv1d(x.clone(), w.clone(), None, &options).unwrap();
        let composed = cortex_ops::conv1d(x.clone(), w.clone(), None, &options).unwrap();
        assert_eq!(fused.dims(), [2, 6, 6]);
        assert_close(&values(&fused), &values(&composed), 1e-12, "conv1d");
        let (ga, gb) = (fused.sum().backward(), composed.sum().backward());
        for t in [&x, &w] {
            let (a, b) = (t.grad(&ga).unwrap(), t.grad(&gb).unwrap());
            assert_close(&values(&a), &values(&b), 1e-12, "conv1d gradient");
        }
        let plain = backend.device();
        let y = fused_conv1d(
            Tensor::<3>::from_floats([[[1.0, 2.0, 4.0]]], &plain),
            Tensor::<3>::from_floats([[[1.0, -1.0]]], &plain),
            Some(Tensor::<1>::from_floats([0.5], &plain)),
            &Conv1dOptions::default(),
        )
        .unwrap();
        assert_eq!(values(&y), vec![-0.5, -1.5]);

        let x = tensor(&[0.0; 3 * 5 * 5], [1, 3, 5, 5], &device, DType::F32);
        let bad = [
            (
                tensor(&[0.0; 2 * 3 * 3 * 3], [2, 3, 3, 3], &device, DType::F32),
                Conv2dOptions::default().with_stride([0, 1]),
            ),
            (
                tensor(&[0.0; 2 * 3 * 7 * 7], [2, 3, 7, 7], &device, DType::F32),
                Conv2dOptions::default(),
            ),
            (
                tensor(&[0.0; 2 * 3 * 3 * 3], [2, 3, 3, 3], &device, DType::F32),
                Conv2dOptions::default().with_groups(2),
            ),
            (
                tensor(&[0.0; 2 * 2 * 3 * 3], [2, 2, 3, 3], &device, DType::F32),
                Conv2dOptions::default(),
            ),
            (
                tensor(&[0.0; 2 * 3 * 3 * 3], [2, 3, 3, 3], &device, DType::F64),
                Conv2dOptions::default(),
            ),
        ];
        for (w, options) in bad {
            let fused = fused_conv2d(x.clone(), w.clone(), None, &options).unwrap_err();
            let composed = cortex_ops::conv2d(x.clone(), w, None, &options).unwrap_err();
            assert_eq!(fused, composed);
        }
        let w = tensor(&[0.0; 2 * 3 * 3 * 3], [2, 3, 3, 3], &device, DType::F32);
        let bias = tensor(&[0.0; 3], [3], &device, DType::F32);
        let fused = fused_conv2d(
            x.clone(),
            w.clone(),
            Some(bias.clone()),
            &Conv2dOptions::default(),
        );
        let composed = cortex_ops::conv2d(x, w, Some(bias), &Conv2dOptions::default());
        assert_eq!(fused.unwrap_err(), composed.unwrap_err());
    }
}

/// The fused max pooling against `cortex_ops` (burn's pooling): value and gradient on both CPU
/// backends in f32 and f64, padded, strided, overlapping windows and the bench's 2 × 2; the
/// 1-D form; the composed op's errors.
#[test]
fn fused_max_pool_matches_the_composed_op() {
    let configs = [
        ([3, 4, 8, 8], Pool2dOptions::new([2, 2])),
        (
            [2, 3, 7, 9],
            Pool2dOptions::new([3, 2])
                .with_stride([2, 1])
                .with_padding([1, 1]),
        ),
    ];
    for backend in Backend::selected_from_env().unwrap() {
        let device = backend.autodiff_device();
        for dtype in [DType::F32, DType::F64] {
            for (shape, options) in configs {
                // Distinct values: no ties, so the arg-max is unique.
                let n: usize = shape.iter().product();
                let xs: Vec<f64> = (0..n).map(|i| ((i * 7919) % 10007) as f64 * 1e-3).collect();
                let xa = tensor(&xs, shape, &device, dtype).require_grad();
                let xb = tensor(&xs, shape, &device, dtype).require_grad();
                let fused = fused_max_pool2d(xa.clone(), &options).unwrap();
                let composed = cortex_ops::max_pool2d(xb.clone(), &options).unwrap();
                assert_eq!(fused.dims(), composed.dims());
                assert_eq!(values(&fused), values(&composed));
                let up = wave(composed.dims().iter().product(), 0.4);
                let up = tensor(&up, composed.dims(), &device, dtype);
                let ga = fused.mul(up.clone()).sum().backward();
                let gb = composed.mul(up).sum().backward();
                assert_eq!(
                    values(&xa.grad(&ga).unwrap()),
                    values(&xb.grad(&gb).unwrap()),
                    "{shape:?} {dtype:?}"
                );
            }
        }
        let x = tensor(&wave(2 * 3 * 11, 0.3), [2, 3, 11], &device, DType::F64).require_grad();
        let options = Pool1dOptions::new(3).with_stride(2).with_padding(1);
        let fused = fused_max_pool1d(x.clone(), &options).unwrap();
        let composed = cortex_ops::max_pool1d(x.clone(), &options).unwrap();
        assert_eq!(values(&fused), values(&composed));
        let (ga, gb) = (fused.sum().backward(), composed.sum().backward());
        assert_eq!(values(&x.grad(&ga).unwrap()), values(&x.grad(&gb).unwrap()));
        let x = tensor(&[0.0; 2 * 4 * 4], [1, 2, 4, 4], &device, DType::F32);
        for options in [
            Pool2dOptions::new([2, 0]),
            Pool2dOptions::new([2, 2]).with_padding([2, 0]),
            Pool2dOptions::new([5, 2]),
        ] {
            let fused = fused_max_pool2d(x.clone(), &options).unwrap_err();
            assert_eq!(
                fused,
                cortex_ops::max_pool2d(x.clone(), &options).unwrap_err()
            );
        }
    }
}
