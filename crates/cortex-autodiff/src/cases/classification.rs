//! Classification-loss cases: cross-entropy variants, nll, BCE with logits.

use cortex_ops::{self as ops, Reduction};

use super::{ce_options, float_like, int_tensor};
use crate::registry::{GradCase, sample};

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

pub(crate) fn classification_cases(cases: &mut Vec<GradCase>) {
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
                let options = ce_options(reduction, smoothing, weights.as_deref(), ignore, &logits);
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
