//! Cases of the fused ops: losses, the sigmoid, the linear layer, the recurrences.

use burn::tensor::Tensor;
use cortex_ops::Reduction;

use super::{ce_options, float_like, int_tensor};
use crate::registry::{GradCase, sample};

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
                let options = ce_options(reduction, smoothing, weights.as_deref(), ignore, &logits);
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
    // The fused sigmoid: in f64 (the default check) its composed path, in f32
    // (`check-grads --precision f32`, `tests/fused.rs`) the vectorised kernel; odd sizes so that
    // the loop's tail past the last full vector is covered.
    for (variant, shape) in [("rows", [3, 5]), ("batch1_odd", [1, 19])] {
        cases.push(GradCase::new(
            format!("fused_sigmoid/{variant}"),
            "fused_sigmoid",
            vec![sample::uniform("x", &shape, 160, -6.0, 6.0)],
            |args| Ok(crate::activation::fused_sigmoid(args.get::<2>(0)?)),
        ));
    }
    // The fused ReLU, away from its kink at 0 (finite differences across it are meaningless).
    for (variant, shape) in [("rows", [3, 5]), ("batch1_odd", [1, 19])] {
        let mut x = sample::uniform("x", &shape, 165, 0.1, 3.0);
        for (i, v) in x.values.iter_mut().enumerate() {
            if i % 2 == 1 {
                *v = -*v;
            }
        }
        cases.push(GradCase::new(
            format!("fused_relu/{variant}"),
            "fused_relu",
            vec![x],
            |args| Ok(crate::activation::fused_relu(args.get::<2>(0)?)),
        ));
    }
    // The fused linear: x, weight and bias all differentiated; a rank-3 input without bias;
    // batch 1 with odd sizes.
    for (variant, rows, inputs, outputs, seed) in
        [("bias", 3, 4, 5, 170), ("batch1_odd", 1, 7, 3, 175)]
    {
        cases.push(GradCase::new(
            format!("fused_linear/{variant}"),
            "fused_linear",
            vec![
                sample::uniform("x", &[rows, inputs], seed, -2.0, 2.0),
                sample::uniform("weight", &[outputs, inputs], seed + 1, -1.0, 1.0),
                sample::uniform("bias", &[outputs], seed + 2, -1.0, 1.0),
            ],
            |args| {
                let (x, w, b) = (args.get::<2>(0)?, args.get::<2>(1)?, args.get::<1>(2)?);
                Ok(crate::linear::fused_linear(x, w, Some(b))?)
            },
        ));
    }
    cases.push(GradCase::new(
        "fused_linear/rank3_no_bias",
        "fused_linear",
        vec![
            sample::uniform("x", &[2, 3, 4], 173, -2.0, 2.0),
            sample::uniform("weight", &[3, 4], 174, -1.0, 1.0),
        ],
        |args| {
            let (x, w) = (args.get::<3>(0)?, args.get::<2>(1)?);
            Ok(crate::linear::fused_linear(x, w, None)?)
        },
    ));
    recurrent_cases(&mut cases);
    cases
}

/// Cases of the fused LSTM and GRU sequences: every input (projected input, hidden weights,
/// hidden bias, initial states) in both directions, through the whole output and final state.
fn recurrent_cases(cases: &mut Vec<GradCase>) {
    let (batch, steps, hidden) = (2, 4, 3);
    for (variant, reverse, seed) in [("forward", false, 160u64), ("reverse", true, 170)] {
        cases.push(GradCase::new(
            format!("fused_lstm/{variant}"),
            "fused_lstm",
            vec![
                sample::uniform("xw", &[batch, steps, 4 * hidden], seed, -2.0, 2.0),
                sample::uniform("w_hh", &[4 * hidden, hidden], seed + 1, -1.0, 1.0),
                sample::uniform("b_hh", &[4 * hidden], seed + 8, -1.0, 1.0),
                sample::uniform("h0", &[batch, hidden], seed + 2, -1.0, 1.0),
                sample::uniform("c0", &[batch, hidden], seed + 3, -1.0, 1.0),
            ],
            move |args| {
                let seq = crate::recurrent::fused_lstm(
                    args.get::<3>(0)?,
                    args.get::<2>(1)?,
                    Some(args.get::<1>(2)?),
                    args.get::<2>(3)?,
                    args.get::<2>(4)?,
                    reverse,
                )?;
                Ok(lstm_outputs(seq, [batch, steps, hidden]))
            },
        ));
        // The whole layer: x, both weights and both biases, the states (odd input width).
        let inputs = 5;
        cases.push(GradCase::new(
            format!("fused_lstm_layer/{variant}"),
            "fused_lstm_layer",
            vec![
                sample::uniform("x", &[batch, steps, inputs], seed + 10, -2.0, 2.0),
                sample::uniform("w_ih", &[4 * hidden, inputs], seed + 11, -1.0, 1.0),
                sample::uniform("b_ih", &[4 * hidden], seed + 12, -1.0, 1.0),
                sample::uniform("w_hh", &[4 * hidden, hidden], seed + 13, -1.0, 1.0),
                sample::uniform("b_hh", &[4 * hidden], seed + 14, -1.0, 1.0),
                sample::uniform("h0", &[batch, hidden], seed + 15, -1.0, 1.0),
                sample::uniform("c0", &[batch, hidden], seed + 16, -1.0, 1.0),
            ],
            move |args| {
                let seq = crate::recurrent::fused_lstm_layer(
                    args.get::<3>(0)?,
                    args.get::<2>(1)?,
                    Some(args.get::<1>(2)?),
                    args.get::<2>(3)?,
                    Some(args.get::<1>(4)?),
                    args.get::<2>(5)?,
                    args.get::<2>(6)?,
                    reverse,
                )?;
                Ok(lstm_outputs(seq, [batch, steps, hidden]))
            },
        ));
        cases.push(GradCase::new(
            format!("fused_gru/{variant}"),
            "fused_gru",
            vec![
                sample::uniform("xw", &[batch, steps, 3 * hidden], seed + 4, -2.0, 2.0),
                sample::uniform("w_hh", &[3 * hidden, hidden], seed + 5, -1.0, 1.0),
                sample::uniform("b_hh", &[3 * hidden], seed + 6, -1.0, 1.0),
                sample::uniform("h0", &[batch, hidden], seed + 7, -1.0, 1.0),
            ],
            move |args| {
                let seq = crate::recurrent::fused_gru(
                    args.get::<3>(0)?,
                    args.get::<2>(1)?,
                    Some(args.get::<1>(2)?),
                    args.get::<2>(3)?,
                    reverse,
                )?;
                Ok(Tensor::cat(
                    vec![
                        seq.output.reshape([batch * steps, hidden]),
                        seq.h.mul_scalar(0.5),
                    ],
                    0,
                ))
            },
        ));
    }
}

/// Every output of an LSTM sequence in one tensor, each part weighted differently so that a
/// swapped gradient cannot cancel out.
fn lstm_outputs(
    seq: crate::recurrent::LstmSequence,
    [batch, steps, hidden]: [usize; 3],
) -> Tensor<2> {
    Tensor::cat(
        vec![
            seq.output.reshape([batch * steps, hidden]),
            seq.h.mul_scalar(0.5),
            seq.c.mul_scalar(-1.5),
        ],
        0,
    )
}
