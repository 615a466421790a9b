//! The fused LSTM/GRU sequences against the same recurrences composed from tensor ops: values
//! and every gradient, both directions, both CPU backends, f64 and f32, a batch large enough
//! to be split across threads (uneven chunks); and the errors of bad inputs.

use burn::tensor::{DType, Device, Distribution, Tensor};
use cortex_autodiff::{fused_gru, fused_lstm, fused_lstm_layer, fused_recurrence_supported};
use cortex_core::Backend;
use cortex_ops::{Error, sigmoid, tanh};

const B: usize = 21;
const T: usize = 6;
const H: usize = 5;

fn random<const D: usize>(shape: [usize; D], device: &Device, dtype: DType) -> Tensor<D> {
    Tensor::<D>::random(shape, Distribution::Uniform(-1.5, 1.5), device)
        .cast(dtype)
        .require_grad()
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.clone()
        .cast(DType::F64)
        .into_data()
        .convert::<f64>()
        .try_to_vec()
        .unwrap()
}

fn assert_close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
        .fold(0.0, f64::max);
    assert!(worst < tol, "{what}: worst relative difference {worst:e}");
}

fn steps(reverse: bool) -> Vec<usize> {
    if reverse {
        (0..T).rev().collect()
    } else {
        (0..T).collect()
    }
}

fn block(x: &Tensor<2>, k: usize, hd: usize) -> Tensor<2> {
    x.clone().narrow(1, k * hd, hd)
}

fn composed_lstm(
    hd: usize,
    xw: &Tensor<3>,
    w: &Tensor<2>,
    b: &Tensor<1>,
    h0: &Tensor<2>,
    c0: &Tensor<2>,
    reverse: bool,
) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
    let (mut h, mut c) = (h0.clone(), c0.clone());
    let mut hs = vec![None; T];
    for t in steps(reverse) {
        let gates = xw.clone().narrow(1, t, 1).reshape([B, 4 * hd])
            + h.matmul(w.clone().transpose())
            + b.clone().reshape([1, 4 * hd]);
        let (i, f) = (sigmoid(block(&gates, 0, hd)), sigmoid(block(&gates, 1, hd)));
        let (g, o) = (tanh(block(&gates, 2, hd)), sigmoid(block(&gates, 3, hd)));
        c = f * c + i * g;
        h = o * tanh(c.clone());
        hs[t] = Some(h.clone().reshape([B, 1, hd]));
    }
    (Tensor::cat(hs.into_iter().flatten().collect(), 1), h, c)
}

fn composed_gru(
    hd: usize,
    xw: &Tensor<3>,
    w: &Tensor<2>,
    b: &Tensor<1>,
    h0: &Tensor<2>,
    reverse: bool,
) -> (Tensor<3>, Tensor<2>) {
    let mut h = h0.clone();
    let mut hs = vec![None; T];
    for t in steps(reverse) {
        let x = xw.clone().narrow(1, t, 1).reshape([B, 3 * hd]);
        let gh = h.clone().matmul(w.clone().transpose()) + b.clone().reshape([1, 3 * hd]);
        let r = sigmoid(block(&x, 0, hd) + block(&gh, 0, hd));
        let z = sigmoid(block(&x, 1, hd) + block(&gh, 1, hd));
        let n = tanh(block(&x, 2, hd) + r * block(&gh, 2, hd));
        h = n.clone() + z * (h - n);
        hs[t] = Some(h.clone().reshape([B, 1, hd]));
    }
    (Tensor::cat(hs.into_iter().flatten().collect(), 1), h)
}

/// Random weights of the outputs' elements, one tensor per output shape.
fn output_weights(shapes: &[[usize; 2]], device: &Device, dtype: DType) -> Vec<Tensor<2>> {
    shapes
        .iter()
        .map(|&s| Tensor::<2>::random(s, Distribution::Normal(0.0, 1.0), device).cast(dtype))
        .collect()
}

/// A scalar that weights every output element differently.
fn loss(parts: &[Tensor<2>], weights: &[Tensor<2>]) -> Tensor<1> {
    parts
        .iter()
        .zip(weights)
        .map(|(p, w)| (p.clone() * w.clone()).sum())
        .reduce(|a, b| a + b)
        .unwrap()
}

fn devices() -> Vec<Device> {
    Backend::ALL.iter().map(|b| b.autodiff_device()).collect()
}

#[test]
fn lstm_matches_the_composed_recurrence_with_all_gradients() {
    for device in devices() {
        // H = 16 takes the AVX2 microkernel path in f32; H = 5 the general GEMM.
        for (hd, dtype, tol) in [
            (H, DType::F64, 1e-12),
            (H, DType::F32, 2e-5),
            (16, DType::F32, 2e-5),
        ] {
            for reverse in [false, true] {
                let xw = random([B, T, 4 * hd], &device, dtype);
                let w = random([4 * hd, hd], &device, dtype);
                let b = random([4 * hd], &device, dtype);
                let (h0, c0) = (
                    random([B, hd], &device, dtype),
                    random([B, hd], &device, dtype),
                );
                let weights = output_weights(&[[B * T, hd], [B, hd], [B, hd]], &device, dtype);
                let fused = fused_lstm(
                    xw.clone(),
                    w.clone(),
                    Some(b.clone()),
                    h0.clone(),
                    c0.clone(),
                    reverse,
                )
                .unwrap();
                let (out, h, c) = composed_lstm(hd, &xw, &w, &b, &h0, &c0, reverse);
                let what = format!("{device:?} {dtype:?} H={hd} reverse={reverse}");
                assert_close(
                    &format!("{what} output"),
                    &values(&fused.output),
                    &values(&out),
                    tol,
                );
                assert_close(&format!("{what} h"), &values(&fused.h), &values(&h), tol);
                assert_close(&format!("{what} c"), &values(&fused.c), &values(&c), tol);
                let g_fused = loss(
                    &[fused.output.reshape([B * T, hd]), fused.h, fused.c],
                    &weights,
                )
                .backward();
                let g_composed = loss(&[out.reshape([B * T, hd]), h, c], &weights).backward();
                let pairs = [
                    (
                        "xw",
                        values(&xw.grad(&g_fused).unwrap()),
                        values(&xw.grad(&g_composed).unwrap()),
                    ),
                    (
                        "w_hh",
                        values(&w.grad(&g_fused).unwrap()),
                        values(&w.grad(&g_composed).unwrap()),
                    ),
                    (
                        "b_hh",
                        values(&b.grad(&g_fused).unwrap()),
                        values(&b.grad(&g_composed).unwrap()),
                    ),
                    (
                        "h0",
                        values(&h0.grad(&g_fused).unwrap()),
                        values(&h0.grad(&g_composed).unwrap()),
                    ),
                    (
                        "c0",
                        values(&c0.grad(&g_fused).unwrap()),
                        values(&c0.grad(&g_composed).unwrap()),
                    ),
                ];
                for (name, a, b) in pairs {
                    assert_close(&format!("{what} d{name}"), &a, &b, tol * 10.0);
                }
            }
        }
    }
}

/// The whole layer (projection inside the kernel's step products) against the composed
/// projection and recurrence: values and the gradients of all seven inputs, and with an input
/// that needs no gradient (the kernel then skips `∂x`) the same gradients of the others.
#[test]
fn lstm_layer_matches_the_composed_layer_with_all_gradients() {
    const I: usize = 7;
    for device in devices() {
        for (hd, dtype, tol) in [
            (H, DType::F64, 1e-12),
            (H, DType::F32, 2e-5),
            (16, DType::F32, 2e-5),
        ] {
            for (reverse, x_tracked) in [(false, true), (true, true), (false, false)] {
                let x = random([B, T, I], &device, dtype);
                let x = if x_tracked {
                    x
                } else {
                    x.set_require_grad(false)
                };
                let w_ih = random([4 * hd, I], &device, dtype);
                let b_ih = random([4 * hd], &device, dtype);
                let w = random([4 * hd, hd], &device, dtype);
                let b = random([4 * hd], &device, dtype);
                let (h0, c0) = (
                    random([B, hd], &device, dtype),
                    random([B, hd], &device, dtype),
                );
                let weights = output_weights(&[[B * T, hd], [B, hd], [B, hd]], &device, dtype);
                let fused = fused_lstm_layer(
                    x.clone(),
                    w_ih.clone(),
                    Some(b_ih.clone()),
                    w.clone(),
                    Some(b.clone()),
                    h0.clone(),
                    c0.clone(),
                    reverse,
                )
                .unwrap();
                let xw = x
                    .clone()
                    .reshape([B * T, I])
                    .matmul(w_ih.clone().transpose())
                    .reshape([B, T, 4 * hd])
                    + b_ih.clone().reshape([1, 1, 4 * hd]);
                let (out, h, c) = composed_lstm(hd, &xw, &w, &b, &h0, &c0, reverse);
                let what = format!("{device:?} {dtype:?} H={hd} reverse={reverse} x={x_tracked}");
                assert_close(
                    &format!("{what} output"),
                    &values(&fused.output),
                    &values(&out),
                    tol,
                );
                assert_close(&format!("{what} h"), &values(&fused.h), &values(&h), tol);
                assert_close(&format!("{what} c"), &values(&fused.c), &values(&c), tol);
                let g_fused = loss(
                    &[fused.output.reshape([B * T, hd]), fused.h, fused.c],
                    &weights,
                )
                .backward();
                let g_composed = loss(&[out.reshape([B * T, hd]), h, c], &weights).backward();
                let pair = |a: Option<Tensor<2>>, b: Option<Tensor<2>>| {
                    (values(&a.unwrap()), values(&b.unwrap()))
                };
                let bias = |t: &Tensor<1>| {
                    let (a, b) = (t.grad(&g_fused), t.grad(&g_composed));
                    (values(&a.unwrap()), values(&b.unwrap()))
                };
                let pairs = [
                    ("w_ih", pair(w_ih.grad(&g_fused), w_ih.grad(&g_composed))),
                    ("w_hh", pair(w.grad(&g_fused), w.grad(&g_composed))),
                    ("h0", pair(h0.grad(&g_fused), h0.grad(&g_composed))),
                    ("c0", pair(c0.grad(&g_fused), c0.grad(&g_composed))),
                    ("b_ih", bias(&b_ih)),
                    ("b_hh", bias(&b)),
                ];
                for (name, (a, b)) in pairs {
                    assert_close(&format!("{what} d{name}"), &a, &b, tol * 10.0);
                }
                let d_x = (x.grad(&g_fused), x.grad(&g_composed));
                if x_tracked {
                    let (a, b) = (d_x.0.unwrap(), d_x.1.unwrap());
                    assert_close(&format!("{what} dx"), &values(&a), &values(&b), tol * 10.0);
                } else {
                    assert!(d_x.0.is_none() && d_x.1.is_none(), "{what}: an untracked x");
                }
            }
        }
    }
}

#[test]
fn gru_matches_the_composed_recurrence_with_all_gradients() {
    for device in devices() {
        // H = 16 takes the AVX2 microkernel path in f32; H = 5 the general GEMM.
        for (hd, dtype, tol) in [
            (H, DType::F64, 1e-12),
            (H, DType::F32, 2e-5),
            (16, DType::F32, 2e-5),
        ] {
            for reverse in [false, true] {
                let xw = random([B, T, 3 * hd], &device, dtype);
                let w = random([3 * hd, hd], &device, dtype);
                let b = random([3 * hd], &device, dtype);
                let h0 = random([B, hd], &device, dtype);
                let weights = output_weights(&[[B * T, hd], [B, hd]], &device, dtype);
                let fused =
                    fused_gru(xw.clone(), w.clone(), Some(b.clone()), h0.clone(), reverse).unwrap();
                let (out, h) = composed_gru(hd, &xw, &w, &b, &h0, reverse);
                let what = format!("{device:?} {dtype:?} H={hd} reverse={reverse}");
                assert_close(
                    &format!("{what} output"),
                    &values(&fused.output),
                    &values(&out),
                    tol,
                );
                assert_close(&format!("{what} h"), &values(&fused.h), &values(&h), tol);
                let g_fused =
                    loss(&[fused.output.reshape([B * T, hd]), fused.h], &weights).backward();
                let g_composed = loss(&[out.reshape([B * T, hd]), h], &weights).backward();
                for (name, a, b) in [
                    (
                        "xw",
                        values(&xw.grad(&g_fused).unwrap()),
                        values(&xw.grad(&g_composed).unwrap()),
                    ),
                    (
                        "w_hh",
                        values(&w.grad(&g_fused).unwrap()),
                        values(&w.grad(&g_composed).unwrap()),
                    ),
                    (
                        "b_hh",
                        values(&b.grad(&g_fused).unwrap()),
                        values(&b.grad(&g_composed).unwrap()),
                    ),
                    (
                        "h0",
                        values(&h0.grad(&g_fused).unwrap()),
                        values(&h0.grad(&g_composed).unwrap()),
                    ),
                ] {
                    assert_close(&format!("{what} d{name}"), &a, &b, tol * 10.0);
                }
            }
        }
    }
}

#[test]
fn inference_devices_run_the_same_forward() {
    for backend in Backend::ALL {
        let (plain, tracked) = (backend.device(), backend.autodiff_device());
        assert!(fused_recurrence_supported(&plain) && fused_recurrence_supported(&tracked));
        let xw = random([B, T, 4 * H], &tracked, DType::F32);
        let w = random([4 * H, H], &tracked, DType::F32);
        let zeros = Tensor::<2>::zeros([B, H], &tracked);
        let trained = fused_lstm(xw.clone(), w.clone(), None, zeros.clone(), zeros, false).unwrap();
        let zeros = Tensor::<2>::zeros([B, H], &plain);
        let inferred = fused_lstm(
            xw.inner().to_device(&plain),
            w.inner().to_device(&plain),
            None,
            zeros.clone(),
            zeros,
            false,
        )
        .unwrap();
        assert_close(
            "inference",
            &values(&inferred.output),
            &values(&trained.output),
            0.0 + 1e-7,
        );
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let device = Device::flex();
    let zeros = |shape: [usize; 2]| Tensor::<2>::zeros(shape, &device);
    let xw = Tensor::<3>::zeros([2, 3, 8], &device);
    let shape_error = |result: Result<cortex_autodiff::LstmSequence, Error>| match result {
        Err(Error::ShapeMismatch { arg, .. }) => arg,
        other => panic!("expected a shape mismatch, got {other:?}"),
    };
    // w_hh must be [4H, H].
    assert_eq!(
        shape_error(fused_lstm(
            xw.clone(),
            zeros([6, 2]),
            None,
            zeros([2, 2]),
            zeros([2, 2]),
            false
        )),
        "w_hh"
    );
    // xw's width must be 4H.
    assert_eq!(
        shape_error(fused_lstm(
            Tensor::zeros([2, 3, 6], &device),
            zeros([8, 2]),
            None,
            zeros([2, 2]),
            zeros([2, 2]),
            false
        )),
        "xw"
    );
    // An empty sequence.
    assert_eq!(
        shape_error(fused_lstm(
            Tensor::zeros([2, 0, 8], &device),
            zeros([8, 2]),
            None,
            zeros([2, 2]),
            zeros([2, 2]),
            false
        )),
        "xw"
    );
    // States sized for another batch.
    assert_eq!(
        shape_error(fused_lstm(
            xw.clone(),
            zeros([8, 2]),
            None,
            zeros([3, 2]),
            zeros([2, 2]),
            false
        )),
        "h0"
    );
    assert_eq!(
        shape_error(fused_lstm(
            xw.clone(),
            zeros([8, 2]),
            None,
            zeros([2, 2]),
            zeros([2, 1]),
            false
        )),
        "c0"
    );
    // Mixed precision.
    match fused_lstm(
        xw.clone(),
        zeros([8, 2]).cast(DType::F64),
        None,
        zeros([2, 2]),
        zeros([2, 2]),
        false,
    ) {
        Err(Error::DTypeMismatch { arg: "w_hh", .. }) => {}
        other => panic!("expected a dtype mismatch, got {other:?}"),
    }
    // A tracked state with an untracked input.
    let tracked = Tensor::<2>::zeros([2, 2], &device.clone().autodiff());
    match fused_lstm(
        xw.clone(),
        zeros([8, 2]),
        None,
        tracked,
        zeros([2, 2]),
        false,
    ) {
        Err(Error::DeviceMismatch { arg: "h0", .. }) => {}
        other => panic!("expected a device error, got {other:?}"),
    }
    // The hidden bias must be [4H] (LSTM) or [3H] (GRU).
    match fused_lstm(
        xw.clone(),
        zeros([8, 2]),
        Some(Tensor::zeros([4], &device)),
        zeros([2, 2]),
        zeros([2, 2]),
        false,
    ) {
        Err(Error::ShapeMismatch { arg: "b_hh", .. }) => {}
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    let xw = Tensor::<3>::zeros([2, 3, 6], &device);
    match fused_gru(
        xw,
        zeros([6, 2]),
        Some(Tensor::zeros([5], &device)),
        zeros([2, 2]),
        false,
    ) {
        Err(Error::ShapeMismatch { arg: "b_hh", .. }) => {}
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    // The layer: x's features must be I > 0 and w_ih [4H, I]; b_ih [4H] of the same kind.
    let x = Tensor::<3>::zeros([2, 3, 5], &device);
    let layer = |x: Tensor<3>, w_ih: Tensor<2>, b_ih: Option<Tensor<1>>| {
        fused_lstm_layer(
            x,
            w_ih,
            b_ih,
            zeros([8, 2]),
            None,
            zeros([2, 2]),
            zeros([2, 2]),
            false,
        )
    };
    assert_eq!(
        shape_error(layer(
            Tensor::zeros([2, 3, 0], &device),
            zeros([8, 0]),
            None
        )),
        "x"
    );
    assert_eq!(shape_error(layer(x.clone(), zeros([8, 4]), None)), "w_ih");
    assert_eq!(shape_error(layer(x.clone(), zeros([6, 5]), None)), "w_ih");
    assert_eq!(
        shape_error(layer(
            x.clone(),
            zeros([8, 5]),
            Some(Tensor::zeros([6], &device))
        )),
        "b_ih"
    );
    match layer(x.clone(), zeros([8, 5]).cast(DType::F64), None) {
        Err(Error::DTypeMismatch { arg: "w_ih", .. }) => {}
        other => panic!("expected a dtype mismatch, got {other:?}"),
    }
    assert!(layer(x, zeros([8, 5]), Some(Tensor::zeros([8], &device))).is_ok());
}
