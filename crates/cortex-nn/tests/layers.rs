//! Layer behaviour: configuration and input errors (exact variants), train/eval semantics,
//! PyTorch default initialization, and the sequence layers against their composed cells.

use burn::module::Module;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};
use cortex_core::Backend;
use cortex_nn::InvalidValue;
use cortex_nn::*;

fn devices() -> Vec<Device> {
    Backend::selected_from_env()
        .unwrap()
        .into_iter()
        .map(Backend::autodiff_device)
        .collect()
}

fn tensor<const D: usize>(values: &[f64], shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(
        TensorData::new(values.to_vec(), shape),
        (device, DType::F64),
    )
}

fn ramp<const D: usize>(shape: [usize; D], scale: f64, device: &Device) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let values: Vec<f64> = (0..n)
        .map(|k| ((k * 7 % 11) as f64 - 5.0) * scale)
        .collect();
    tensor(&values, shape, device)
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data().iter::<f64>().collect()
}

fn assert_close(got: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(got.len(), expected.len());
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((g - e).abs() <= tol * e.abs().max(1.0), "[{k}] {g} vs {e}");
    }
}

#[test]
fn configurations_are_validated_with_exact_errors() {
    let device = Device::flex();
    assert_eq!(
        LinearConfig::new(0, 3).init(&device).unwrap_err(),
        Error::InvalidConfig(InvalidValue {
            owner: "Linear",
            argument: "in_features",
            expected: "> 0".into(),
            got: "0".into()
        })
    );
    assert_eq!(
        Conv2dConfig::new(3, 4, [3, 3])
            .with_groups(2)
            .init(&device)
            .unwrap_err(),
        Error::InvalidConfig(InvalidValue {
            owner: "Conv2d",
            argument: "groups",
            expected: "a divisor of in_channels = 3".into(),
            got: "2".into()
        })
    );
    assert!(matches!(
        Conv1dConfig::new(2, 2, 3)
            .with_stride(2)
            .with_padding(Padding::Same)
            .init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Conv1d",
            argument: "stride",
            ..
        }))
    ));
    for p in [1.0, -0.1, f64::NAN] {
        assert!(matches!(
            DropoutConfig::new(p).init(),
            Err(Error::InvalidConfig(InvalidValue {
                owner: "Dropout",
                argument: "p",
                ..
            }))
        ));
    }
    assert!(matches!(
        LstmConfig::new(3, 4).with_dropout(1.0).init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Lstm",
            argument: "dropout",
            ..
        }))
    ));
    assert!(matches!(
        BatchNormConfig::new(3).with_momentum(1.5).init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "BatchNorm",
            argument: "momentum",
            ..
        }))
    ));
    assert!(matches!(
        EmbeddingConfig::new(4, 2)
            .with_padding_idx(Some(4))
            .init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Embedding",
            argument: "padding_idx",
            ..
        }))
    ));
    assert!(matches!(
        MaxPool2dConfig::new([2, 2])
            .with_padding(Some([2, 0]))
            .init(),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "MaxPool2d",
            argument: "padding",
            ..
        }))
    ));
    assert!(matches!(
        MlpConfig::new(4, vec![8, 0], 2).init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Mlp",
            argument: "hidden_sizes",
            ..
        }))
    ));
    assert!(matches!(
        GruConfig::new(3, 0).init(&device),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Gru",
            argument: "hidden_size",
            ..
        }))
    ));
}

#[test]
fn bad_inputs_name_the_layer_and_both_shapes() {
    let device = Device::flex();
    let linear = LinearConfig::new(4, 2).init(&device).unwrap();
    assert_eq!(
        linear
            .forward(Tensor::<2>::zeros([3, 5], &device))
            .unwrap_err(),
        Error::InputShape {
            layer: "Linear",
            arg: "x",
            expected: "[*, 4]".into(),
            got: vec![3, 5]
        }
    );
    let conv = Conv2dConfig::new(3, 4, [3, 3]).init(&device).unwrap();
    assert_eq!(
        conv.forward(Tensor::<4>::zeros([1, 2, 8, 8], &device))
            .unwrap_err(),
        Error::InputShape {
            layer: "Conv2d",
            arg: "x",
            expected: "[*, 3, *, *]".into(),
            got: vec![1, 2, 8, 8]
        }
    );
    // A kernel larger than the input: the op's error, wrapped with the layer's name.
    let err = conv
        .forward(Tensor::<4>::zeros([1, 3, 2, 2], &device))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Op {
                layer: "Conv2d",
                source: cortex_ops::Error::KernelTooLarge { .. }
            }
        ),
        "{err}"
    );
    let lstm = LstmConfig::new(3, 4)
        .with_num_layers(2)
        .init(&device)
        .unwrap();
    let x = Tensor::<3>::zeros([2, 5, 3], &device);
    let bad_state = LstmState {
        h: Tensor::<3>::zeros([1, 2, 4], &device),
        c: Tensor::<3>::zeros([1, 2, 4], &device),
    };
    assert_eq!(
        lstm.forward(x, Some(bad_state)).unwrap_err(),
        Error::InputShape {
            layer: "Lstm",
            arg: "h0",
            expected: "[2, 2, 4]".into(),
            got: vec![1, 2, 4]
        }
    );
    let table = EmbeddingConfig::new(4, 2).init(&device).unwrap();
    let ids = Tensor::<1, Int>::from_ints([0, 4], &device);
    assert!(matches!(
        table.forward::<1, 2>(ids),
        Err(Error::Op {
            layer: "Embedding",
            source: cortex_ops::Error::IndexOutOfRange { .. }
        })
    ));
    // Neither parameters nor running statistics: nothing names the device, so an error
    // rather than a device the library would pick.
    assert!(matches!(
        BatchNorm::from_tensors(
            &BatchNormConfig::new(3).with_affine(false),
            None,
            None,
            None
        ),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "BatchNorm",
            argument: "running",
            ..
        }))
    ));
    let norm = BatchNormConfig::new(3).init(&device).unwrap();
    assert!(matches!(
        norm.forward(Tensor::<2>::zeros([4, 2], &device)),
        Err(Error::InputShape {
            layer: "BatchNorm",
            ..
        })
    ));
    let ln = LayerNormConfig::new(vec![2, 3]).init(&device).unwrap();
    assert!(matches!(
        ln.forward(Tensor::<3>::zeros([4, 3, 2], &device)),
        Err(Error::InputShape {
            layer: "LayerNorm",
            ..
        })
    ));
    let lstm = LstmConfig::new(3, 2).init(&device).unwrap();
    assert!(matches!(
        lstm.forward(Tensor::<3>::zeros([4, 0, 3], &device), None),
        Err(Error::InputShape {
            layer: "Lstm",
            arg: "x",
            ..
        })
    ));
}

#[test]
fn dropout_masks_in_training_and_is_the_identity_in_eval() {
    for device in devices() {
        let layer = DropoutConfig::new(0.5).with_seed(Some(3)).init().unwrap();
        let x = Tensor::<1>::ones([2000], (&device, DType::F64));
        let y = values(&layer.forward(x.clone()).unwrap());
        let kept = y.iter().filter(|v| **v == 2.0).count();
        assert_eq!(kept + y.iter().filter(|v| **v == 0.0).count(), 2000);
        assert!((900..1100).contains(&kept), "{kept}");
        // A second call draws a new mask; the same seed replays the sequence.
        let y2 = values(&layer.forward(x.clone()).unwrap());
        assert_ne!(y, y2);
        let replay = DropoutConfig::new(0.5).with_seed(Some(3)).init().unwrap();
        assert_eq!(values(&replay.forward(x.clone()).unwrap()), y);
        let eval = layer.valid();
        assert_eq!(values(&eval.forward(x.clone()).unwrap()), vec![1.0; 2000]);
        // `train()` brings the masks back.
        let again = eval.train();
        assert!(values(&again.forward(x).unwrap()).contains(&0.0));
    }
}

#[test]
fn batch_norm_trains_on_batch_statistics_and_evaluates_on_running_ones() {
    for device in devices() {
        let layer = BatchNormConfig::new(2)
            .with_momentum(0.5)
            .init_with_dtype(&device, DType::F64)
            .unwrap();
        // Channel 0: 1, 3 (mean 2, biased var 1, unbiased 2); channel 1: 0, 4 (2, 4, 8).
        let x = tensor(&[1.0, 0.0, 3.0, 4.0], [2, 2], &device);
        let y = values(&layer.forward(x).unwrap());
        let s0 = (1.0f64 + 1e-5).sqrt();
        let s1 = (4.0f64 + 1e-5).sqrt();
        assert_close(&y, &[-1.0 / s0, -2.0 / s1, 1.0 / s0, 2.0 / s1], 1e-12);
        let stats = layer.running_stats();
        // running = 0.5 · initial + 0.5 · batch (unbiased variance).
        assert_close(&values(&stats.mean), &[1.0, 1.0], 1e-12);
        assert_close(&values(&stats.var), &[1.5, 4.5], 1e-12);
        // Evaluation: normalized with the running statistics, which no longer change.
        let eval = layer.valid();
        let probe = tensor(&[2.0, 1.0], [1, 2], &Backend::Flex.device());
        let probe = probe.to_device(&eval.running_stats().mean.device());
        let y = values(&eval.forward(probe).unwrap());
        assert_close(&y, &[1.0 / (1.5f64 + 1e-5).sqrt(), 0.0], 1e-12);
        assert_close(&values(&eval.running_stats().var), &[1.5, 4.5], 1e-12);
    }
}

#[test]
fn unseeded_layers_differ_and_an_explicit_seed_wins() {
    let device = Device::flex();
    let weights =
        |layer: &Conv2d| -> Vec<f32> { layer.weight.val().to_data().iter::<f32>().collect() };
    let build = || {
        (
            Conv2dConfig::new(2, 2, [3, 3]).init(&device).unwrap(),
            Conv2dConfig::new(2, 2, [3, 3]).init(&device).unwrap(),
            Conv2dConfig::new(2, 2, [3, 3])
                .with_seed(Some(9))
                .init(&device)
                .unwrap(),
        )
    };
    let (a, b, explicit) = seeded(1, build);
    assert_ne!(weights(&a), weights(&b), "two unseeded layers of one model");
    let (a2, b2, explicit2) = seeded(1, build);
    assert_eq!((weights(&a), weights(&b)), (weights(&a2), weights(&b2)));
    let (c, _, explicit3) = seeded(2, build);
    assert_ne!(weights(&a), weights(&c), "another model seed");
    assert_eq!(weights(&explicit), weights(&explicit2));
    assert_eq!(
        weights(&explicit),
        weights(&explicit3),
        "the explicit seed wins"
    );
    // Outside any `seeded` call layers still differ from one another.
    let (d, e) = (
        Conv2dConfig::new(2, 2, [3, 3]).init(&device).unwrap(),
        Conv2dConfig::new(2, 2, [3, 3]).init(&device).unwrap(),
    );
    assert_ne!(weights(&d), weights(&e));
}

#[test]
fn default_initialization_follows_pytorch_bounds_and_seeds() {
    let device = Device::flex();
    let linear = LinearConfig::new(16, 8)
        .with_seed(Some(5))
        .init(&device)
        .unwrap();
    let bound = 1.0 / 4.0;
    let w: Vec<f32> = linear.weight.val().to_data().iter::<f32>().collect();
    assert!(w.iter().all(|v| v.abs() <= bound));
    assert!(
        w.iter().any(|v| v.abs() > 0.8 * bound),
        "the whole range is used"
    );
    let same = LinearConfig::new(16, 8)
        .with_seed(Some(5))
        .init(&Backend::NdArray.device())
        .unwrap();
    let w2: Vec<f32> = same.weight.val().to_data().iter::<f32>().collect();
    assert_eq!(w, w2, "one seed, identical values on both backends");
    let lstm = LstmConfig::new(3, 25).init(&device).unwrap();
    let w: Vec<f32> = lstm.cells()[0]
        .weight_hh
        .val()
        .to_data()
        .iter::<f32>()
        .collect();
    assert_eq!(w.len(), 100 * 25);
    assert!(w.iter().all(|v| v.abs() <= 0.2));
    let table = EmbeddingConfig::new(50, 40)
        .with_padding_idx(Some(7))
        .init(&device)
        .unwrap();
    let t: Vec<f32> = table.weight.val().to_data().iter::<f32>().collect();
    assert!(t[7 * 40..8 * 40].iter().all(|v| *v == 0.0));
    let std = (t.iter().map(|v| v * v).sum::<f32>() / t.len() as f32).sqrt();
    assert!((0.9..1.1).contains(&std), "N(0, 1): {std}");
}

/// Runs one direction of one layer with the cell, step by step (the oracle checks the cell).
fn run_cell(cell: &LstmCell, x: &Tensor<3>, reverse: bool) -> (Vec<Tensor<2>>, LstmState) {
    let [batch, steps, features] = x.dims();
    let mut state: Option<LstmState> = None;
    let mut outputs = vec![None; steps];
    for k in 0..steps {
        let t = if reverse { steps - 1 - k } else { k };
        let xt = x.clone().narrow(1, t, 1).reshape([batch, features]);
        let next = cell.forward(xt, state).unwrap();
        outputs[t] = Some(next.h.clone());
        state = Some(next);
    }
    (
        outputs.into_iter().map(Option::unwrap).collect(),
        state.unwrap(),
    )
}

#[test]
fn bidirectional_two_layer_lstm_equals_its_composed_cells() {
    for device in devices() {
        let lstm = LstmConfig::new(3, 4)
            .with_num_layers(2)
            .with_bidirectional(true)
            .with_seed(Some(11))
            .init_with_dtype(&device, DType::F64)
            .unwrap();
        let x = ramp([2, 5, 3], 0.1, &device);
        let out = lstm.forward(x.clone(), None).unwrap();
        assert_eq!(out.output.dims(), [2, 5, 8]);
        assert_eq!(out.state.h.dims(), [4, 2, 4]);
        let (f0, sf0) = run_cell(&lstm.cells()[0], &x, false);
        let (r0, sr0) = run_cell(&lstm.cells()[1], &x, true);
        let layer1_input: Vec<Tensor<2>> = f0
            .iter()
            .zip(&r0)
            .map(|(f, r)| Tensor::cat(vec![f.clone(), r.clone()], 1))
            .collect();
        let layer1_input: Tensor<3> = Tensor::stack(layer1_input, 1);
        let (f1, sf1) = run_cell(&lstm.cells()[2], &layer1_input, false);
        let (r1, sr1) = run_cell(&lstm.cells()[3], &layer1_input, true);
        let expected: Vec<Tensor<2>> = f1
            .iter()
            .zip(&r1)
            .map(|(f, r)| Tensor::cat(vec![f.clone(), r.clone()], 1))
            .collect();
        let expected: Tensor<3> = Tensor::stack(expected, 1);
        assert_close(&values(&out.output), &values(&expected), 1e-12);
        let h_n: Tensor<3> = Tensor::stack(vec![sf0.h, sr0.h, sf1.h, sr1.h], 0);
        let c_n: Tensor<3> = Tensor::stack(vec![sf0.c, sr0.c, sf1.c, sr1.c], 0);
        assert_close(&values(&out.state.h), &values(&h_n), 1e-12);
        assert_close(&values(&out.state.c), &values(&c_n), 1e-12);
    }
}

#[test]
fn gru_and_rnn_sequences_equal_their_composed_cells() {
    for device in devices() {
        let gru = GruConfig::new(3, 4)
            .with_num_layers(2)
            .with_seed(Some(2))
            .init_with_dtype(&device, DType::F64)
            .unwrap();
        let rnn = RnnConfig::new(3, 4)
            .with_activation(RnnActivation::Relu)
            .init_with_dtype(&device, DType::F64)
            .unwrap();
        let x = ramp([2, 4, 3], 0.2, &device);
        let h0 = ramp([2, 2, 4], 0.05, &device);
        let out = gru.forward(x.clone(), Some(h0.clone())).unwrap();
        let mut input = x.clone();
        for (layer, cell) in gru.cells().iter().enumerate() {
            let mut h = h0.clone().narrow(0, layer, 1).reshape([2, 4]);
            let mut hs = Vec::new();
            for t in 0..4 {
                let dims = input.dims();
                h = cell
                    .forward(input.clone().narrow(1, t, 1).reshape([2, dims[2]]), Some(h))
                    .unwrap();
                hs.push(h.clone());
            }
            assert_close(
                &values(&out.state.clone().narrow(0, layer, 1).reshape([2, 4])),
                &values(&h),
                1e-12,
            );
            input = Tensor::stack(hs, 1);
        }
        assert_close(&values(&out.output), &values(&input), 1e-12);
        let out = rnn.forward(x.clone(), None).unwrap();
        let mut h: Option<Tensor<2>> = None;
        for t in 0..4 {
            h = Some(
                rnn.cells()[0]
                    .forward(x.clone().narrow(1, t, 1).reshape([2, 3]), h)
                    .unwrap(),
            );
        }
        assert_eq!(rnn.cells()[0].activation(), RnnActivation::Relu);
        assert_close(
            &values(&out.state.reshape([2, 4])),
            &values(&h.unwrap()),
            1e-12,
        );
    }
}

#[test]
fn pytorch_state_dicts_import_by_name() {
    let device = Backend::Flex.device();
    let config = GruConfig::new(2, 3).with_bidirectional(true);
    let reference = config.init_with_dtype(&device, DType::F64).unwrap();
    let mut state = std::collections::HashMap::new();
    for (slot, suffix) in ["_l0", "_l0_reverse"].iter().enumerate() {
        let cell = &reference.cells()[slot];
        state.insert(
            format!("weight_ih{suffix}"),
            cell.weight_ih.val().into_data(),
        );
        state.insert(
            format!("weight_hh{suffix}"),
            cell.weight_hh.val().into_data(),
        );
        state.insert(
            format!("bias_ih{suffix}"),
            cell.bias_ih.as_ref().unwrap().val().into_data(),
        );
        state.insert(
            format!("bias_hh{suffix}"),
            cell.bias_hh.as_ref().unwrap().val().into_data(),
        );
    }
    let imported = Gru::from_pytorch(&config, &state, &device).unwrap();
    let x = ramp([1, 3, 2], 0.3, &device);
    let (a, b) = (
        reference.forward(x.clone(), None).unwrap(),
        imported.forward(x, None).unwrap(),
    );
    assert_eq!(values(&a.output), values(&b.output));
    state.remove("weight_hh_l0_reverse");
    assert_eq!(
        Gru::from_pytorch(&config, &state, &device).unwrap_err(),
        Error::MissingParameter {
            layer: "Gru",
            name: "weight_hh_l0_reverse".into()
        }
    );
    let bad = Linear::from_tensors(
        Tensor::zeros([3, 2], &device),
        Some(Tensor::zeros([2], &device)),
    );
    assert!(matches!(
        bad,
        Err(Error::ParameterShape {
            layer: "Linear",
            ..
        })
    ));
}

#[test]
fn mlp_hidden_layers_apply_the_configured_activation() {
    let device = Backend::Flex.device();
    let w1 = tensor(&[1.0, -1.0], [2, 1], &device);
    let w2 = tensor(&[1.0, 1.0], [1, 2], &device);
    let layers = vec![
        Linear::from_tensors(w1, None).unwrap(),
        Linear::from_tensors(w2, None).unwrap(),
    ];
    let mlp = Mlp::from_layers(layers, Activation::Sigmoid, 0.0).unwrap();
    let y = values(&mlp.forward(tensor(&[0.5], [1, 1], &device)).unwrap());
    let s = |v: f64| 1.0 / (1.0 + (-v).exp());
    // σ(0.5) + σ(-0.5) = 1: the hidden nonlinearity is applied, the output layer is linear.
    assert_close(&y, &[s(0.5) + s(-0.5)], 1e-12);
}

/// An `Mlp` cannot be built without layers or with layers that do not chain (its layers are
/// private, so `forward` never meets either).
#[test]
fn an_mlp_without_layers_or_with_unchained_layers_is_an_error() {
    let device = Backend::Flex.device();
    assert!(matches!(
        Mlp::from_layers(Vec::new(), Activation::Relu, 0.0),
        Err(Error::InvalidConfig(InvalidValue {
            owner: "Mlp",
            argument: "layers",
            ..
        }))
    ));
    let layers = vec![
        Linear::from_tensors(tensor(&[1.0, -1.0], [2, 1], &device), None).unwrap(),
        Linear::from_tensors(tensor(&[1.0, 1.0, 1.0], [1, 3], &device), None).unwrap(),
    ];
    assert!(matches!(
        Mlp::from_layers(layers, Activation::Relu, 0.0),
        Err(Error::ParameterShape { layer: "Mlp", .. })
    ));
}
