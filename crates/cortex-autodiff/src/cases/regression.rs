//! Regression-loss cases (kept away from the kinks of |d| and of Huber's delta).

use cortex_ops::{self as ops, Reduction};

use crate::args::Input;
use crate::registry::{GradCase, sample};

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

pub(crate) fn loss_cases(cases: &mut Vec<GradCase>) {
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
