//! Cases of the fused losses.

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
    cases
}
