//! Activation cases.

use burn::tensor::Tensor;
use cortex_ops as ops;

use super::elementwise;
use crate::registry::{GradCase, sample};

pub(crate) fn activation_cases(cases: &mut Vec<GradCase>) {
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
