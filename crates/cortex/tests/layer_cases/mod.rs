//! Gradient cases of every layer of `cortex-nn`, with respect to its inputs and every
//! parameter: each case rebuilds the layer from the checked tensors (`from_tensors`), so the
//! finite differences perturb the parameters themselves. `cargo xtask check-grads` runs them
//! beside the op cases of `cortex-autodiff`; the GPU path test runs them on wgpu. They use
//! only the public API, so they live with the tests, not in the library.

use cortex::autodiff::sample::{distinct, standard, uniform};
use cortex::autodiff::{Args, Flatten, GradCase, Result};
use cortex::burn::tensor::{Int, Tensor, TensorData};
use cortex::nn::{
    Activation, AdaptiveAvgPool2dConfig, AvgPool1dConfig, AvgPool2dConfig, BatchNorm,
    BatchNormConfig, CellTensors, Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, DropoutConfig,
    Embedding, Flatten as FlattenLayer, Gru, GruCell, GruConfig, LayerNorm, LayerNormConfig,
    Linear, Lstm, LstmCell, LstmConfig, LstmState, MaxPool1dConfig, MaxPool2dConfig, Mlp, Padding,
    Rnn, RnnActivation, RnnCell, RnnConfig,
};

/// The cells' tensors from four consecutive arguments starting at `first`.
fn cell_tensors(args: &Args, first: usize, bias: bool) -> Result<CellTensors> {
    Ok(CellTensors {
        weight_ih: args.get::<2>(first)?,
        weight_hh: args.get::<2>(first + 1)?,
        bias_ih: bias.then(|| args.get::<1>(first + 2)).transpose()?,
        bias_hh: bias.then(|| args.get::<1>(first + 3)).transpose()?,
    })
}

/// The parameter inputs of one cell (`suffix` as PyTorch's `_l0_reverse`).
fn cell_inputs(
    gates: usize,
    input: usize,
    hidden: usize,
    suffix: &str,
    seed: u64,
) -> Vec<cortex_autodiff::Input> {
    let rows = gates * hidden;
    vec![
        standard(&format!("weight_ih{suffix}"), &[rows, input], seed),
        standard(&format!("weight_hh{suffix}"), &[rows, hidden], seed + 1),
        standard(&format!("bias_ih{suffix}"), &[rows], seed + 2),
        standard(&format!("bias_hh{suffix}"), &[rows], seed + 3),
    ]
}

/// Several outputs joined into one vector for the vector–Jacobian product.
fn join<const N: usize>(parts: [Tensor<1>; N]) -> Tensor<1> {
    Tensor::cat(parts.to_vec(), 0)
}

/// Every layer's gradient cases.
pub fn layer_cases() -> Vec<GradCase> {
    let mut cases = Vec::new();
    dense_cases(&mut cases);
    conv_cases(&mut cases);
    norm_cases(&mut cases);
    recurrent_cases(&mut cases);
    cases
}

fn dense_cases(cases: &mut Vec<GradCase>) {
    cases.push(GradCase::new(
        "Linear/bias",
        "Linear",
        vec![
            standard("x", &[3, 4], 500),
            standard("weight", &[2, 4], 501),
            standard("bias", &[2], 502),
        ],
        |args| {
            let layer = Linear::from_tensors(args.get::<2>(1)?, Some(args.get::<1>(2)?))?;
            Ok(layer.forward(args.get::<2>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "Mlp/sigmoid_2_hidden",
        "Mlp",
        vec![
            standard("x", &[3, 4], 503),
            standard("layers.0.weight", &[5, 4], 504),
            standard("layers.0.bias", &[5], 505),
            standard("layers.1.weight", &[3, 5], 506),
            standard("layers.1.bias", &[3], 507),
            standard("layers.2.weight", &[2, 3], 508),
        ],
        |args| {
            let layers = vec![
                Linear::from_tensors(args.get::<2>(1)?, Some(args.get::<1>(2)?))?,
                Linear::from_tensors(args.get::<2>(3)?, Some(args.get::<1>(4)?))?,
                Linear::from_tensors(args.get::<2>(5)?, None)?,
            ];
            let mlp = Mlp::from_layers(layers, Activation::Sigmoid, 0.0)?;
            Ok(mlp.forward(args.get::<2>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "Embedding/padding_idx",
        "Embedding",
        // Row 2 is the padding row: never looked up here, so its zero gradient is also the
        // true derivative.
        vec![standard("weight", &[5, 3], 509)],
        |args| {
            let weight = args.get::<2>(0)?;
            let device = weight.device();
            let layer = Embedding::from_tensors(weight, Some(2))?;
            let ids = Tensor::<2, Int>::from_data(
                TensorData::new(vec![1i64, 4, 1, 0, 3, 3], [2, 3]),
                &device,
            );
            let out: Tensor<3> = layer.forward(ids)?;
            Ok(out)
        },
    ));
    cases.push(GradCase::new(
        "Dropout/training",
        "Dropout",
        vec![standard("x", &[4, 6], 510)],
        // A fresh layer per evaluation: the same (seed, call 0) mask every time.
        |args| {
            Ok(DropoutConfig::new(0.4)
                .with_seed(Some(9))
                .init()?
                .forward(args.get::<2>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "Flatten/then_tanh",
        "Flatten",
        vec![standard("x", &[2, 3, 2, 2], 511)],
        |args| {
            Ok(cortex_ops::tanh(
                FlattenLayer::new().forward(args.get::<4>(0)?)?,
            ))
        },
    ));
}

fn conv_cases(cases: &mut Vec<GradCase>) {
    cases.push(GradCase::new(
        "Conv1d/same_even_kernel_groups",
        "Conv1d",
        vec![
            standard("x", &[2, 4, 6], 520),
            standard("weight", &[2, 2, 4], 521),
            standard("bias", &[2], 522),
        ],
        |args| {
            let config = Conv1dConfig::new(4, 2, 4)
                .with_padding(Padding::Same)
                .with_groups(2);
            let layer = Conv1d::from_tensors(&config, args.get::<3>(1)?, Some(args.get::<1>(2)?))?;
            let y = layer.forward(args.get::<3>(0)?)?;
            Ok(y)
        },
    ));
    cases.push(GradCase::new(
        "Conv2d/stride_pad_dilation",
        "Conv2d",
        vec![
            standard("x", &[2, 2, 6, 5], 523),
            standard("weight", &[3, 2, 3, 2], 524),
            standard("bias", &[3], 525),
        ],
        |args| {
            let config = Conv2dConfig::new(2, 3, [3, 2])
                .with_stride([2, 1])
                .with_padding(Padding::Explicit([1, 1]))
                .with_dilation([1, 2]);
            let layer = Conv2d::from_tensors(&config, args.get::<4>(1)?, Some(args.get::<1>(2)?))?;
            Ok(layer.forward(args.get::<4>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "Conv2d/same_even_kernel_nobias",
        "Conv2d",
        vec![
            standard("x", &[1, 2, 4, 5], 526),
            standard("weight", &[2, 2, 2, 2], 527),
        ],
        |args| {
            let config = Conv2dConfig::new(2, 2, [2, 2])
                .with_padding(Padding::Same)
                .with_bias(false);
            let layer = Conv2d::from_tensors(&config, args.get::<4>(1)?, None)?;
            Ok(layer.forward(args.get::<4>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "MaxPool2d/padded",
        "MaxPool2d",
        vec![distinct("x", &[1, 2, 5, 5], 528)],
        |args| {
            let layer = MaxPool2dConfig::new([3, 3])
                .with_stride(Some([2, 2]))
                .with_padding(Some([1, 1]))
                .init()?;
            Ok(layer.forward(args.get::<4>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "AvgPool1d/exclude_pad",
        "AvgPool1d",
        vec![standard("x", &[2, 2, 7], 529)],
        |args| {
            let layer = AvgPool1dConfig::new(3)
                .with_stride(Some(2))
                .with_padding(Some(1))
                .with_count_include_pad(false)
                .init()?;
            Ok(layer.forward(args.get::<3>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "MaxPool1d/stride1",
        "MaxPool1d",
        vec![distinct("x", &[2, 2, 6], 531)],
        |args| {
            let layer = MaxPool1dConfig::new(2).with_stride(Some(1)).init()?;
            Ok(layer.forward(args.get::<3>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "AvgPool2d/padded",
        "AvgPool2d",
        vec![standard("x", &[1, 2, 5, 4], 532)],
        |args| {
            let layer = AvgPool2dConfig::new([2, 2])
                .with_padding(Some([1, 1]))
                .init()?;
            Ok(layer.forward(args.get::<4>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "AdaptiveAvgPool2d/uneven",
        "AdaptiveAvgPool2d",
        vec![standard("x", &[1, 2, 5, 7], 530)],
        |args| {
            Ok(AdaptiveAvgPool2dConfig::new([2, 3])
                .init()?
                .forward(args.get::<4>(0)?)?)
        },
    ));
}

fn norm_cases(cases: &mut Vec<GradCase>) {
    cases.push(GradCase::new(
        "BatchNorm/train_2d",
        "BatchNorm",
        vec![
            standard("x", &[3, 2, 2, 2], 540),
            uniform("weight", &[2], 541, 0.5, 1.5),
            standard("bias", &[2], 542),
        ],
        |args| {
            let config = BatchNormConfig::new(2);
            let layer = BatchNorm::from_tensors(
                &config,
                Some(args.get::<1>(1)?),
                Some(args.get::<1>(2)?),
                None,
            )?;
            Ok(layer.forward(args.get::<4>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "BatchNorm/eval_running_stats",
        "BatchNorm",
        vec![
            standard("x", &[4, 3], 543),
            uniform("weight", &[3], 544, 0.5, 1.5),
            standard("bias", &[3], 545),
        ],
        |args| {
            let (weight, bias) = (args.get::<1>(1)?, args.get::<1>(2)?);
            let like = weight.clone();
            let running = cortex_ops::RunningStats {
                mean: Tensor::from_data(
                    TensorData::new(vec![0.1, -0.2, 0.3], [3]),
                    (&like.device(), like.dtype()),
                ),
                var: Tensor::from_data(
                    TensorData::new(vec![0.5, 1.5, 2.0], [3]),
                    (&like.device(), like.dtype()),
                ),
            };
            let mut layer = BatchNorm::from_tensors(
                &BatchNormConfig::new(3),
                Some(weight),
                Some(bias),
                Some(running),
            )?;
            // Evaluation mode without `valid()`, which would also stop the parameters' gradients.
            layer.training = layer.training.with_value(false);
            Ok(layer.forward(args.get::<2>(0)?)?)
        },
    ));
    cases.push(GradCase::new(
        "LayerNorm/two_trailing_dims",
        "LayerNorm",
        vec![
            standard("x", &[2, 2, 3], 546),
            uniform("weight", &[6], 547, 0.5, 1.5),
            standard("bias", &[6], 548),
        ],
        |args| {
            let config = LayerNormConfig::new(vec![2, 3]);
            let layer =
                LayerNorm::from_tensors(&config, Some(args.get::<1>(1)?), Some(args.get::<1>(2)?))?;
            Ok(layer.forward(args.get::<3>(0)?)?)
        },
    ));
}

fn recurrent_cases(cases: &mut Vec<GradCase>) {
    let (input, hidden) = (3, 2);
    let mut inputs = vec![
        standard("x", &[2, input], 560),
        standard("h", &[2, hidden], 561),
    ];
    inputs.extend(cell_inputs(1, input, hidden, "", 562));
    cases.push(GradCase::new("RnnCell/relu", "RnnCell", inputs, |args| {
        let cell = RnnCell::from_tensors(cell_tensors(args, 2, true)?)?
            .with_activation(RnnActivation::Relu);
        Ok(cell.forward(args.get::<2>(0)?, Some(args.get::<2>(1)?))?)
    }));
    let mut inputs = vec![
        standard("x", &[2, input], 570),
        standard("h", &[2, hidden], 571),
        standard("c", &[2, hidden], 572),
    ];
    inputs.extend(cell_inputs(4, input, hidden, "", 573));
    cases.push(GradCase::new("LstmCell/bias", "LstmCell", inputs, |args| {
        let cell = LstmCell::from_tensors(cell_tensors(args, 3, true)?)?;
        let state = LstmState {
            h: args.get::<2>(1)?,
            c: args.get::<2>(2)?,
        };
        let next = cell.forward(args.get::<2>(0)?, Some(state))?;
        Ok(join([next.h.flatten_output(), next.c.flatten_output()]))
    }));
    let mut inputs = vec![
        standard("x", &[2, input], 580),
        standard("h", &[2, hidden], 581),
    ];
    inputs.extend(cell_inputs(3, input, hidden, "", 582));
    cases.push(GradCase::new("GruCell/bias", "GruCell", inputs, |args| {
        let cell = GruCell::from_tensors(cell_tensors(args, 2, true)?)?;
        Ok(cell.forward(args.get::<2>(0)?, Some(args.get::<2>(1)?))?)
    }));

    // Two layers, bidirectional: the second layer reads both directions of the first.
    let stacked = |gates: usize, seed: u64, states: usize| {
        let mut inputs = vec![standard("x", &[2, 3, input], seed)];
        for k in 0..states {
            inputs.push(standard(
                ["h0", "c0"][k],
                &[4, 2, hidden],
                seed + 1 + k as u64,
            ));
        }
        for (slot, suffix) in ["_l0", "_l0_reverse", "_l1", "_l1_reverse"]
            .iter()
            .enumerate()
        {
            let cell_input = if slot < 2 { input } else { 2 * hidden };
            inputs.extend(cell_inputs(
                gates,
                cell_input,
                hidden,
                suffix,
                seed + 10 * (slot as u64 + 1),
            ));
        }
        inputs
    };
    cases.push(GradCase::new(
        "Lstm/2_layers_bidirectional",
        "Lstm",
        stacked(4, 590, 2),
        |args| {
            let cells = (0..4)
                .map(|slot| cell_tensors(args, 3 + 4 * slot, true))
                .collect::<Result<Vec<_>>>()?;
            let config = LstmConfig::new(3, 2)
                .with_num_layers(2)
                .with_bidirectional(true);
            let lstm = Lstm::from_tensors(&config, cells)?;
            let out = lstm.forward(
                args.get::<3>(0)?,
                Some(LstmState {
                    h: args.get::<3>(1)?,
                    c: args.get::<3>(2)?,
                }),
            )?;
            Ok(join([
                out.output.flatten_output(),
                out.state.h.flatten_output(),
                out.state.c.flatten_output(),
            ]))
        },
    ));
    cases.push(GradCase::new(
        "Gru/2_layers_bidirectional",
        "Gru",
        stacked(3, 640, 1),
        |args| {
            let cells = (0..4)
                .map(|slot| cell_tensors(args, 2 + 4 * slot, true))
                .collect::<Result<Vec<_>>>()?;
            let config = GruConfig::new(3, 2)
                .with_num_layers(2)
                .with_bidirectional(true);
            let gru = Gru::from_tensors(&config, cells)?;
            let out = gru.forward(args.get::<3>(0)?, Some(args.get::<3>(1)?))?;
            Ok(join([
                out.output.flatten_output(),
                out.state.flatten_output(),
            ]))
        },
    ));
    let mut inputs = vec![standard("x", &[2, 4, input], 690)];
    inputs.extend(cell_inputs(1, input, hidden, "_l0", 691));
    cases.push(GradCase::new(
        "Rnn/tanh_zero_state",
        "Rnn",
        inputs,
        |args| {
            let rnn = Rnn::from_tensors(&RnnConfig::new(3, 2), vec![cell_tensors(args, 1, true)?])?;
            let out = rnn.forward(args.get::<3>(0)?, None)?;
            Ok(join([
                out.output.flatten_output(),
                out.state.flatten_output(),
            ]))
        },
    ));
}
